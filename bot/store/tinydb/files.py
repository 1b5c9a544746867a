"""Crash-safe, thread-safe TinyDB files under the data directory.

TinyDB's JSONStorage rewrites its file in place (a crash mid-write leaves JSON that does not parse) and
is not thread-safe. Here:

- `AtomicJSONStorage` keeps the data in memory and writes it by temp file + fsync + rename + fsync of the
  folder, so a `kill -9` at any moment leaves either the old or the new file, both complete.
- `Store` puts one lock around every access to its file and offers `transaction()`, which defers the
  write to the end so a batch of changes costs one rewrite and lands all-or-nothing.
- `DataDir` keeps each concern in its own file (the big archive apart from the small, hot state), and
  holds an exclusive lock on the folder for the process that writes it; read-only openers need no lock.
- A file that exists but cannot be read (empty, truncated, not JSON, a record of the wrong shape) is refused
  with one sentence naming the file and the record, never read as empty and overwritten; only a bad paper
  record is skipped (with one warning), hidden from readers but kept on disk until a good one replaces it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from bot.papers import record_problem
from bot.store.documents import (
    channel_problem,
    digest_problem,
    feedback_problem,
    pending_problem,
    post_problem,
    reaction_event_problem,
    save_problem,
)

log = logging.getLogger("bot.storage")

LOCK_NAME = ".paperbot.lock"
OWNER_NAME = ".paperbot.owner"
STORE_NAMES = ("archive", "channels", "saves", "posts", "feedback")


class StoreError(Exception):
    """A data-directory problem; str() is a complete, operator-facing sentence."""


class CorruptStoreError(StoreError):
    pass


class DataDirBusyError(StoreError):
    pass


class ReadOnlyStoreError(StoreError):
    pass


@dataclass(frozen=True)
class TableCheck:
    """How the documents of one table are checked when their file loads."""

    problem: Callable[[Any], str | None]  # None for a good document, else what is wrong
    skip_bad: bool = False  # a bad document is hidden (with a warning) instead of refusing the file


# Per store file, per table: every repository's documents (bot.store.documents, bot.papers.PaperRecord).
STORE_CHECKS: dict[str, dict[str, TableCheck]] = {
    "archive": {"papers": TableCheck(record_problem, skip_bad=True)},  # one bad paper must not stop the bot
    "channels": {"channels": TableCheck(channel_problem)},
    "posts": {"posts": TableCheck(post_problem), "digests": TableCheck(digest_problem)},
    # A bad reaction-event record only loses the guard against one redelivered event: skipped, not refused.
    "saves": {"saves": TableCheck(save_problem), "pending": TableCheck(pending_problem),
              "unreacted": TableCheck(reaction_event_problem, skip_bad=True)},
    "feedback": {"feedback": TableCheck(feedback_problem)},
}

_ADVICE = "paperbot will not overwrite it. Restore it from a backup, or move it aside to start that store empty."


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` so that a crash leaves either the old or the new content."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


class AtomicJSONStorage(Storage):
    """A TinyDB storage that caches the document tree and writes it atomically (see module doc)."""

    def __init__(self, path: str | Path, read_only: bool = False,
                 checks: Mapping[str, TableCheck] | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._checks = dict(checks or {})
        self._data: dict[str, dict[str, Any]] | None = None
        self._hidden: dict[str, dict[str, Any]] = {}  # skipped bad documents by table: written back as they were
        self._warned: set[tuple[str, str]] = set()  # one warning per bad document, not one per reload
        self._deferred = 0
        self._dirty = False
        self.writes = 0  # file rewrites, for tests and benchmarks

    def read(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CorruptStoreError(f"cannot read {self.path}: {exc.strerror}") from None
        if not payload.strip():  # we never write an empty file: it was truncated, or made by something else
            raise CorruptStoreError(f"{self.path} exists but is empty. {_ADVICE}")
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise CorruptStoreError(f"{self.path} is not valid JSON ({exc}). {_ADVICE}") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise CorruptStoreError(f"{self.path} is not a TinyDB file (expected an object of tables). {_ADVICE}")
        self._hidden = {}
        for table, check in self._checks.items():
            self._check_table(data, table, check)
        return data

    def _check_table(self, data: dict[str, dict[str, Any]], table: str, check: TableCheck) -> None:
        docs = data.get(table)
        if not docs:
            return
        problem = check.problem
        bad = [(key, found) for key, doc in docs.items() if (found := problem(doc)) is not None]
        if not bad:
            return
        if not check.skip_bad:
            key, found = bad[0]
            raise CorruptStoreError(f"{self.path}: record {key!r} of table {table!r} is not valid ({found}); "
                                    f"{len(bad)} bad record(s) in all. {_ADVICE}")
        hidden = self._hidden.setdefault(table, {})
        for key, found in bad:
            hidden[key] = docs.pop(key)
            if (table, key) not in self._warned:
                self._warned.add((table, key))
                log.warning('store.record_skipped file=%s table=%s key=%s problem="%s"', self.path, table, key,
                            found.replace('"', "'"))

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.path} is open read-only")
        self._data = data
        if self._deferred:
            self._dirty = True
        else:
            self._flush()

    def _flush(self) -> None:
        assert self._data is not None
        try:
            atomic_write_bytes(self.path, orjson.dumps(self._with_hidden(self._data)))
        except BaseException as exc:
            # The cached tree already holds the change: go back to what the disk holds.
            self._data = self._load()
            if isinstance(exc, OSError):  # disk full, read-only, …: one sentence for the operator
                raise StoreError(f"cannot write {self.path}: {exc.strerror or exc}; "
                                 f"the previous version is intact") from exc
            raise
        self.writes += 1

    def _with_hidden(self, data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The tree to write: skipped bad documents go back as they were, unless a good one replaced them."""
        if not self._hidden:
            return data
        whole = dict(data)
        for table, hidden in self._hidden.items():
            live = data.get(table, {})
            for key in [k for k in hidden if k in live]:
                del hidden[key]
            if hidden:
                whole[table] = {**hidden, **live}
        return whole

    def begin(self) -> None:
        self._deferred += 1

    def end(self, commit: bool) -> None:
        self._deferred -= 1
        if self._deferred:
            return
        dirty, self._dirty = self._dirty, False
        if commit and dirty:
            self._flush()
        elif not commit:
            # Callers may have changed the cached tree before failing (dirty or not): read the disk again.
            self._data = None

    def reload(self) -> None:
        self._data = None

    def close(self) -> None:
        pass


class KeyedTable(Table):
    """A table whose document ids are our own string keys (arXiv ids, `user:paper`, …)."""

    document_id_class = str  # type: ignore[assignment]


class KeyedTinyDB(TinyDB):
    table_class = KeyedTable


class Store:
    """One TinyDB file with one lock around every access."""

    def __init__(self, path: Path, *, read_only: bool = False, checks: Mapping[str, TableCheck] | None = None) -> None:
        self.path = path
        self._db = KeyedTinyDB(path, storage=AtomicJSONStorage, read_only=read_only, checks=checks)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self.lock = threading.RLock()
        with self.lock:
            self._storage.read()  # fail now, not on first use, if the file is unreadable

    @property
    def read_only(self) -> bool:
        return self._storage.read_only

    @property
    def writes(self) -> int:
        return self._storage.writes

    def table(self, name: str) -> KeyedTable:
        return self._db.table(name)  # type: ignore[return-value]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[KeyedTinyDB]:
        """Hold the lock; every change inside is written once, on success, or not at all."""
        with self.lock:
            self._storage.begin()
            try:
                yield self._db
            except BaseException:
                self._storage.end(commit=False)
                self._db.clear_cache()
                raise
            try:
                self._storage.end(commit=True)
            finally:
                self._db.clear_cache()

    def change(self, table: str, puts: Mapping[str, Mapping[str, Any]] | None = None,
               deletes: Iterable[str] = ()) -> None:
        """Set and delete documents of `table` by key: one atomic write, or part of the enclosing
        `transaction()`. Straight in the storage's tree, replacing (never mutating) stored documents, so a
        reader's earlier `raw_table` values stay as they were; TinyDB's Table methods would also rebuild the
        whole table on every call (~190 ms at 200k documents)."""
        with self.transaction():
            tree = self._storage.read()
            docs: dict[str, Any] = tree.setdefault(table, {})
            for key in deletes:
                docs.pop(key, None)
            docs.update(puts or {})
            self._storage.write(tree)

    def raw_table(self, name: str) -> dict[str, dict[str, Any]]:
        """The live stored documents of a table, keyed by id. Callers hold `lock` and must not mutate."""
        return self._storage.read().get(name, {})

    def reload(self) -> None:
        """Re-read the file (read-only openers use this to see another process's writes)."""
        with self.lock:
            self._storage.reload()
            self._db.clear_cache()
            self._storage.read()

    def close(self) -> None:
        self._db.close()


class DataDir:
    """The data directory: one `Store` per concern, and the writer lock."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._stores: dict[str, Store] = {}
        self._stores_lock = threading.Lock()
        self._file_lock: FileLock | None = None
        self._dir_fd: int | None = None
        if read_only:
            if not self.path.is_dir():
                raise StoreError(f"data directory {self.path} does not exist (set PAPERBOT_DATA_DIR)")
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.path}: {exc.strerror}") from None
        busy = DataDirBusyError(
            f"data directory {self.path} is in use by another paperbot process ({self._owner()}). "
            f"Stop it first; read-only commands such as `paperbot search` work alongside it.")
        self._file_lock = FileLock(self.path / LOCK_NAME, thread_local=False)
        try:
            self._file_lock.acquire(timeout=0)
        except Timeout:
            self._file_lock = None
            raise busy from None
        except OSError as exc:  # a read-only or unwritable folder (after Timeout: filelock's is an OSError)
            self._file_lock = None
            raise StoreError(f"cannot lock data directory {self.path}: {exc.strerror or exc}") from None
        # The folder itself is locked too: deleting the lock file under a running bot must not let a second in.
        # Where a folder cannot be flocked (NFS/SMB emulate flock with byte-range locks, which need a file open
        # for writing: EBADF), the lock file alone keeps a second writer out.
        try:
            self._dir_fd = os.open(self.path, os.O_RDONLY)
            fcntl.flock(self._dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if isinstance(exc, BlockingIOError) or exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                self.close()
                raise busy from None
            if self._dir_fd is not None:
                os.close(self._dir_fd)
                self._dir_fd = None
            log.warning('store.dir_lock.unavailable path=%s error="%s"', self.path, exc.strerror or exc)
        (self.path / OWNER_NAME).write_text(f"pid {os.getpid()}: {' '.join(_argv())}\n")
        for stale in self.path.glob("*.json.tmp-*"):  # left by a process killed mid-write
            with contextlib.suppress(OSError):
                stale.unlink()

    def _owner(self) -> str:
        try:
            return (self.path / OWNER_NAME).read_text().strip() or "unknown pid"
        except OSError:
            return "unknown pid"

    def store(self, name: str) -> Store:
        if name not in STORE_NAMES:
            raise ValueError(f"unknown store {name!r}")
        with self._stores_lock:
            if name not in self._stores:
                self._stores[name] = Store(self.path / f"{name}.json", read_only=self.read_only,
                                           checks=STORE_CHECKS[name])
                log.debug("store.open name=%s path=%s", name, self.path / f"{name}.json")
            return self._stores[name]

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()
        if self._dir_fd is not None:
            os.close(self._dir_fd)  # releases the flock
            self._dir_fd = None
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def __enter__(self) -> DataDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _argv() -> list[str]:
    import sys

    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else ["python"]
