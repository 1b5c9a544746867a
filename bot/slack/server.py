"""HTTP mode: waitress (a production WSGI server, multi-threaded) serving the Bolt app.

Routes: `POST /slack/events` (slash commands, interactivity and the Events API, all through Bolt's WSGI
adapter, which checks every request's signature) and `GET /healthz`; 404 elsewhere, 405 for a wrong
method. `start_server()` returns a handle with the bound port (so tests can ask for port 0) and `stop()`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from bot import __version__

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
THREADS = 8
MAX_BODY_BYTES = 1024 * 1024  # Slack's largest payloads (block_actions with a 50-block message) are far smaller

StartResponse = Callable[..., Any]


def _reply(start_response: StartResponse, status: str, body: dict[str, Any],
           headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                            *headers])
    return [payload]


def make_wsgi_app(app: App, health: Callable[[], dict[str, Any]] | None = None) -> Callable[..., Iterable[bytes]]:
    """The WSGI application: Bolt at POST /slack/events, a health check at GET /healthz."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return _reply(start_response, "405 Method Not Allowed", {"error": "method not allowed"},
                              [("Allow", "GET, HEAD")])
            status = {"ok": True, "version": __version__, **(health() if health else {})}
            return _reply(start_response, "200 OK", status)
        if path != EVENTS_PATH:
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"error": "method not allowed"},
                          [("Allow", "POST")])

        def recording_start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            if status.startswith("401"):
                # Bolt answers 401 for a missing, wrong or stale (> 5 min) signature.
                log.warning("slack.request.rejected status=401 remote=%s ts=%s", environ.get("REMOTE_ADDR"),
                            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "-"))
            return start_response(status, headers, *exc)

        return slack(environ, recording_start_response)

    return application


class ServerHandle:
    """A running waitress server on its own thread."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._stopped = False
        # One listener per address: "localhost" may resolve to both 127.0.0.1 and ::1 (a MultiSocketServer).
        self._map: dict[Any, Any] = server._map if isinstance(server, BaseWSGIServer) else server.map
        self._listeners = [d for d in self._map.values() if isinstance(d, BaseWSGIServer)]
        self.host: str = str(self._listeners[0].effective_host)
        self.port: int = int(self._listeners[0].effective_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in progress finish (up to `grace` s), then close everything."""
        if self._stopped:
            return
        self._stopped = True
        trigger = self._listeners[0].trigger
        # wasyncore is not thread-safe: changes to its socket map run on the loop thread, via the trigger.
        trigger.pull_trigger(lambda: [wasyncore.dispatcher.close(s) for s in self._listeners])
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self._idle():
            time.sleep(0.02)
        trigger.pull_trigger(lambda: wasyncore.close_all(self._map, ignore_all=True))
        self._thread.join(timeout=max(1.0, deadline - time.monotonic()))
        self._server.task_dispatcher.shutdown(timeout=1)

    def _idle(self) -> bool:
        dispatcher = self._server.task_dispatcher
        if dispatcher.queue or dispatcher.active_count:
            return False
        channels = [c for c in list(self._map.values()) if hasattr(c, "requests")]
        return not any(c.requests or c.total_outbufs_len for c in channels)


def start_server(app: App, host: str = "127.0.0.1", port: int = 3000, *, threads: int = THREADS,
                 health: Callable[[], dict[str, Any]] | None = None) -> ServerHandle:
    """Bind `host:port` (0 = any free port) and serve on a background thread. OSError if it cannot bind."""
    server = create_server(
        make_wsgi_app(app, health),
        host=host,
        port=port,
        threads=threads,
        ident="paperbot",
        max_request_body_size=MAX_BODY_BYTES,
        channel_timeout=60,
        asyncore_use_poll=True,
    )
    thread = threading.Thread(target=server.run, name="paperbot-http", daemon=True)
    thread.start()
    handle = ServerHandle(server, thread)
    log.info("http.listening url=%s", handle.url)
    return handle
