"""Slack event de-duplication for a single-process backend: a bounded, expiring set in memory.

A TinyDB data directory has exactly one writer process, so "seen by this process" is "seen"; a restart
forgets, which only lets a redelivery through once (every handler is idempotent on its own)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

EVENT_DEDUPE_SECONDS = 3600.0
EVENT_DEDUPE_MAX = 10_000


class RecentEvents:
    """Remembers keys for `ttl` seconds (at most `max_size` of them)."""

    def __init__(self, ttl: float = EVENT_DEDUPE_SECONDS, max_size: int = EVENT_DEDUPE_MAX) -> None:
        self._ttl = ttl
        self._max = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_delivery(self, key: str) -> bool:
        """Remember `key`; False if it was already seen (and has not expired)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self._max or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def forget(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)
