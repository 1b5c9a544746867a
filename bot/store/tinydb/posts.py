"""The ledger of messages the bot posted about papers: (channel, ts) → paper id.

A reaction names only (channel, ts), so this is how a reaction finds its paper; it is also how a digest
knows a paper was already posted to a channel. One document per message in the "posts" store, table "posts"
(bot.store.documents.PostDoc); the digest ledger shares the file but not the table. Lookups are answered
from in-memory maps (the file is only read at start-up); each post is one durable write to that small file,
apart from the archive.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from bot.papers import now_iso
from bot.store.documents import PostDoc
from bot.store.models import Post
from bot.store.tinydb.files import Store

POSTS_TABLE = "posts"


class PostLedger:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._by_message: dict[tuple[str, str], str] = {}
        self._by_channel: dict[str, set[str]] = {}
        self._posts: dict[str, dict[str, Post]] = {}  # channel -> ts -> post
        with store.lock:
            for doc in cast(dict[str, PostDoc], store.raw_table(POSTS_TABLE)).values():
                self._remember(Post(channel=doc["channel"], ts=doc["ts"], paper_id=doc["paper_id"],
                                    kind=doc.get("kind", ""), posted_at=doc.get("posted_at", "")))

    def _remember(self, post: Post) -> None:
        self._by_message[(post.channel, post.ts)] = post.paper_id
        self._by_channel.setdefault(post.channel, set()).add(post.paper_id)
        self._posts.setdefault(post.channel, {})[post.ts] = post

    def record(self, channel: str, ts: str, paper_id: str, kind: str, **extra: Any) -> Post:
        """Persist that message `ts` in `channel` is about `paper_id` (durable when this returns)."""
        post = Post(channel=channel, ts=ts, paper_id=paper_id, kind=kind, posted_at=now_iso())
        doc = {"channel": channel, "ts": ts, "paper_id": paper_id, "kind": kind, "posted_at": post.posted_at, **extra}
        # Under the store's lock, so the maps end as the file does when one message is recorded twice at once.
        with self._store.lock:
            self._store.change(POSTS_TABLE, {f"{channel}:{ts}": doc})
            with self._lock:
                self._remember(post)
        return post

    def paper_for(self, channel: str, ts: str) -> str | None:
        with self._lock:
            return self._by_message.get((channel, ts))

    def papers_in(self, channel: str) -> set[str]:
        """Every paper the bot has posted to `channel` (a copy)."""
        with self._lock:
            return set(self._by_channel.get(channel, ()))

    def was_posted(self, channel: str, paper_id: str) -> bool:
        with self._lock:
            return paper_id in self._by_channel.get(channel, ())

    def posts_in(self, channel: str, kind: str | None = None) -> list[Post]:
        """The channel's posts (only those of `kind`, such as "digest", if given), oldest first."""
        with self._lock:
            posts = [p for p in self._posts.get(channel, {}).values() if kind is None or p.kind == kind]
        return sorted(posts, key=lambda p: (p.posted_at, p.ts))

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_message)
