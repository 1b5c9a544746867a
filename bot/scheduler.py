"""When digests run: per-channel schedules in local time, and the clock-driven tick that starts them.

The decisions are pure functions of an injected "now" (UTC), the channels' settings and the digest ledger,
so DST changes, catch-up after downtime and restarts are testable with a fake clock:

- `Schedule.due_at(day)` is the UTC instant of a channel's local digest time on `day`: 09:00 Europe/Berlin
  stays 09:00 local across DST; a local time that does not exist that day (02:30 on spring-forward) runs at
  the first valid instant after the gap; an ambiguous one (fall-back) runs at its first occurrence.
- `due_digests(now, channels, ledger)` lists the (channel, local date) digests to run now: today's once its
  time has passed (so a bot that was down at 09:00 catches up when it comes back the same day), plus
  digests that were started but not finished (a restart or a failed post), after their retry time.
- `ingest_due(...)` says when to refresh the archive: shortly before a digest is due, at most every few hours.

`DigestScheduler` is the part with side effects: APScheduler calls `tick()` on an interval (and once at
start-up); a tick ingests if due, plans the due digests together (one candidate pool for all channels)
and hands each channel to a worker pool, so channels post in parallel, each at its own pace.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

if TYPE_CHECKING:
    from bot.digest import ChannelDigest, DigestService

log = logging.getLogger("bot.scheduler")

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
RESUME_DAYS = 2  # an unfinished digest is resumed for this many days after its date, then left alone
TICK_SECONDS = 30.0
INGEST_LEAD = timedelta(minutes=15)  # ingest this long before the earliest pending digest
INGEST_MAX_AGE = timedelta(hours=3)  # a later digest re-ingests when the last ingest is older than this

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ScheduleError(ValueError):
    """A schedule the user typed that cannot be used; str() is a friendly sentence (plain text)."""


@dataclass(frozen=True)
class Schedule:
    at: time  # local wall-clock time
    tz: str  # IANA zone
    days: frozenset[int] = EVERY_DAY  # date.weekday() values
    enabled: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    @property
    def weekdays_only(self) -> bool:
        return self.days == WEEKDAYS

    def runs_on(self, day: date) -> bool:
        return day.weekday() in self.days

    def local_date(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def due_at(self, day: date) -> datetime:
        return local_to_utc(day, self.at, self.zone)

    def next_due(self, now: datetime, *, after: datetime | None = None) -> datetime | None:
        """The first digest time at or after `now` (and at or after `after`), or None if it never runs."""
        if not self.enabled or not self.days:
            return None
        start = self.local_date(now) - timedelta(days=1)
        floor = max(now, after) if after else now
        for offset in range(9):
            day = start + timedelta(days=offset)
            if self.runs_on(day) and self.due_at(day) >= floor:
                return self.due_at(day)
        return None

    def describe(self) -> str:
        days = "weekdays" if self.weekdays_only else "every day" if self.days == EVERY_DAY else \
            ", ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d] for d in sorted(self.days))
        return f"{self.at.strftime('%H:%M')} {self.tz}, {days}"


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`, DST-correct (see the module doc for gaps/folds)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant  # exists (fold=0 is the first occurrence of an ambiguous time)
    # In a gap: fold=0 and fold=1 map to instants on either side of it; the first instant whose wall
    # clock is at or past `wall` is the transition itself (02:30 on spring-forward in Berlin -> 03:00).
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = sorted((int(instant.timestamp()), int(other.timestamp())))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) < wall:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


# --- parsing what people type ---------------------------------------------------------------------------

_TIME_RE = re.compile(r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)
_DAY_WORDS = {"weekdays": WEEKDAYS, "weekday": WEEKDAYS, "workdays": WEEKDAYS, "mon-fri": WEEKDAYS,
              "daily": EVERY_DAY, "everyday": EVERY_DAY, "every-day": EVERY_DAY, "all": EVERY_DAY}


def parse_time(text: str) -> time | None:
    """`09:00`, `9:00`, `9`, `9am`, `9:30 pm`, `21.30`, `21h30` → time; None if it is not a time of day."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@lru_cache(maxsize=1)
def _zones_by_key() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for `text` in any case (`europe/berlin` → `Europe/Berlin`), or None."""
    name = _zones_by_key().get(text.strip().casefold())
    if name is None:
        return None
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def suggest_zone(text: str) -> str | None:
    """The closest IANA zone name to a mistyped one (`Europe/Berln` → `Europe/Berlin`)."""
    from rapidfuzz import fuzz, process

    found = process.extractOne(text.casefold(), list(_zones_by_key()), scorer=fuzz.ratio, score_cutoff=75)
    if found is None:
        # `Berlin` alone: match the city part.
        cities = {name.rsplit("/", 1)[-1].casefold(): name for name in _zones_by_key().values() if "/" in name}
        city = process.extractOne(text.casefold(), list(cities), scorer=fuzz.ratio, score_cutoff=80)
        return cities[city[0]] if city else None
    return _zones_by_key()[found[0]]


@dataclass(frozen=True)
class ScheduleChange:
    """What `/papers schedule …` asked for; None means "keep the current value"."""

    off: bool = False
    at: time | None = None
    tz: str | None = None
    days: frozenset[int] | None = None
    max_papers: int | None = None
    post_empty: bool | None = None

    @property
    def empty(self) -> bool:
        return not self.off and all(v is None for v in (self.at, self.tz, self.days, self.max_papers,
                                                         self.post_empty))


def parse_schedule_args(text: str, *, max_limit: int = 25) -> ScheduleChange:
    """Parse `09:00 [Europe/Berlin] [weekdays|daily] [max N] [quiet|always]` or `off` (words in any order)."""
    words = text.replace(",", " ").split()
    if len(words) == 1 and words[0].casefold() in ("off", "stop", "pause", "none", "disable"):
        return ScheduleChange(off=True)
    values: dict[str, Any] = {}

    def put(key: str, value: Any, word: str) -> None:
        if key in values:
            raise ScheduleError(f"“{word}” repeats the {key.replace('_', ' ').replace('at', 'time')} "
                                f"already given.")
        values[key] = value

    i = 0
    while i < len(words):
        word, key = words[i], words[i].casefold()
        if key in ("max", "max=", "limit") or key.startswith(("max=", "limit=")):
            number = key.split("=", 1)[1] if "=" in key and not key.endswith("=") else None
            if number is None:
                i += 1
                number = words[i] if i < len(words) else ""
            if not number.isdigit() or not 1 <= int(number) <= max_limit:
                raise ScheduleError(f"The most papers per digest must be a number from 1 to {max_limit}, "
                                    f"for example “max 10”.")
            put("max_papers", int(number), word)
        elif key in _DAY_WORDS:
            put("days", _DAY_WORDS[key], word)
        elif key in ("quiet", "skip-empty"):
            put("post_empty", False, word)
        elif key in ("always", "post-empty"):
            put("post_empty", True, word)
        elif key in ("off", "on"):
            raise ScheduleError(f"Use “off” on its own to stop the digest, or a time such as “09:00” to set "
                                f"it (got “{word}” among other words).")
        elif i + 1 < len(words) and words[i + 1].casefold() in ("am", "pm") and parse_time(word + words[i + 1]):
            put("at", parse_time(word + words[i + 1]), word)
            i += 1
        elif (at := parse_time(word)) is not None:
            put("at", at, word)
        elif (tz := parse_zone(word)) is not None:
            put("tz", tz, word)
        else:
            hint = suggest_zone(word) if "/" in word or word[:1].isupper() else None
            if hint:
                raise ScheduleError(f"I don't know the time zone “{word}”. Did you mean {hint}?")
            if "/" in word:
                raise ScheduleError(f"I don't know the time zone “{word}”: use an IANA name such as "
                                    f"Europe/Berlin, America/New_York or UTC.")
            raise ScheduleError(f"I don't understand “{word}”. Give a time such as 09:00, optionally a time "
                                f"zone such as Europe/Berlin, and “weekdays” or “daily”.")
        i += 1
    return ScheduleChange(**values)


# --- what is due ----------------------------------------------------------------------------------------


class LedgerView(Protocol):
    """What the decisions need from the digest ledger (bot.digest.DigestLedger)."""

    def get(self, channel: str, day: date) -> dict[str, Any] | None: ...

    def unfinished(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Due:
    channel: str
    day: date  # the channel's local date the digest is for
    due_at: datetime  # UTC
    resume: bool = False  # the digest was started before (plan stored)


def parse_iso(value: Any) -> datetime | None:
    """A stored ISO 8601 timestamp as an aware datetime (naive ones are UTC); None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
    by_id = {}
    for channel in channels:
        by_id[channel.channel] = channel
        today = scheduled_today(now, channel)
        if today is None or today[1] > now:
            continue
        doc = ledger.get(channel.channel, today[0])
        if doc is None:
            found[(channel.channel, today[0])] = Due(channel.channel, today[0], today[1])
    for doc in ledger.unfinished():
        channel = by_id.get(doc["channel"])
        if channel is None or channel.paused:
            continue
        day = date.fromisoformat(doc["date"])
        if (channel.schedule.local_date(now) - day).days > RESUME_DAYS:
            continue
        retry_at = parse_iso(doc.get("next_try_at"))
        if retry_at is not None and retry_at > now:
            continue
        found[(channel.channel, day)] = Due(channel.channel, day, parse_iso(doc.get("planned_at")) or now,
                                            resume=True)
    return sorted(found.values(), key=lambda d: (d.due_at, d.channel))


def ingest_due(now: datetime, channels: Iterable[ChannelDigest], ledger: LedgerView, last_ingest: datetime | None,
               *, lead: timedelta = INGEST_LEAD, max_age: timedelta = INGEST_MAX_AGE) -> bool:
    """True when a scheduled digest that has not been planned yet is due within `lead` (or overdue), and the
    archive was last refreshed more than `max_age` ago (or never, in this process)."""
    if last_ingest is not None and now - last_ingest < max_age:
        return False
    for channel in channels:
        today = channel.schedule.local_date(now)
        for day in (today, today + timedelta(days=1)):
            due = scheduled_on(channel, day)
            if due is not None and due - lead <= now and ledger.get(channel.channel, day) is None:
                return True
    return False


# --- the scheduler --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestRequest:
    dates: tuple[date, ...]  # Hugging Face days
    categories: tuple[str, ...]  # arXiv categories
    since: date | None  # arXiv submissions since


ARXIV_LOOKBACK_DAYS = 3  # arXiv lists a submission a day or more (weekends) after it is made


def ingest_request(now: datetime, channels: Iterable[ChannelDigest]) -> IngestRequest:
    """What to fetch for the active channels: Daily Papers for yesterday and today (UTC) when any channel
    follows them, and every arXiv category some channel follows."""
    active = [c for c in channels if c.active]
    today = now.astimezone(UTC).date()
    dates = (today - timedelta(days=1), today) if any("hf" in c.sources for c in active) else ()
    categories = tuple(sorted({category for c in active for category in c.categories}))
    return IngestRequest(dates, categories, today - timedelta(days=ARXIV_LOOKBACK_DAYS) if categories else None)


IngestFn = Callable[[IngestRequest], Any]


@dataclass
class _State:
    last_ingest: datetime | None = None
    in_flight: dict[tuple[str, date], Future[Any]] = field(default_factory=dict)


class DigestScheduler:
    """Runs the tick on an APScheduler interval job; starts due digests on a worker pool.

    `workers=0` runs digests inline in the tick (tests). `clock` is the source of "now" (UTC).
    """

    def __init__(self, digests: DigestService, *, ingest: IngestFn | None = None, clock: Clock = utc_now,
                 interval: float = TICK_SECONDS, workers: int = 4, ingest_lead: timedelta = INGEST_LEAD,
                 ingest_max_age: timedelta = INGEST_MAX_AGE) -> None:
        self.digests = digests
        self.ingest = ingest
        self.clock = clock
        self.interval = interval
        self.ingest_lead = ingest_lead
        self.ingest_max_age = ingest_max_age
        self._state = _State()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paperbot-digest") \
            if workers > 0 else None
        self._scheduler: Any = None

    # --- lifecycle ---

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BackgroundScheduler(timezone=UTC)
        # coalesce + max_instances=1: a slow tick (an ingest) delays the next one instead of stacking them;
        # next_run_time=now: the first tick runs at start-up, which is the same-day catch-up.
        scheduler.add_job(self._safe_tick, IntervalTrigger(seconds=self.interval, timezone=UTC), id="digest-tick",
                          coalesce=True, max_instances=1, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC))
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler.start interval_s=%s", self.interval)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop ticking, ask running digests to stop between posts, wait for them (they resume next start)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.digests.stop.set()
        if self._executor is not None:
            done = threading.Event()

            def wait() -> None:
                assert self._executor is not None
                self._executor.shutdown(wait=True, cancel_futures=True)
                done.set()

            threading.Thread(target=wait, name="paperbot-digest-drain", daemon=True).start()
            if not done.wait(timeout):
                log.warning("scheduler.stop.unfinished timeout_s=%s", timeout)
        log.info("scheduler.stop")

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:
            log.exception("scheduler.tick.error")

    # --- the tick ---

    def tick(self) -> list[Due]:
        """One scheduling decision at `clock()`: ingest if due, then start every due digest not running."""
        now = self.clock()
        if self.digests.stop.is_set():
            return []
        channels = self.digests.channels()
        if self.ingest is not None and ingest_due(now, channels, self.digests.ledger, self._state.last_ingest,
                                                  lead=self.ingest_lead, max_age=self.ingest_max_age):
            self._run_ingest(now, channels)
            now = self.clock()
        due = due_digests(now, channels, self.digests.ledger)
        with self._lock:
            for key in [k for k, f in self._state.in_flight.items() if f.done()]:
                del self._state.in_flight[key]
            due = [d for d in due if (d.channel, d.day) not in self._state.in_flight]
        if not due:
            return []
        by_id = {c.channel: c for c in channels}
        plans = self.digests.plan([(by_id[d.channel], d.day) for d in due if not d.resume], now)
        for item in due:
            run = self._runner(by_id[item.channel], item, plans.get((item.channel, item.day)))
            if self._executor is None:
                run()
                continue
            with self._lock:
                self._state.in_flight[(item.channel, item.day)] = self._executor.submit(run)
        log.info("scheduler.tick due=%d", len(due))
        return due

    def _runner(self, channel: ChannelDigest, item: Due, plan: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                self.digests.run(channel, item.day, self.clock, plan=plan, trigger="schedule")
            except Exception:
                log.exception("digest.error channel=%s date=%s", item.channel, item.day.isoformat())

        return run

    def _run_ingest(self, now: datetime, channels: Sequence[ChannelDigest]) -> None:
        assert self.ingest is not None
        self._state.last_ingest = now  # also after a failure: retry in max_age, not every tick
        request = ingest_request(now, channels)
        if not request.dates and not request.categories:
            return
        log.info("scheduler.ingest dates=%s categories=%s", ",".join(d.isoformat() for d in request.dates),
                 ",".join(request.categories) or "-")
        try:
            self.ingest(request)
        except Exception:
            # Digests still go out with what the archive has; the next ingest window tries again.
            log.exception("scheduler.ingest.error")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the digests started so far to finish (tests)."""
        with self._lock:
            futures = list(self._state.in_flight.values())
        ok = True
        for future in futures:
            try:
                future.result(timeout)
            except BaseException:  # a worker's crash (tests inject them) is an answer here, not ours to raise
                ok = False
        return ok


def make_ingest(settings: Any, archive: Any) -> IngestFn:
    """The production ingest: the configured sources into the archive (the index follows the archive)."""
    from bot.ingest import ingest
    from bot.sources import Sources, build_sources

    sources = build_sources(settings)

    def run(request: IngestRequest) -> Any:
        chosen = Sources(hf=sources.hf if request.dates else None,
                         arxiv=sources.arxiv if request.categories else None)
        report = ingest(archive, chosen, dates=list(request.dates), categories=list(request.categories),
                        since=request.since, until=request.dates[-1] if request.dates else None)
        log.info("scheduler.ingest.done new=%d updated=%d failed=%d", len(report.new), len(report.updated),
                 len(report.failed))
        return report

    return run
