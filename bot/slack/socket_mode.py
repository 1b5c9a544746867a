"""Socket Mode: with SLACK_APP_TOKEN set, Slack pushes requests over a WebSocket the bot opens (no public URL).

The same Bolt app serves both modes; Socket Mode requests are not signed (the socket is authenticated by
the app token), so Bolt skips signature checks for them.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect (raises SlackApiError if Slack refuses the app token) and return the handler; `close()` stops it."""
    handler = SocketModeHandler(app, app_token, concurrency=8)
    handler.connect()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
    log.info("socket_mode.connected")
    return handler
