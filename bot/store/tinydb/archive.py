"""The TinyDB paper archive: every paper ingested or shared, one record per bare arXiv id.

Writes go through `upsert` in batches (one file rewrite per batch); subscribers (the search index) are
told which records changed so they can update incrementally instead of rebuilding.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bot.papers import merge_records, normalize_arxiv_id
from bot.store.files import Store
from bot.store.models import UpsertResult
from bot.timeutil import iso_utc

log = logging.getLogger("bot.archive")

PAPERS_TABLE = "papers"

ChangeListener = Callable[[list[dict[str, Any]]], None]


class Archive:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._listeners: list[ChangeListener] = []
        self._listeners_lock = threading.Lock()

    def subscribe(self, listener: ChangeListener) -> None:
        """Call `listener(changed_records)` after every write that adds or changes papers."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def __len__(self) -> int:
        with self._store.lock:
            return len(self._store.raw_table(PAPERS_TABLE))

    def get(self, paper_id: str) -> dict[str, Any] | None:
        """A copy of the record for any spelling of the id, or None."""
        bare = normalize_arxiv_id(paper_id)
        if bare is None:
            return None
        with self._store.lock:
            record = self._store.raw_table(PAPERS_TABLE).get(bare)
            return dict(record) if record is not None else None

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._store.lock:
            table = self._store.raw_table(PAPERS_TABLE)
            return {pid: dict(table[pid]) for pid in paper_ids if pid in table}

    def __contains__(self, paper_id: str) -> bool:
        bare = normalize_arxiv_id(paper_id)
        with self._store.lock:
            return bare is not None and bare in self._store.raw_table(PAPERS_TABLE)

    def snapshot(self) -> list[dict[str, Any]]:
        """All records, as they are now (the stored dicts themselves: read, never mutate)."""
        with self._store.lock:
            return list(self._store.raw_table(PAPERS_TABLE).values())

    def arrived_since(self, moment: datetime) -> list[dict[str, Any]]:
        """Records first ingested, or listed on Daily Papers, at or after `moment` (read, never mutate)."""
        since_iso, since_day = iso_utc(moment), moment.astimezone(UTC).date().isoformat()
        with self._store.lock:
            return [r for r in self._store.raw_table(PAPERS_TABLE).values()
                    if (r.get("first_seen") or "") >= since_iso or (r.get("hf_date") or "") >= since_day]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.snapshot())

    def upsert(self, records: Iterable[dict[str, Any]]) -> UpsertResult:
        """Insert new papers and merge sightings into known ones, in one atomic write."""
        result = UpsertResult()
        changed: list[dict[str, Any]] = []
        # Listeners are told under the store's lock too, so they see changes in commit order (two racing
        # upserts of one paper must not leave the search index with the older version).
        with self._store.lock:
            with self._store.transaction():
                stored = self._store.raw_table(PAPERS_TABLE)
                incoming: dict[str, dict[str, Any]] = {}
                for record in records:
                    key = record["id"]
                    # Two sightings of one paper in the same batch fold together first.
                    incoming[key] = merge_records(incoming[key], record) if key in incoming else record
                inserts: dict[str, dict[str, Any]] = {}
                updates: dict[str, dict[str, Any]] = {}
                for key, record in incoming.items():
                    old = stored.get(key)
                    if old is None:
                        inserts[key] = dict(record)  # our own copy, shared with the listeners
                        result.new.append(key)
                        changed.append(inserts[key])
                        continue
                    merged = merge_records(old, record)
                    if _same_except_last_seen(old, merged):
                        # last_seen alone is not worth rewriting a 100k-paper file for.
                        result.unchanged.append(key)
                        continue
                    updates[key] = merged
                    result.updated.append(key)
                    changed.append(merged)
                if inserts or updates:
                    self._store.change(PAPERS_TABLE, {**inserts, **updates})
            if changed:
                with self._listeners_lock:
                    listeners = list(self._listeners)
                for listener in listeners:
                    listener(changed)
        return result


def _same_except_last_seen(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "last_seen"} == {k: v for k, v in b.items() if k != "last_seen"}
