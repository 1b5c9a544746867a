"""Trying a topic before watching it: what it would have matched, and why (`DigestService.trial`).

The matching itself is the digest's (`DigestService.trial` runs the same `index.match` over the same candidate
rules and ranks with `selection.rank`); this module holds the result types and the `why` of a match: the topic,
and which of its words the paper's title or abstract contains, compared under the search text normalisation
(bot/search/text.py: folding, plurals, hyphenated compounds), so `Autoencoders` in a title counts for the topic
word `auto-encoder`. A word the index matched only through a typo correction is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.digest.selection import Pick
from bot.papers import PaperRecord
from bot.search.query import ParsedQuery
from bot.search.text import terms

TRIAL_DAYS = 30  # `/papers topics try` and `paperbot match` look this far back by default


@dataclass(frozen=True)
class TrialMatch:
    pick: Pick
    record: PaperRecord
    words: tuple[str, ...]  # the topic's words (as typed, folded) found in the title or abstract

    @property
    def paper_id(self) -> str:
        return self.pick.paper_id

    @property
    def score(self) -> float:
        return self.pick.score

    @property
    def why(self) -> str:
        """As a digest's context line says it (the matcher's reason), else the topic's words found."""
        if self.pick.why:
            return f"matches {self.pick.why}"
        found = f": {', '.join(self.words)} in title/abstract" if self.words else ""
        return f"matches “{self.pick.topic}”{found}"


@dataclass
class Trial:
    topic: str
    since: datetime
    channel: str | None  # whose sources the candidates came from; None: every paper that arrived
    candidates: int  # papers that arrived since `since` (from the channel's sources), before matching
    matches: list[TrialMatch] = field(default_factory=list)  # ranked, best first; no daily cap

    @property
    def count(self) -> int:
        return len(self.matches)


def topic_words(parsed: ParsedQuery) -> list[tuple[str, frozenset[str]]]:
    """The topic's plain and phrase words, each with its index terms (stop words have none and are left out)."""
    typed = [w.text for w in parsed.words] + [word for phrase in parsed.phrases for word in phrase.words]
    seen: set[str] = set()
    found: list[tuple[str, frozenset[str]]] = []
    for word in typed:
        word_terms = frozenset(terms(word))
        if word_terms and word not in seen:
            seen.add(word)
            found.append((word, word_terms))
    return found


def words_found(words: list[tuple[str, frozenset[str]]], record: PaperRecord) -> tuple[str, ...]:
    """Which of the topic's words the record's title or abstract contains (any of a word's terms)."""
    title, abstract = record.get("title"), record.get("abstract")
    text = "\n".join(v for v in (title, abstract) if isinstance(v, str))
    present = set(terms(text))
    return tuple(word for word, word_terms in words if word_terms & present)
