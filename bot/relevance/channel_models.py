"""Each channel's learned preferences applied to its topic scores (digests, trials, `paperbot match --channel`).

A channel's model (bot/relevance/preferences.py) is fit on its feedback (bot/relevance/feedback.py): each
example is the paper's vector and its base logit, the best over the channel's topics of the topic model's
logit. The fit is cached until the channel's feedback or topics change, so a digest morning refits only the
channels that got feedback since the day before. Without vectors (no embedding model) nothing is learned.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from bot.papers import PaperRecord
from bot.relevance.engine import Relevance
from bot.relevance.feedback import ChannelFeedback
from bot.relevance.preferences import ChannelModel, Example
from bot.search.models import QueryError

log = logging.getLogger(__name__)

UNMATCHED_LOGIT = -6.0  # base of an example none of the channel's topics matches any more
_CACHE = 1024


@dataclass(frozen=True)
class Adjusted:
    probability: float
    similar_to_saved: bool


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class ChannelModels:
    def __init__(self, feedback: ChannelFeedback, relevance: Relevance,
                 records: Callable[[Sequence[str]], Mapping[str, PaperRecord]],
                 topic_logits: Callable[[str, Mapping[str, PaperRecord]], dict[str, float]]) -> None:
        self.feedback = feedback
        self.relevance = relevance
        self._records = records
        self._topic_logits = topic_logits
        self._cache: dict[str, tuple[object, ChannelModel | None]] = {}
        self._lock = threading.Lock()

    def model(self, channel: str, topics: Sequence[str], now: datetime | None = None) -> ChannelModel | None:
        if self.relevance.vectors is None:
            return None
        labelled = self.feedback.examples(channel, now)
        if not labelled:
            return None
        key = (tuple(topics), tuple((e.paper_id, e.label, e.weight) for e in labelled))
        with self._lock:
            cached = self._cache.get(channel)
        if cached is not None and cached[0] == key:
            return cached[1]
        ids = [e.paper_id for e in labelled]
        vectors, present = self.relevance.vectors.get(ids)
        records = self._records(ids)
        base = dict.fromkeys(ids, UNMATCHED_LOGIT)
        for topic in topics:
            try:
                for pid, logit in self._topic_logits(topic, records).items():
                    base[pid] = max(base[pid], logit)
            except QueryError:
                continue
        examples = [Example(vectors[i], base[e.paper_id], e.label, e.weight)
                    for i, e in enumerate(labelled) if present[i]]
        fitted = ChannelModel.fit(examples)
        log.info("relevance.channel_model channel=%s examples=%d fitted=%s", channel, len(examples),
                 fitted is not None)
        with self._lock:
            if len(self._cache) >= _CACHE:
                self._cache.clear()
            self._cache[channel] = (key, fitted)
        return fitted

    def adjust(self, model: ChannelModel, scores: Mapping[str, float]) -> dict[str, Adjusted]:
        """The channel's probabilities for papers whose channel-independent probabilities are `scores`."""
        if self.relevance.vectors is None or not scores:
            return {pid: Adjusted(p, False) for pid, p in scores.items()}
        ids = list(scores)
        vectors, present = self.relevance.vectors.get(ids)
        base = np.asarray([_logit(scores[pid]) for pid in ids], dtype=np.float64)
        adjusted = model.adjust(vectors, base)
        similar = model.similar_to_saved(vectors)
        out: dict[str, Adjusted] = {}
        for i, pid in enumerate(ids):
            if not present[i]:  # no vector yet: the topic score stands
                out[pid] = Adjusted(scores[pid], False)
                continue
            out[pid] = Adjusted(1.0 / (1.0 + math.exp(-float(adjusted[i]))), bool(similar[i]))
        return out
