"""Retry policy for every HTTP call to Slack (Web API and response URLs), from slack_sdk's handlers."""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler


class GatewayErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a proxy in the way also answers 502 and 504."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def retry_handlers(*, ambiguous: bool = True) -> list[RetryHandler]:
    """Fresh handlers (they are cheap; each client gets its own list). `ambiguous=False` leaves out the
    retries of failures after which Slack may have done the work anyway (a dropped connection, a 5xx): for
    posts that must appear exactly once, whose caller checks the channel before trying again."""
    handlers: list[RetryHandler] = [
        # Sleeps Retry-After (plus up to 1 s of jitter) before each retry. A 429 means nothing was done.
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]
    if ambiguous:
        handlers += [ConnectionErrorRetryHandler(max_retry_count=2), GatewayErrorRetryHandler(max_retry_count=2)]
    return handlers
