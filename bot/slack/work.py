"""Slow work on a bounded share of Bolt's listener pool: a queue that runs each queued item once (and once more
if it is queued again while it runs).

Pending save reactions (reactions.py) and links shared in channels (links.py) each own one `Drain`. At most
`limit` of the pool's threads work on one queue, so searches still find a free worker; `shutdown_app` (app.py)
drains the pool, and with it these queues.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from bot.slack.plumbing import new_ref

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name


class Drain:
    """Runs `handle(item)` for queued items on at most `limit` threads of `executor`. An item already queued is
    not queued again (a redelivered reaction, a resume at start-up). An item put while it is being handled (a
    reaction added again while its first entry is still being answered) runs once more after that run, never
    alongside it."""

    def __init__(self, name: str, executor: Callable[[], Executor], handle: Callable[[Any], None],
                 limit: int = 1) -> None:
        self.name = name
        self._executor = executor
        self._handle = handle
        self._limit = limit
        self._queue: deque[Any] = deque()
        self._queued: set[Any] = set()  # in `_queue`
        self._running: set[Any] = set()  # being handled now
        self._again: set[Any] = set()  # put while being handled: queued again when that run ends
        self._active = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def put(self, item: Any) -> None:
        with self._lock:
            if item in self._queued:
                return
            if item in self._running:
                self._again.add(item)  # the run ending re-queues it, on this worker: no new one needed
                return
            self._queued.add(item)
            self._queue.append(item)
            if self._active >= self._limit:
                return
            self._active += 1
        try:
            self._executor().submit(self._run)
        except RuntimeError:  # the pool is shut down: the process is stopping
            with self._lock:
                self._active -= 1
            log.info("save.worker.stopped queue=%s", self.name)

    def put_later(self, item: Any, delay: float) -> None:
        timer = threading.Timer(delay, self.put, args=(item,))
        timer.daemon = True
        timer.start()

    def take_all(self) -> list[Any]:
        """Every queued item, for the handler running now to do at once."""
        with self._lock:
            items, self._queue = list(self._queue), deque()
            self._queued.difference_update(items)
            return items

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._active -= 1
                    self._idle.notify_all()
                    return
                item = self._queue.popleft()
                self._queued.discard(item)
                self._running.add(item)
            try:
                self._handle(item)
            except Exception:
                log.exception("slack.error ref=%s event=save.worker queue=%s", new_ref(), self.name)
            finally:
                with self._lock:
                    self._running.discard(item)
                    if item in self._again:  # put again during this run: this worker runs it next
                        self._again.discard(item)
                        self._queued.add(item)
                        self._queue.append(item)

    def wait_idle(self, timeout: float) -> bool:
        """For tests: True once nothing is queued or running."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queue and not self._active, timeout)
