"""The TinyDB digest ledger: one document per (channel, local date) in the "posts" store, table "digests"
(bot.store.documents.DigestDoc). The post ledger shares the file but not the table: each writes only its own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from bot.digest.selection import Plan
from bot.store.documents import DigestDoc
from bot.store.tinydb.files import Store
from bot.timeutil import iso_utc

DIGESTS_TABLE = "digests"


class DigestLedger:
    """Stateless over the store, so several instances agree."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def key(channel: str, day: date) -> str:
        return f"{channel}:{day.isoformat()}"

    def _docs(self) -> dict[str, DigestDoc]:
        """The stored documents (callers hold the store's lock and never mutate them)."""
        return cast(dict[str, DigestDoc], self._store.raw_table(DIGESTS_TABLE))

    def get(self, channel: str, day: date) -> DigestDoc | None:
        with self._store.lock:
            doc = self._docs().get(self.key(channel, day))
            return _deep_copy(doc) if doc is not None else None

    def by_channel(self, since: date | None = None) -> dict[str, list[DigestDoc]]:
        """Every channel's documents dated `since` or later, newest first (one pass, for planning many
        channels; the copies are shallow: read them, never mutate)."""
        floor = since.isoformat() if since else ""
        found: dict[str, list[DigestDoc]] = {}
        with self._store.lock:
            for doc in self._docs().values():
                if doc["date"] >= floor:
                    found.setdefault(doc["channel"], []).append(doc.copy())
        for docs in found.values():
            docs.sort(key=lambda d: d["date"], reverse=True)
        return found

    def unfinished(self) -> list[DigestDoc]:
        with self._store.lock:
            return [_deep_copy(d) for d in self._docs().values() if d["status"] != "done"]

    def create(self, plan: Plan, trigger: str, keep_days: int) -> DigestDoc:
        """Store the plan durably (before anything is posted); prune the channel's old documents."""
        doc: DigestDoc = {
            "channel": plan.channel, "date": plan.day.isoformat(), "trigger": trigger, "status": "planned",
            "planned_at": iso_utc(plan.planned_at), "since": iso_utc(plan.since),
            "picks": [{"id": p.paper_id, "score": round(p.score, 4), "topic": p.topic} for p in plan.picks],
            "skipped": list(plan.skipped), "candidates": plan.candidates, "header_ts": None, "attempts": 0,
            "next_try_at": None, "last_error": None, "done_at": None, "posted": 0,
        }
        key = self.key(plan.channel, plan.day)
        cutoff = (plan.day - timedelta(days=keep_days)).isoformat()
        with self._store.transaction():
            table = self._docs()
            if key in table:
                return _deep_copy(table[key])  # planned by someone else meanwhile: theirs stands
            old = [k for k, d in table.items() if d["channel"] == plan.channel and d["date"] < cutoff]
            self._store.change(DIGESTS_TABLE, {key: doc}, deletes=old)
        return _deep_copy(doc)

    def update(self, channel: str, day: date, **fields: Any) -> None:
        key = self.key(channel, day)
        with self._store.transaction():
            self._store.change(DIGESTS_TABLE, {key: {**self._docs()[key], **fields}})

    def start_attempt(self, channel: str, day: date) -> int:
        """Count an attempt (durably); returns the number of earlier attempts (0: a fresh digest)."""
        with self._store.transaction():
            key = self.key(channel, day)
            doc = self._docs()[key]
            earlier = int(doc.get("attempts") or 0)
            self._store.change(DIGESTS_TABLE, {key: {**doc, "attempts": earlier + 1}})
        return earlier


def _deep_copy(doc: DigestDoc) -> DigestDoc:
    copied = {k: [dict(i) if isinstance(i, dict) else i for i in v] if isinstance(v, list) else v
              for k, v in doc.items()}
    return cast(DigestDoc, copied)
