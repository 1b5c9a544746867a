"""The Bolt app: Web API client with retries, signature checking, fast acks, and each feature's listeners.

`create_app` builds the Bolt App and calls each feature's `register` (search, topics, digest, reactions,
links, reading list, export, App Home), which registers that feature's Bolt listeners and binds its
`/papers` subcommands in the command registry (commands.py, registry.py). The features use the services the
composition root built (bot/services.py); nothing here constructs core services.

Identity: `paperbot run` calls auth.test once at start-up and hands the answer to `create_app`, which
gives Bolt an `authorize` built from it; so no request ever waits on a Web API call before its ack (Bolt's
default single-team authorization calls auth.test inside the first request, and again until one succeeds).

Ack strategy: `process_before_response=True` with lazy listeners. Bolt then runs each listener's ack
function inline on the server thread that received the request (nothing but `ack()`), and hands the real
work to the lazy listeners on our worker pool. So the 200 goes back as soon as the signature is checked,
however busy the workers are (with `process_before_response=False` the ack itself waits for a free worker
and Bolt polls for it every 10 ms). The work then answers through the response URL.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack import blocks, commands, digest, export, feedback, home, links, reactions, reading_list, search, topics
from bot.slack.channel_names import ChannelNames
from bot.slack.plumbing import EPHEMERAL, new_ref
from bot.slack.retry import retry_handlers
from bot.store.protocols import EventDedupRepository

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
errors_log = logging.getLogger("bot.slack")  # where every listener logs `slack.error ref=…`

WORKERS = 8
IDEMPOTENT_EVENTS = frozenset({"reaction_added", "reaction_removed"})  # see _skip_retried_events


def create_web_client(settings: Settings, *, quiet: bool = False, token: str | None = None,
                      retries: bool = True) -> WebClient:
    """A Web API client for SLACK_API_URL with the bot token (or `token`) and the retry handlers (none with
    `retries=False`: one quick answer, for checks). `quiet` drops slack_sdk's own error log lines (for checks,
    whose failure the caller reports in one line)."""
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=base_url,
        timeout=max(1, round(settings.http_timeout)),
        retry_handlers=retry_handlers() if retries else [],
        logger=QUIET_LOGGER if quiet else None,
    )


QUIET_LOGGER = logging.getLogger("bot.slack.startup_check")
QUIET_LOGGER.disabled = True


class _DropClientTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client made with that very token,
    then warns that the token is unused; likewise when given an `authorize` (which hands out that token).
    The warnings are noise for an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "`token` will be unused" not in message and "env variable) will be ignored" not in message


_bolt_filter = _DropClientTokenWarning()


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener pool, counting the work in flight (lazy listeners and the queues of work.py, which
    submit from inside running work), so a caller can wait until everything received has been handled."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._in_flight = 0
        self._changed = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._changed:
            self._in_flight += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future[Any] | None) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no work is queued or running (work queued later by a timer is not counted)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._in_flight == 0, timeout)


def create_app(
    settings: Settings,
    services: Services,
    client: WebClient | None = None,
    *,
    verify_token: bool = True,
    workers: int = WORKERS,
    identity: Mapping[str, Any] | None = None,
) -> App:
    """The Bolt app. `identity` is auth.test's answer for the bot token, from start-up; without it,
    `verify_token` calls auth.test now (a bad token fails here, SlackApiError, not on a request). Requests
    never call it: with neither, the bot's own ids are unknown (its own events are not told apart)."""
    settings.require_slack()
    client = client or create_web_client(settings)
    if identity is None and verify_token:
        identity = dict(client.auth_test().data)  # type: ignore[arg-type]  # auth.test answers JSON
    # Bolt sets its loggers to the root level unless given a base logger; this one follows bot.logs (WARNING).
    bolt_logger = logging.getLogger("slack_bolt")
    if _bolt_filter not in bolt_logger.filters:
        bolt_logger.addFilter(_bolt_filter)
    app = App(
        name="paperbot",
        logger=bolt_logger,
        client=client,
        # HTTP requests are verified by server.py before Bolt sees them (their body may then be re-encoded, see
        # server.unambiguous_form); Socket Mode requests are not signed (the socket is authenticated).
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=False,
        authorize=_authorize_as(identity or {}, client.token),
        process_before_response=True,
        listener_executor=ListenerPool(max_workers=workers, thread_name_prefix="paperbot-worker"),
    )
    _skip_retried_events(app, services.events)
    _register_features(app, settings, services)
    return app


def _authorize_as(identity: Mapping[str, Any], token: str | None) -> Callable[..., AuthorizeResult]:
    """Bolt's `authorize`: the bot token and the ids auth.test gave at start-up, with no call per request."""

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id") or enterprise_id,
            team_id=identity.get("team_id") or team_id,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
            bot_token=token,
            user_id=user_id,
        )

    return authorize


def _register_features(app: App, settings: Settings, services: Services) -> None:
    channel_names = ChannelNames(services.posts)  # learned from payloads, for `channel:#name` in searches
    router = commands.register(app, settings, channel_names)
    search.register(app, services, router, channel_names)
    topics.register(app, services, router)
    digest.register(app, services, router)
    home_tab = home.register(app, services)
    reading_list.register(app, services, router, home_tab)
    export.register(app, services, router, channel_names)
    reactions.register(app, services)
    feedback.register(app, services)
    links.register(app, services)
    if unbound := router.registry.unbound():
        raise RuntimeError(f"subcommands without a handler: {unbound}")

    @app.error
    def on_unhandled(error: Exception, body: Any) -> BoltResponse | None:
        """Errors outside the lazy work (an ack function, a middleware): log, and apologise if we can."""
        ref = new_ref()
        errors_log.error("slack.error ref=%s event=bolt", ref, exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            apology = {**blocks.apology(ref), "response_type": EPHEMERAL}
            return BoltResponse(status=200, body=apology)
        return None


def _skip_retried_events(app: App, events: EventDedupRepository) -> None:
    """Slack re-sends an event it thinks went unanswered; handle each event_id once.

    Except save reactions: their ack writes the save, idempotently, and must answer 200 only once it is on
    disk. A retry that arrived while the first delivery was still writing (or after it failed) and got a 200
    from here would acknowledge a save that may never be written; so each delivery does its own (cheap,
    idempotent) write, and a repeat tells nobody twice. (Bolt's middleware cannot wait for the listener: its
    `next()` only lets the request through.)"""

    @app.middleware
    def once_per_event(body: dict[str, Any], next_: Callable[[], BoltResponse | None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        kind = (body.get("event") or {}).get("type")
        if isinstance(event_id, str) and kind not in IDEMPOTENT_EVENTS and not events.first_delivery(event_id):
            log.info("slack.event.duplicate event_id=%s", event_id)
            return BoltResponse(status=200, body="")
        return next_()


def tune_for_latency() -> None:
    """Process-wide: let a thread waiting for the GIL (a server thread with an ack to send) in after 1 ms
    instead of 5 ms while workers are busy searching (with the slow search of search.SEARCH_CONCURRENCY's
    note: ack p95 97 ms -> 26 ms)."""
    sys.setswitchinterval(0.001)


def wait_for_listeners(app: App, timeout: float = 10.0) -> bool:
    """Wait until every request received so far has been handled, work queues included; True if so."""
    executor = app.listener_runner.listener_executor
    return executor.wait_idle(timeout) if isinstance(executor, ListenerPool) else False


def shutdown_app(app: App, timeout: float = 20.0) -> bool:
    """Let queued and running listener work finish, then the replies waiting out a 429 (replies.py), up to
    `timeout` s in all; True if it all did (a reply that could not go out in time is dropped with a line)."""
    import time

    from bot.slack.replies import outbox

    deadline = time.monotonic() + timeout
    executor = app.listener_runner.listener_executor
    done = threading.Event()

    def wait() -> None:
        executor.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait, name="paperbot-drain", daemon=True).start()
    finished = done.wait(timeout)
    if not finished:
        log.warning("slack.shutdown.unfinished timeout_s=%s", timeout)
    flushed = outbox().flush(max(0.0, deadline - time.monotonic()))
    return finished and flushed
