"""Small pieces every feature's listeners share: reference ids for apologies, the response-URL poster, what
a button click carries, the log-and-apologise guard around lazy work, and `write_before_ack` (a durable
write in the ack function, or HTTP 500 with a reference).

Ack strategy (see app.py): Bolt runs each listener's ack function inline on the server thread, before the
HTTP 200, and its lazy functions afterwards on the worker pool. What the ack function did reaches the lazy
function in Bolt's context under CONTEXT_KEY (Bolt copies the context, not the function's locals).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk.webhook import WebhookClient

from bot.slack import blocks, replies
from bot.slack.retry import retry_handlers

log = logging.getLogger("bot.slack")

EPHEMERAL = "ephemeral"
IN_CHANNEL = "in_channel"
CONTEXT_KEY = "paperbot_save"  # what the ack function did, for the lazy work function

Answer = tuple[blocks.Message, str]  # a reply and its response_type (EPHEMERAL or IN_CHANNEL)


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one: Slack's payloads are read defensively."""
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class ReactionEvent:
    """A reaction_added / reaction_removed on a message, every field present."""

    added: bool
    user: str
    reaction: str
    channel: str
    ts: str
    event_ts: str | None  # Slack's stamp of the event: how redeliveries are told from later changes


def reaction_on_message(event: Mapping[str, Any]) -> ReactionEvent | None:
    """The reaction event on a message, or None for anything else or a field missing."""
    kind = event.get("type")
    item = mapping(event.get("item"))
    user, reaction = event.get("user"), event.get("reaction")
    channel, ts = item.get("channel"), item.get("ts")
    if kind not in ("reaction_added", "reaction_removed") or item.get("type") != "message":
        return None
    if not (isinstance(user, str) and isinstance(reaction, str) and isinstance(channel, str) and isinstance(ts, str)):
        return None
    if not (user and reaction and channel and ts):
        return None
    event_ts = event.get("event_ts") if isinstance(event.get("event_ts"), str) else None
    return ReactionEvent(kind == "reaction_added", user, reaction, channel, ts, event_ts)


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


class Responder:
    """Posts to a response URL. A failure is logged, not raised: there is nobody left to tell. A 429 is not
    waited out here: the post waits in the outbox (replies.py), and later posts to the URL queue behind it."""

    def __init__(self, url: str | None, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.sent = 0

    def __call__(self, payload: blocks.Message, *, response_type: str = EPHEMERAL,
                 replace_original: bool = False) -> bool:
        """True if the post went out now; False if it failed, or waits for Slack to allow it."""
        url = self.url
        if not url:
            log.warning("slack.respond.skipped reason=no_response_url")
            return False
        body = {**payload, "response_type": response_type, "replace_original": replace_original,
                "unfurl_links": False, "unfurl_media": False}
        sent_before = self.sent

        def attempt() -> None:
            client = WebhookClient(url, timeout=max(1, round(self.timeout)), retry_handlers=retry_handlers())
            try:
                response = client.send_dict(body)
            except Exception as exc:  # connection errors after the retries: log, the user sees nothing
                log.warning("slack.respond.failed error=%s", type(exc).__name__)
                return
            if response.status_code == 429:
                raise replies.RateLimited(replies.retry_after(response.headers))
            if response.status_code != 200:
                log.warning("slack.respond.failed status=%s body=%.200s", response.status_code, response.body)
                return
            self.sent += 1

        replies.send(f"respond:{url}", "respond", attempt)
        return self.sent > sent_before


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


# --- acks ---------------------------------------------------------------------------------------------------


def ack_now(ack: Ack) -> None:
    """The ack function of listeners whose work can wait: answer 200 at once."""
    ack()


AckListener = Callable[[dict[str, Any], BoltContext, Ack], BoltResponse | None]


def write_before_ack(logger: logging.Logger,
                     describe: Callable[[Mapping[str, Any]], str]) -> Callable[
        [Callable[[Mapping[str, Any]], dict[str, Any] | None]], AckListener]:
    """Turn `write(body) -> summary` into an ack function that does the write before the HTTP 200.

    The summary (None: nothing to do) goes to the lazy work in the context under CONTEXT_KEY. If the write
    raises, nothing is acknowledged: the answer is a 500 (Slack retries events; a button shows its error),
    the traceback is logged as `slack.error ref=… {describe(body)}`, and the lazy work finds
    `{"kind": "error", "ref": ref}` so it can tell the user."""

    def decorate(write: Callable[[Mapping[str, Any]], dict[str, Any] | None]) -> AckListener:
        def ack_function(body: dict[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
            try:
                summary = write(body)
            except Exception:
                ref = new_ref()
                logger.exception("slack.error ref=%s %s", ref, describe(body))
                context[CONTEXT_KEY] = {"kind": "error", "ref": ref}
                return BoltResponse(status=500, body="")
            if summary is not None:
                context[CONTEXT_KEY] = summary
            ack()
            return None

        ack_function.__name__ = write.__name__
        return ack_function

    return decorate


# --- lazy work ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one listener run did, for its log line."""

    fields: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"


def _kv(fields: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items())


@contextlib.contextmanager
def guarded(event: str, reply: Responder | None, **fields: Any) -> Iterator[Outcome]:
    """Time the work, log one line for it, and turn any exception into an apology with a reference."""
    outcome = Outcome(fields=dict(fields))
    started = time.monotonic()
    try:
        yield outcome
    except Exception:
        ref = new_ref()
        outcome.status = f"error ref={ref}"
        log.exception("slack.error ref=%s event=%s %s", ref, event, _kv(fields))
        if reply is not None:
            reply(blocks.apology(ref))
    finally:
        ms = (time.monotonic() - started) * 1000
        log.info("%s %s ms=%d status=%s", event, _kv(outcome.fields), ms, outcome.status)


def responder(body: Mapping[str, Any], timeout: float) -> Responder:
    return Responder(body.get("response_url"), timeout)
