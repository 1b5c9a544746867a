"""A real HTTP server on 127.0.0.1 for tests: routes to Python functions, records every request, and
injects faults (status codes, slow answers, garbage or cut-off bodies) on chosen requests.

Reusable by any test that needs a network peer (paper sources, Slack emulators, …):

    server = LocalHTTPServer(lambda req: Reply(200, b"hi"))
    with server:
        requests.get(server.url + "/x")
        server.fail("/x", Reply(500), times=2)   # the next two matching requests get a 500
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (cut short when the server stops)
    cut_at: int | None = None  # send only this many body bytes while announcing the full length, then hang up

    @classmethod
    def json(cls, payload: bytes | str, status: int = 200) -> Reply:
        body = payload.encode() if isinstance(payload, str) else payload
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8"})


@dataclass
class Seen:
    """One request as the server received it; `at` is `time.monotonic()` on arrival."""

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def target(self) -> str:
        return f"{self.path}?{self.raw_query}" if self.raw_query else self.path


Handler = Callable[[Seen], Reply]
Matcher = str | Callable[[Seen], bool]


@dataclass
class _Fault:
    match: Matcher
    replies: list[Reply]
    times: int | None  # None: forever

    def matches(self, seen: Seen) -> bool:
        return self.match(seen) if callable(self.match) else self.match in seen.target


class LocalHTTPServer:
    """`ThreadingHTTPServer` on an ephemeral 127.0.0.1 port, served from a daemon thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Seen] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, match: Matcher, *replies: Reply, times: int | None = 1) -> None:
        """The next `times` requests whose path?query contains `match` (or for which it returns True) get
        `replies` in turn (the last one repeats); `times=None` means every matching request from now on."""
        with self._lock:
            self._faults.append(_Fault(match, list(replies), times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def seen(self, match: Matcher = "") -> list[Seen]:
        """Requests received so far whose path?query contains `match` (or satisfies it)."""
        with self._lock:
            requests = list(self.requests)
        probe = _Fault(match, [], None)
        return [r for r in requests if probe.matches(r)]

    def _dispatch(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            for fault in self._faults:
                if fault.matches(seen) and (fault.times is None or fault.times > 0):
                    reply = fault.replies[0] if len(fault.replies) == 1 else fault.replies.pop(0)
                    if fault.times is not None:
                        fault.times -= 1
                    return reply
        return self.handler(seen)

    def start(self) -> LocalHTTPServer:
        outer = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like real APIs

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                            parts.query, dict(self.headers.items()), self.rfile.read(length) if length else b"",
                            time.monotonic())
                try:
                    reply = outer._dispatch(seen)
                except Exception as exc:  # a bug in a test handler: answer 500 and let the test see it
                    reply = Reply(500, f"test handler failed: {exc!r}".encode())
                if reply.delay and outer._stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                with contextlib.suppress(OSError):  # the client may have given up (timeout tests)
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/octet-stream", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    if reply.cut_at is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.cut_at is not None:
                        self.wfile.write(reply.body[:reply.cut_at])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients hanging up mid-answer are part of the tests

        self._server = Server(("127.0.0.1", 0), RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
