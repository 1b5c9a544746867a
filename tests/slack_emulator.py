"""A local Slack Web API on 127.0.0.1 for end-to-end tests (and the ack benchmark).

Implements the methods paperbot calls with Slack's response shapes — auth.test, chat.postMessage,
chat.postEphemeral, chat.update, chat.getPermalink, conversations.history / replies / info, users.info,
views.publish, apps.connections.open — plus response URLs at `/response/<id>` and a Socket Mode WebSocket
endpoint (`socket_mode`). It:

- checks `Authorization: Bearer` (or a `token` parameter): `not_authed` / `invalid_auth` like Slack;
- accepts JSON, form and query-string parameters (JSON-valued form fields such as `blocks` are decoded);
- validates Block Kit against Slack's limits and answers `invalid_blocks` as Slack would, recording every
  problem in `problems` (so a test can assert the bot never sent anything Slack would reject);
- records every call (method, params, time) and every response-URL post;
- injects faults: per-channel errors (`not_in_channel`, …), 429 + Retry-After or 5xx for the next N calls,
  429 + Retry-After for the next N response-URL posts (`rate_limit_responses`, recorded in `throttled`).

    with SlackEmulator() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        slack.rate_limit("chat.postMessage", times=2, retry_after=0)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import itertools
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Slack's Block Kit limits (see /work/shared/README.md), checked independently of bot/slack/blocks.py.
LIMITS = {
    "message_blocks": 50,
    "view_blocks": 100,
    "section_text": 3000,
    "header_text": 150,
    "fields": 10,
    "field_text": 2000,
    "context_elements": 10,
    "actions_elements": 25,
    "button_text": 75,
    "button_value": 2000,
    "button_url": 3000,
    "id": 255,
    "message_text": 40000,
}
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
BROADCAST_RE = re.compile(r"<!(?:channel|here|everyone)\b|<!subteam\^")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def validate_blocks(blocks: Any, max_blocks: int) -> list[str]:
    """What Slack would reject in `blocks` (empty list: nothing)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    block_ids = set()

    def text_of(obj: Any, limit: int, where: str) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("mrkdwn", "plain_text"):
            problems.append(f"{where}: not a text object")
            return
        if not isinstance(obj.get("text"), str) or not obj["text"]:
            problems.append(f"{where}: empty text")
        elif utf16_len(obj["text"]) > limit:
            problems.append(f"{where}: text {utf16_len(obj['text'])} > {limit}")

    def element(el: Any, where: str) -> None:
        if not isinstance(el, dict):
            problems.append(f"{where}: not an object")
            return
        action_id = el.get("action_id")
        if action_id is not None and utf16_len(str(action_id)) > LIMITS["id"]:
            problems.append(f"{where}: action_id > 255")
        if el.get("type") == "button":
            text = el.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                problems.append(f"{where}: button text must be plain_text")
            else:
                text_of(text, LIMITS["button_text"], where)
            if "value" in el and utf16_len(str(el["value"])) > LIMITS["button_value"]:
                problems.append(f"{where}: button value > 2000")
            if "url" in el and utf16_len(str(el["url"])) > LIMITS["button_url"]:
                problems.append(f"{where}: button url > 3000")

    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"{where}: not a block")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if utf16_len(str(block_id)) > LIMITS["id"]:
                problems.append(f"{where}: block_id > 255")
            if block_id in block_ids:
                problems.append(f"{where}: duplicate block_id {block_id}")
            block_ids.add(block_id)
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if "text" in block:
                text_of(block["text"], LIMITS["section_text"], where)
            fields = block.get("fields", [])
            if len(fields) > LIMITS["fields"]:
                problems.append(f"{where}: {len(fields)} fields > 10")
            for j, f in enumerate(fields):
                text_of(f, LIMITS["field_text"], f"{where}.fields[{j}]")
            if "accessory" in block:
                element(block["accessory"], f"{where}.accessory")
        elif kind == "header":
            text_of(block.get("text"), LIMITS["header_text"], where)
            if isinstance(block.get("text"), dict) and block["text"].get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > LIMITS["context_elements"]:
                problems.append(f"{where}: context needs 1-10 elements")
            for j, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") in ("mrkdwn", "plain_text"):
                    text_of(el, LIMITS["section_text"], f"{where}.elements[{j}]")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > LIMITS["actions_elements"]:
                problems.append(f"{where}: actions needs 1-25 elements")
            seen_actions = set()
            for j, el in enumerate(elements):
                element(el, f"{where}.elements[{j}]")
                action_id = el.get("action_id") if isinstance(el, dict) else None
                if action_id in seen_actions:
                    problems.append(f"{where}: duplicate action_id {action_id}")
                seen_actions.add(action_id)
        elif kind not in ("divider", "image", "rich_text", "input", "file", "video"):
            problems.append(f"{where}: unknown block type {kind}")
    return problems


def validate_message(params: dict[str, Any], max_blocks: int = LIMITS["message_blocks"]) -> list[str]:
    problems = []
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        # Slack accepts it with a warning, but notifications and screen readers get nothing.
        problems.append("missing_text_fallback")
    elif utf16_len(text) > LIMITS["message_text"]:
        problems.append("msg_too_long")
    if "blocks" in params:
        problems += validate_blocks(params["blocks"], max_blocks)
    return problems


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from all_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from all_strings(v)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic()
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResponsePost:
    id: str
    payload: dict[str, Any]
    at: float
    status: int


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    after_doing: bool = False  # do the work, then fail (a gateway timing out on a call that went through)


class SocketModeServer:
    """Slack's Socket Mode side: a WebSocket endpoint (plain ws:// on 127.0.0.1) that says hello, sends
    envelopes and collects the app's acks. slack_sdk's client uses plain sockets on ports other than 443."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._clients: list[socket.socket] = []
        self._send_lock = threading.Lock()
        self.acks: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._closed = False
        threading.Thread(target=self._accept, name="socket-mode-accept", daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=emulated"

    def close(self) -> None:
        self._closed = True
        for sock in [self._listener, *self._clients]:
            with contextlib.suppress(OSError):
                sock.close()

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._clients, timeout):
                raise AssertionError("no Socket Mode connection")

    def send(self, kind: str, payload: dict[str, Any], **extra: Any) -> str:
        """Push an envelope (`slash_commands`, `interactive`, `events_api`) to the connected app."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                    "accepts_response_payload": kind != "events_api", **extra}
        self._frame(self._clients[-1], 0x1, json.dumps(envelope).encode())
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"no ack for envelope {envelope_id}")
            return self.acks[envelope_id]

    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), name="socket-mode-conn", daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                request += chunk
            key = re.search(rb"Sec-WebSocket-Key: *(\S+)", request, re.IGNORECASE)
            assert key is not None, request
            accept = base64.b64encode(hashlib.sha1(key.group(1) + self.GUID.encode()).digest()).decode()
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            hello = {"type": "hello", "num_connections": 1, "debug_info": {"host": "emulator"},
                     "connection_info": {"app_id": "A0PAPERBOT"}}
            self._frame(sock, 0x1, json.dumps(hello).encode())
            with self._cond:
                self._clients.append(sock)
                self._cond.notify_all()
            while True:
                opcode, data = self._read_frame(sock)
                if opcode == 0x9:  # ping -> pong with the same data
                    self._frame(sock, 0xA, data)
                elif opcode == 0x1:
                    message = json.loads(data)
                    with self._cond:
                        self.acks[message.get("envelope_id", "")] = message
                        self._cond.notify_all()
                elif opcode == 0x8:
                    return
        except (OSError, ConnectionError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _frame(self, sock: socket.socket, opcode: int, data: bytes) -> None:
        size = len(data)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self._send_lock:
            sock.sendall(header + data)

    @staticmethod
    def _read_exact(sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_frame(self, sock: socket.socket) -> tuple[int, bytes]:
        b0, b1 = self._read_exact(sock, 2)
        size = b1 & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read_exact(sock, 2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read_exact(sock, 8))
        mask = self._read_exact(sock, 4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(self._read_exact(sock, size)))
        return b0 & 0x0F, data


class SlackEmulator:
    def __init__(self, *, bot_token: str = "xoxb-emulator-token", app_token: str = "xapp-emulator-token",
                 team_id: str = "T0EMULATE", bot_user_id: str = "U0PAPERBOT", bot_id: str = "B0PAPERBOT") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.calls: list[Call] = []
        self.response_posts: list[ResponsePost] = []
        self.throttled: list[ResponsePost] = []  # response-URL posts answered 429 (not delivered)
        self._response_limits: list[_Fault] = []
        self._response_delay = 0.0  # seconds every response-URL post takes before it is answered
        self.problems: list[str] = []  # everything Slack would have rejected or warned about
        self.channel_errors: dict[str, str] = {}  # channel id -> error for posting / reading there
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}  # user id -> published home view
        self.members: dict[str, list[str]] = {}  # channel id -> member user ids (conversations.members)
        self.files: dict[str, dict[str, Any]] = {}  # file id -> {"name", "content", "shared": [channel ids], ...}
        from bot.slack.scopes import REQUIRED_SCOPES

        # The token's granted scopes, sent as `X-OAuth-Scopes` on every Web API answer (None: no header).
        self.scopes: str | None = ",".join(REQUIRED_SCOPES)
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}  # method -> seconds every call of it takes (`slow`)
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: SocketModeServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        emulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                emulator._handle(self)

            def do_POST(self) -> None:
                emulator._handle(self)

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 makes bursts of connections wait for SYN retries

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="slack-emulator",
                                        daemon=True)
        self._thread.start()
        return self

    @property
    def socket_mode(self) -> SocketModeServer:
        """The Socket Mode endpoint that apps.connections.open hands out (started on first use)."""
        with self._lock:
            if self._socket_mode is None:
                self._socket_mode = SocketModeServer()
            return self._socket_mode

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # --- test controls --------------------------------------------------------------------------------

    def new_response_url(self) -> str:
        return f"{self.url}/response/{uuid.uuid4().hex}"

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` calls of `method` get HTTP 429 with `Retry-After` and `ratelimited`."""
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(429, times, retry_after))

    def rate_limit_responses(self, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` posts to any response URL get HTTP 429 with `Retry-After` (nothing is delivered)."""
        with self._lock:
            self._response_limits.append(_Fault(429, times, retry_after))

    def slow_responses(self, seconds: float) -> None:
        """Every later response-URL post takes `seconds` before it is answered (and recorded; 0: no delay)."""
        with self._lock:
            self._response_delay = seconds

    def wait_for_throttled(self, count: int = 1, timeout: float = 5.0) -> list[ResponsePost]:
        return self._wait(lambda: list(self.throttled), count, timeout, f"{count} throttled response post(s)")

    def fail(self, method: str, times: int = 1, status: int = 500, *, after_doing: bool = False) -> None:
        """The next `times` calls of `method` get HTTP `status`; with `after_doing`, once they did their work."""
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, times, after_doing=after_doing))

    def slow(self, method: str, seconds: float) -> None:
        """Every later call of `method` takes `seconds` before it is answered (0: no delay)."""
        with self._lock:
            self._delays[method] = seconds

    def add_message(self, channel: str, text: str, *, user: str = "U0SOMEONE", ts: str | None = None,
                    thread_ts: str | None = None) -> str:
        ts = ts or self._next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return ts

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return self._wait(lambda: self.calls_to(method), count, timeout, f"{count} call(s) to {method}")

    def responses(self, url_or_id: str) -> list[dict[str, Any]]:
        rid = url_or_id.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            return [p.payload for p in self.response_posts if p.id == rid]

    def wait_for_responses(self, url_or_id: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        return self._wait(lambda: self.responses(url_or_id), count, timeout, f"{count} response(s) at {url_or_id}")

    def _wait(self, get: Callable[[], list[Any]], count: int, timeout: float, what: str) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = get()
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {len(found)}")
                self._lock.wait(remaining)

    def broadcast_mentions(self) -> list[str]:
        """Every live @channel / @here / @everyone / group mention in anything the bot sent."""
        with self._lock:
            payloads = [c.params for c in self.calls] + [p.payload for p in self.response_posts]
        return [s for p in payloads for s in all_strings(p) if BROADCAST_RE.search(s)]

    # --- HTTP -----------------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n % 1_000_000:06d}"

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        if parts.path.startswith("/upload/"):  # the upload URL files.getUploadURLExternal hands out
            status, body = self._upload(parts.path.rsplit("/", 1)[-1], raw)
            self._send(request, status, body)
            return
        if parts.path.startswith("/response/"):
            status, body, extra = self._response_url(parts.path.rsplit("/", 1)[-1], raw)
            self._send(request, status, body, extra)
            return
        if not parts.path.startswith("/api/"):
            self._send(request, 404, {"ok": False, "error": "not_found"})
            return
        method = parts.path[len("/api/"):]
        params = self._params(request.command, parts.query, raw, headers.get("content-type", ""))
        call = Call(method, params, headers, time.monotonic())
        status, extra_headers, body = self._api(method, params, headers)
        call.status, call.response = status, body
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        scopes = {"X-OAuth-Scopes": self.scopes} if self.scopes is not None else {}
        self._send(request, status, body, {**scopes, **extra_headers})

    @staticmethod
    def _params(verb: str, query: str, raw: bytes, content_type: str) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if verb == "POST" and raw:
            if "json" in content_type:
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    @staticmethod
    def _send(request: http.server.BaseHTTPRequestHandler, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(payload)

    def _response_url(self, rid: str, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            payload = json.loads(raw)
        except ValueError:
            return 400, {"ok": False, "error": "invalid_payload"}, {}
        with self._lock:
            delay = self._response_delay
        if delay:
            time.sleep(delay)
        with self._lock:
            limit = self._response_limits[0] if self._response_limits else None
            if limit is not None:
                limit.remaining -= 1
                if limit.remaining <= 0:
                    self._response_limits.pop(0)
                self.throttled.append(ResponsePost(rid, payload, time.monotonic(), 429))
                self._lock.notify_all()
                return 429, {"ok": False, "error": "rate_limited"}, {"Retry-After": str(limit.retry_after or 0)}
            used = sum(1 for p in self.response_posts if p.id == rid)
        status, body = 200, {"ok": True}
        if used >= 5:  # Slack allows five posts per response URL
            status, body = 404, {"ok": False, "error": "used_url"}
            self._problem(f"response_url used more than 5 times: {rid}")
        else:
            problems = validate_message(payload)
            if problems:
                self._problem(f"response_url: {problems}")
            if any(p != "missing_text_fallback" for p in problems):
                status, body = 400, {"ok": False, "error": "invalid_blocks"}
        with self._lock:
            self.response_posts.append(ResponsePost(rid, payload, time.monotonic(), status))
            self._lock.notify_all()
        return status, body, {}

    def _upload(self, file_id: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            entry = self.files.get(file_id)
            if entry is None:
                return 404, {"ok": False, "error": "file_not_found"}
            if len(raw) != entry["length"]:
                self.problems.append(f"upload {file_id}: {len(raw)} bytes, announced {entry['length']}")
            entry["content"] = raw
        return 200, {"ok": True}

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    # --- the Web API ----------------------------------------------------------------------------------

    def _api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                                          dict[str, Any]]:
        with self._lock:
            faults = self._faults.get(method, [])
            fault = faults[0] if faults else None
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.pop(0)
            delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        if fault is not None and not fault.after_doing:
            if fault.status == 429:
                return 429, {"Retry-After": str(fault.retry_after or 0)}, {"ok": False, "error": "ratelimited"}
            return fault.status, {}, {"ok": False, "error": "internal_error"}

        auth = headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token not in (self.bot_token, self.app_token):
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        if (method == "apps.connections.open") != (token == self.app_token):
            return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        answer = handler(params)
        if fault is not None:  # after_doing: the work is done, the caller hears otherwise
            return fault.status, {}, {"ok": False, "error": "internal_error"}
        return 200, {}, answer

    def _channel_error(self, channel: Any) -> dict[str, Any] | None:
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        error = self.channel_errors.get(str(channel))
        return {"ok": False, "error": error} if error else None

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://emulated.slack.test/", "team": "Emulated Team", "user": "paperbot",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_mode.url}

    def _checked_message(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        problems = validate_message(params)
        if problems:
            self._problem(f"{method}: {problems}")
        if any(p != "missing_text_fallback" for p in problems):
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return None

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        error = self._channel_error(channel) or self._checked_message("chat.postMessage", params)
        if error:
            return error
        ts = self._next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "ts": ts,
                   "text": params.get("text", ""), "blocks": params.get("blocks", [])}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self._lock:
            self.messages.setdefault(str(channel), []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._channel_error(params.get("channel")) or self._checked_message("chat.postEphemeral", params)
        if error:
            return error
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        ts = self._next_ts()
        with self._lock:
            self.ephemerals.append({**params, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        error = self._channel_error(channel) or self._checked_message("chat.update", params)
        if error:
            return error
        with self._lock:
            for message in self.messages.get(channel, []):
                if message["ts"] == params.get("ts"):
                    message.update(text=params.get("text", ""), blocks=params.get("blocks", []))
                    return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "channel": channel,
                "permalink": f"https://emulated.slack.test/archives/{channel}/p{ts.replace('.', '')}"}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        error = self._channel_error(channel)
        if error:
            return error
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        latest, oldest = params.get("latest"), params.get("oldest")
        limit = int(params.get("limit") or 100)
        with self._lock:
            messages = [m for m in self.messages.get(channel, []) if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
        if latest:
            messages = [m for m in messages if float(m["ts"]) < float(latest) or (inclusive and m["ts"] == latest)]
        if oldest:
            messages = [m for m in messages if float(m["ts"]) > float(oldest) or (inclusive and m["ts"] == oldest)]
        newest_first = sorted(messages, key=lambda m: float(m["ts"]), reverse=True)
        return {"ok": True, "messages": newest_first[:limit], "has_more": len(newest_first) > limit}

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        error = self._channel_error(channel)
        if error:
            return error
        with self._lock:
            thread = [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": sorted(thread, key=lambda m: float(m["ts"])), "has_more": False}

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        error = self.channel_errors.get(channel)
        if not channel or error == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {
            "id": channel, "name": f"channel-{channel.lower()}", "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"), "is_im": channel.startswith("D"),
            "is_private": channel.startswith("G"), "is_archived": error == "is_archived",
            "is_member": error != "not_in_channel"}}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if user in self.users:
            return {"ok": True, "user": self.users[user]}
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "team_id": self.team_id, "name": user.lower(),
                                     "real_name": f"User {user}", "deleted": False, "is_bot": False,
                                     "tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0,
                                     "profile": {"display_name": user.lower(), "real_name": f"User {user}"}}}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view, user = params.get("view"), params.get("user_id")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        problems = validate_blocks(view.get("blocks", []), LIMITS["view_blocks"])
        if problems:
            self._problem(f"views.publish: {problems}")
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        with self._lock:
            self.views[str(user)] = view
        return {"ok": True, "view": {"id": f"V{uuid.uuid4().hex[:10].upper()}", **view}}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")
        if len(users) != 1 or not re.fullmatch(r"[UW][A-Z0-9]{2,}", users[0]):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[0][1:]}}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.members:
            return {"ok": False, "error": self.channel_errors.get(channel, "channel_not_found")}
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        page = self.members[channel][start:start + limit]
        rest = start + limit < len(self.members[channel])
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": str(start + limit) if rest else ""}}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), str(params.get("length", ""))
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        with self._lock:
            self.files[file_id] = {"name": filename, "length": int(length), "content": None, "shared": []}
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        channel = params.get("channel_id") or params.get("channels")
        done = []
        with self._lock:
            for item in files or []:
                entry = self.files.get(item.get("id", ""))
                if entry is None or entry["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                entry.update(title=item.get("title"), shared=[channel] if channel else [],
                             initial_comment=params.get("initial_comment"))
                done.append({"id": item["id"], "name": entry["name"], "title": item.get("title")})
        return {"ok": True, "files": done}
