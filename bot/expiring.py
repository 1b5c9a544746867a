"""A bounded, expiring set: "have I seen this key in the last `ttl` seconds?" (event redeliveries, repeats)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class ExpiringSet:
    """Remembers keys for `ttl` seconds, at most `max_size` of them (the oldest go first)."""

    def __init__(self, ttl: float, max_size: int) -> None:
        self._ttl = ttl
        self._max = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember `key`; False if it was already there (and not expired)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self._max or next(iter(self._seen.values())) < now - self._ttl):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def discard(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)
