"""Keeps the relevance engine up with the archive, off the request path.

The archive calls `changed` after each write (cheap: the records are queued); one background thread learns
acronyms from them and computes the vectors of papers that have none, on both cores (a day's papers are
embedded in seconds). At start-up the whole archive is queued once: acronyms are learned again (fast, not
stored), and only papers without a stored vector are embedded (after an upgrade, or when the model changed),
newest first, on one core, so the bot keeps answering on the other while it catches up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from bot.papers import PaperRecord
from bot.relevance.engine import Relevance

log = logging.getLogger(__name__)

_STOP = object()


class RelevanceKeeper:
    def __init__(self, relevance: Relevance) -> None:
        self.relevance = relevance
        self._queue: queue.Queue[object] = queue.Queue()
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="relevance-keeper", daemon=True)
        self._started = False
        self._initial: tuple[Callable[[], Sequence[PaperRecord]], Callable[[], None] | None] | None = None

    def prepare_start(self, existing: Callable[[], Sequence[PaperRecord]],
                      warm: Callable[[], None] | None = None) -> None:
        """What `start` does first: learn from and embed the papers `existing()` returns; `warm` runs once the
        acronyms are learned, before the embedding (it prepares the channels' topics, so the first digest
        does not)."""
        self._initial = (existing, warm)

    def start(self) -> None:
        """Start the background thread (once; later calls do nothing)."""
        with self._pending_lock:
            if self._started:
                return
            self._started = True
        if self._initial is not None:
            existing, warm = self._initial
            self._initial = None
            newest_first = sorted(existing(), key=lambda r: r.get("first_seen") or "", reverse=True)
            self._enqueue(newest_first, workers=1, warm=warm, force=True)
        self._thread.start()

    def changed(self, records: Iterable[PaperRecord]) -> None:
        self._enqueue(list(records), workers=None)

    def _enqueue(self, batch: list[PaperRecord], workers: int | None, warm: Callable[[], None] | None = None,
                 force: bool = False) -> None:
        if not batch and not force:
            return
        with self._pending_lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((batch, workers, warm))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is learned and embedded (tests, benchmarks)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, tuple)
            batch, workers, warm = item
            try:
                started = time.perf_counter()
                self.relevance.learn(batch)
                if warm is not None:
                    warm()
                embedded = self.relevance.embed_missing(batch, stop=self._stopping.is_set, workers=workers)
                if embedded:
                    log.info("relevance.embedded papers=%d ms=%.0f", embedded, 1000 * (time.perf_counter() - started))
            except Exception:  # keep serving on lexical evidence; the next change tries again
                log.exception("relevance.keeper_failed papers=%d", len(batch))
            finally:
                with self._pending_lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
