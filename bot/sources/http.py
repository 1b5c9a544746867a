"""The one HTTP layer every paper source uses: timeouts, retries with backoff, an optional rate limiter.

Every failure leaves here as a `SourceError` whose str() is one operator-facing sentence that starts with
what was being fetched ("Hugging Face daily_papers for 2026-11-20: HTTP 503 … (after 4 attempts)").
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3

from bot import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"paperbot/{__version__} (research-team Slack bot; python-requests)"
# A response body bigger than this is not a paper listing: refuse it rather than fill memory.
MAX_BODY_BYTES = 64 * 1024 * 1024
# `timeout` bounds each socket wait; a server trickling bytes could still hold us forever, so the whole
# response must also arrive within this many timeouts.
TOTAL_TIMEOUT_FACTOR = 3


class SourceError(Exception):
    """A paper source could not deliver; str() is one complete sentence naming what was fetched."""


class SourceNotFound(SourceError):
    """The source answered 404: it does not know the thing asked for."""


class HTTPStatusError(SourceError):
    """A non-retryable HTTP status (4xx other than 404/429); keeps the body for sources that explain errors."""

    def __init__(self, message: str, status: int, body: bytes) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RateLimiter:
    """At most one request at a time, with at least `interval` seconds of quiet after each one.

    The gap is measured from the end of one request to the start of the next, which is stricter than
    start-to-start and so never undercuts the interval even when a response is slow. Thread-safe: the
    lock is held across the request, so concurrent callers queue up instead of hitting the server together.
    """

    def __init__(self, interval: float) -> None:
        self.interval = max(0.0, interval)
        self._lock = threading.Lock()
        self._last_end: float | None = None

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._last_end is not None and self.interval > 0:
                wait = self._last_end + self.interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                yield
            finally:
                self._last_end = time.monotonic()


_shared_limiters: dict[tuple[str, float], RateLimiter] = {}
_shared_limiters_lock = threading.Lock()


def shared_limiter(key: str, interval: float) -> RateLimiter:
    """The process-wide limiter for `key` (a host): every client built for that host shares one queue."""
    with _shared_limiters_lock:
        limiter = _shared_limiters.get((key, interval))
        if limiter is None:
            limiter = _shared_limiters[(key, interval)] = RateLimiter(interval)
        return limiter


class HttpClient:
    """GET with a timeout on every request and retries on timeouts, connection errors, 429 and 5xx.

    Waits between attempts grow as backoff, 2×backoff, 4×backoff… (capped at `max_backoff`); a
    `Retry-After` header is honoured up to the same cap. Other 4xx fail at once (retrying cannot help).
    """

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.max_backoff = max_backoff
        self.limiter = limiter
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, url: str, params: Mapping[str, Any] | None = None, *, what: str) -> bytes:
        """The body of a 2xx answer to GET url?params, or `SourceError("{what}: …")`."""
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            with self.limiter.slot() if self.limiter is not None else contextlib.nullcontext():
                try:
                    return self._fetch(url, params)
                except _NotFound:
                    raise SourceNotFound(f"{what}: not found (HTTP 404)") from None
                except _Failure as exc:
                    failure = exc
            if failure.retryable and attempt < attempts:
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                if failure.retry_after is not None:
                    wait = min(max(wait, failure.retry_after), self.max_backoff)
                log.warning('http.retry url=%s attempt=%d/%d wait=%.2fs error="%s"',
                            _show(url, params), attempt, attempts, wait, failure)
                time.sleep(wait)
                continue
            suffix = f" (after {attempts} attempts)" if failure.retryable and attempts > 1 else ""
            message = f"{what}: {failure}{suffix}"
            if failure.status is not None:
                raise HTTPStatusError(message, failure.status, failure.body)
            raise SourceError(message)
        raise AssertionError("unreachable")

    def _fetch(self, url: str, params: Mapping[str, Any] | None) -> bytes:
        deadline = time.monotonic() + self.timeout * TOTAL_TIMEOUT_FACTOR
        try:
            response = self.session.get(url, params=params, timeout=(self.timeout, self.timeout), stream=True)
        except requests.Timeout:
            raise _Failure(f"timed out after {self.timeout:g}s", retryable=True) from None
        except requests.ConnectionError as exc:
            raise _Failure(_connection_problem(exc, self.timeout), retryable=True) from None
        except requests.RequestException as exc:
            raise _Failure(f"request failed ({exc})", retryable=False) from None
        with response:
            status = response.status_code
            if status >= 500 or status == 429:
                raise _Failure(f"HTTP {status} {response.reason or ''}".rstrip(), retryable=True,
                               retry_after=_retry_after(response.headers.get("Retry-After")))
            if status == 404:
                raise _NotFound()
            if status >= 400:
                body = _read_body(response, deadline, self.timeout)
                raise _Failure(f"HTTP {status} {response.reason or ''}".rstrip(), retryable=False,
                               status=status, body=body)
            return _read_body(response, deadline, self.timeout)


class _Failure(Exception):
    """Why one attempt failed, and whether another try might succeed."""

    def __init__(self, problem: str, *, retryable: bool, retry_after: float | None = None,
                 status: int | None = None, body: bytes = b"") -> None:
        super().__init__(problem)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.body = body


class _NotFound(Exception):
    pass


def _read_body(response: requests.Response, deadline: float, timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Failure(f"response larger than {MAX_BODY_BYTES // 2**20} MB", retryable=False)
            if time.monotonic() > deadline:
                raise _Failure(f"response still arriving after {timeout * TOTAL_TIMEOUT_FACTOR:g}s", retryable=True)
    except requests.ConnectionError as exc:  # requests wraps a read timeout mid-body as ConnectionError
        raise _Failure(_connection_problem(exc, timeout), retryable=True) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        # The connection died before the advertised length arrived: a transport hiccup, worth a retry.
        raise _Failure(f"response cut off ({_root_cause(exc)})", retryable=True) from None
    return b"".join(chunks)


def _connection_problem(exc: requests.ConnectionError, timeout: float) -> str:
    if _has_cause(exc, urllib3.exceptions.ReadTimeoutError):
        return f"timed out after {timeout:g}s"
    return f"cannot connect ({_root_cause(exc)})"


def _has_cause(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind) or any(isinstance(arg, kind) for arg in getattr(seen, "args", ())):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    """The innermost reason, e.g. 'Connection refused', without urllib3's pool and object reprs."""
    inner: BaseException = exc
    while True:
        nested = next((a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)), None)
        nested = nested or getattr(inner, "reason", None) or inner.__cause__
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = str(inner)
    # urllib3 phrases look like "<urllib3.connection.HTTPConnection object at 0x…>: Failed to …: [Errno 111] …"
    if ">: " in text:
        text = text.rsplit(">: ", 1)[1]
    return text or type(inner).__name__


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _show(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return requests.Request("GET", url, params=params).prepare().url or url
