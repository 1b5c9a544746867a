"""Whether the day's papers are in: the outcome of the last ingest of each source, kept for one process.

An empty digest is recorded (and so uses up the channel's day) only when "nothing new" is true: every
source the channel follows was ingested successfully after the point from which the day's papers count
(`ready_after`). Otherwise nothing is recorded and the reply says why: a source is down, or the papers
are not in yet. The scheduler and `/papers digest` share one `IngestStatus` (the digest service's).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.digest.due import INGEST_LEAD, IngestFn, IngestRequest, scheduled_on
from bot.digest.settings import HF, ChannelDigest

RECENT_ATTEMPT = timedelta(minutes=5)  # `/papers digest` ingests again only after this long


@dataclass(frozen=True)
class SourceState:
    ok_at: datetime | None = None  # the last successful ingest
    failed_at: datetime | None = None  # the last failed one
    error: str | None = None  # why it failed

    @property
    def last_attempt(self) -> datetime | None:
        return max((t for t in (self.ok_at, self.failed_at) if t is not None), default=None)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    down: tuple[tuple[str, str], ...] = ()  # (source, error) of the channel's sources whose last ingest failed
    scheduled_at: datetime | None = None  # today's scheduled digest (UTC), if it is still to come

    @property
    def reason(self) -> str:
        return "ready" if self.ready else "down" if self.down else "not_in_yet"

    def describe(self) -> str:
        """One short line for logs and the CLI."""
        if self.down:
            return "sources down: " + "; ".join(f"{source}: {error}" for source, error in self.down)
        return "ready" if self.ready else "today's papers are not in yet"


def ready_after(channel: ChannelDigest, day: date, lead: timedelta = INGEST_LEAD) -> datetime:
    """From when an ingest counts for the channel's `day`: the scheduler's ingest `lead` before the scheduled
    digest, or the start of the local day when none is scheduled that day."""
    due = scheduled_on(channel, day)
    if due is not None:
        return due - lead
    return datetime.combine(day, time(0), channel.schedule.zone)


def _source_of(unit: str) -> str:
    """The source of an ingest report's failed unit ("hf 2024-05-17", "arxiv cs.LG")."""
    kind, _, rest = unit.partition(" ")
    return HF if kind == "hf" else rest


class IngestStatus:
    """The last ingest outcome per source ("hf" or an arXiv category), thread-safe. `version` changes with
    every ingest, so a digest that waited can tell when trying again could help. `lead` is the scheduler's
    ingest lead (the scheduler sets it to its own), from which an ingest counts for a scheduled digest."""

    def __init__(self, lead: timedelta = INGEST_LEAD) -> None:
        self.lead = lead
        self._lock = threading.Lock()
        self._states: dict[str, SourceState] = {}
        self.version = 0

    def state(self, source: str) -> SourceState:
        with self._lock:
            return self._states.get(source, SourceState())

    def record(self, request: IngestRequest, at: datetime, failed: Iterable[tuple[str, str]] = ()) -> None:
        """An ingest of `request` finished at `at`; `failed` are its failed units (unit, error)."""
        errors: dict[str, str] = {}
        for unit, error in failed:
            errors.setdefault(_source_of(unit), error)
        asked = ([HF] if request.dates else []) + list(request.categories)
        with self._lock:
            for source in asked:
                before = self._states.get(source, SourceState())
                if source in errors:
                    self._states[source] = SourceState(before.ok_at, at, errors[source])
                else:
                    self._states[source] = SourceState(at, before.failed_at, before.error)
            self.version += 1

    def run(self, ingest: IngestFn, request: IngestRequest, at: datetime) -> Exception | None:
        """Run `ingest` and record its outcome; an exception (returned, for the caller to log) fails every
        source asked for."""
        try:
            report = ingest(request)
        except Exception as exc:
            units = ([f"hf {d.isoformat()}" for d in request.dates[:1]]
                     + [f"arxiv {c}" for c in request.categories])
            self.record(request, at, [(unit, str(exc) or type(exc).__name__) for unit in units])
            return exc
        self.record(request, at, getattr(report, "failed", None) or ())
        return None

    def readiness(self, channel: ChannelDigest, day: date, now: datetime) -> Readiness:
        after = ready_after(channel, day, self.lead)
        states = {source: self.state(source) for source in channel.sources}
        down = tuple((source, s.error or "failed") for source, s in states.items()
                     if s.failed_at is not None and (s.ok_at is None or s.failed_at > s.ok_at))
        ready = not down and all(s.ok_at is not None and s.ok_at >= after for s in states.values())
        due = scheduled_on(channel, day)
        return Readiness(ready, down, due if due is not None and due > now else None)

    def attempted_since(self, channel: ChannelDigest, moment: datetime) -> bool:
        """True when every source of the channel was ingested (ok or not) at or after `moment`."""
        return all((s := self.state(source)).last_attempt is not None and s.last_attempt >= moment
                   for source in channel.sources)
