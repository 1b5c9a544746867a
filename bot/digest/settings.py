"""A channel's digest settings with the operator's defaults resolved (`ChannelDigest`), the defaults
themselves (`DigestOptions`), how the stored "digest" part of a channel document maps to them, and parsing
`/papers sources …`. The channels repository owns the stored document; this module only reads and shapes it.

A channel's strictness (`ChannelDigest.strictness`, `.min_score`) is a level of the `STRICTNESS` table
(bot.digest.strictness, re-exported here) or a custom minimum score."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.config import Settings
from bot.digest import strictness as levels
from bot.digest.schedule import EVERY_DAY, WEEKDAYS, Schedule, ScheduleChange
from bot.digest.strictness import DEFAULT_STRICTNESS, Strictness
from bot.digest.strictness import STRICTNESS as STRICTNESS  # the levels' minimum scores: the one table
from bot.sources.arxiv import canonical_category
from bot.timeutil import iso_utc, parse_iso

DEFAULT_TIME = time(9, 0)
DEFAULT_MAX_PAPERS = 10
HF = "hf"
DEFAULT_SOURCES: tuple[str, ...] = (HF,)
MAX_SOURCES = 20


@dataclass(frozen=True)
class DigestOptions:
    """Operator-level defaults and tuning (see `from_settings` for the environment variables)."""

    default_time: time = DEFAULT_TIME
    default_tz: str = "UTC"
    default_max: int = DEFAULT_MAX_PAPERS
    post_empty: bool = False  # default for channels: a digest with nothing to say posts nothing
    default_strictness: Strictness = DEFAULT_STRICTNESS  # a level of STRICTNESS or a minimum score in [0, 1]
    post_interval: float = 1.0  # seconds between two posts to one channel (Slack: ~1 message/s/channel)
    rate_limit_retries: int = 5  # our own retries of a 429, after the Web API client's
    first_lookback: timedelta = timedelta(hours=36)
    max_lookback: timedelta = timedelta(days=7)
    keep_days: int = 30  # digest ledger documents older than this are pruned

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestOptions:
        """From `Settings` (PAPERBOT_DIGEST_TIME, PAPERBOT_TZ, PAPERBOT_DIGEST_MAX, PAPERBOT_DIGEST_POST_EMPTY,
        PAPERBOT_DIGEST_STRICTNESS, PAPERBOT_POST_INTERVAL)."""
        return cls(
            default_time=settings.digest_time,
            default_tz=settings.tz,
            default_max=settings.digest_max_papers,
            post_empty=settings.digest_post_empty,
            default_strictness=settings.digest_strictness,
            post_interval=settings.post_interval,
        )


# --- per-channel settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelDigest:
    """A channel's digest settings with defaults resolved."""

    channel: str
    topics: tuple[str, ...]
    schedule: Schedule
    max_papers: int = DEFAULT_MAX_PAPERS
    sources: tuple[str, ...] = DEFAULT_SOURCES
    post_empty: bool = False
    paused: str | None = None  # why posting stopped (a Slack error), until the next `/papers schedule …`
    effective_from: datetime | None = None  # scheduled digests due before this instant are not run
    strictness: Strictness = DEFAULT_STRICTNESS  # a level of STRICTNESS, or a custom minimum score in [0, 1]

    @property
    def min_score(self) -> float:
        """The lowest score (the topic scorer's probability that a paper is about a topic, 0..1) a paper needs
        to be in this channel's digest: the level's number in STRICTNESS, or the custom minimum."""
        return levels.min_score(self.strictness)

    @property
    def strictness_label(self) -> str:
        """For display: `normal (0.50)`, `custom 0.62`."""
        return levels.label(self.strictness)

    def describe_strictness(self) -> str:
        """`strict (only papers scored 0.70 or more; a quiet day posts fewer)`."""
        return levels.describe(self.strictness)

    @property
    def active(self) -> bool:
        """Scheduled digests run: the schedule is on, the channel is not paused and watches something."""
        return self.schedule.enabled and self.paused is None and bool(self.topics)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(s for s in self.sources if s != HF)


class SourcesError(ValueError):
    pass


_HF_WORDS = frozenset({"hf", "huggingface", "hugging-face", "daily", "dailypapers", "daily-papers"})


def parse_sources(text: str) -> tuple[str, ...]:
    """`hf cs.LG cs.CL` → ("hf", "cs.LG", "cs.CL"); raises SourcesError with a friendly sentence."""
    found: dict[str, None] = {}
    for word in text.replace(",", " ").split():
        if word.casefold() in _HF_WORDS:
            found[HF] = None
            continue
        category = canonical_category(word)
        if category is None:
            raise SourcesError(f"“{word}” is neither “hf” (Hugging Face Daily Papers) nor an arXiv category "
                               f"such as cs.LG.")
        found[category] = None
    if not found:
        raise SourcesError("Name at least one source: “hf” for Hugging Face Daily Papers, and/or arXiv "
                           "categories such as cs.LG cs.CL.")
    if len(found) > MAX_SOURCES:
        raise SourcesError(f"A channel can follow at most {MAX_SOURCES} sources.")
    return tuple(found)


def resolve(channel_id: str, doc: Mapping[str, Any] | None, options: DigestOptions) -> ChannelDigest:
    """The channel's settings from its stored document (None: never configured), defaults filled in."""
    doc = doc or {}
    stored = doc.get("digest")
    raw: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
    at = options.default_time
    if isinstance(raw.get("time"), str):
        with contextlib.suppress(ValueError):
            at = time.fromisoformat(raw["time"])
    days = WEEKDAYS if raw.get("days") == "weekdays" else EVERY_DAY
    schedule = Schedule(at=at, tz=raw.get("tz") or options.default_tz, days=days,
                        enabled=raw.get("enabled", True) is not False)
    paused = raw.get("paused")
    strictness = levels.stored(raw.get("strictness"))
    return ChannelDigest(
        channel=channel_id,
        topics=tuple(doc.get("topics") or ()),
        schedule=schedule,
        max_papers=int(raw.get("max_papers") or options.default_max),
        sources=tuple(raw.get("sources") or DEFAULT_SOURCES),
        post_empty=bool(raw["post_empty"]) if isinstance(raw.get("post_empty"), bool) else options.post_empty,
        paused=str(paused.get("reason") or "unknown") if isinstance(paused, dict) else None,
        effective_from=parse_iso(raw.get("effective_from")) or parse_iso(doc.get("created_at")),
        strictness=options.default_strictness if strictness is None else strictness,
    )


def apply_schedule_change(digest: dict[str, Any], change: ScheduleChange, now: datetime) -> None:
    """Apply `/papers schedule …` to the stored "digest" part: set what was given, keep the rest; any change
    also un-pauses."""
    if change.off:
        digest["enabled"] = False
    else:
        if change.at is not None or change.tz is not None or change.days is not None:
            digest["enabled"] = True
        if change.at is not None:
            digest["time"] = change.at.strftime("%H:%M")
        if change.tz is not None:
            digest["tz"] = change.tz
        if change.days is not None:
            digest["days"] = "weekdays" if change.days == WEEKDAYS else "daily"
        if change.max_papers is not None:
            digest["max_papers"] = change.max_papers
        if change.post_empty is not None:
            digest["post_empty"] = change.post_empty
        if change.strictness is not None:
            digest["strictness"] = change.strictness
    digest.pop("paused", None)
    # A new time that has already passed today starts tomorrow; it does not post right away.
    digest["effective_from"] = iso_utc(now)
