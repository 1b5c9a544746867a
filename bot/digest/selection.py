"""Which new papers a channel's digest offers, in what order.

The candidate pool is computed once per planning run for all channels: papers that arrived since the
earliest channel's previous digest (archive `first_seen`, or a Daily Papers listing date). Per channel, a
paper is a candidate when it arrived since *that* channel's previous digest, comes from one of its sources
(Daily Papers: the record's sources include "hf"; arXiv categories: overlap), and was neither posted there
nor considered by an earlier digest. A paper's strength for a channel is its best topic score. Ranking:
strength in tiers of 10 % of the channel's best (so near-equal matches are ordered by what people think of
them), then Hugging Face upvotes, then recency.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from bot.digest.settings import HF, ChannelDigest
from bot.papers import PaperRecord
from bot.search.models import Hit
from bot.timeutil import iso_utc, parse_iso

TOPIC_COUNT_DAYS = 7


class MatchIndex(Protocol):
    def match(self, query: str, paper_ids: Collection[str] | None = None) -> list[Hit]: ...


@dataclass(frozen=True)
class Pick:
    paper_id: str
    score: float
    topic: str
    why: str = ""  # why it matched, for people fixing their topics ("words: knot, invariant"; "similar to …")


@dataclass(frozen=True)
class TopicCount:
    topic: str
    count: int  # papers of the last days the topic matches
    problem: str | None = None  # why the search core refuses the topic


@dataclass
class Plan:
    channel: str
    day: date
    since: datetime
    planned_at: datetime
    picks: list[Pick] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # matched, but over the channel's maximum
    candidates: int = 0  # new papers from the channel's sources, before topic matching


class CandidatePool:
    """Papers that arrived since the earliest `since` of a planning run, with what selection needs.

    `records` is the archive's `arrived_since(since)`; any superset (the whole archive) gives the same pool."""

    def __init__(self, records: Iterable[PaperRecord], since: datetime) -> None:
        since_iso, since_day = iso_utc(since), since.astimezone(UTC).date().isoformat()
        # Arrived: first ingested, or listed on Daily Papers, at/after `since`.
        self.records: dict[str, PaperRecord] = {
            r["id"]: r for r in records
            if (r.get("first_seen") or "") >= since_iso or (r.get("hf_date") or "") >= since_day
        }
        # (id, first_seen, hf_date, listed on Daily Papers, categories): what per-channel filtering reads.
        self._facts = [(pid, r.get("first_seen") or "", r.get("hf_date") or "", HF in (r.get("sources") or ()),
                        tuple(r.get("categories") or ())) for pid, r in self.records.items()]

    def for_channel(self, channel: ChannelDigest, since: datetime, exclude: Collection[str],
                    posted: Collection[str]) -> set[str]:
        since_iso, since_day = iso_utc(since), since.astimezone(UTC).date().isoformat()
        hf, categories = HF in channel.sources, channel.categories
        return {pid for pid, first_seen, hf_date, listed, cats in self._facts
                if (first_seen >= since_iso or (hf_date and hf_date >= since_day))
                and ((hf and listed) or (categories and any(c in categories for c in cats)))
                and pid not in exclude and pid not in posted}


def _recency(record: PaperRecord) -> float:
    """The paper's date as a timestamp: arXiv v1, else its Daily Papers day, else when we first saw it."""
    hf_date = record.get("hf_date")
    for value in (record.get("published"), f"{hf_date}T00:00:00Z" if hf_date else None, record.get("first_seen")):
        moment = parse_iso(value)
        if moment is not None:
            return moment.timestamp()
    return 0.0


def rank(best: Mapping[str, tuple[float, str, str]], records: Mapping[str, PaperRecord]) -> list[Pick]:
    """Order matches: strength tier (10 % steps of the best score), then upvotes, then recency, then id."""
    if not best:
        return []
    top = max(score for score, _, _ in best.values()) or 1.0

    def key(pid: str) -> tuple[int, int, float, float, str]:
        score = best[pid][0]
        record = records.get(pid)
        upvotes = record.get("upvotes") if record is not None else None
        tier = min(10, int(10 * score / top + 1e-9))
        recency = _recency(record) if record is not None else 0.0
        return (-tier, -(upvotes if isinstance(upvotes, int) else 0), -recency, -score, pid)

    return [Pick(pid, *best[pid]) for pid in sorted(best, key=key)]
