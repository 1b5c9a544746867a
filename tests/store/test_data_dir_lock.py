"""The data directory's writer lock where the folder itself cannot be flocked (NFS/SMB emulate flock with
byte-range locks, which need a file opened for writing: EBADF on a directory): the bot still starts, on
`.paperbot.lock` alone, with one warning; a folder that is really locked still refuses a second writer."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store.tinydb.files import LOCK_NAME, DataDir, DataDirBusyError


def flock_failing_on_directories(error: OSError, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """fcntl.flock raising `error` for a directory's fd; other fds (the lock file) lock as usual."""
    real: Callable[[int, int], None] = fcntl.flock
    tried: list[int] = []

    def flock(fd: int, operation: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            tried.append(fd)
            raise error
        real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    return tried


def test_a_folder_that_cannot_be_flocked_opens_with_one_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    tried = flock_failing_on_directories(OSError(errno.EBADF, "Bad file descriptor"), monkeypatch)
    path = tmp_path / "data"
    with caplog.at_level(logging.WARNING, logger="bot.storage"), DataDir(path) as data_dir:
        data_dir.store("archive").table("papers").insert({"id": "2405.00001"})
        assert tried, "the folder lock was tried"
        assert (path / LOCK_NAME).exists()
        with pytest.raises(DataDirBusyError):  # the lock file still keeps a second writer out
            DataDir(path)
    warnings = [r.getMessage() for r in caplog.records if "store.dir_lock.unavailable" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert f"path={path}" in warnings[0] and "Bad file descriptor" in warnings[0]
    with DataDir(path):  # closed cleanly: reopens
        pass


def test_a_folder_locked_by_another_writer_still_refuses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    flock_failing_on_directories(BlockingIOError(errno.EWOULDBLOCK, "Resource temporarily unavailable"),
                                 monkeypatch)
    with caplog.at_level(logging.WARNING, logger="bot.storage"), pytest.raises(DataDirBusyError):
        DataDir(tmp_path / "data")
    assert "store.dir_lock.unavailable" not in caplog.text
    monkeypatch.undo()
    DataDir(tmp_path / "data").close()  # the refused opener released the lock file
