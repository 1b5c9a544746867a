"""`paperbot run`: start the Slack bot — Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on PAPERBOT_HOST:PORT.

Start-up failures (missing or rejected tokens, a busy data directory, a port in use) are one line and a
non-zero exit. SIGTERM or SIGINT stops accepting requests, lets the work in progress finish and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from bot.commands import CommandError
from bot.config import Settings
from bot.slack.plumbing import slack_error

log = logging.getLogger("bot.run")

DRAIN_SECONDS = 20.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run", help="start the Slack bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)",
        description="Start the Slack bot. With SLACK_APP_TOKEN it connects in Socket Mode; otherwise it serves "
                    "POST /slack/events and GET /healthz over HTTP.")
    parser.add_argument("--host", help="address to bind in HTTP mode (default: PAPERBOT_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port in HTTP mode (default: PORT, 3000; 0 picks a free one)")
    parser.set_defaults(handler=handle)


def check_tokens(settings: Settings) -> dict[str, Any]:
    """auth.test for the bot token (and apps.connections.open for an app token), before anything starts:
    a failure is one line for the operator. Returns auth.test's answer."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import create_web_client

    client = create_web_client(settings, quiet=True)
    try:
        answer = client.auth_test().data
    except SlackApiError as exc:
        raise CommandError(f"Slack rejected SLACK_BOT_TOKEN ({slack_error(exc)})", status=2) from None
    except OSError as exc:  # URLError, timeouts, refused connections (after the retries)
        reason = getattr(exc, "reason", None) or exc
        raise CommandError(f"cannot reach the Slack API at {settings.slack_api_url}: {reason}") from None
    if settings.slack_app_token:
        try:
            client.apps_connections_open(app_token=settings.slack_app_token)
        except SlackApiError as exc:
            raise CommandError(f"Slack rejected SLACK_APP_TOKEN ({slack_error(exc)})", status=2) from None
        except OSError as exc:
            reason = getattr(exc, "reason", None) or exc
            raise CommandError(f"cannot reach the Slack API at {settings.slack_api_url}: {reason}") from None
    return dict(answer) if isinstance(answer, dict) else {}  # auth.test answers JSON


def handle(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    from bot.services import Services
    from bot.slack.app import create_app, create_web_client, shutdown_app, tune_for_latency

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise CommandError(f"--port must be from 0 to 65535 (got {port})", status=2)

    identity = check_tokens(settings)
    tune_for_latency()

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("paperbot.stopping signal=%s", signal.Signals(signum).name)
        stop.set()

    client = create_web_client(settings)
    services = Services.open_for_slack(settings, client, background=False)
    previous: dict[int, Any] = {}
    try:
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        # check_tokens ran auth.test already; its answer is the bot's identity for every request
        app = create_app(settings, services, client, verify_token=False, identity=identity)
        stopper = _start(app, settings, host, port)
        services.scheduler.start()
        services.start_background()  # after the server answers: embedding and learning must not delay it
        log.info("paperbot.ready team=%s bot=%s", identity.get("team_id"), identity.get("user_id"))
        try:
            while not stop.wait(0.5):
                pass
        finally:
            stopper()
            services.scheduler.stop(DRAIN_SECONDS)
            shutdown_app(app, DRAIN_SECONDS)
    finally:
        services.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("paperbot.stopped")
    return 0


def _start(app: Any, settings: Settings, host: str, port: int) -> Any:
    """Start serving; return the function that stops it."""
    if settings.slack_app_token:
        from slack_sdk.errors import SlackApiError

        from bot.slack.socket_mode import start_socket_mode

        try:
            handler = start_socket_mode(app, settings.slack_app_token)
        except SlackApiError as exc:
            raise CommandError(f"Slack rejected SLACK_APP_TOKEN ({slack_error(exc)})", status=2) from None
        log.info("paperbot.listening mode=socket")
        return handler.close

    from bot.slack.server import EVENTS_PATH, start_server

    try:
        # The health check stays lock-free: a long archive write must not make it time out.
        server = start_server(app, host, port, signing_secret=settings.slack_signing_secret or "",
                              health=lambda: {"mode": "http"})
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    log.info("paperbot.listening mode=http url=%s%s", server.url, EVENTS_PATH)
    return server.stop
