"""A topic against candidate papers, as digests, `/papers topics try` and `paperbot match` see it.

The topic is read by the search query parser, so its filters keep their meaning: `author:`, `cat:`,
`-exclusions` and "quoted phrases" are hard conditions checked by the search index; its plain words are
weighed by the relevance engine (stems, acronyms, meaning), which gives each allowed paper the probability
that it is about the topic. A topic of filters only (`author:hinton`) matches every paper that passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.papers import PaperRecord
from bot.relevance.engine import Relevance
from bot.search.models import QueryError
from bot.search.query import ParsedQuery, parse_query

SEMANTIC_WHY = 0.45  # a cosine this high is worth saying "close in meaning"
FLOOR = 0.05  # probabilities below this are not kept at all (no strictness goes this low)


class PassingIndex(Protocol):
    def passing(self, parsed: ParsedQuery, paper_ids: Sequence[str] | frozenset[str]) -> list[str] | None: ...


@dataclass(frozen=True)
class TopicMatch:
    paper_id: str
    probability: float
    logit: float
    words: tuple[str, ...]
    semantic: float

    def why(self, topic: str) -> str:
        parts = []
        if self.words:
            parts.append(", ".join(self.words))
        if self.semantic >= SEMANTIC_WHY:
            parts.append("close in meaning")
        return f"“{topic}”" + (f": {'; '.join(parts)}" if parts else "")


def plain_words(parsed: ParsedQuery) -> list[str]:
    return [w.text for w in parsed.words] + [word for phrase in parsed.phrases for word in phrase.words]


class TopicMatcher:
    def __init__(self, index: PassingIndex, relevance: Relevance) -> None:
        self.index = index
        self.relevance = relevance
        self._last: tuple[Mapping[str, PaperRecord], list[PaperRecord]] | None = None

    def match(self, topic: str, records: Mapping[str, PaperRecord], *, floor: float = FLOOR) -> dict[str, TopicMatch]:
        """Papers of `records` the topic may match, with their probability (at least `floor`).
        Raises QueryError (a friendly sentence) for a topic the parser refuses."""
        parsed = parse_query(topic, today=date.today())
        if not records:
            return {}
        conditions = bool(parsed.phrases or parsed.excluded_words or parsed.excluded_phrases or parsed.has_filters)
        # Plain words alone: every candidate is allowed, no need to ask the index.
        allowed = self.index.passing(parsed, frozenset(records)) if conditions else list(records)
        if not allowed:
            return {}
        words = plain_words(parsed)
        if not words:
            return {pid: TopicMatch(pid, 1.0, 10.0, (), 0.0) for pid in allowed}
        prepared = self.relevance.prepared(topic, words)
        everything = self._listed(records)
        subset = None if len(allowed) == len(everything) else frozenset(allowed)
        scores = self.relevance.score(prepared, everything, floor=floor, allowed=subset)
        return {s.paper_id: TopicMatch(s.paper_id, s.probability, s.logit, s.words, s.semantic) for s in scores}

    def _listed(self, records: Mapping[str, PaperRecord]) -> list[PaperRecord]:
        """The records as one list, the same list object for the same mapping (every topic of a planning run
        passes the same one), so the relevance engine finds its stems and vectors already gathered."""
        last = self._last
        if last is not None and last[0] is records and len(last[1]) == len(records):
            return last[1]
        listed = list(records.values())
        self._last = (records, listed)
        return listed

    def prepare(self, topics: Sequence[str]) -> None:
        """Prepare topics ahead, together (one encoder batch): a digest morning's topics, or after start-up."""
        items = []
        for topic in topics:
            try:
                words = plain_words(parse_query(topic, today=date.today()))
            except QueryError:
                continue
            if words:
                items.append((topic, words))
        if items:
            self.relevance.prepare_many(items)
