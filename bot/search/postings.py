"""Term vocabulary and segmented, compressed postings.

- `Vocabulary`: term key (see text.term_hash) -> dense term id, via `bulk.TermTable`; the spelling of
  every term is kept in one bytes blob (a Python str per term would cost ~60 bytes each).
- A `Segment` covers at most 65,536 consecutive document slots and holds, per field, a CSR inverted
  index: sorted term ids, offsets, and per posting the document as a uint16 offset from the segment's
  first slot (2 bytes), plus a 4-bit term frequency where the field keeps one (abstracts). Segments
  are built from batches of documents without any global sort; new documents become a small segment,
  and small segments are merged (size-tiered, like an LSM tree) so a query touches only a handful.
  Merging drops postings of deleted (tombstoned) slots.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.search.bulk import TermTable, Words, tokenize
from bot.search.text import STOP_STEMS, fold_bytes, term_hash

MAX_SEGMENT_DOCS = 1 << 16  # documents are uint16 offsets within a segment
BATCH_DOCS = 1024  # documents tokenised together; bounds each build thread's temporaries (~8 MB)
STOP = -2
_PAD = "\0" * 32  # lets the tokeniser read 8 bytes past any word (the padding folds to spaces)


class Vocabulary:
    """Term keys -> ids, and each id's spelling. Not thread-safe on its own (callers hold a lock)."""

    def __init__(self) -> None:
        self._table = TermTable(1 << 16)
        self._blob = bytearray()
        self._ends = np.zeros(1 << 12, dtype=np.uint32)
        self._count = 0
        stops = np.array(sorted({term_hash(s) for s in STOP_STEMS}), dtype=np.uint64)
        self._table.put(stops, np.full(len(stops), STOP, dtype=np.int32))

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return self._table.nbytes + len(self._blob) + self._ends.nbytes

    def assign(self, words: Words) -> np.ndarray:
        """Term ids of `words` (new terms get new ids); STOP for stop words."""
        ids = self._table.get(words.keys)
        missing = np.flatnonzero(ids == -1)
        if len(missing):
            keys = words.keys[missing]
            unique, first = np.unique(keys, return_index=True)
            new_ids = np.arange(self._count, self._count + len(unique), dtype=np.int32)
            self._table.put(unique, new_ids)
            data, lengths = words.spellings(missing[first])
            self._append(data, lengths)
            ids[missing] = new_ids[np.searchsorted(unique, keys)]
        return ids

    def _append(self, data: bytes, lengths: np.ndarray) -> None:
        needed = self._count + len(lengths)
        if needed > len(self._ends):
            grown = np.zeros(max(needed, len(self._ends) * 3 // 2), dtype=np.uint32)
            grown[:self._count] = self._ends[:self._count]
            self._ends = grown
        self._ends[self._count:needed] = len(self._blob) + np.cumsum(lengths)
        self._blob += data
        self._count = needed

    def lookup(self, term: str) -> int:
        """Id of a term (a stem), -1 if no document has it, STOP for a stop word."""
        return int(self._table.get(np.array([term_hash(term)], dtype=np.uint64))[0])

    def bytes_of(self, term_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """UTF-8 bytes of these terms, concatenated (uint8), with each one's start and length."""
        term_ids = term_ids.astype(np.int64)
        ends = self._ends[term_ids].astype(np.int64)
        starts = np.where(term_ids > 0, self._ends[np.maximum(term_ids - 1, 0)], 0).astype(np.int64)
        lengths = ends - starts
        new_starts = np.cumsum(lengths) - lengths
        index = np.repeat(starts - new_starts, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
        blob = np.frombuffer(bytes(self._blob), dtype=np.uint8)  # a copy: a view would pin the bytearray
        return blob[index], new_starts, lengths

    def spelling(self, term_id: int) -> str:
        start = int(self._ends[term_id - 1]) if term_id else 0
        return self._blob[start:int(self._ends[term_id])].decode()


@dataclass
class FieldPostings:
    """One field's inverted index over one segment."""

    terms: np.ndarray  # int32, sorted
    offsets: np.ndarray  # int32, len(terms) + 1
    docs: np.ndarray  # uint16: slot - segment start, ascending within a term
    packed_tf: np.ndarray | None  # term frequencies (1–15), two 4-bit values a byte; None: not kept, all 1

    @property
    def nbytes(self) -> int:
        tf = 0 if self.packed_tf is None else self.packed_tf.nbytes
        return self.terms.nbytes + self.offsets.nbytes + self.docs.nbytes + tf

    def tf(self, start: int, stop: int) -> np.ndarray | None:
        """Term frequencies of postings [start, stop) (uint8), or None if the field keeps none."""
        if self.packed_tf is None:
            return None
        index = np.arange(start, stop)
        packed: np.ndarray = self.packed_tf[index >> 1]
        return (packed >> ((index & 1) << 2).astype(np.uint8)) & np.uint8(15)

    def ranges(self, term_ids: np.ndarray) -> list[tuple[int, int]]:
        """(start, stop) of each term's postings; (0, 0) for absent terms."""
        where = np.searchsorted(self.terms, term_ids)
        out = []
        for term, i in zip(term_ids.tolist(), where.tolist(), strict=True):
            if i < len(self.terms) and self.terms[i] == term:
                out.append((int(self.offsets[i]), int(self.offsets[i + 1])))
            else:
                out.append((0, 0))
        return out


@dataclass
class Segment:
    start: int  # first slot
    stop: int  # one past the last slot
    fields: dict[str, FieldPostings]

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.fields.values())


@dataclass
class Run:
    """Postings of consecutive documents for one field, term-sorted: unique terms and their counts, then
    per posting the absolute slot and term frequency."""

    terms: np.ndarray  # int32 unique, sorted
    counts: np.ndarray  # int64
    slots: np.ndarray  # uint32
    tf: np.ndarray  # uint8, capped at 15

    @classmethod
    def empty(cls) -> Run:
        return cls(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32),
                   np.zeros(0, dtype=np.uint8))


@dataclass
class FieldBatch:
    run: Run
    lengths: np.ndarray  # float32, indexed terms per document (stop words not counted)


def fold_batch(texts: Sequence[str], squash: bool = False) -> tuple[bytes, np.ndarray]:
    """The folded texts as one padded UTF-8 buffer, one per line, and each one's starting offset.

    One fold_bytes() call per batch: per-document fold() calls, or str methods on a batch holding a
    single non-ASCII character (which makes the whole string wide), cost several times more. With
    `squash`, dots and hyphens are removed (category names: `cs.LG` is one word, `cslg`)."""
    buf = fold_bytes("\n".join(texts) + _PAD)
    if buf.count(b"\n") != len(texts) - 1:  # a text with its own line breaks
        buf = fold_bytes("\n".join(t.replace("\n", " ") for t in texts) + _PAD)
    if squash:
        buf = buf.replace(b".", b"").replace(b"-", b"")
    if len(texts) == 1:
        return buf, np.zeros(1, dtype=np.int64)
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(arr == 10) + 1))
    return buf, starts


def index_texts(texts: Sequence[str], first_slot: int, vocab: Vocabulary,
                lock: threading.Lock | None = None, squash: bool = False) -> FieldBatch:
    """Tokenise the texts of documents first_slot, first_slot+1, … and group their postings by term."""
    count = len(texts)
    if count > MAX_SEGMENT_DOCS:
        raise ValueError("batch too large")
    buf, offsets = fold_batch(texts, squash)
    tokens = tokenize(buf, len(buf) - len(_PAD))
    if lock is not None:
        with lock:
            ids_w = vocab.assign(tokens.words)
            ids_c = vocab.assign(tokens.compounds)
    else:
        ids_w = vocab.assign(tokens.words)
        ids_c = vocab.assign(tokens.compounds)
    keep_w = ids_w >= 0
    keep_c = ids_c >= 0
    doc_w = _doc_of(offsets, tokens.words.starts[keep_w])
    doc_c = _doc_of(offsets, tokens.compound_starts[keep_c])
    doc_lengths = np.bincount(doc_w, minlength=count).astype(np.float32)
    # key = term << bits | doc: one sort groups by term, docs ascending, and puts repeats side by side.
    # uint32 keys sort ~40 % faster than int64 ones, and fit while the vocabulary has < 2M terms.
    bits = max(1, (count - 1).bit_length())
    dtype = np.uint32 if len(vocab) < (1 << (32 - bits)) else np.int64
    terms_w: np.ndarray = ids_w[keep_w].astype(dtype)
    terms_c: np.ndarray = ids_c[keep_c].astype(dtype)
    keys = np.concatenate(((terms_w << dtype(bits)) | doc_w.astype(dtype),
                           (terms_c << dtype(bits)) | doc_c.astype(dtype)))
    keys.sort()
    return FieldBatch(_run_from_sorted_keys(keys, first_slot, bits), doc_lengths)


def _doc_of(doc_offsets: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Document index of each (ascending) byte position: few binary searches, then a repeat."""
    if len(positions) == 0:
        return np.zeros(0, dtype=np.int64)
    firsts = np.searchsorted(positions, doc_offsets)
    counts = np.diff(np.append(firsts, len(positions)))
    return np.repeat(np.arange(len(doc_offsets), dtype=np.int64), counts)


def _run_from_sorted_keys(keys: np.ndarray, first_slot: int, bits: int) -> Run:
    if len(keys) == 0:
        return Run.empty()
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    tf = np.diff(np.append(starts, len(keys)))
    unique = keys[starts]
    terms = (unique >> keys.dtype.type(bits)).astype(np.int32)
    slots = (unique & keys.dtype.type((1 << bits) - 1)).astype(np.uint32) + np.uint32(first_slot)
    tstart = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    counts = np.diff(np.append(tstart, len(terms)))
    # BM25 saturates: 15 mentions score within 8 % of infinitely many, and 4 bits are half a byte.
    return Run(terms[tstart], counts, slots, np.minimum(tf, 15).astype(np.uint8))


def merge_runs(runs: Sequence[Run], start: int, alive: np.ndarray | None = None,
               keep_tf: bool = True) -> FieldPostings:
    """One field's CSR for a segment starting at slot `start`, from term-sorted runs given in slot order
    (a counting scatter: no sort of postings). With `alive`, postings of dead slots are dropped; without
    `keep_tf`, term frequencies are not stored (fields where words rarely repeat: titles, names)."""
    if alive is not None:
        runs = [_drop_dead(run, alive) for run in runs]
    runs = [r for r in runs if len(r.terms)]
    if not runs:
        return FieldPostings(np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.uint16),
                             _pack(np.zeros(0, dtype=np.uint8)) if keep_tf else None)
    if len(runs) == 1:
        run = runs[0]
        return FieldPostings(run.terms, np.concatenate(([0], np.cumsum(run.counts))).astype(np.int32),
                             (run.slots - start).astype(np.uint16), _pack(run.tf) if keep_tf else None)
    present = np.zeros(max(int(r.terms[-1]) for r in runs) + 1, dtype=bool)  # cheaper than np.unique
    for run in runs:
        present[run.terms] = True
    terms = np.flatnonzero(present).astype(np.int32)
    where = [np.searchsorted(terms, r.terms) for r in runs]
    totals = np.zeros(len(terms), dtype=np.int64)
    for w, run in zip(where, runs, strict=True):
        totals[w] += run.counts
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(totals, out=offsets[1:])
    docs = np.empty(int(offsets[-1]), dtype=np.uint16)
    tf = np.empty(int(offsets[-1]), dtype=np.uint8) if keep_tf else None
    fill = offsets[:-1].copy()
    for w, run in zip(where, runs, strict=True):
        run_starts = np.cumsum(run.counts) - run.counts
        # position = where this term's postings from earlier runs end + rank within this run
        position = np.repeat(fill[w] - run_starts, run.counts) + np.arange(len(run.slots))
        docs[position] = run.slots - start
        if tf is not None:
            tf[position] = run.tf
        fill[w] += run.counts
    return FieldPostings(terms, offsets.astype(np.int32), docs, _pack(tf) if tf is not None else None)


def _pack(tf: np.ndarray) -> np.ndarray:
    padded = np.zeros(len(tf) + (len(tf) & 1), dtype=np.uint8)
    padded[:len(tf)] = tf
    return padded[0::2] | (padded[1::2] << np.uint8(4))


def persistent(array: np.ndarray) -> np.ndarray:
    """A copy of a large, long-lived array in its own anonymous memory map, outside the malloc heap.

    Built segments are allocated between the build's many large temporaries; left in the heap they pin
    it, and glibc cannot hand the freed temporaries around them back to the OS (~10–20 MB at 100k)."""
    if array.nbytes < (1 << 16):
        return array
    region = mmap.mmap(-1, array.nbytes)
    copy = np.frombuffer(region, dtype=array.dtype, count=len(array))
    copy[:] = array
    return copy


def persist(fp: FieldPostings) -> FieldPostings:
    return FieldPostings(persistent(fp.terms), persistent(fp.offsets), persistent(fp.docs),
                         None if fp.packed_tf is None else persistent(fp.packed_tf))


def as_run(fp: FieldPostings, start: int) -> Run:
    tf = fp.tf(0, len(fp.docs))
    if tf is None:
        tf = np.ones(len(fp.docs), dtype=np.uint8)
    return Run(fp.terms, np.diff(fp.offsets).astype(np.int64), fp.docs.astype(np.uint32) + start, tf)


def _drop_dead(run: Run, alive: np.ndarray) -> Run:
    keep = alive[run.slots.astype(np.int64)]
    if keep.all():
        return run
    terms = np.repeat(run.terms, run.counts)[keep]
    if len(terms) == 0:
        return Run.empty()
    tstart = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    return Run(terms[tstart], np.diff(np.append(tstart, len(terms))), run.slots[keep], run.tf[keep])
