"""The storage backends the contract suite runs against, one factory each.

A backend opens a fresh, empty set of repositories (`open`), can be closed and opened again on the same data
(`reopen`: what a restart sees), and can seed a document as another version of paperbot would have written
it (`seed`, before the first `open`). Today there is one backend, "tinydb", on a temporary data directory;
a database backend is added by writing one more factory and listing it in BACKENDS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.store.protocols import (
    ArchiveRepository,
    ChannelRepository,
    DigestLedgerRepository,
    EventDedupRepository,
    FeedbackRepository,
    PendingReactionQueue,
    PostLedgerRepository,
    SaveStore,
)
from bot.store.tinydb.archive import PAPERS_TABLE, Archive
from bot.store.tinydb.channels import TABLE as CHANNELS_TABLE
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.events import RecentEvents
from bot.store.tinydb.feedback import FeedbackStore
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves


@dataclass
class Repositories:
    archive: ArchiveRepository
    channels: ChannelRepository
    posts: PostLedgerRepository
    digest_ledger: DigestLedgerRepository
    saves: SaveStore
    pending: PendingReactionQueue
    events: EventDedupRepository
    feedback: FeedbackRepository


class Backend(Protocol):
    name: str
    durable_events: bool  # whether event de-duplication survives a restart

    def open(self) -> Repositories: ...

    def reopen(self) -> Repositories: ...

    def seed(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store `doc` under `key` as it is, before the first `open` (kind: "channel" or "paper")."""
        ...

    def close(self) -> None: ...


SEED_TABLES = {"channel": ("channels", CHANNELS_TABLE), "paper": ("archive", PAPERS_TABLE)}


class TinyDBBackend:
    name = "tinydb"
    durable_events = False  # one writer process: "seen by this process" is "seen"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data_dir: DataDir | None = None

    def open(self) -> Repositories:
        assert self._data_dir is None, "close before opening again"
        data_dir = self._data_dir = DataDir(self.path)
        saves = Saves(data_dir.store("saves"))
        return Repositories(archive=Archive(data_dir.store("archive")), channels=Channels(data_dir.store("channels")),
                            posts=PostLedger(data_dir.store("posts")),
                            digest_ledger=DigestLedger(data_dir.store("posts")), saves=saves, pending=saves,
                            events=RecentEvents(), feedback=FeedbackStore(data_dir.store("feedback")))

    def reopen(self) -> Repositories:
        self.close()
        return self.open()

    def seed(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        assert self._data_dir is None, "seed before opening"
        store_name, table = SEED_TABLES[kind]
        with DataDir(self.path) as data_dir:
            data_dir.store(store_name).change(table, {key: dict(doc)})

    def close(self) -> None:
        if self._data_dir is not None:
            self._data_dir.close()
            self._data_dir = None


BACKENDS: dict[str, Callable[[Path], Backend]] = {"tinydb": TinyDBBackend}

