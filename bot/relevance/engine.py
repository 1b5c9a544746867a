"""The relevance engine: paper vectors kept up to date, topics scored against papers, queries embedded.

Without an embedding model (not installed, or `PAPERBOT_EMBEDDINGS=off`) everything still works on the
lexical evidence alone (stems, acronyms, phrases); the topic model has a fit for that case too.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.papers import PaperRecord
from bot.relevance.acronyms import AcronymTable
from bot.relevance.encoder import TextEncoder, paper_text
from bot.relevance.topic_scorer import (
    FEATURES,
    PreparedTopic,
    TopicModel,
    TopicScore,
    features,
    prepare,
)
from bot.relevance.vectors import PaperVectors, text_crc
from bot.relevance.words import StemFamilies, StemmedText

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.bin"
PAPER_TOKENS = 48  # a paper's vector reads its title and the start of its abstract
NEIGHBOURHOOD = 20  # nearest archive papers whose centroid stands for the topic as the archive writes it
NEIGHBOUR_POOL = 8000  # stored vectors (a random sample) the nearest papers are looked for among
BASELINE_SAMPLE = 2000  # archive vectors a topic's similarity is compared with (its z-score)
BASELINE_MIN = 50  # stored vectors needed before similarity counts (the topic model's z-scores need a baseline)
EMBED_BATCH = 64
_TOPIC_CACHE = 8192  # prepared topics (~3 KB each): every channel's topics stay warm between digests
_TEXT_CACHE = 5_000  # stemmed papers kept beyond the candidate sets (a day is ~500)
_QUERY_CACHE = 1024
_CANDIDATE_SETS = 2


@dataclass(frozen=True)
class Meaning:
    """What a topic's texts mean against the archive: its vector, its similarity baseline, its neighbourhood."""

    vector: NDArray[np.float32]
    mean: float
    std: float
    centroid: NDArray[np.float32]
    centroid_mean: float
    centroid_std: float


@dataclass(frozen=True)
class CandidateSet:
    ids: list[str]
    texts: list[StemmedText]
    postings: dict[str, list[int]]  # stem -> positions of the papers holding it (title, abstract, compounds)
    vectors: NDArray[np.float32] | None
    present: NDArray[np.bool_] | None


_SEMANTIC, _SEMANTIC_Z, _NEIGHBOURHOOD_Z, _HAS_VECTOR = (
    FEATURES.index(name) for name in ("semantic", "semantic_z", "neighbourhood_z", "has_vector"))


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _text_of(record: PaperRecord) -> str:
    return paper_text(record.get("title") or "", record.get("abstract") or "")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


class Relevance:
    def __init__(self, *, encoder: TextEncoder | None, vectors: PaperVectors | None,
                 acronyms: AcronymTable | None = None, model: TopicModel | None = None,
                 lexical_model: TopicModel | None = None) -> None:
        self.encoder = encoder
        self.vectors = vectors if encoder is not None else None
        self.acronyms = acronyms or AcronymTable()
        self.families = StemFamilies()
        self.model = model or TopicModel.load()
        self.lexical_model = lexical_model or TopicModel.load(kind="lexical")
        self._topics: OrderedDict[str, PreparedTopic] = OrderedDict()
        self._texts: OrderedDict[tuple[str, int], StemmedText] = OrderedDict()
        self._queries: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._pool: tuple[int, NDArray[np.float32], NDArray[np.float32]] | None = None
        self._meanings: OrderedDict[tuple[tuple[str, ...], int], Meaning] = OrderedDict()
        self._last_set: tuple[Sequence[PaperRecord], int, CandidateSet] | None = None
        self._candidate_sets: OrderedDict[tuple[frozenset[str], int, int], CandidateSet] = OrderedDict()
        self._lock = threading.Lock()
        self._embed_lock = threading.Lock()

    @classmethod
    def open(cls, model_dir: Path | None, data_dir: Path | None, *, read_only: bool = False) -> Relevance:
        encoder = None
        vectors = None
        if model_dir is not None:
            encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)
            path = data_dir / VECTORS_FILE if data_dir is not None else None
            vectors = PaperVectors(encoder.dimensions, encoder.name, path, read_only=read_only)
        return cls(encoder=encoder, vectors=vectors)

    @property
    def semantic(self) -> bool:
        return self.encoder is not None and self.vectors is not None

    # ---- keeping up with the archive -----------------------------------------------------------------

    def learn(self, records: Iterable[PaperRecord]) -> None:
        """Learn acronym definitions from papers' titles and abstracts, and word families from their titles."""
        batch = list(records)
        self.acronyms.learn(f"{r.get('title') or ''} {r.get('abstract') or ''}" for r in batch)
        self.families.add(r.get("title") or "" for r in batch)

    def embed_missing(self, records: Sequence[PaperRecord], stop: Callable[[], bool] = lambda: False, *,
                      workers: int | None = None) -> int:
        """Compute and store vectors of the papers that have none (or whose text changed); returns how many.
        `workers`: encoder threads (default the encoder's; 1 leaves a core to everything else)."""
        if self.encoder is None or self.vectors is None:
            return 0
        done = 0
        with self._embed_lock:  # one embedding run at a time: they would compete for the same two cores
            # A paper is embedded once, and again only if its text changed (an abstract that arrived later).
            # Only ids and checksums are held for the whole list: texts are made again batch by batch.
            todo: dict[str, tuple[PaperRecord, int]] = {}
            for record in records:
                crc = text_crc(_text_of(record))
                if self.vectors.text_of(record["id"]) != crc:
                    todo[record["id"]] = (record, crc)
            pending = list(todo.values())
            for start in range(0, len(pending), EMBED_BATCH):
                if stop():
                    break
                batch = pending[start:start + EMBED_BATCH]
                began = time.perf_counter()
                vectors = self.encoder.encode([_text_of(record) for record, _ in batch], workers=workers)
                self.vectors.add([record["id"] for record, _ in batch], vectors, [crc for _, crc in batch])
                done += len(batch)
                log.debug("vectors.embedded papers=%d ms=%.0f", len(batch), 1000 * (time.perf_counter() - began))
        return done

    # ---- topics ----------------------------------------------------------------------------------------

    def _topic_key(self, topic: str) -> str:
        # Prepared again as the archive grows: a new acronym, new word families, and each doubling of the
        # stored vectors (from none to enough for a baseline, then a baseline worth recomputing).
        stored = len(self.vectors) if self.vectors else 0
        return (f"{topic}\x00{len(self.acronyms)}\x00{len(self.families) // 100}\x00"
                f"{stored >= BASELINE_MIN}\x00{stored.bit_length()}")

    def prepared(self, topic: str, words: Sequence[str]) -> PreparedTopic:
        return self.prepare_many([(topic, words)])[0]

    def prepare_many(self, topics: Sequence[tuple[str, Sequence[str]]]) -> list[PreparedTopic]:
        """Topics ready to score (text, plain words each), from the cache or prepared together: one batch through
        the encoder and one product with the reference sample for all of them."""
        keys = [self._topic_key(topic) for topic, _ in topics]
        out: list[PreparedTopic | None] = []
        with self._lock:
            for key in keys:
                found = self._topics.get(key)
                if found is not None:
                    self._topics.move_to_end(key)
                out.append(found)
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:
            fresh = [prepare(topics[i][1], self.acronyms, topics[i][0], self.families.family) for i in missing]
            self._add_meaning(fresh)
            with self._lock:
                for i, prepared in zip(missing, fresh, strict=True):
                    out[i] = prepared
                    self._topics[keys[i]] = prepared
                while len(self._topics) > _TOPIC_CACHE:
                    self._topics.popitem(last=False)
        return [p for p in out if p is not None]

    def _reference(self) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
        """Stored vectors topics are compared with: a random sample for the similarity baseline (the first
        BASELINE_SAMPLE rows) and for each topic's neighbourhood; drawn again at each doubling of the archive."""
        if self.vectors is None or len(self.vectors) < BASELINE_MIN:
            return None
        bucket = len(self.vectors).bit_length()
        with self._lock:
            if self._pool is not None and self._pool[0] == bucket:
                return self._pool[1], self._pool[2]
        pool = self.vectors.sample(NEIGHBOUR_POOL)
        baseline = pool[:BASELINE_SAMPLE]
        with self._lock:
            self._pool = (bucket, pool, baseline)
        return pool, baseline

    def _add_meaning(self, topics: Sequence[PreparedTopic]) -> None:
        """Each topic's vector, its similarity baseline and its neighbourhood centroid (words only without a
        model, or with too few stored vectors to say what "similar" means). Kept by the texts encoded, so a
        topic prepared again for a new acronym elsewhere in the archive is not encoded again."""
        reference = self._reference() if self.encoder is not None else None
        if reference is None or self.encoder is None or not topics:
            return
        pool, baseline = reference
        bucket = len(self.vectors).bit_length() if self.vectors is not None else 0
        # An acronym's long form tells the model what the letters mean ("PINNs": physics-informed ...).
        keys: list[tuple[tuple[str, ...], int]] = []
        for prepared in topics:
            spelled = [text for concept in prepared.concepts for form in concept.forms[1:]
                       if (text := self.acronyms.spelled(form))]
            keys.append((tuple([prepared.text, *dict.fromkeys(spelled)][:4]), bucket))
        with self._lock:
            known = {key: self._meanings[key] for key in keys if key in self._meanings}
        todo = list(dict.fromkeys(key for key in keys if key not in known))
        if todo:
            flat = [t for texts, _ in todo for t in texts]
            encoded = self.encoder.encode(flat)
            vectors = np.zeros((len(todo), encoded.shape[1]), dtype=np.float32)
            start = 0
            for i, (texts, _) in enumerate(todo):
                mean = encoded[start:start + len(texts)].mean(axis=0)
                start += len(texts)
                vectors[i] = mean / max(float(np.linalg.norm(mean)), 1e-9)
            similarity = pool @ vectors.T  # (pool, topics)
            take = min(NEIGHBOURHOOD, len(pool))
            for i, key in enumerate(todo):
                column = similarity[:, i]
                # The topic as the archive writes about it: the centroid of its nearest papers.
                nearest = np.argpartition(-column, take - 1)[:take]
                centroid = pool[nearest].mean(axis=0)
                centroid = (centroid / max(float(np.linalg.norm(centroid)), 1e-9)).astype(np.float32)
                around = baseline @ centroid
                known[key] = Meaning(vectors[i], float(column[:len(baseline)].mean()),
                                     float(max(column[:len(baseline)].std(), 0.02)), centroid,
                                     float(around.mean()), float(max(around.std(), 0.02)))
            with self._lock:
                for key in todo:
                    self._meanings[key] = known[key]
                while len(self._meanings) > _TOPIC_CACHE:
                    self._meanings.popitem(last=False)
        for prepared, key in zip(topics, keys, strict=True):
            meaning = known[key]
            prepared.vector, prepared.centroid = meaning.vector, meaning.centroid
            prepared.semantic_mean, prepared.semantic_std = meaning.mean, meaning.std
            prepared.centroid_mean, prepared.centroid_std = meaning.centroid_mean, meaning.centroid_std

    def _stemmed(self, record: PaperRecord) -> StemmedText:
        key = (record["id"], text_crc(_text_of(record)))  # a paper whose abstract arrived is stemmed again
        with self._lock:
            found = self._texts.get(key)
        if found is not None:
            return found
        text = StemmedText.of(record.get("title") or "", record.get("abstract") or "")
        with self._lock:
            self._texts[key] = text
            if len(self._texts) > _TEXT_CACHE:
                self._texts.popitem(last=False)
        return text

    def feature_rows(self, topic: PreparedTopic, records: Sequence[PaperRecord]
                     ) -> tuple[NDArray[np.float64], list[list[str]], list[float]]:
        """The topic model's features per paper, the topic words each contains, and each cosine (0: none)."""
        semantic: list[float | None] = [None] * len(records)
        around: list[float | None] = [None] * len(records)
        if topic.vector is not None and self.vectors is not None:
            vectors, present = self.vectors.get([r["id"] for r in records])
            cosines = (vectors @ topic.vector).tolist()
            semantic = [c if p else None for c, p in zip(cosines, present.tolist(), strict=True)]
            if topic.centroid is not None:
                near = (vectors @ topic.centroid).tolist()
                around = [c if p else None for c, p in zip(near, present.tolist(), strict=True)]
        rows: list[list[float]] = []
        found: list[list[str]] = []
        for record, sim, near_sim in zip(records, semantic, around, strict=True):
            row, words = features(topic, self._stemmed(record), sim, near_sim)
            rows.append(row)
            found.append(words)
        return np.asarray(rows, dtype=np.float64).reshape(len(records), -1), found, [s or 0.0 for s in semantic]

    def _candidate_set(self, records: Sequence[PaperRecord]) -> CandidateSet:
        """The papers' stems, which papers hold each stem, and their vectors: built once for a planning run's
        candidates and shared by every topic scored against them."""
        last = self._last_set
        if last is not None and last[0] is records and last[1] == (self.vectors.version if self.vectors else 0):
            return last[2]  # the same list again: the next topic of a planning run
        # Built again when a vector is stored or a text grows (a paper seen again with its abstract).
        key = (frozenset(r["id"] for r in records),
               sum(len(r.get("title") or "") + len(r.get("abstract") or "") for r in records),
               self.vectors.version if self.vectors is not None else 0)
        with self._lock:
            found = self._candidate_sets.get(key)
            if found is not None:
                self._candidate_sets.move_to_end(key)
                self._last_set = (records, key[2], found)
                return found
        ids = [r["id"] for r in records]
        texts = [self._stemmed(r) for r in records]
        postings: dict[str, list[int]] = {}
        for position, text in enumerate(texts):
            for stem in {*text.title, *text.abstract, *text.title_compounds, *text.abstract_compounds}:
                postings.setdefault(stem, []).append(position)
        vectors, present = self.vectors.get(ids) if self.vectors is not None else (None, None)
        built = CandidateSet(ids, texts, postings, vectors, present)
        with self._lock:
            self._candidate_sets[key] = built
            while len(self._candidate_sets) > _CANDIDATE_SETS:
                self._candidate_sets.popitem(last=False)
        self._last_set = (records, key[2], built)
        return built

    def score(self, topic: PreparedTopic, records: Sequence[PaperRecord], *, floor: float = 0.0,
              allowed: Collection[str] | None = None) -> list[TopicScore]:
        """How much each paper is about the topic (a probability), with the words that matched; only papers
        at `floor` or above, and only those in `allowed` if given (a topic's filters: the candidate set of
        `records` is then shared with the topics without filters). Papers without any of the topic's words are
        scored on meaning alone, in one vector product; only those with its words go through the feature rows."""
        if not records:
            return []
        candidates = self._candidate_set(records)
        n = len(candidates.ids)
        semantic = around = None
        present = candidates.present if candidates.present is not None else np.zeros(n, dtype=bool)
        if topic.vector is not None and candidates.vectors is not None:
            semantic = candidates.vectors @ topic.vector
            if topic.centroid is not None:
                around = candidates.vectors @ topic.centroid
        logits = np.full(n, self.lexical_model.bias, dtype=np.float64)  # no words, no vector
        if semantic is not None:
            meaning_only = np.zeros((n, len(self.model.weights)), dtype=np.float64)
            meaning_only[:, _SEMANTIC] = semantic
            meaning_only[:, _SEMANTIC_Z] = (semantic - topic.semantic_mean) / topic.semantic_std
            if around is not None:
                meaning_only[:, _NEIGHBOURHOOD_Z] = (around - topic.centroid_mean) / topic.centroid_std
            meaning_only[:, _HAS_VECTOR] = 1.0
            logits = np.where(present, self.model.logits(meaning_only), logits)
        words: dict[int, list[str]] = {}
        lexical = sorted({i for stem in topic.stems for i in candidates.postings.get(stem, ())})
        if lexical:
            rows = []
            for i in lexical:
                with_vector = semantic is not None and bool(present[i])
                row, found = features(topic, candidates.texts[i],
                                      float(semantic[i]) if with_vector and semantic is not None else None,
                                      float(around[i]) if with_vector and around is not None else None)
                rows.append(row)
                words[i] = found
            matrix = np.asarray(rows, dtype=np.float64)
            chosen = np.asarray(lexical)
            logits[chosen] = np.where(matrix[:, _HAS_VECTOR] > 0, self.model.logits(matrix),
                                      self.lexical_model.logits(matrix))
        keep = np.flatnonzero(logits >= _logit(floor)) if floor > 0 else np.arange(n)
        if allowed is not None:
            keep = np.asarray([i for i in keep.tolist() if candidates.ids[i] in allowed], dtype=np.intp)
        cosine = semantic if semantic is not None else np.zeros(n)
        return [TopicScore(candidates.ids[i], _sigmoid(float(logits[i])), float(logits[i]), tuple(words.get(i, ())),
                           float(cosine[i]) if present[i] else 0.0) for i in keep.tolist()]

    # ---- search ----------------------------------------------------------------------------------------

    def similar(self, query: str, k: int) -> list[tuple[str, float]]:
        """Papers whose vectors are nearest to the query's (cosine, best first)."""
        if self.encoder is None or self.vectors is None or not len(self.vectors):
            return []
        return self.vectors.nearest(self.query_vector(query), k)

    def query_vector(self, query: str) -> NDArray[np.float32]:
        """A query's vector; recent ones are kept (a Next page, the same search again)."""
        assert self.encoder is not None
        with self._lock:
            found = self._queries.get(query)
            if found is not None:
                self._queries.move_to_end(query)
                return found
        vector: NDArray[np.float32] = self.encoder.encode([query])[0]
        with self._lock:
            self._queries[query] = vector
            if len(self._queries) > _QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def vectors_of(self, ids: Sequence[str]) -> tuple[NDArray[np.float32], NDArray[np.bool_]] | None:
        return self.vectors.get(ids) if self.vectors is not None else None
