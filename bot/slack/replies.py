"""Replies that never wait out a rate limit on a listener worker.

A reply (a post to a response URL, an ephemeral notice, a DM, a Home tab, a file) is tried at once on the
calling thread, with the client's 429 handler told not to sleep (bot/slack/retry.py). If Slack answers 429,
the reply goes to the outbox: one thread that tries it again after Retry-After, off the listener pool, so a
rate limit never parks a worker that other requests need. Replies with the same key (one response URL; one
user in one channel) go out in the order they were sent, each once: while one waits or is being tried (its
first try on its caller's thread included), later ones queue behind it and the outbox sends them after it.
When Slack refuses a reply, the ones behind it wait the Retry-After too, even if the refused one is dropped.

Bound: a reply is tried at most MAX_ATTEMPTS times, and never later than REPLY_DEADLINE_S after its first try
(a response URL takes five posts within 30 minutes; an answer minutes late is worth little); one whose next
try would pass either bound is dropped with one `slack.reply.dropped` line, as is everything beyond
MAX_PENDING waiting replies, and at shutdown whatever cannot go out within the drain time (`flush`).
Connection errors and 5xx are still retried by the client's own short backoff, on the calling thread.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.retry import rate_limits_not_waited

log = logging.getLogger("bot.slack")

MAX_ATTEMPTS = 10
REPLY_DEADLINE_S = 300.0
MAX_PENDING = 1000
DEFAULT_RETRY_AFTER_S = 1.0  # Slack always sends Retry-After with a 429; slack_sdk waits 1 s without one


class RateLimited(Exception):
    """Raised by a reply's attempt when Slack answered 429: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def retry_after(headers: Mapping[str, Any] | None) -> float:
    """Seconds from a Retry-After header (a value or a list of values, as slack_sdk keeps them)."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER_S


def rate_limit_wait(exc: BaseException) -> float | None:
    """The seconds a Web API 429 asks to wait (its Retry-After); None for any other error."""
    response = getattr(exc, "response", None)
    if isinstance(exc, SlackApiError) and response is not None and getattr(response, "status_code", 0) == 429:
        return retry_after(getattr(response, "headers", None))
    return None


def raise_if_rate_limited(exc: BaseException) -> None:
    """In an attempt's `except` clause: turn a Web API 429 into RateLimited so the outbox retries it."""
    wait = rate_limit_wait(exc)
    if wait is not None:
        raise RateLimited(wait) from None


@dataclass
class _Reply:
    attempt: Callable[[], None]
    what: str
    first: float
    attempts: int = 0


class Outbox:
    """The waiting replies: per key a queue, oldest first; a heap of when each key may be tried again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._changed = threading.Condition()
        self._queues: dict[str, deque[_Reply]] = {}
        self._due: dict[str, float] = {}  # key -> when its head may be tried; heap entries that differ are stale
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._busy = 0  # replies being tried: on the outbox thread, or a first try on a caller's
        self._flush_until: float | None = None
        self._thread: threading.Thread | None = None

    # --- the callers' side ----------------------------------------------------------------------------

    def send(self, key: str, what: str, attempt: Callable[[], None]) -> bool:
        """Try `attempt` now (unless an earlier reply with `key` is waiting or being tried); True if it is done
        (sent, or failed for good: attempts log their own failures), False if it waits or was dropped."""
        reply = _Reply(attempt, what, self.clock())
        with self._changed:
            queue = self._queues.get(key)
            if queue is not None:  # keep the order: behind the one that waits or is being tried
                if self._pending() >= MAX_PENDING:
                    self._drop(reply, "backlog")
                    return False
                queue.append(reply)
                return False
            # Claim the key for this first try: a reply sent meanwhile with the same key queues behind it.
            self._queues[key] = deque([reply])
            self._busy += 1
        wait: float | None = None
        try:
            wait = self._try(reply, on_caller=True)
        finally:
            with self._changed:
                self._busy -= 1
                if wait is not None and self._pending() > MAX_PENDING:
                    self._finish(key, reply, wait, reason="backlog")
                else:
                    self._finish(key, reply, wait)
        return wait is None

    def wait_idle(self, timeout: float) -> bool:
        """True once no reply waits or is being tried."""
        with self._changed:
            return self._changed.wait_for(self._idle, timeout)

    def flush(self, timeout: float) -> bool:
        """For shutdown: send what may go out within `timeout` s, drop the rest (one line each); True if
        nothing was dropped."""
        with self._changed:
            until = self.clock() + timeout
            self._flush_until = until
            dropped = 0
            for key, due in list(self._due.items()):
                if due > until and key in self._queues:
                    dropped += self._drop_key(key, "shutdown")
            self._changed.notify_all()
            self._changed.wait_for(self._idle, max(0.0, until - self.clock()))
            for key in list(self._queues):
                dropped += self._drop_key(key, "shutdown")
            self._flush_until = None
            return dropped == 0

    # --- internals (under self._changed unless said otherwise) ----------------------------------------

    def _pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _idle(self) -> bool:
        return not self._queues and self._busy == 0

    def _try(self, reply: _Reply, *, on_caller: bool) -> float | None:
        """One attempt, without the lock: None if done, else the seconds Slack asked us to wait. Other errors
        reach the caller's own handling (its apology) on the first try; later, on this thread, they are logged."""
        reply.attempts += 1
        try:
            with rate_limits_not_waited():
                reply.attempt()
        except RateLimited as exc:
            return exc.retry_after
        except Exception:
            if on_caller:
                raise
            log.exception("slack.reply.failed what=%s attempts=%d", reply.what, reply.attempts)
        return None

    def _finish(self, key: str, reply: _Reply, wait: float | None, reason: str | None = None, *,
                draining: bool = False) -> bool:
        """After `reply` (the head of `key`) was tried: done (`wait` None), or to be tried again after `wait` s.
        True if the next reply of `key` is to be sent now by the caller (`draining`: the outbox thread);
        otherwise it is scheduled on the outbox."""
        queue = self._queues.get(key)
        if queue is None or not any(r is reply for r in queue):
            return False  # dropped meanwhile (shutdown)
        if wait is not None:
            self._reschedule(key, reply, wait, reason)
            return False
        queue.remove(next(r for r in queue if r is reply))
        if not queue:
            del self._queues[key]
            self._due.pop(key, None)
            self._changed.notify_all()
            return False
        if draining:
            return True
        self._schedule(key, self.clock())  # the next one has not been refused: the outbox sends it now
        return False

    def _reschedule(self, key: str, reply: _Reply, wait: float, reason: str | None = None) -> None:
        """Queue `reply` (refused) at the head of `key` for another try after `wait` s, or drop it if that
        passes a bound; the replies behind it wait as long (Slack asked us to), or are dropped likewise."""
        queue = self._queues[key]
        queue.remove(next(r for r in queue if r is reply))
        queue.appendleft(reply)
        due = self.clock() + wait
        refused = True
        while queue:
            head = queue[0]
            reason = reason or ("rate_limited" if refused and head.attempts >= MAX_ATTEMPTS else
                                "deadline" if due - head.first > REPLY_DEADLINE_S else
                                "shutdown" if self._flush_until is not None and due > self._flush_until else None)
            if reason is None:
                break
            queue.popleft()
            self._drop(head, reason)
            refused, reason = False, None
        if not queue:
            del self._queues[key]
            self._due.pop(key, None)
            self._changed.notify_all()
            return
        self._schedule(key, due)

    def _schedule(self, key: str, due: float) -> None:
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._seq), key))
        self._start()
        self._changed.notify_all()

    def _drop(self, reply: _Reply, reason: str) -> None:
        log.warning("slack.reply.dropped what=%s reason=%s attempts=%d waited_s=%.1f", reply.what, reason,
                    reply.attempts, self.clock() - reply.first)

    def _drop_key(self, key: str, reason: str) -> int:
        queue = self._queues.pop(key)
        self._due.pop(key, None)
        for reply in queue:
            self._drop(reply, reason)
        self._changed.notify_all()
        return len(queue)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="paperbot-replies", daemon=True)
            self._thread.start()

    def _next_key(self) -> str | None:
        """The key whose head is due now, or None; stale heap entries are discarded."""
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) != due or key not in self._queues:
                heapq.heappop(self._heap)
                continue
            if due > self.clock():
                return None
            heapq.heappop(self._heap)
            del self._due[key]
            return key
        return None

    def _run(self) -> None:
        while True:
            with self._changed:
                key = self._next_key()
                while key is None:
                    wait = self._heap[0][0] - self.clock() if self._heap else None
                    self._changed.wait(wait)
                    key = self._next_key()
                self._busy += 1
            try:
                self._drain(key)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()

    def _drain(self, key: str) -> None:
        """Send the replies waiting under `key`, in order, until one is refused again (without the lock)."""
        with self._changed:
            queue = self._queues.get(key)
            if not queue:
                return
            reply = queue[0]
        while True:
            wait = self._try(reply, on_caller=False)
            with self._changed:
                if not self._finish(key, reply, wait, draining=True):
                    return
                reply = self._queues[key][0]


_outbox = Outbox()


def outbox() -> Outbox:
    """The process's outbox (Responders are made per request, from a payload, so they share this one)."""
    return _outbox


def send(key: str, what: str, attempt: Callable[[], None]) -> bool:
    return _outbox.send(key, what, attempt)
