"""The TinyDB paper archive: every paper ingested or shared, one record per bare arXiv id.

Writes go through `upsert` in batches (one file rewrite per batch); subscribers (the search index) are
told which records changed so they can update incrementally instead of rebuilding.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import cast

from bot.papers import PaperRecord, merge_records, normalize_arxiv_id
from bot.store.models import UpsertResult
from bot.store.protocols import ChangeListener
from bot.store.tinydb.files import Store
from bot.timeutil import iso_utc

log = logging.getLogger("bot.archive")

PAPERS_TABLE = "papers"


class Archive:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._listeners: list[ChangeListener] = []
        self._listeners_lock = threading.Lock()

    def subscribe(self, listener: ChangeListener) -> None:
        """Call `listener(changed_records)` after every write that adds or changes papers."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _papers(self) -> dict[str, PaperRecord]:
        """The stored records (callers hold the store's lock and never mutate them)."""
        return cast(dict[str, PaperRecord], self._store.raw_table(PAPERS_TABLE))

    def __len__(self) -> int:
        with self._store.lock:
            return len(self._papers())

    def get(self, paper_id: str) -> PaperRecord | None:
        """A copy of the record for any spelling of the id, or None."""
        bare = normalize_arxiv_id(paper_id)
        if bare is None:
            return None
        with self._store.lock:
            record = self._papers().get(bare)
            return record.copy() if record is not None else None

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, PaperRecord]:
        with self._store.lock:
            table = self._papers()
            return {pid: table[pid].copy() for pid in paper_ids if pid in table}

    def __contains__(self, paper_id: object) -> bool:
        bare = normalize_arxiv_id(paper_id) if isinstance(paper_id, str) else None
        with self._store.lock:
            return bare is not None and bare in self._papers()

    def snapshot(self) -> list[PaperRecord]:
        """All records, as they are now (the stored dicts themselves: read, never mutate)."""
        with self._store.lock:
            return list(self._papers().values())

    def arrived_since(self, moment: datetime) -> list[PaperRecord]:
        """Records first ingested, or listed on Daily Papers, at or after `moment` (read, never mutate)."""
        since_iso, since_day = iso_utc(moment), moment.astimezone(UTC).date().isoformat()
        with self._store.lock:
            return [r for r in self._papers().values()
                    if (r.get("first_seen") or "") >= since_iso or (r.get("hf_date") or "") >= since_day]

    def __iter__(self) -> Iterator[PaperRecord]:
        return iter(self.snapshot())

    def upsert(self, records: Iterable[PaperRecord]) -> UpsertResult:
        """Insert new papers and merge sightings into known ones, in one atomic write."""
        result = UpsertResult()
        changed: list[PaperRecord] = []
        # Listeners are told under the store's lock too, so they see changes in commit order (two racing
        # upserts of one paper must not leave the search index with the older version).
        with self._store.lock:
            with self._store.transaction():
                stored = self._papers()
                incoming: dict[str, PaperRecord] = {}
                for record in records:
                    key = record["id"]
                    # Two sightings of one paper in the same batch fold together first.
                    incoming[key] = merge_records(incoming[key], record) if key in incoming else record
                inserts: dict[str, PaperRecord] = {}
                updates: dict[str, PaperRecord] = {}
                for key, record in incoming.items():
                    old = stored.get(key)
                    if old is None:
                        inserts[key] = record.copy()  # our own copy, shared with the listeners
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


def _same_except_last_seen(a: PaperRecord, b: PaperRecord) -> bool:
    return {k: v for k, v in a.items() if k != "last_seen"} == {k: v for k, v in b.items() if k != "last_seen"}
