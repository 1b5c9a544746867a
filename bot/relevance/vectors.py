"""Paper vectors: computed once per paper, kept in memory as int8, stored in an append-only file.

The file (`vectors.bin` in the data directory) is a 256-byte header (JSON: format, model, dimensions)
followed by fixed-size records: the paper id (UTF-8, NUL-padded to 32 bytes), the quantisation scale
(float32), a CRC-32 of the text the vector was computed from (so a paper whose abstract arrives later is
embedded again), the int8 components and a CRC-32 of the rest. A record is appended and fsynced before the
vector counts as stored; a torn or corrupt record (a crash mid-append) fails its CRC and is dropped at load,
and the file is cut back to the last good record. A later record for the same id replaces an earlier one.
A file written for another model or size is set aside (renamed) and the vectors are computed again.

Nearest neighbours: one bit per component (its sign) ranks every paper by Hamming distance in a few
milliseconds at 100k papers; the best few hundred are then rescored exactly from the int8 vectors.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

HEADER_BYTES = 256
ID_BYTES = 32
FORMAT = "paperbot-vectors-2"
RESCORE = 400  # candidates rescored exactly after the bit-level ranking: at least this many,
RESCORE_SHARE = 0.02  # and at least this share of the papers (sign bits alone order neighbours roughly)


def _grown(array: NDArray[Any], rows: int) -> NDArray[Any]:
    """`array` with room for `rows` rows."""
    grown = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def text_crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def quantise(vectors: NDArray[np.float32]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    scale = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
    return np.round(vectors / scale[:, None]).astype(np.int8), scale.astype(np.float32)


class PaperVectors:
    """Vectors by paper id; thread-safe. `path=None` keeps them in memory only."""

    def __init__(self, dimensions: int, model: str, path: Path | None = None, *, read_only: bool = False) -> None:
        self.read_only = read_only  # another process writes the file: never cut, set aside or append
        self.dimensions = dimensions
        self.model = model
        self.path = path
        self._record = ID_BYTES + 4 + 4 + dimensions + 4
        self._lock = threading.Lock()
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []
        self._values = np.zeros((0, dimensions), dtype=np.int8)
        self._scales = np.zeros(0, dtype=np.float32)
        self._texts = np.zeros(0, dtype=np.uint32)
        # Sign bits, one row per 64-bit word (word-major): each word is XORed and counted across all papers in
        # one contiguous pass, several times faster than a paper-major layout.
        self._bits = np.zeros(((dimensions + 63) // 64, 0), dtype=np.uint64)
        self._count = 0
        self.version = 0  # bumped by every change, so what was computed from the vectors can tell it is stale
        if path is not None:
            self._load(path)

    # ---- storage -----------------------------------------------------------------------------------

    def _header(self) -> bytes:
        text = json.dumps({"format": FORMAT, "model": self.model, "dimensions": self.dimensions}).encode()
        return text.ljust(HEADER_BYTES, b" ")

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
            data = handle.read()
        try:
            header = json.loads(head.decode("utf-8"))
            same = (header.get("format"), header.get("model"), header.get("dimensions")) == (
                FORMAT, self.model, self.dimensions)
        except (UnicodeDecodeError, json.JSONDecodeError):
            same = False
        if not same and self.read_only:
            return
        if not same:
            aside = path.with_name(path.name + ".old")
            os.replace(path, aside)
            log.warning("vectors.set_aside path=%s reason=other_model_or_format", aside)
            return
        size = self._record
        count = len(data) // size
        ids: list[str] = []
        rows: list[int] = []
        good = 0
        for i in range(count):
            chunk = data[i * size:(i + 1) * size]
            if zlib.crc32(chunk[:-4]) != int.from_bytes(chunk[-4:], "little"):
                break
            ids.append(chunk[:ID_BYTES].rstrip(b"\0").decode("utf-8", "replace"))
            rows.append(i)
            good = i + 1
        if good * size != len(data) and not self.read_only:
            with path.open("r+b") as handle:  # drop the torn tail so later appends stay aligned
                handle.truncate(HEADER_BYTES + good * size)
            log.warning("vectors.torn_tail path=%s kept=%d dropped_bytes=%d", path, good,
                        len(data) - good * size)
        if not rows:
            return
        raw = np.frombuffer(data, dtype=np.uint8, count=good * size).reshape(good, size)
        scales = raw[:, ID_BYTES:ID_BYTES + 4].copy().view("<f4").reshape(-1)
        texts = raw[:, ID_BYTES + 4:ID_BYTES + 8].copy().view("<u4").reshape(-1)
        values = raw[:, ID_BYTES + 8:ID_BYTES + 8 + self.dimensions].copy().view(np.int8)
        self._put(ids, values, scales.astype(np.float32), texts.astype(np.uint32))
        log.info("vectors.loaded path=%s papers=%d", path, len(self._slot))

    def _append(self, ids: Sequence[str], values: NDArray[np.int8], scales: NDArray[np.float32],
                texts: NDArray[np.uint32]) -> None:
        assert self.path is not None
        chunks = []
        for paper_id, row, scale, text in zip(ids, values, scales, texts, strict=True):
            body = paper_id.encode("utf-8")[:ID_BYTES].ljust(ID_BYTES, b"\0") + \
                np.float32(scale).tobytes() + np.uint32(text).tobytes() + row.tobytes()
            chunks.append(body + zlib.crc32(body).to_bytes(4, "little"))
        new = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if new or os.fstat(fd).st_size < HEADER_BYTES:
                os.ftruncate(fd, 0)
                os.write(fd, self._header())
            os.write(fd, b"".join(chunks))
            os.fsync(fd)
        finally:
            os.close(fd)

    # ---- memory ------------------------------------------------------------------------------------

    def _put(self, ids: Sequence[str], values: NDArray[np.int8], scales: NDArray[np.float32],
             texts: NDArray[np.uint32]) -> None:
        needed = self._count + len(ids)
        if needed > len(self._values):
            # Loading a file asks for exactly its size; later growth is by a quarter (zeros: pages not yet
            # written cost no memory, where np.resize would fill them).
            capacity = needed if self._count == 0 else max(needed, int(len(self._values) * 1.25) + 1024)
            self._values, self._scales = _grown(self._values, capacity), _grown(self._scales, capacity)
            self._texts = _grown(self._texts, capacity)
            self._bits = _grown(self._bits.T, capacity).T.copy()
        bits = np.packbits(values > 0, axis=1)
        bits = np.pad(bits, ((0, 0), (0, self._bits.shape[0] * 8 - bits.shape[1]))).view(np.uint64)
        for paper_id, row, scale, text, code in zip(ids, values, scales, texts, bits, strict=True):
            slot = self._slot.get(paper_id)
            if slot is None:
                slot = self._count
                self._count += 1
                self._slot[paper_id] = slot
                self._ids.append(paper_id)
            self._values[slot] = row
            self._scales[slot] = scale
            self._texts[slot] = text
            self._bits[:, slot] = code
        self.version += 1

    def add(self, ids: Sequence[str], vectors: NDArray[np.float32], texts: Sequence[int] | None = None) -> None:
        """Store vectors (unit length, float32) for papers, with the CRC-32 of each one's text (`text_crc`);
        durable when this returns."""
        keep = [i for i, pid in enumerate(ids) if 0 < len(pid.encode("utf-8")) <= ID_BYTES]  # arXiv ids fit
        if not keep:
            return
        if len(keep) < len(ids):
            ids = [ids[i] for i in keep]
            vectors = np.asarray(vectors)[keep]
            texts = [texts[i] for i in keep] if texts is not None else None
        values, scales = quantise(np.asarray(vectors, dtype=np.float32))
        crcs = np.asarray(texts if texts is not None else [0] * len(ids), dtype=np.uint32)
        with self._lock:
            if self.path is not None and not self.read_only:
                self._append(ids, values, scales, crcs)
            self._put(ids, values, scales, crcs)

    def text_of(self, paper_id: str) -> int | None:
        """The CRC-32 of the text a paper's stored vector was computed from, or None without a vector."""
        slot = self._slot.get(paper_id)
        return None if slot is None else int(self._texts[slot])

    def __len__(self) -> int:
        return self._count

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._slot

    def missing(self, ids: Collection[str]) -> list[str]:
        return [i for i in ids if i not in self._slot]

    def get(self, ids: Sequence[str]) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """Vectors of `ids` (zeros where a paper has none) and which ones exist."""
        slots = [self._slot.get(i, -1) for i in ids]
        present = np.asarray([s >= 0 for s in slots], dtype=bool)
        out = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        if present.any():
            index = np.asarray([s for s in slots if s >= 0], dtype=np.intp)
            out[present] = self._values[index].astype(np.float32) * self._scales[index, None]
        return out, present

    def nearest(self, query: NDArray[np.float32], k: int,
                allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The `k` papers most similar to `query` (cosine, best first), optionally only among `allowed`."""
        with self._lock:
            n = self._count
            if n == 0 or k <= 0:
                return []
            code = np.pad(np.packbits(query > 0),
                          (0, self._bits.shape[0] * 8 - (self.dimensions + 7) // 8)).view(np.uint64)
            distance = np.bitwise_count(self._bits[0, :n] ^ code[0]).astype(np.uint16)
            for word in range(1, len(code)):
                distance += np.bitwise_count(self._bits[word, :n] ^ code[word])
            far = np.uint16(np.iinfo(np.uint16).max)
            if allowed is not None:
                mask = np.zeros(n, dtype=bool)
                mask[[s for i in allowed if (s := self._slot.get(i)) is not None]] = True
                distance[~mask] = far
            take = min(n, max(RESCORE, int(RESCORE_SHARE * n), k))
            # The `take` closest by sign bits: the smallest distance whose running count reaches `take`
            # (a histogram of at most dimensions + 1 values; cheaper than a partition of every paper).
            histogram = np.bincount(distance, minlength=int(far) + 1)[:int(far)]
            cut = min(int(np.searchsorted(np.cumsum(histogram), take)), int(far) - 1)  # never a left-out one
            candidates = np.flatnonzero(distance <= cut)
            exact = (self._values[candidates].astype(np.float32) @ query) * self._scales[candidates]
            order = np.argsort(-exact)[:k]
            return [(self._ids[int(candidates[i])], float(exact[i])) for i in order]

    def sample(self, size: int, seed: int = 0) -> NDArray[np.float32]:
        """Up to `size` stored vectors chosen at random, for a topic's similarity baseline."""
        n = self._count
        if n == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        picks = np.random.default_rng(seed).choice(n, size=min(size, n), replace=False)
        return self._values[picks].astype(np.float32) * self._scales[picks, None]
