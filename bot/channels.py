"""Per-channel settings: the topics a channel watches (and, later, its digest schedule, time zone, sources).

One document per channel in the "channels" store, table "channels", keyed by the Slack channel id:
`{"id", "topics": [str], "created_at", "updated_at", "updated_by", ...}`. Keys this module does not know
(added by the digest issue) are kept as they are on every update. Each change is one transaction.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.papers import now_iso
from bot.storage import Store

TABLE = "channels"
MAX_TOPICS = 25
MAX_TOPIC_CHARS = 200
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "`": "`"}


class TopicError(ValueError):
    """A topic that cannot be stored. `reason` is `empty`, `too_long` or `too_many`; `limit` the bound hit."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(f"topic refused: {reason}")
        self.reason = reason
        self.limit = limit


def normalize_topic(text: str | None) -> str:
    """Whitespace collapsed, control characters and one pair of surrounding quotes removed."""
    cleaned = "".join(ch for ch in (text or "") if unicodedata.category(ch) not in ("Cc", "Cf") or ch.isspace())
    cleaned = " ".join(cleaned.split())
    # Only a quote pair around the whole topic: `"diffusion" -"video"` must keep its quotes.
    if len(cleaned) >= 2 and _QUOTES.get(cleaned[0]) == cleaned[-1] and cleaned[0] not in cleaned[1:-1] \
            and cleaned[-1] not in cleaned[1:-1]:
        cleaned = " ".join(cleaned[1:-1].split())
    return cleaned


def topic_key(topic: str) -> str:
    """What makes two topics the same: case-insensitive, whitespace-normalised."""
    return normalize_topic(topic).casefold()


class Channels:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, channel_id: str) -> dict[str, Any] | None:
        """A copy of the channel's settings, or None if it has never been configured."""
        with self._store.lock:
            doc = self._store.raw_table(TABLE).get(channel_id)
            return _copy(doc) if doc is not None else None

    def all(self) -> dict[str, dict[str, Any]]:
        with self._store.lock:
            return {cid: _copy(doc) for cid, doc in self._store.raw_table(TABLE).items()}

    def topics(self, channel_id: str) -> list[str]:
        with self._store.lock:
            doc = self._store.raw_table(TABLE).get(channel_id)
            return list(doc.get("topics", [])) if doc else []

    def watch(self, channel_id: str, topic: str, user_id: str) -> bool:
        """Add a topic; False if the channel already watches it (in any case or spacing)."""
        cleaned = normalize_topic(topic)
        if not cleaned:
            raise TopicError("empty")
        if len(cleaned) > MAX_TOPIC_CHARS:
            raise TopicError("too_long", MAX_TOPIC_CHARS)
        with self._store.transaction():
            current = self.topics(channel_id)
            if topic_key(cleaned) in {topic_key(t) for t in current}:
                return False
            if len(current) >= MAX_TOPICS:
                raise TopicError("too_many", MAX_TOPICS)
            self._write(channel_id, [*current, cleaned], user_id)
        return True

    def unwatch(self, channel_id: str, topic: str, user_id: str) -> str | None:
        """Remove a topic, given as text or as its 1-based number in `topics()`; the removed topic or None."""
        cleaned = normalize_topic(topic)
        if not cleaned:
            raise TopicError("empty")
        with self._store.transaction():
            current = self.topics(channel_id)
            keys = [topic_key(t) for t in current]
            if topic_key(cleaned) in keys:
                index = keys.index(topic_key(cleaned))
            elif cleaned.isdigit() and 1 <= int(cleaned) <= len(current):
                index = int(cleaned) - 1
            else:
                return None
            removed = current.pop(index)
            self._write(channel_id, current, user_id)
        return removed

    def _write(self, channel_id: str, topics: list[str], user_id: str) -> None:
        """Store new topics; the caller holds a transaction."""
        now = now_iso()
        old = self._store.raw_table(TABLE).get(channel_id) or {"id": channel_id, "created_at": now}
        self._store.change(TABLE, {channel_id: {**old, "topics": topics, "updated_at": now, "updated_by": user_id}})


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v for k, v in doc.items()}
