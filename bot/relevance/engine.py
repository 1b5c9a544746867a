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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.papers import PaperRecord
from bot.relevance.acronyms import AcronymTable
from bot.relevance.encoder import TextEncoder, paper_text
from bot.relevance.topic_scorer import (
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
BASELINE_SAMPLE = 2000  # archive vectors a topic's similarity is compared with (its z-score)
BASELINE_MIN = 50  # stored vectors needed before similarity counts (the topic model's z-scores need a baseline)
EMBED_BATCH = 64
_TOPIC_CACHE = 512
_TEXT_CACHE = 50_000
_QUERY_CACHE = 1024


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
        self._texts: OrderedDict[str, StemmedText] = OrderedDict()
        self._queries: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
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

    def prepared(self, topic: str, words: Sequence[str]) -> PreparedTopic:
        # Prepared again as the archive grows: a new acronym, new word families, and each doubling of the
        # stored vectors (from none to enough for a baseline, then a baseline worth recomputing).
        stored = len(self.vectors) if self.vectors else 0
        key = (f"{topic}\x00{len(self.acronyms)}\x00{len(self.families) // 100}\x00"
               f"{stored >= BASELINE_MIN}\x00{stored.bit_length()}")
        with self._lock:
            found = self._topics.get(key)
            if found is not None:
                self._topics.move_to_end(key)
                return found
        prepared = prepare(words, self.acronyms, topic, self.families.family)
        if self.encoder is not None and self.vectors is not None and len(self.vectors):
            # An acronym's long form tells the model what the letters mean ("PINNs": physics-informed ...).
            spelled = [text for concept in prepared.concepts for form in concept.forms[1:]
                       if (text := self.acronyms.spelled(form))]
            texts = [topic, *dict.fromkeys(spelled)][:4]
            encoded = self.encoder.encode(texts)
            mean = encoded.mean(axis=0)
            prepared.vector = (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)
            sample = self.vectors.sample(BASELINE_SAMPLE)
            baseline = sample @ prepared.vector
            if len(baseline) < BASELINE_MIN:  # too few papers to say what "similar" means: words only
                prepared.vector = None
            else:
                prepared.semantic_mean = float(baseline.mean())
                prepared.semantic_std = float(max(baseline.std(), 0.02))
                # The topic as the archive writes about it: the centroid of its nearest papers.
                nearest = [pid for pid, _ in self.vectors.nearest(prepared.vector, NEIGHBOURHOOD)]
                near_vectors, _ = self.vectors.get(nearest)
                centroid = near_vectors.mean(axis=0)
                prepared.centroid = (centroid / max(float(np.linalg.norm(centroid)), 1e-9)).astype(np.float32)
                around = sample @ prepared.centroid
                prepared.centroid_mean = float(around.mean())
                prepared.centroid_std = float(max(around.std(), 0.02))
        with self._lock:
            self._topics[key] = prepared
            if len(self._topics) > _TOPIC_CACHE:
                self._topics.popitem(last=False)
        return prepared

    def _stemmed(self, record: PaperRecord) -> StemmedText:
        key = record["id"]
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

    def score(self, topic: PreparedTopic, records: Sequence[PaperRecord]) -> list[TopicScore]:
        """How much each paper is about the topic (a probability), with the words that matched."""
        if not records:
            return []
        matrix, found, cosines = self.feature_rows(topic, records)
        with_vector = matrix[:, -1] > 0
        logits = np.where(with_vector, self.model.logits(matrix), self.lexical_model.logits(matrix))
        return [TopicScore(r["id"], _sigmoid(z), z, tuple(w), c)
                for r, z, w, c in zip(records, logits.tolist(), found, cosines, strict=True)]

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
