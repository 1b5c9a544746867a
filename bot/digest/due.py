"""What is due at a given instant: pure functions of an injected "now" (UTC), the channels' settings and
the digest ledger, so DST changes, catch-up after downtime and restarts are testable with a fake clock.

- `due_digests(now, channels, ledger)` lists the (channel, local date) digests to run now: today's once its
  time has passed (so a bot that was down at 09:00 catches up when it comes back the same day), plus
  digests that were started but not finished (a restart or a failed post), after their retry time.
- `ingest_due(...)` says when to refresh the archive: shortly before each digest is due (once per due window),
  and again every few hours while one still waits;
  `ingest_request(...)` says what to fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from bot.digest.settings import ChannelDigest
from bot.store.documents import DigestDoc
from bot.timeutil import parse_iso

RESUME_DAYS = 2  # an unfinished digest is resumed for this many days after its date, then left alone
INGEST_LEAD = timedelta(minutes=15)  # ingest this long before the earliest pending digest
INGEST_MAX_AGE = timedelta(hours=3)  # a due digest already served re-ingests when the last ingest is older


class LedgerView(Protocol):
    """What the decisions need from the digest ledger (bot.store.protocols.DigestLedgerRepository)."""

    def get(self, channel: str, day: date) -> DigestDoc | None: ...

    def unfinished(self) -> list[DigestDoc]: ...


@dataclass(frozen=True)
class Due:
    channel: str
    day: date  # the channel's local date the digest is for
    due_at: datetime  # UTC
    resume: bool = False  # the digest was started before (plan stored)


def scheduled_on(channel: ChannelDigest, day: date) -> datetime | None:
    """When the channel's scheduled digest for its local `day` is due (UTC), if it has one that day."""
    if not channel.active or not channel.schedule.runs_on(day):
        return None
    due = channel.schedule.due_at(day)
    # A schedule set (or a first topic watched) after that day's time starts the next day, not right now.
    if channel.effective_from is not None and due < channel.effective_from:
        return None
    return due


def scheduled_today(now: datetime, channel: ChannelDigest) -> tuple[date, datetime] | None:
    """(local date, due time) of the channel's scheduled digest for its local today, if it has one."""
    today = channel.schedule.local_date(now)
    due = scheduled_on(channel, today)
    return None if due is None else (today, due)


def due_digests(now: datetime, channels: Iterable[ChannelDigest], ledger: LedgerView) -> list[Due]:
    """The digests to run at `now` (UTC): today's scheduled ones whose time has come and that are not done,
    and unfinished ones (any trigger) whose retry time has come; never for a paused channel."""
    found: dict[tuple[str, date], Due] = {}
    by_id: dict[str, ChannelDigest] = {}
    for channel in channels:
        by_id[channel.channel] = channel
        today = scheduled_today(now, channel)
        if today is None or today[1] > now:
            continue
        doc = ledger.get(channel.channel, today[0])
        if doc is None:
            found[(channel.channel, today[0])] = Due(channel.channel, today[0], today[1])
    for doc in ledger.unfinished():
        owner = by_id.get(doc["channel"])
        if owner is None or owner.paused:
            continue
        day = date.fromisoformat(doc["date"])
        if (owner.schedule.local_date(now) - day).days > RESUME_DAYS:
            continue
        retry_at = parse_iso(doc.get("next_try_at"))
        if retry_at is not None and retry_at > now:
            continue
        found[(owner.channel, day)] = Due(owner.channel, day, parse_iso(doc.get("planned_at")) or now, resume=True)
    return sorted(found.values(), key=lambda d: (d.due_at, d.channel))


def ingest_due(now: datetime, channels: Iterable[ChannelDigest], ledger: LedgerView, last_ingest: datetime | None,
               *, lead: timedelta = INGEST_LEAD, max_age: timedelta = INGEST_MAX_AGE) -> bool:
    """True when a scheduled digest that has not been planned yet is due within `lead` (or overdue), and
    either the archive was not refreshed since that digest's ingest window opened (its due time - `lead`;
    never, in this process, counts as not) or it was last refreshed more than `max_age` ago (a retry: its
    ingest failed, or its empty digest still waits). So each due window gets one ingest, however close to the
    previous one, and the ticks within it do not ingest again."""
    for channel in channels:
        today = channel.schedule.local_date(now)
        for day in (today, today + timedelta(days=1)):
            due = scheduled_on(channel, day)
            if due is None or due - lead > now or ledger.get(channel.channel, day) is not None:
                continue
            if last_ingest is None or last_ingest < due - lead or now - last_ingest >= max_age:
                return True
    return False


@dataclass(frozen=True)
class IngestRequest:
    dates: tuple[date, ...]  # Hugging Face days
    categories: tuple[str, ...]  # arXiv categories
    since: date | None  # arXiv submissions since


ARXIV_LOOKBACK_DAYS = 3  # arXiv lists a submission a day or more (weekends) after it is made


def ingest_request(now: datetime, channels: Iterable[ChannelDigest], *, active_only: bool = True) -> IngestRequest:
    """What to fetch for the active channels (or all of `channels`): Daily Papers for yesterday and today (UTC)
    when any channel follows them, and every arXiv category some channel follows."""
    active = [c for c in channels if c.active or not active_only]
    today = now.astimezone(UTC).date()
    dates = (today - timedelta(days=1), today) if any("hf" in c.sources for c in active) else ()
    categories = tuple(sorted({category for c in active for category in c.categories}))
    return IngestRequest(dates, categories, today - timedelta(days=ARXIV_LOOKBACK_DAYS) if categories else None)


IngestFn = Callable[[IngestRequest], object]  # the return value (an ingest report) is not used
