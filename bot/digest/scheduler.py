"""`DigestScheduler`: the clock-driven part with side effects. APScheduler calls `tick()` on an interval
(and once at start-up); a tick ingests if due (bot.digest.due decides), plans the due digests together (one
candidate pool for all channels) and hands each channel to a worker pool, so channels post in parallel,
each at its own pace."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.digest.due import INGEST_LEAD, INGEST_MAX_AGE, Due, IngestFn, due_digests, ingest_due, ingest_request
from bot.digest.selection import Plan
from bot.digest.service import DigestService
from bot.digest.settings import ChannelDigest
from bot.timeutil import Clock, utc_now

log = logging.getLogger("bot.scheduler")

TICK_SECONDS = 30.0


@dataclass
class _State:
    last_ingest: datetime | None = None
    in_flight: dict[tuple[str, date], Future[None]] = field(default_factory=dict)
    # Digests that found nothing before the day's papers were in, with the ingest status version they saw:
    # planned again only after another ingest, not every tick.
    waiting: dict[tuple[str, date], int] = field(default_factory=dict)


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
        if digests.ingest_status is not None:  # an empty digest counts ingests from this scheduler's lead
            digests.ingest_status.lead = ingest_lead
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
            due = [d for d in due if (d.channel, d.day) not in self._state.in_flight
                   and not self._still_waiting(d.channel, d.day)]
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

    def _still_waiting(self, channel: str, day: date) -> bool:
        status = self.digests.ingest_status
        seen = self._state.waiting.get((channel, day))
        return status is not None and seen is not None and seen == status.version

    def _runner(self, channel: ChannelDigest, item: Due, plan: Plan | None) -> Callable[[], None]:
        status = self.digests.ingest_status
        version = status.version if status is not None else 0  # before planning: a later ingest is news

        def run() -> None:
            try:
                result = self.digests.run(channel, item.day, self.clock, plan=plan, trigger="schedule")
                with self._lock:
                    if result.status == "waiting":
                        self._state.waiting[(item.channel, item.day)] = version
                    else:
                        self._state.waiting.pop((item.channel, item.day), None)
            except Exception:
                log.exception("digest.error channel=%s date=%s", item.channel, item.day.isoformat())

        return run

    def _run_ingest(self, now: datetime, channels: Sequence[ChannelDigest]) -> None:
        assert self.ingest is not None
        self._state.last_ingest = now  # also after a failure: retry in max_age (or the next window), not every tick
        request = ingest_request(now, channels)
        if not request.dates and not request.categories:
            return
        log.info("scheduler.ingest dates=%s categories=%s", ",".join(d.isoformat() for d in request.dates),
                 ",".join(request.categories) or "-")
        status = self.digests.ingest_status
        if status is not None:  # recorded, so empty digests wait for the papers
            error = status.run(self.ingest, request, now)
            if error is not None:
                log.error("scheduler.ingest.error", exc_info=error)
            return
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
