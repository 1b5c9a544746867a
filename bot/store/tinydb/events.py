"""Slack event de-duplication for a single-process backend: an expiring set in memory.

A TinyDB data directory has exactly one writer process, so "seen by this process" is "seen"; a restart
forgets, which only lets a redelivery through once (every handler is idempotent on its own)."""

from __future__ import annotations

from bot.expiring import ExpiringSet

EVENT_DEDUPE_SECONDS = 3600.0
EVENT_DEDUPE_MAX = 10_000


class RecentEvents:
    """Implements EventDedupRepository over an ExpiringSet."""

    def __init__(self, ttl: float = EVENT_DEDUPE_SECONDS, max_size: int = EVENT_DEDUPE_MAX) -> None:
        self._seen = ExpiringSet(ttl, max_size)

    def first_delivery(self, key: str) -> bool:
        """Remember `key`; False if it was already seen (and has not expired)."""
        return self._seen.add(key)

    def forget(self, key: str) -> None:
        self._seen.discard(key)
