"""Small pieces every listener module shares: reference ids for apologies, an expiring set of ids (event
and share de-duplication), and the response-URL poster."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.webhook import WebhookClient

from bot.slack import blocks
from bot.slack.retry import retry_handlers

log = logging.getLogger("bot.slack")

EPHEMERAL = "ephemeral"


def slack_error(exc: BaseException) -> str:
    """Slack's error code for a failed Web API call (`not_in_channel`, `invalid_auth`, …), or, when Slack never
    answered (a connection error, a timeout), the exception's class name."""
    response = getattr(exc, "response", None)
    if response is not None:
        with contextlib.suppress(Exception):
            return str(response.get("error") or "unknown_error")
        return "unknown_error"
    return type(exc).__name__


def new_ref() -> str:
    """A short id that ties the apology a user sees to the traceback in the log."""
    return secrets.token_hex(4)


class RecentIds:
    """A bounded, expiring set: remembers ids for `ttl` seconds (at most `max_size` of them)."""

    def __init__(self, ttl: float, max_size: int) -> None:
        self._ttl = ttl
        self._max = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember `key`; False if it was already there (and not expired)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self._max or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def discard(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)


class Responder:
    """Posts to a response URL. A failure is logged, not raised: there is nobody left to tell."""

    def __init__(self, url: str | None, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.sent = 0

    def __call__(self, payload: blocks.Message, *, response_type: str = EPHEMERAL,
                 replace_original: bool = False) -> bool:
        if not self.url:
            log.warning("slack.respond.skipped reason=no_response_url")
            return False
        body = {**payload, "response_type": response_type, "replace_original": replace_original,
                "unfurl_links": False, "unfurl_media": False}
        client = WebhookClient(self.url, timeout=max(1, round(self.timeout)), retry_handlers=retry_handlers())
        try:
            response = client.send_dict(body)
        except Exception as exc:  # connection errors after the retries: log, the user sees nothing
            log.warning("slack.respond.failed error=%s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("slack.respond.failed status=%s body=%.200s", response.status_code, response.body)
            return False
        self.sent += 1
        return True


@dataclass(frozen=True)
class Click:
    """A button click (block_actions): who, where, the message, and the button's value."""

    user: str
    channel: str
    ts: str | None
    value: str

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Click:
        action = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        return cls(user=str((body.get("user") or {}).get("id", "")), channel=str(channel),
                   ts=container.get("message_ts"), value=str(action.get("value", "")))
