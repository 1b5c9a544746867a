"""HTTP mode: waitress (a production WSGI server, multi-threaded) serving the Bolt app.

Routes: `POST /slack/events` (slash commands, interactivity and the Events API, through Bolt's WSGI
adapter) and `GET /healthz`; 404 elsewhere, 405 for a wrong method. Anyone can reach the endpoint, so the
signature and timestamp are checked here, before anything parses the body: a forged, stale or malformed
request gets 401, a signed body Bolt could not parse gets 400, each with one short log line and nothing else.
This is the only signature check in HTTP mode (create_app turns Bolt's off, because a command that mentions
"payload" reaches Bolt re-encoded). `start_server()` returns a handle with the bound
port (so tests can ask for port 0) and `stop()`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import resource
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

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
MAX_REQUEST_AGE = 300  # seconds, either way: Slack's rule against replayed requests
TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")  # ASCII digits only ([0-9], not \d); 12 digits is far past 2100
SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")  # HMAC-SHA256 in lowercase hex, as Slack sends it
# Connections held open by anyone (no data, no auth) must not starve Slack's: waitress stops accepting at
# its limit (default 100), so the limit is high (asyncore's poll has no FD_SETSIZE cap) and idle ones close soon.
CONNECTION_LIMIT = 1000
IDLE_TIMEOUT = 15  # seconds without a byte before waitress closes a connection with no request in progress
CLEANUP_INTERVAL = 5  # seconds between waitress's sweeps for idle connections
FD_RESERVE = 256  # open files kept for everything else: data files, the Web API client, the listeners

QUEUE_LOG_INTERVAL = 10.0  # seconds: at most one "all threads busy" line per interval, however many requests queue

StartResponse = Callable[..., Any]


class _QueueDepthLine(logging.Filter):
    """waitress logs `Task queue depth is N` for every request that arrives while its threads are busy (and
    for the first one after start-up); anyone can send requests, so that would be a line per request on top
    of ours. Keep one grep-able line per QUEUE_LOG_INTERVAL instead."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Task queue depth"):
            return True
        with self._lock:
            now = time.monotonic()
            if now - self._last < QUEUE_LOG_INTERVAL:
                self._dropped += 1
                return False
            self._last, dropped, self._dropped = now, self._dropped, 0
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else "-"
        record.msg, record.args = "http.queue.busy depth=%s dropped=%s", (depth, dropped)
        return True


_queue_filter = _QueueDepthLine()


def _reply(start_response: StartResponse, status: str, body: dict[str, Any],
           headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                            *headers])
    return [payload]


def signature_problem(secret: str, timestamp: str | None, signature: str | None, body: bytes,
                      now: float | None = None) -> str | None:
    """Why a request is not signed by Slack with `secret` (None: it is). Looks at the headers' shape first,
    so nothing unusual (huge, non-ASCII, not a number) reaches int() or the comparison."""
    if not secret:  # an empty key would make every request's signature computable
        return "no_secret"
    if not timestamp or not signature:
        return "unsigned"
    if not TIMESTAMP_RE.fullmatch(timestamp):
        return "bad_timestamp"
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_REQUEST_AGE:
        return "stale"
    if not SIGNATURE_RE.fullmatch(signature):
        return "bad_signature"
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest("v0=" + expected, signature) else "wrong_signature"


def body_problem(body: bytes, content_type: str | None) -> str | None:
    """Why Bolt could not parse a body into an object (None: it can). Mirrors Bolt's parse_body: JSON when
    the type says so or it starts with `{`; else a form, whose `payload` field (if any) holds JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    if not text:
        return None
    if (content_type or "").split(";")[0] == "application/json" or text.startswith("{"):
        return _json_object_problem(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return None if payload is None else _json_object_problem(payload, "payload_")
    return None


def unambiguous_form(body: bytes, content_type: str | None) -> bytes:
    """The same form with every "payload" inside its fields percent-encoded, so Bolt (which reads any form
    containing the word as an interactive payload) sees a slash command that mentions it as a command. The
    fields decode to exactly what Slack sent. A body that is JSON or carries a real `payload` field is kept."""
    text = body.decode("utf-8")
    if "payload" not in text or (content_type or "").split(";")[0] == "application/json" or text.startswith("{"):
        return body
    fields = parse_qsl(text, keep_blank_values=True)
    if any(name == "payload" for name, _ in fields):
        return body
    return urlencode(fields).replace("payload", "%70ayload").encode()


def _json_object_problem(text: str, prefix: str = "") -> str | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a few thousand nested brackets
        return prefix + "not_json"
    return None if isinstance(parsed, dict) else prefix + "not_object"


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The raw body (waitress has already capped it at MAX_BODY_BYTES); None if its length is unreadable."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    stream = environ.get("wsgi.input")
    return stream.read(length) if stream is not None and length > 0 else b""


def make_wsgi_app(app: App, health: Callable[[], dict[str, Any]] | None = None, *,
                  signing_secret: str) -> Callable[..., Iterable[bytes]]:
    """The WSGI application: Bolt at POST /slack/events (only requests signed with `signing_secret` reach
    it), a health check at GET /healthz."""
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

        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        # Only a well-formed timestamp goes into the log line: the header is the sender's, of any length.
        shown_ts = timestamp if timestamp and TIMESTAMP_RE.fullmatch(timestamp) else "-"
        remote = environ.get("REMOTE_ADDR", "-")
        body = _read_body(environ)
        if body is None:
            log.warning("slack.request.malformed status=400 reason=content_length remote=%s", remote)
            return _reply(start_response, "400 Bad Request", {"error": "bad request"})
        problem = signature_problem(signing_secret, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE"), body)
        if problem:
            log.warning("slack.request.rejected status=401 reason=%s remote=%s ts=%s", problem, remote, shown_ts)
            return _reply(start_response, "401 Unauthorized", {"error": "invalid signature"})
        problem = body_problem(body, environ.get("CONTENT_TYPE"))
        if problem:
            log.warning("slack.request.malformed status=400 reason=%s remote=%s ts=%s", problem, remote, shown_ts)
            return _reply(start_response, "400 Bad Request", {"error": "bad request"})
        # Checked above, so Bolt does not check again (create_app): the body it gets may be re-encoded.
        body = unambiguous_form(body, environ.get("CONTENT_TYPE"))
        environ["wsgi.input"] = io.BytesIO(body)  # read once above; Bolt reads it again
        environ["CONTENT_LENGTH"] = str(len(body))

        try:
            return slack(environ, start_response)
        except Exception as exc:  # Bolt building its request from an odd but signed body
            log.warning("slack.request.malformed status=400 reason=bolt error=%s remote=%s ts=%s",
                        type(exc).__name__, remote, shown_ts)
            return _reply(start_response, "400 Bad Request", {"error": "bad request"})

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
        # wasyncore is not thread-safe: changes to its socket map run on the loop thread, via the trigger.
        self._on_loop(lambda: [wasyncore.dispatcher.close(s) for s in self._listeners])
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self._idle():
            time.sleep(0.02)
        self._on_loop(lambda: wasyncore.close_all(self._map, ignore_all=True))
        self._thread.join(timeout=max(1.0, deadline - time.monotonic()))
        self._server.task_dispatcher.shutdown(timeout=1)

    def _on_loop(self, thunk: Callable[[], object]) -> None:
        try:
            self._listeners[0].trigger.pull_trigger(thunk)
        except OSError:  # the loop has closed its trigger already (it is stopping): nothing is left to close
            log.debug("http.stop.trigger_closed")

    def _idle(self) -> bool:
        dispatcher = self._server.task_dispatcher
        if dispatcher.queue or dispatcher.active_count:
            return False
        channels = [c for c in list(self._map.values()) if hasattr(c, "requests")]
        return not any(c.requests or c.total_outbufs_len for c in channels)


def connection_limit(wanted: int = CONNECTION_LIMIT) -> int:
    """How many connections to allow: `wanted`, raising the soft open-files limit to fit it when the hard
    limit allows; otherwise as many as the open-files limit leaves room for (at least waitress's 100)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(100, min(wanted, soft - FD_RESERVE))


def start_server(app: App, host: str = "127.0.0.1", port: int = 3000, *, signing_secret: str,
                 threads: int = THREADS, health: Callable[[], dict[str, Any]] | None = None) -> ServerHandle:
    """Bind `host:port` (0 = any free port) and serve on a background thread, accepting only requests signed
    with `signing_secret` at the events path. OSError if it cannot bind."""
    limit = connection_limit()
    queue_logger = logging.getLogger("waitress.queue")
    if _queue_filter not in queue_logger.filters:
        queue_logger.addFilter(_queue_filter)
    server = create_server(
        make_wsgi_app(app, health, signing_secret=signing_secret),
        host=host,
        port=port,
        threads=threads,
        ident="paperbot",
        max_request_body_size=MAX_BODY_BYTES,
        connection_limit=limit,
        channel_timeout=IDLE_TIMEOUT,
        cleanup_interval=CLEANUP_INTERVAL,
        asyncore_use_poll=True,
    )
    thread = threading.Thread(target=server.run, name="paperbot-http", daemon=True)
    thread.start()
    handle = ServerHandle(server, thread)
    log.info("http.listening url=%s connection_limit=%s", handle.url, limit)
    return handle
