"""The in-memory search index over the paper archive.

Ranking:
- Fields title, abstract, authors, keywords are scored with BM25 (k1=1.2, a `b` per field) and summed
  with field weights (title 3, authors 2, keywords 1.5, abstract 1): one title hit outweighs any single
  abstract hit. Categories are indexed for `cat:` only. idf counts papers having the word in any field.
- Coordination: a paper's score is multiplied by (the idf-weighted share of the query's words it has)^3,
  so matching all the words beats matching some, while a missing common word ("paper") costs little.
- The top candidates are re-ranked: the query's words, in typed order, in the title (×1.5, ×2 when
  they are the whole title) or in the abstract (×1.15). Upvotes and recency add at most 5 %.

Data: postings in segments (see postings.py); a query adds each word's postings into a dense float32
score array (one slot per document) and takes the top k with np.argpartition. `add` puts new or
changed records in new slots (a small segment), tombstones replaced slots and merges segments
size-tiered; after many replacements it compacts by rebuilding. One lock: searches and adds never
interleave. A bulk add (the start-up build) tokenises on the calling thread plus one helper thread:
the numpy work releases the GIL, and one helper keeps glibc to one extra malloc arena.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import itertools
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, cast

import numpy as np

from bot.papers import PaperRecord
from bot.search.bulk import TermTable
from bot.search.fuzzy import Candidate, FuzzyPool
from bot.search.models import Hit, SearchContext, SearchPage
from bot.search.postings import (
    BATCH_DOCS,
    MAX_SEGMENT_DOCS,
    FieldPostings,
    Run,
    Segment,
    Vocabulary,
    as_run,
    index_texts,
    merge_runs,
    persist,
)
from bot.search.query import ParsedQuery, Phrase, parse_query
from bot.search.text import STOP_STEMS, fold, stem

log = logging.getLogger(__name__)

K1 = 1.2
COORDINATION = 3.0
TITLE_PHRASE_BONUS = 1.5
WHOLE_TITLE_BONUS = 2.0
ABSTRACT_PHRASE_BONUS = 1.15
RERANK_TITLES = 100  # top candidates whose title is checked for the query's words in order
RERANK_ABSTRACTS = 30  # … and whose abstract is
FUZZY_WEIGHT = {1: 0.85, 2: 0.7}  # a corrected word counts a little less than one typed right
SEGMENT_DOCS = 32 * BATCH_DOCS  # segments made by a bulk build (32,768 papers)
COMPACT_MIN_DEAD = 10_000  # rebuild once this many replaced slots (and half of all) are dead
RARE_WORD_BAR = 0.25  # match(): one abstract mention of a rare word is enough
# match(): a one-word topic whose document frequency (summed over text fields) exceeds this share of the papers
# (`language`, `learning`) needs the word in the title or all over the abstract; a keyword or a few mentions
# would flood the digest.
BROAD_WORD_SHARE = 0.15
BROAD_WORD_BAR = 0.9
SEMANTIC_CANDIDATES = 100  # papers nearest in meaning to a query that join its lexical matches
SEMANTIC_FLOOR = 0.30  # below this cosine, closeness in meaning adds nothing
SEMANTIC_WEIGHT = 1.0  # at cosine 1, as much as the best lexical match (see _blend)
PHRASE_CHECKS = 400  # phrase candidates verified beyond the page before the total is estimated
MAX_LIMIT = 100
MAX_SLOTS = 1 << 31
HAS_BITS = {"code": 1, "project": 2, "hf": 4}
# Word characters after folding: 0-9, a-z and anything non-ASCII; so separators are ASCII only. (Spelled
# as small ASCII classes: a class spanning all of Unicode takes re ~40 ms to compile.)
_SEP = r"[\x00-/:-`{-\x7f]*"
_NOT_BEFORE_WORD = r"(?![0-9a-z]|[^\x00-\x7f])"
_NON_WORDS = re.compile(r"[\x00-/:-`{-\x7f]+")


def _joined(values: Any, separator: str) -> str:
    if not values:
        return ""
    if isinstance(values, str):
        return values
    try:
        return separator.join(values)
    except TypeError:  # a malformed record: index what is text
        return separator.join(v for v in values if isinstance(v, str))


def _authors_text(record: PaperRecord) -> str:
    return _joined(record.get("authors"), ", ")


def _keywords_text(record: PaperRecord) -> str:
    return _joined(record.get("keywords"), ", ")


def _categories_text(record: PaperRecord) -> str:
    return _joined(record.get("categories"), " ")  # dots and hyphens go at indexing: `cs.LG` -> `cslg`


def _title_text(record: PaperRecord) -> str:
    value = record.get("title")
    return value if isinstance(value, str) else ""


def _abstract_text(record: PaperRecord) -> str:
    value = record.get("abstract")
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    weight: float
    b: float
    bit: int
    text: Callable[[PaperRecord], str]
    tf: bool = False  # keep term frequencies (only where words repeat: saves 1 byte a posting elsewhere)


FIELDS = (
    FieldSpec("title", 3.0, 0.6, 1, _title_text),
    FieldSpec("abstract", 1.0, 0.75, 2, _abstract_text, tf=True),
    FieldSpec("authors", 2.0, 0.3, 4, _authors_text),
    FieldSpec("keywords", 1.5, 0.5, 8, _keywords_text),
    FieldSpec("categories", 0.0, 0.0, 16, _categories_text),
)
SPEC = {f.name: f for f in FIELDS}
SCORED = tuple(f for f in FIELDS if f.weight > 0)
TEXT_FIELDS = tuple(f.name for f in SCORED)


class WordsInOrder:
    """Words adjacent and in order in text normalised by `normalise` (separators optional, so
    `sparse auto-encoders` and `sparse autoencoder` both match `sparse autoencoders`).

    Plain substring checks rule most texts out before the regex runs, and the regex starts with a literal
    (the first word's stem) so re can scan for it quickly; the word boundary before it is checked here."""

    def __init__(self, words: Sequence[str]) -> None:
        self.pattern, self.literals = _compile_in_order(tuple(words))

    def search(self, text: str) -> re.Match[str] | None:
        if not all(literal in text for literal in self.literals):
            return None
        for match in self.pattern.finditer(text):
            start = match.start()
            if start == 0 or not _is_word_char(text[start - 1]):
                return match
        return None


@functools.lru_cache(maxsize=4096)  # ~0.3 ms per compile, and digests match the same topics over and over
def _compile_in_order(words: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts, literals = [], []
    for word in (w.replace("-", "") for w in words):
        stemmed = stem(word)
        forms = {word, stemmed, stemmed + "s", stemmed + "es"}
        if stemmed.endswith("y"):
            forms.add(stemmed[:-1] + "ies")
        prefix = _common_prefix(forms)
        rest = sorted({f[len(prefix):] for f in forms}, key=len, reverse=True)
        parts.append(re.escape(prefix) + "(?:" + "|".join(re.escape(r) for r in rest) + ")")
        if stemmed not in STOP_STEMS:
            literals.append(prefix)
    return re.compile(_SEP.join(parts) + _NOT_BEFORE_WORD), tuple(literals)


def _common_prefix(words: set[str]) -> str:
    first, last = min(words), max(words)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


def _is_word_char(char: str) -> bool:
    return char.isalnum() and (not char.isascii() or char.isdigit() or char.islower())


def normalise(text: str) -> str:
    return fold(text).replace("-", "")


@dataclass
class _Group:
    """One query word: the term ids it may match (a typo'd word has corrections) and their weights."""

    label: str
    alternatives: list[tuple[int, float]]
    required: bool = False
    idf: float = 0.0


@dataclass
class _Plan:
    groups: list[_Group] = field(default_factory=list)
    mask: np.ndarray | None = None  # bool per slot: filters and exclusions passed
    phrases: list[WordsInOrder] = field(default_factory=list)
    excluded_phrases: list[tuple[WordsInOrder, np.ndarray]] = field(default_factory=list)
    sequence: WordsInOrder | None = None
    id_slots: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: bool = False  # nothing can match (e.g. a hook is missing)


def _copy(record: PaperRecord) -> PaperRecord:
    """A copy a caller may change: the index holds the archive's own records (which it never mutates)."""
    return cast(PaperRecord, {k: (v.copy() if isinstance(v, (dict, list)) else v) for k, v in record.items()})


def _date_of(record: PaperRecord) -> int:
    """YYYYMMDD of the paper's date (arXiv v1, else its Daily Papers day, else when we first saw it)."""
    value = record.get("published") or record.get("hf_date") or record.get("first_seen")
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        digits = value[:4] + value[5:7] + value[8:10]
        if digits.isdigit():
            return int(digits)
    return 0


def _metadata(records: Sequence[PaperRecord]) -> tuple[list[str], list[int], list[float]]:
    """`published`, has:-flags and upvotes of many records in one pass (one Python loop, not three)."""
    published: list[str] = []
    flags: list[int] = []
    upvotes: list[float] = []
    code, project, hf = HAS_BITS["code"], HAS_BITS["project"], HAS_BITS["hf"]
    for record in records:
        get = record.get
        value = get("published")
        published.append(value if value.__class__ is str else "")
        links = get("links")
        bits = 0
        if links.__class__ is dict and links:
            if links.get("github"):
                bits = code
            if links.get("project"):
                bits |= project
            if links.get("hf"):
                bits |= hf
        if not bits & hf:
            sources = get("sources")
            if sources.__class__ is list and "hf" in sources:
                bits |= hf
        flags.append(bits)
        votes = get("upvotes")
        upvotes.append(votes if votes.__class__ is int or votes.__class__ is float else 0)
    return published, flags, upvotes


def _dates_of(records: Sequence[PaperRecord], values: list[str]) -> np.ndarray:
    """_date_of for many records, given their `published` values: the common case with numpy."""
    try:
        chars = np.array(values, dtype="<U10").view(np.uint32).reshape(len(values), 10) if values else None
    except (TypeError, ValueError):  # a non-string somewhere: the slow, careful way
        chars = None
    if chars is None:
        return np.array([_date_of(r) for r in records], dtype=np.int32)
    digits = chars.astype(np.int64) - ord("0")
    shape_ok = (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-")) & \
        ((digits[:, [0, 1, 2, 3, 5, 6, 8, 9]] >= 0) & (digits[:, [0, 1, 2, 3, 5, 6, 8, 9]] <= 9)).all(axis=1)
    weights = np.array([10**7, 10**6, 10**5, 10**4, 0, 1000, 100, 0, 10, 1], dtype=np.int64)
    dates = np.where(shape_ok, (digits * weights).sum(axis=1), 0).astype(np.int32)
    for i in np.flatnonzero(~shape_ok).tolist():  # no or odd `published`: the other fields
        dates[i] = _date_of(records[i])
    return dates


def _shared_map(pool: ThreadPoolExecutor, fn: Callable[[Any], Any], jobs: Sequence[Any],
                ahead: int) -> Iterator[Any]:
    """fn over jobs, results in order: every other job runs on `pool` (one helper thread), the rest in
    the calling thread as its results are consumed. At most `ahead` helper jobs are queued or done and
    not yet consumed (memory); the first ones are submitted now, so the caller can do other work before
    consuming.

    One helper rather than a pool of two: glibc gives each thread that allocates its own malloc arena
    and keeps part of it resident afterwards (malloc_trim cannot shrink a thread arena's top), ~10 MB
    per extra thread at 100k papers; with MALLOC_ARENA_MAX=1 in the environment even that goes."""
    helper = iter(jobs[1::2])
    pending: deque[Future[Any]] = deque(pool.submit(fn, job) for job in itertools.islice(helper, ahead))

    def results() -> Iterator[Any]:
        for i, job in enumerate(jobs):
            if i % 2 == 0:
                yield fn(job)
                continue
            done = pending.popleft().result()
            for more in itertools.islice(helper, 1):
                pending.append(pool.submit(fn, more))
            yield done

    return results()


def _release_free_memory() -> None:
    """Hand the build's freed temporaries back to the OS (glibc would keep tens of MB of them at 100k)."""
    with contextlib.suppress(Exception):
        name = ctypes.util.find_library("c")
        if name:
            ctypes.CDLL(name).malloc_trim(0)


_NO_SLOTS = np.zeros(0, dtype=np.intp)


class IdSlots:
    """Paper id -> slot, as a numpy hash table keyed by hash(id) (a dict costs ~80 bytes an entry, 8 MB
    at 100k papers). A hit is checked against the record in the slot; the (astronomically rare) ids whose
    64-bit hashes clash go to a dict."""

    def __init__(self) -> None:
        self._table = TermTable(1 << 10)
        self._clashes: dict[str, int] = {}

    @staticmethod
    def _keys(ids: Sequence[str]) -> np.ndarray:
        keys = np.array([hash(i) for i in ids], dtype=np.int64).view(np.uint64)
        keys[keys == 0] = 1
        return keys

    @property
    def nbytes(self) -> int:
        return self._table.nbytes

    def slots(self, ids: Sequence[str], records: list[PaperRecord | None]) -> list[int | None]:
        if not ids:
            return []
        found = self._table.get(self._keys(ids)).tolist()
        out: list[int | None] = []
        for paper_id, slot in zip(ids, found, strict=True):
            record = records[slot] if slot >= 0 else None
            if record is not None and record.get("id") == paper_id:
                out.append(slot)
            else:
                out.append(self._clashes.get(paper_id))
        return out

    def assign(self, ids: Sequence[str], first_slot: int, records: list[PaperRecord | None]) -> None:
        """ids[i] now lives in slot first_slot + i (ids unique)."""
        keys = self._keys(ids)
        slots = np.arange(first_slot, first_slot + len(ids), dtype=np.int32)
        previous = self._table.get(keys)
        clash = np.zeros(len(ids), dtype=bool)
        for i in np.flatnonzero(previous >= 0).tolist():
            record = records[previous[i]]
            if record is not None and record.get("id") != ids[i]:
                clash[i] = True  # another live paper's id has this hash
        _, first = np.unique(keys, return_index=True)
        if len(first) < len(keys):  # two new ids with one hash
            repeated = np.ones(len(keys), dtype=bool)
            repeated[first] = False
            clash |= repeated
        for i in np.flatnonzero(clash).tolist():
            self._clashes[ids[i]] = first_slot + i
        self._table.set(keys[~clash], slots[~clash])


class SemanticNeighbours(Protocol):
    def similar(self, query: str, k: int) -> list[tuple[str, float]]: ...


class SearchIndex:
    """Search over paper records; see the module docstring. All public methods are thread-safe.

    `semantic` (optional): papers close in meaning to a query's words join its lexical matches (`_blend`).

    `workers=2` (default) lets bulk adds use one helper thread next to the calling one; 1 uses none."""

    def __init__(self, *, workers: int = 2) -> None:
        self._lock = threading.RLock()
        self._workers = max(1, workers)
        self.semantic: SemanticNeighbours | None = None
        self._reset()

    def _reset(self) -> None:
        self._epoch = 0  # bumped by every change that can move or retire slots
        self._restrictions: dict[frozenset[str], tuple[int, np.ndarray]] = {}
        self._vocab = Vocabulary()
        self._segments: list[Segment] = []
        self._records: list[PaperRecord | None] = []
        self._ids = IdSlots()
        self._live = 0
        self._alive = np.zeros(0, dtype=bool)
        self._date = np.zeros(0, dtype=np.int32)
        self._flags = np.zeros(0, dtype=np.uint8)
        self._prior = np.zeros(0, dtype=np.float32)
        self._lengths = {f.name: np.zeros(0, dtype=np.float32) for f in SCORED}
        self._total_length = {f.name: 0.0 for f in SCORED}
        self._df = np.zeros(0, dtype=np.int32)  # papers × text fields having the term
        self._fields_of = np.zeros(0, dtype=np.uint8)  # FieldSpec.bit of every field that ever had the term
        self._in_pool = np.zeros(0, dtype=bool)
        self._fuzzy = FuzzyPool()

    # ---- building and updating -------------------------------------------------------------------

    @classmethod
    def build(cls, records: Iterable[PaperRecord], *, workers: int = 2) -> SearchIndex:
        index = cls(workers=workers)
        index.add(list(records))
        return index

    @classmethod
    def from_archive(cls, archive: Any, *, workers: int = 2) -> SearchIndex:
        """Build from `archive` and follow its changes, with no window in which a change is missed."""
        index = cls(workers=workers)
        index.attach(archive)  # first: a change made during the snapshot arrives (again) through add
        index.add(archive.snapshot())
        return index

    def attach(self, archive: Any) -> None:
        """Follow the archive: every upsert that changes papers is indexed incrementally."""
        archive.subscribe(self.add)

    def __len__(self) -> int:
        return self._live

    def add(self, records: Iterable[PaperRecord]) -> None:
        """Add records, or replace those whose id is already indexed (same id = replace). Thread-safe."""
        started = time.perf_counter()
        latest: dict[str, PaperRecord] = {}
        for record in records:
            paper_id = record.get("id") if isinstance(record, dict) else None
            if isinstance(paper_id, str) and paper_id:
                latest[paper_id] = record
        if not latest:
            return
        with self._lock:
            self._epoch += 1
            for old in self._ids.slots(list(latest), self._records) if self._live else ():
                if old is not None:
                    self._tombstone(old)
            self._append(list(latest.values()))
            dead = len(self._records) - self._live
            if dead > max(COMPACT_MIN_DEAD, len(self._records) // 2):
                self._compact()
        if len(latest) > BATCH_DOCS:
            _release_free_memory()
        log.debug("search.add records=%d ms=%.1f", len(latest), 1000 * (time.perf_counter() - started))

    def _tombstone(self, slot: int) -> None:
        self._alive[slot] = False
        self._live -= 1
        for name in self._lengths:
            self._total_length[name] -= float(self._lengths[name][slot])
        self._records[slot] = None

    def _ensure_slots(self, needed: int) -> None:
        if needed <= len(self._alive):
            return
        size = max(needed, len(self._alive) * 3 // 2, 1024)

        def grow(array: np.ndarray) -> np.ndarray:
            out = np.zeros(size, dtype=array.dtype)
            out[:len(array)] = array
            return out

        self._alive, self._date, self._flags, self._prior = (
            grow(self._alive), grow(self._date), grow(self._flags), grow(self._prior))
        self._lengths = {k: grow(v) for k, v in self._lengths.items()}

    def _ensure_terms(self) -> None:
        needed, current = len(self._vocab), len(self._df)
        if needed <= current:
            return
        size = max(needed, current * 3 // 2, 1 << 14)

        def grow(array: np.ndarray) -> np.ndarray:
            out = np.zeros(size, dtype=array.dtype)
            out[:current] = array
            return out

        self._df, self._fields_of, self._in_pool = grow(self._df), grow(self._fields_of), grow(self._in_pool)

    def _append(self, records: list[PaperRecord]) -> None:
        start = len(self._records)
        stop = start + len(records)
        if stop > MAX_SLOTS:
            raise ValueError(f"the search index holds at most {MAX_SLOTS:,} papers")
        self._ensure_slots(stop)
        self._records.extend(records)
        self._ids.assign([r["id"] for r in records], start, self._records)

        jobs = [(spec, b, min(b + BATCH_DOCS, stop)) for b in range(start, stop, BATCH_DOCS) for spec in FIELDS]
        lock = threading.Lock()

        def run(job: tuple[FieldSpec, int, int]) -> tuple[FieldSpec, int, Run, np.ndarray]:
            spec, first, last = job
            texts = [spec.text(r) for r in records[first - start:last - start]]
            batch = index_texts(texts, first, self._vocab, lock, squash=spec.name == "categories")
            return spec, first, batch.run, batch.lengths

        if len(jobs) > len(FIELDS) and self._workers > 1:
            with ThreadPoolExecutor(1, thread_name_prefix="search-build") as pool:
                results = _shared_map(pool, run, jobs, 8)
                self._set_metadata(records, start, stop)  # while the helper starts tokenising
                segments = self._segments_from(results, start, stop)
        else:
            self._set_metadata(records, start, stop)
            segments = self._segments_from(map(run, jobs), start, stop)
        self._ensure_terms()
        for segment in segments:
            for name, fp in segment.fields.items():
                spec = SPEC[name]
                if spec.weight > 0:
                    self._df[fp.terms] += np.diff(fp.offsets).astype(np.int32)
                self._fields_of[fp.terms] |= spec.bit
            self._segments.append(segment)
        for spec in SCORED:
            self._total_length[spec.name] += float(self._lengths[spec.name][start:stop].sum())
        touched = np.zeros(len(self._df), dtype=bool)
        for segment in segments:
            for fp in segment.fields.values():
                touched[fp.terms] = True
        self._refresh_pool(np.flatnonzero(touched))
        if len(segments) == 1:
            self._merge_tail()

    def _set_metadata(self, records: list[PaperRecord], start: int, stop: int) -> None:
        published, flags, upvotes = _metadata(records)
        self._alive[start:stop] = True
        self._live += len(records)
        self._date[start:stop] = _dates_of(records, published)
        self._flags[start:stop] = flags
        votes = np.array(upvotes, dtype=np.float64)
        dates = self._date[start:stop].astype(np.float64)
        recency = np.clip((dates // 10000 + (dates // 100 % 100) / 12 - 2015) / 15, 0, 1) * (dates > 0)
        popularity = np.minimum(np.log1p(np.maximum(votes, 0)) / math.log1p(500), 1)
        self._prior[start:stop] = 1 + 0.03 * popularity + 0.02 * recency

    def _segments_from(self, results: Iterable[tuple[FieldSpec, int, Run, np.ndarray]], start: int,
                       stop: int) -> list[Segment]:
        segments: list[Segment] = []
        runs: dict[str, list[Run]] = {spec.name: [] for spec in FIELDS}
        seg_start = start
        for spec, first, run, lengths in results:
            if spec.name in self._lengths:
                self._lengths[spec.name][first:first + len(lengths)] = lengths
            runs[spec.name].append(run)
            last = min(first + BATCH_DOCS, stop)
            if spec is FIELDS[-1] and (last - seg_start >= SEGMENT_DOCS or last == stop):
                segments.append(Segment(seg_start, last, {
                    n: persist(merge_runs(r, seg_start, keep_tf=SPEC[n].tf)) for n, r in runs.items()}))
                runs = {s.name: [] for s in FIELDS}
                seg_start = last
        return segments

    def _merge_tail(self) -> None:
        """Size-tiered merging: merge the last two segments while the newer is at least half the older."""
        segs = self._segments
        while len(segs) >= 2 and 2 * segs[-1].size >= segs[-2].size and \
                segs[-1].stop - segs[-2].start <= MAX_SEGMENT_DOCS:
            older, newer = segs[-2], segs[-1]
            fields = {}
            for spec in FIELDS:
                runs = [as_run(older.fields[spec.name], older.start), as_run(newer.fields[spec.name], newer.start)]
                merged = merge_runs(runs, older.start, self._alive, keep_tf=spec.tf)
                if spec.weight > 0 and len(merged.docs) < sum(len(r.slots) for r in runs):
                    # Postings of replaced papers were dropped: their words' document counts go down.
                    size = len(self._df)
                    before = np.bincount(np.concatenate([r.terms for r in runs]),
                                         weights=np.concatenate([r.counts for r in runs]), minlength=size)
                    after = np.bincount(merged.terms, weights=np.diff(merged.offsets), minlength=size)
                    self._df -= (before - after)[:size].astype(np.int32)
                fields[spec.name] = persist(merged)
            segs[-2:] = [Segment(older.start, newer.stop, fields)]

    def _compact(self) -> None:
        """Rebuild from the live records: slots of replaced papers are reclaimed."""
        live = [r for r in self._records if r is not None]
        log.info("search.compact live=%d slots=%d", len(live), len(self._records))
        self._reset()
        self._append(live)

    def _refresh_pool(self, term_ids: np.ndarray) -> None:
        """Add newly eligible terms to the typo pool: in 2+ papers, or in a title, author list or keywords."""
        term_ids = term_ids[~self._in_pool[term_ids]]
        named = SPEC["title"].bit | SPEC["authors"].bit | SPEC["keywords"].bit
        chosen = term_ids[((self._fields_of[term_ids] & named) > 0) | (self._df[term_ids] > 1)]
        if len(chosen) == 0:
            return
        self._in_pool[chosen] = True
        self._fuzzy.add(chosen, *self._vocab.bytes_of(chosen))

    # ---- reading postings ------------------------------------------------------------------------

    def _postings(self, name: str, term_ids: list[int]) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per term: (slots, term frequencies or None where the field keeps none) in one field."""
        wanted = np.asarray(term_ids, dtype=np.int32)
        slots: list[list[np.ndarray]] = [[] for _ in term_ids]
        freqs: list[list[np.ndarray]] = [[] for _ in term_ids]
        for segment in self._segments:
            fp: FieldPostings = segment.fields[name]
            for i, (a, b) in enumerate(fp.ranges(wanted)):
                if b > a:
                    slots[i].append(fp.docs[a:b].astype(np.intp) + segment.start)
                    tf = fp.tf(a, b)
                    if tf is not None:
                        freqs[i].append(tf)
        out: list[tuple[np.ndarray, np.ndarray | None]] = []
        for s_parts, f_parts in zip(slots, freqs, strict=True):
            found = np.concatenate(s_parts) if len(s_parts) > 1 else (s_parts[0] if s_parts else _NO_SLOTS)
            tf = None if not f_parts else (np.concatenate(f_parts) if len(f_parts) > 1 else f_parts[0])
            out.append((found, tf))
        return out

    def _df_of(self, term_id: int) -> int:
        return int(self._df[term_id]) if 0 <= term_id < len(self._vocab) else 0

    def _df_in(self, name: str, term_id: int) -> int:
        if not 0 <= term_id < len(self._vocab) or not self._fields_of[term_id] & SPEC[name].bit:
            return 0
        return len(self._postings(name, [term_id])[0][0])

    def _idf(self, term_id: int) -> float:
        n = max(self._live, 1)
        df = min(self._df_of(term_id), n)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _docs_with(self, term_id: int, fields: Sequence[str] = TEXT_FIELDS) -> np.ndarray:
        mask = np.zeros(len(self._records), dtype=bool)
        if term_id < 0:
            return mask
        for name in fields:
            slots, _ = self._postings(name, [term_id])[0]
            mask[slots] = True
        return mask

    def _group_scores(self, group: _Group, n: int, among: np.ndarray | None = None) -> np.ndarray:
        """BM25 of the group's best alternative per slot; with `among` (sorted slots), only for those, as an
        array aligned with `among` — a digest scores a day's few hundred papers, not the whole archive."""
        total: np.ndarray | None = None
        ids = [t for t, _ in group.alternatives]
        per_field = {spec.name: self._postings(spec.name, ids) for spec in SCORED}
        live = max(self._live, 1)
        for i, (term_id, weight) in enumerate(group.alternatives):
            scores = np.zeros(n if among is None else len(among), dtype=np.float32)
            idf = self._idf(term_id) * weight
            for spec in SCORED:
                slots, tf8 = per_field[spec.name][i]
                if len(slots) == 0:
                    continue
                targets = slots
                if among is not None:
                    at = np.minimum(np.searchsorted(among, slots), len(among) - 1)
                    inside = among[at] == slots
                    slots, targets = slots[inside], at[inside]
                    tf8 = None if tf8 is None else tf8[inside]
                    if len(slots) == 0:
                        continue
                avg = max(self._total_length[spec.name] / live, 1.0)
                norm = (K1 * (1 - spec.b)) + (K1 * spec.b / avg) * self._lengths[spec.name][slots]
                scale = np.float32(spec.weight * idf * (K1 + 1))
                if tf8 is None:
                    scores[targets] += scale / (1 + norm)
                else:
                    tf = tf8.astype(np.float32)
                    scores[targets] += scale * tf / (tf + norm)
            total = scores if total is None else np.maximum(total, scores)
        assert total is not None
        return total

    # ---- planning a query ------------------------------------------------------------------------

    def _corrections(self, term: str, name: str | None) -> list[Candidate]:
        def popularity(t: int) -> int:
            return self._df_of(t) if name is None else self._df_in(name, t)

        accept = None if name is None else (lambda t: bool(self._fields_of[t] & SPEC[name].bit))
        return self._fuzzy.nearest(term, spell=self._vocab.spelling, popularity=popularity, accept=accept)

    def _resolve(self, word: str, notes: list[str], *, exact: bool = False,
                 name: str | None = None) -> list[tuple[int, float]]:
        """Term alternatives for one folded word: itself if papers have it, else typo corrections."""
        term = stem(word)
        term_id = self._vocab.lookup(term)
        df = self._df_of(term_id) if name is None else self._df_in(name, term_id)
        if df > 0 or exact:
            alternatives = [(term_id, 1.0)] if df > 0 else []
            if df <= 2 and not exact:
                # A word only one or two papers have may itself be a typo of a common one.
                for c in self._corrections(term, name):
                    if (self._df_of(c.term_id) if name is None else self._df_in(name, c.term_id)) >= 20 * max(df, 1):
                        alternatives.append((c.term_id, FUZZY_WEIGHT[c.distance]))
                        notes.append(f"also searched for {c.term}")
            if not alternatives:
                notes.append(f"no paper mentions '{word}'")
            return alternatives
        corrections = self._corrections(term, name)
        if not corrections:
            notes.append(f"no paper mentions '{word}'")
            return []
        notes.append(f"searched for {' / '.join(c.term for c in corrections)} instead of {word}")
        # The closest correction counts most; the others are fallbacks.
        return [(c.term_id, FUZZY_WEIGHT[c.distance] * (1.0 if i == 0 else 0.8)) for i, c in enumerate(corrections)]

    def _group(self, label: str, alternatives: list[tuple[int, float]], required: bool = False) -> _Group:
        return _Group(label, alternatives, required, max(self._idf(t) for t, _ in alternatives))

    def _plan(self, parsed: ParsedQuery, context: SearchContext | None) -> _Plan:
        plan = _Plan(notes=list(parsed.notes))
        notes = plan.notes
        phrases = list(parsed.phrases)
        compounds: set[int] = set()  # ids of phrases made from a hyphenated word rather than typed in quotes
        for word in parsed.words:
            if len(word.parts) > 1:
                joined = self._vocab.lookup(stem(word.joined))
                if self._df_of(joined) > 0:
                    plan.groups.append(self._group(word.text, [(joined, 1.0)]))
                else:
                    phrases.append(Phrase(word.text, word.parts))  # `auto-encoder` as "auto encoder"
                    compounds.add(id(phrases[-1]))
                continue
            alternatives = self._resolve(word.parts[0], notes, exact=word.exact)
            if alternatives:
                plan.groups.append(self._group(word.text, alternatives))
        for phrase in phrases:
            spelled = []
            groups = []
            for w in phrase.words:
                if stem(w) in STOP_STEMS:
                    spelled.append(w)
                    continue
                alternatives = self._resolve(w, notes)
                if not alternatives:
                    break
                groups.append(self._group(w, alternatives, required=True))
                best = alternatives[0][0]
                spelled.append(w if best == self._vocab.lookup(stem(w)) else self._vocab.spelling(best))
            else:
                plan.groups.extend(groups)
                plan.phrases.append(WordsInOrder(spelled))
                continue
            # A quoted phrase with a word no paper has matches nothing; an unknown hyphenated word is left
            # out like an unknown plain word (with its note), unless meaning is all the query has left.
            if id(phrase) not in compounds or self.semantic is None:
                plan.empty = True
        if len(parsed.sequence) > 1:
            plan.sequence = WordsInOrder(parsed.sequence)
        found = self._ids.slots(parsed.ids, self._records)
        plan.id_slots = [s for s in found if s is not None]
        notes.extend(f"paper {i} is not in the archive" for i, s in zip(parsed.ids, found, strict=True) if s is None)
        plan.mask = self._filter_mask(parsed, context, plan)
        return plan

    def _filter_mask(self, parsed: ParsedQuery, context: SearchContext | None, plan: _Plan) -> np.ndarray:
        n = len(self._records)
        notes = plan.notes
        mask = self._alive[:n].copy()
        if parsed.date_from is not None:
            mask &= self._date[:n] >= parsed.date_from
        if parsed.date_to is not None:
            mask &= (self._date[:n] <= parsed.date_to) & (self._date[:n] > 0)  # 0: date unknown
        if parsed.date_from is not None and parsed.date_to is not None and parsed.date_from > parsed.date_to:
            notes.append("the date filters leave no days in between")
        for what, negated in parsed.has:
            has = (self._flags[:n] & HAS_BITS[what]) > 0
            mask &= ~has if negated else has
        for name_words, negated in parsed.authors:
            by = np.ones(n, dtype=bool)
            for part in name_words:
                found = np.zeros(n, dtype=bool)
                for term_id, _ in self._resolve(part, notes, name="authors"):
                    found |= self._docs_with(term_id, ("authors",))
                by &= found
            mask &= ~by if negated else by
        for key, negated in parsed.categories:
            inside = self._docs_with(self._vocab.lookup(stem(key)), ("categories",))
            if not negated and not inside.any():
                notes.append(f"no paper is in category {key}")
            mask &= ~inside if negated else inside
        for kind, entries in (("saved", parsed.saved), ("channel", parsed.channels)):
            for target, negated in entries:
                ids = self._hook_ids(context, kind, target, notes)
                if ids is None:
                    plan.empty = True
                else:
                    mask &= ~ids if negated else ids
        for word in parsed.excluded_words:
            mask &= ~self._docs_with(self._vocab.lookup(stem(word.joined)))
        for phrase in parsed.excluded_phrases:
            candidates = np.ones(n, dtype=bool)
            for w in phrase.words:
                if stem(w) not in STOP_STEMS:
                    candidates &= self._docs_with(self._vocab.lookup(stem(w)))
            plan.excluded_phrases.append((WordsInOrder(phrase.words), candidates))
        return mask

    def _hook_ids(self, context: SearchContext | None, kind: str, key: str | None,
                  notes: list[str]) -> np.ndarray | None:
        if kind == "saved":
            hook = context.saved_ids if context else None
            who = key or (context.user_id if context else None)
            missing = "`saved:` needs saved papers, which aren't available here; drop it to search everything"
        else:
            hook = context.channel_ids if context else None
            who = key or (context.channel_id if context else None)
            missing = ("`channel:` needs the record of what was posted where, which isn't available here; "
                       "drop it to search everything")
        if hook is None or who is None:
            notes.append(missing)
            return None
        try:
            ids = hook(who)
        except Exception:  # a broken hook must not break search
            log.exception("search.hook_failed kind=%s", kind)
            notes.append(f"the {'saved' if kind == 'saved' else 'channel'} papers could not be read just now")
            return None
        mask = np.zeros(len(self._records), dtype=bool)
        mask[[s for s in self._ids.slots(list(ids or ()), self._records) if s is not None]] = True
        return mask

    # ---- scoring ---------------------------------------------------------------------------------

    def _score(self, plan: _Plan) -> np.ndarray:
        """Final scores per slot; 0 = no match."""
        n = len(self._records)
        scores = np.zeros(n, dtype=np.float32)
        cover = np.zeros(n, dtype=np.float32)
        required = np.ones(n, dtype=bool)
        for group in plan.groups:
            group_scores = self._group_scores(group, n)
            hit = group_scores > 0
            scores += group_scores
            cover[hit] += np.float32(group.idf)
            if group.required:
                required &= hit
        keep = required if plan.mask is None else (required & plan.mask)
        scores[~keep] = 0
        total_idf = sum(g.idf for g in plan.groups)
        if total_idf > 0:
            scores *= (cover / np.float32(total_idf)) ** COORDINATION
        scores *= self._prior[:n]
        return scores

    def _text(self, slot: int, name: str) -> str:
        record = self._records[slot]
        return normalise(SPEC[name].text(record)) if record is not None else ""

    def _bonus(self, plan: _Plan, slot: int, abstract: bool) -> float:
        if plan.sequence is None:
            return 1.0
        title = self._text(slot, "title")
        match = plan.sequence.search(title)
        if match:
            whole = _NON_WORDS.sub("", title) == _NON_WORDS.sub("", match.group(0))
            return WHOLE_TITLE_BONUS if whole else TITLE_PHRASE_BONUS
        if abstract and plan.sequence.search(self._text(slot, "abstract")):
            return ABSTRACT_PHRASE_BONUS
        return 1.0

    def _phrases_ok(self, plan: _Plan, slot: int) -> bool:
        texts: dict[str, str] = {}

        def has(phrase: WordsInOrder) -> bool:
            for name in TEXT_FIELDS:  # title first: short, and where a phrase usually is
                if name not in texts:
                    texts[name] = self._text(slot, name)
                if phrase.search(texts[name]):
                    return True
            return False

        if not all(has(phrase) for phrase in plan.phrases):
            return False
        return not any(candidates[slot] and has(phrase) for phrase, candidates in plan.excluded_phrases)

    def _ranked(self, plan: _Plan, scores: np.ndarray, wanted: int) -> tuple[np.ndarray, int]:
        """Slots in rank order (at least `wanted` if that many match) and the number of matches."""
        candidates = np.flatnonzero(scores > 0)
        total = len(candidates)
        if total == 0:
            return candidates, 0
        head = min(total, max(wanted, RERANK_TITLES))
        if head < total:
            top = np.argpartition(-scores[candidates], head - 1)[:head]
            # Keep ties at the cut: paging must not depend on argpartition's choice among equals.
            candidates = candidates[scores[candidates] >= scores[candidates[top]].min()]
        if plan.sequence is not None:
            best = candidates[np.argsort(-scores[candidates], kind="stable")[:RERANK_TITLES]]
            for rank, slot in enumerate(best.tolist()):
                scores[slot] *= self._bonus(plan, slot, abstract=rank < RERANK_ABSTRACTS)
        order = np.lexsort((candidates, -self._date[candidates], -scores[candidates]))
        return candidates[order], total

    # ---- the public queries ----------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 10, offset: int = 0,
               context: SearchContext | None = None) -> SearchPage:
        """Ranked, paged results. Raises QueryError (a friendly message) for empty, too long or
        meaningless queries and bad filter values; anything else gives a page, maybe with notes."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        parsed = parse_query(query, today=date.today())
        started = time.perf_counter()
        # Meaning is looked up first, outside the lock. (On a helper thread, overlapping the scoring of the words,
        # it was slower: both hold the GIL for most of their many small numpy calls.)
        near = self._neighbours(parsed) if self._wants_meaning(parsed) else []
        with self._lock:
            plan = self._plan(parsed, context)
            page = self._run(parsed, plan, limit, offset, lambda: near)
        log.debug("search.query chars=%d total=%d ms=%.1f", len(query), page.total,
                  1000 * (time.perf_counter() - started))
        return page

    def _wants_meaning(self, parsed: ParsedQuery) -> bool:
        """Meaning helps a query of plain words; ids, filters alone or a single word are said better by words."""
        return self.semantic is not None and not parsed.ids and len(parsed.sequence) >= 2

    def _neighbours(self, parsed: ParsedQuery) -> list[tuple[str, float]]:
        """Papers nearest in meaning to the query's plain words."""
        if self.semantic is None:
            return []
        try:
            return self.semantic.similar(" ".join(parsed.sequence), SEMANTIC_CANDIDATES)
        except Exception:  # a search without meaning is still a search
            log.exception("search.semantic_failed")
            return []

    def _blend(self, plan: _Plan, scores: np.ndarray, neighbours: list[tuple[str, float]]) -> None:
        """Add closeness in meaning to the lexical scores: a neighbour with cosine c gains
        SEMANTIC_WEIGHT × (c − floor) / (1 − floor) × the best lexical score (or 1 when nothing matched by
        words), so a paper that says the idea in other words can rank among those that use the query's words.
        Filters and exclusions still hold."""
        if not neighbours:
            return
        slots = self._ids.slots([pid for pid, _ in neighbours], self._records)
        reference = float(scores.max()) if len(scores) and scores.max() > 0 else 1.0
        for slot, (_, cosine) in zip(slots, neighbours, strict=True):
            if slot is None or cosine <= SEMANTIC_FLOOR or not self._alive[slot]:
                continue
            if plan.mask is not None and not plan.mask[slot]:
                continue
            gain = SEMANTIC_WEIGHT * (cosine - SEMANTIC_FLOOR) / (1 - SEMANTIC_FLOOR) * reference
            scores[slot] += np.float32(gain * self._prior[slot])

    def _run(self, parsed: ParsedQuery, plan: _Plan, limit: int, offset: int,
             neighbours: Callable[[], list[tuple[str, float]]] = list) -> SearchPage:
        page = SearchPage(parsed.text, [], 0, offset, limit, plan.notes)
        if plan.empty:
            page.notes = list(dict.fromkeys(plan.notes))
            return page
        wanted = offset + limit
        scores: np.ndarray | None = None
        if plan.groups:
            scores = self._score(plan)
            self._blend(plan, scores, neighbours())
        elif parsed.words and (near := neighbours()):  # no word is known: meaning is all there is
            scores = np.zeros(len(self._records), dtype=np.float32)
            self._blend(plan, scores, near)
        if scores is not None:
            checking = bool(plan.phrases or plan.excluded_phrases)
            order, total = self._ranked(plan, scores, wanted + (PHRASE_CHECKS if checking else 0))
            if checking:
                order, total = self._verify(plan, order, total, wanted)
        elif parsed.words or parsed.phrases or parsed.ids:
            order, total = np.zeros(0, dtype=np.int64), 0  # every word unknown (the notes say so), or ids
        else:  # filters only: newest first
            assert plan.mask is not None
            order = np.flatnonzero(plan.mask)
            order = order[np.lexsort((order, -self._date[order]))]
            total = len(order)
            if plan.excluded_phrases:
                order, total = self._verify(plan, order, total, wanted)
        first = [s for s in dict.fromkeys(plan.id_slots) if self._alive[s]]
        if first:  # papers asked for by id lead
            listed = np.isin(order, first)
            total += len(first) - int(listed.sum())
            order = np.concatenate((np.asarray(first, dtype=np.int64), order[~listed]))
        top = float(scores[order[len(first):]].max()) if scores is not None and len(order) > len(first) else 0.0
        for slot in order[offset:wanted].tolist():
            record = self._records[slot]
            if record is None:
                continue
            if slot in first:
                score = round(top + 1.0, 4)
            else:
                score = round(float(scores[slot]), 4) if scores is not None else 0.0
            page.hits.append(Hit(_copy(record), score))
        page.total = total
        page.notes = list(dict.fromkeys(plan.notes))
        return page

    def _verify(self, plan: _Plan, order: np.ndarray, total: int, wanted: int) -> tuple[np.ndarray, int]:
        """Keep candidates whose text has the phrases, checking in rank order; past the page, check up to
        PHRASE_CHECKS more and estimate the total from the share that passed."""
        kept: list[int] = []
        checked = 0
        for slot in order.tolist():
            if checked >= wanted + PHRASE_CHECKS:
                break
            checked += 1
            if self._phrases_ok(plan, slot):
                kept.append(slot)
        if checked < total:
            estimate = len(kept) + round(len(kept) / checked * (total - checked))
            plan.notes.append(f"about {estimate:,} results (phrases checked in the first {checked:,} matches)")
            return np.asarray(kept, dtype=np.int64), estimate
        return np.asarray(kept, dtype=np.int64), len(kept)

    def match(self, query: str, paper_ids: Collection[str] | None = None) -> list[Hit]:
        """Papers (optionally only among `paper_ids`) that match the query strongly enough to post.

        Every word must match (typos corrected as in search), phrases and filters must hold, and the paper
        must be *about* the words: its score must reach a bar measured in "one mention in an average-length
        title" (= 1). The bar per word is 0.5 for a one-word topic — a title, keyword or author hit, or an
        abstract using the word about three times; one passing mention is not enough — 0.4 each for two
        words and 0.34 for more (fewer papers have all of several words by chance), and 0.25 for a rare
        word (in at most max(5, 0.2 % of papers): one abstract mention of `chinchilla` is news, one of
        `diffusion` is not). Words adjacent in the typed order count ×1.5. Ranked by strength (the score,
        1.0 = every word once in the title). A filter-only query (e.g. `author:hinton`) matches every paper
        that passes, newest first; `saved:` / `channel:` need a search context and match nothing here.
        """
        parsed = parse_query(query, today=date.today())
        with self._lock:
            plan = self._plan(parsed, None)
            if plan.empty:
                return []
            among = np.arange(len(self._records)) if paper_ids is None else self._restriction(paper_ids)
            if not plan.groups:
                if parsed.words or parsed.phrases or parsed.ids:
                    return []
                assert plan.mask is not None
                slots = among[plan.mask[among]]
                slots = slots[np.lexsort((slots, -self._date[slots]))]
                return [Hit(_copy(r), 1.0) for r in (self._records[s] for s in slots.tolist()) if r is not None]
            if len(among) == 0:
                return []
            raw = self._raw_among(plan, among)
            title_weight = SPEC["title"].weight
            reference = sum(g.idf for g in plan.groups) * title_weight
            common_bar = {1: 0.5, 2: 0.4}.get(len(plan.groups), 0.34)
            rare_df, broad_df = max(5, 0.002 * self._live), BROAD_WORD_SHARE * self._live

            def bar(group: _Group) -> float:
                df = max(self._df_of(t) for t, _ in group.alternatives)
                if df <= rare_df:
                    return RARE_WORD_BAR
                if len(plan.groups) == 1 and df > broad_df:
                    return BROAD_WORD_BAR
                return common_bar

            # 0.99: a keyword hit is exactly at the one-word bar; float32 rounding
            threshold = 0.99 * sum(g.idf * title_weight * bar(g) for g in plan.groups)
            strength = raw.astype(np.float64)
            if plan.sequence is not None:  # just short of the bar: do the words stand together?
                for i in np.flatnonzero((raw >= threshold / TITLE_PHRASE_BONUS) & (raw < threshold)).tolist():
                    slot = int(among[i])
                    if plan.sequence.search(self._text(slot, "title")) or \
                            plan.sequence.search(self._text(slot, "abstract")):
                        strength[i] *= TITLE_PHRASE_BONUS
            passed = np.flatnonzero(strength >= threshold)
            hits = [(float(strength[i]) / reference, slot) for i, slot in zip(passed.tolist(), among[passed].tolist(),
                                                                                strict=True)
                    if (not plan.phrases and not plan.excluded_phrases) or self._phrases_ok(plan, slot)]
            hits.sort(key=lambda h: (-h[0], -int(self._date[h[1]]), h[1]))
            return [Hit(_copy(r), round(v, 4)) for v, s in hits if (r := self._records[s]) is not None]

    def passing(self, parsed: ParsedQuery, paper_ids: Collection[str]) -> list[str] | None:
        """Of `paper_ids`, those a topic's filters, exclusions and "quoted phrases" allow (its plain words
        are not required here: topic scoring weighs them). None when the topic can match nothing."""
        with self._lock:
            plan = self._plan(ParsedQuery(parsed.text, phrases=parsed.phrases, excluded_words=parsed.excluded_words,
                                          excluded_phrases=parsed.excluded_phrases, authors=parsed.authors,
                                          categories=parsed.categories, has=parsed.has,
                                          date_from=parsed.date_from, date_to=parsed.date_to,
                                          saved=parsed.saved, channels=parsed.channels), None)
            if plan.empty:
                return None
            among = self._restriction(paper_ids)
            if plan.mask is not None:
                among = among[plan.mask[among]]
            checking = bool(plan.phrases or plan.excluded_phrases)
            return [r["id"] for s in among.tolist() if (r := self._records[s]) is not None
                    and (not checking or self._phrases_ok(plan, s))]

    def _restriction(self, paper_ids: Collection[str]) -> np.ndarray:
        """Sorted live slots of `paper_ids`. Cached for a frozenset (its hash is computed once), as a digest
        run matches every topic against the same day's papers; the cache is dropped when the index changes."""
        key = paper_ids if isinstance(paper_ids, frozenset) else None
        if key is not None and (cached := self._restrictions.get(key)) is not None and cached[0] == self._epoch:
            return cached[1]
        found = [s for s in self._ids.slots(list(paper_ids), self._records) if s is not None]
        slots = np.unique(np.asarray(found, dtype=np.intp))
        slots = slots[self._alive[slots]]
        if key is not None:
            if len(self._restrictions) >= 8:
                self._restrictions.clear()
            self._restrictions[key] = (self._epoch, slots)
        return slots

    def _raw_among(self, plan: _Plan, among: np.ndarray) -> np.ndarray:
        """Plain BM25 sums for the sorted slots `among` (aligned with it), 0 unless every group and every
        filter matches."""
        scores = np.zeros(len(among), dtype=np.float32)
        keep = np.ones(len(among), dtype=bool) if plan.mask is None else plan.mask[among]
        for group in plan.groups:
            group_scores = self._group_scores(group, len(self._records), among)
            scores += group_scores
            keep &= group_scores > 0
        scores[~keep] = 0
        return scores

    # ---- introspection ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Sizes, for logs and benchmarks."""
        with self._lock:
            arrays = sum(s.nbytes for s in self._segments) + self._vocab.nbytes + self._fuzzy.nbytes + \
                self._ids.nbytes + sum(
                a.nbytes for a in (self._alive, self._date, self._flags, self._prior, self._df, self._fields_of,
                                   self._in_pool, *self._lengths.values()))
            return {"papers": self._live, "slots": len(self._records), "segments": len(self._segments),
                    "terms": len(self._vocab), "fuzzy_terms": len(self._fuzzy),
                    "postings": sum(len(fp.docs) for s in self._segments for fp in s.fields.values()),
                    "array_mb": round(arrays / 2**20, 1)}

