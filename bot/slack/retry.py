"""Retry policy for every HTTP call to Slack (Web API and response URLs), from slack_sdk's handlers."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter

# slack_sdk's defaults, read at each retry so a test can shorten the waits: the first wait after a 5xx or a
# dropped connection is BACKOFF_FACTOR s, doubling; every wait gets up to JITTER_SECONDS of random extra.
BACKOFF_FACTOR = 0.5
JITTER_SECONDS = 1.0


class _Jitter(Jitter):
    def recalculate(self, duration: float) -> float:
        return duration + random.random() * JITTER_SECONDS


class _Backoff(BackoffRetryIntervalCalculator):
    def __init__(self) -> None:
        super().__init__(jitter=_Jitter())

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return self.jitter.recalculate(BACKOFF_FACTOR * (2 ** current_attempt))


_local = threading.local()


@contextlib.contextmanager
def rate_limits_not_waited() -> Iterator[None]:
    """On this thread, a 429 is returned (or raised) at once instead of slept out: for replies sent from a
    listener worker, which bot/slack/replies.py retries later on its own thread."""
    previous = getattr(_local, "no_wait", False)
    _local.no_wait = True
    try:
        yield
    finally:
        _local.no_wait = previous


class _RateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's handler (sleep Retry-After plus jitter, then retry), with the jitter of JITTER_SECONDS;
    inside `rate_limits_not_waited` it leaves the 429 to the caller."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if getattr(_local, "no_wait", False):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(self, *, state: Any, request: Any, response: Any = None,
                                 error: Any = None) -> None:
        if response is None:
            raise error
        state.next_attempt_requested = True
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        duration = 1 if retry_after is None else int(retry_after[0])
        time.sleep(duration + random.random() * JITTER_SECONDS)
        state.increment_current_attempt()


class GatewayErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a proxy in the way also answers 502 and 504."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def retry_handlers(*, ambiguous: bool = True) -> list[RetryHandler]:
    """Fresh handlers (they are cheap; each client gets its own list). `ambiguous=False` leaves out the
    retries of failures after which Slack may have done the work anyway (a dropped connection, a 5xx): for
    posts that must appear exactly once, whose caller checks the channel before trying again."""
    handlers: list[RetryHandler] = [
        # Sleeps Retry-After (plus up to 1 s of jitter) before each retry, except for replies (replies.py).
        # A 429 means nothing was done.
        _RateLimitRetryHandler(max_retry_count=3),
    ]
    if ambiguous:
        handlers += [ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=_Backoff()),
                     GatewayErrorRetryHandler(max_retry_count=2, interval_calculator=_Backoff())]
    return handlers
