"""The TinyDB channels repository: the one writer of channel documents (topics and digest settings).

One document per channel in the "channels" store, table "channels", keyed by the Slack channel id
(bot.store.documents.ChannelDoc). The "digest" part holds only what people set (bot.digest.settings resolves
the defaults). Keys this module does not know are kept as they are on every update. Each change is one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from bot.digest.schedule import ScheduleChange
from bot.digest.settings import ChannelDigest, DigestOptions, apply_schedule_change, resolve
from bot.papers import now_iso
from bot.store.documents import ChannelDoc, DigestSettingsDoc
from bot.store.tinydb.files import Store
from bot.timeutil import iso_utc
from bot.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicError, normalize_topic, topic_key

TABLE = "channels"


class Channels:
    def __init__(self, store: Store, options: DigestOptions | None = None) -> None:
        self._store = store
        self.options = options or DigestOptions()

    def _docs(self) -> dict[str, ChannelDoc]:
        """The stored documents (callers hold the store's lock and never mutate them)."""
        return cast(dict[str, ChannelDoc], self._store.raw_table(TABLE))

    def get(self, channel_id: str) -> ChannelDoc | None:
        """A copy of the channel's settings, or None if it has never been configured."""
        with self._store.lock:
            doc = self._docs().get(channel_id)
            return _copy(doc) if doc is not None else None

    def all(self) -> dict[str, ChannelDoc]:
        with self._store.lock:
            return {cid: _copy(doc) for cid, doc in self._docs().items()}

    def topics(self, channel_id: str) -> list[str]:
        with self._store.lock:
            doc = self._docs().get(channel_id)
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
        old = self._docs().get(channel_id) or {"id": channel_id, "created_at": now}
        self._store.change(TABLE, {channel_id: {**old, "topics": topics, "updated_at": now, "updated_by": user_id}})

    # --- digest settings ---

    def digest(self, channel_id: str) -> ChannelDigest:
        """The channel's digest settings, defaults resolved (also for a channel never configured)."""
        with self._store.lock:
            return resolve(channel_id, self._docs().get(channel_id), self.options)

    def all_digests(self) -> list[ChannelDigest]:
        with self._store.lock:
            return [resolve(cid, doc, self.options) for cid, doc in self._docs().items()]

    def _write_digest(self, channel_id: str, user_id: str, change: Callable[[dict[str, Any]], None],
                      now: datetime) -> ChannelDigest:
        with self._store.transaction():
            doc = self._docs().get(channel_id)
            digest: dict[str, Any] = dict(doc.get("digest") or {}) if doc else {}
            change(digest)
            stamp = iso_utc(now)
            old: ChannelDoc = doc or {"id": channel_id, "topics": [], "created_at": stamp}
            new: ChannelDoc = {**old, "digest": cast(DigestSettingsDoc, digest), "updated_at": stamp,
                               "updated_by": user_id}
            self._store.change(TABLE, {channel_id: new})
            return resolve(channel_id, new, self.options)

    def change_schedule(self, channel_id: str, user_id: str, change: ScheduleChange,
                        now: datetime) -> ChannelDigest:
        """Apply `/papers schedule …` (bot.digest.settings.apply_schedule_change)."""
        return self._write_digest(channel_id, user_id, lambda d: apply_schedule_change(d, change, now), now)

    def set_sources(self, channel_id: str, user_id: str, sources: Sequence[str], now: datetime) -> ChannelDigest:
        def apply(digest: dict[str, Any]) -> None:
            digest["sources"] = list(sources)

        return self._write_digest(channel_id, user_id, apply, now)

    def pause(self, channel_id: str, reason: str, now: datetime) -> bool:
        """Pause the channel's digests; False if it was paused already (so the caller logs only once)."""
        with self._store.transaction():
            doc = self._docs().get(channel_id)
            if doc is not None and isinstance((doc.get("digest") or {}).get("paused"), dict):
                return False

            def apply(digest: dict[str, Any]) -> None:
                digest["paused"] = {"reason": reason, "at": iso_utc(now)}

            self._write_digest(channel_id, "paperbot", apply, now)
            return True


def _copy(doc: ChannelDoc) -> ChannelDoc:
    """One level deeper than the document: its lists and its "digest" part are the caller's own too."""
    copied = {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v for k, v in doc.items()}
    return cast(ChannelDoc, copied)
