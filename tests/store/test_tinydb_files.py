"""The data directory's guarantees: atomic writes, no lost updates, clear refusals, kill -9 safety."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
from tinydb.table import Document

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import CorruptStoreError, DataDir, ReadOnlyStoreError, Store, StoreError

WRITER = Path(__file__).with_name("storage_writer.py")
ROUNDS = 30


def test_transaction_writes_once_and_survives_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path / "saves.json")
    with store.transaction():
        for i in range(100):
            store.table("saves").insert(Document({"i": i}, doc_id=f"k{i}"))
    assert store.writes == 1
    reopened = Store(tmp_path / "saves.json")
    assert len(reopened.table("saves")) == 100
    assert reopened.table("saves").get(doc_id="k42") == {"i": 42}


def test_failed_transaction_changes_nothing_on_disk_or_in_memory(tmp_path: Path) -> None:
    store = Store(tmp_path / "saves.json")
    with store.transaction():
        store.table("saves").insert(Document({"i": 0}, doc_id="k0"))
    before = (tmp_path / "saves.json").read_bytes()
    with pytest.raises(RuntimeError), store.transaction():
        store.table("saves").insert(Document({"i": 1}, doc_id="k1"))
        raise RuntimeError("handler failed half-way")
    assert (tmp_path / "saves.json").read_bytes() == before
    assert store.table("saves").get(doc_id="k1") is None
    assert len(store.table("saves")) == 1


def test_a_failed_disk_write_leaves_memory_equal_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "saves.json")
    with store.transaction():
        store.table("saves").insert(Document({"i": 0}, doc_id="k0"))

    def disk_full(path: Path, payload: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.store.tinydb.files.atomic_write_bytes", disk_full)
    with pytest.raises(StoreError, match=r"cannot write .*saves\.json: No space left on device; the previous"):
        store.table("saves").update({"i": 99}, doc_ids=["k0"])
    assert store.table("saves").get(doc_id="k0") == {"i": 0}
    monkeypatch.undo()
    store.table("saves").update({"i": 5}, doc_ids=["k0"])
    assert Store(tmp_path / "saves.json").table("saves").get(doc_id="k0") == {"i": 5}


@pytest.mark.parametrize("dies_in", ["os.fsync", "os.replace"])
def test_a_write_that_dies_before_it_commits_leaves_the_previous_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies_in: str) -> None:
    store = Store(tmp_path / "saves.json")
    store.change("saves", {"k0": {"i": 0}})
    before = (tmp_path / "saves.json").read_bytes()

    def killed(*args: object) -> None:
        raise SystemExit("killed")  # the process dies here: nothing after this line runs

    monkeypatch.setattr(dies_in, killed)
    with pytest.raises(SystemExit):
        store.change("saves", {"k0": {"i": 1}, "k1": {"i": 2}})
    monkeypatch.undo()
    assert (tmp_path / "saves.json").read_bytes() == before, "the file is never written in place"
    assert not list(tmp_path.glob("*.tmp-*"))
    assert Store(tmp_path / "saves.json").table("saves").get(doc_id="k0") == {"i": 0}


def test_corrupt_file_is_refused_with_advice_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "archive.json"
    path.write_bytes(b'{"papers": {"2401.00001": {"id": "2401.0')  # truncated by an old crash
    with pytest.raises(CorruptStoreError) as info:
        Store(path)
    message = str(info.value)
    assert str(path) in message and "backup" in message
    assert path.read_bytes() == b'{"papers": {"2401.00001": {"id": "2401.0'


def test_non_tinydb_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "archive.json").write_bytes(b"[1, 2, 3]")
    with pytest.raises(CorruptStoreError, match="not a TinyDB file"):
        Store(tmp_path / "archive.json")


def test_second_writer_process_gets_a_clear_error(tmp_path: Path) -> None:
    with DataDir(tmp_path):
        code = ("import sys; from pathlib import Path; from bot.store.tinydb.files import DataDir; "
                "DataDir(Path(sys.argv[1]))")
        result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[2], timeout=30)
        assert result.returncode != 0
        assert "DataDirBusyError" in result.stderr
        assert "in use by another paperbot process" in result.stderr
        assert f"pid {os.getpid()}" in result.stderr
    DataDir(tmp_path).close()  # released on close


def test_read_only_opener_works_beside_the_writer_and_cannot_write(tmp_path: Path) -> None:
    with DataDir(tmp_path) as writer:
        Archive(writer.store("archive")).upsert([new_record("2401.00001", source="hf", title="Shared paper")])
        reader = DataDir(tmp_path, read_only=True)
        archive = Archive(reader.store("archive"))
        assert archive.get("2401.00001")["title"] == "Shared paper"
        with pytest.raises(ReadOnlyStoreError):
            archive.upsert([new_record("2401.00002", source="hf", title="x")])
        Archive(writer.store("archive")).upsert([new_record("2401.00003", source="hf", title="Later")])
        reader.store("archive").reload()
        assert "2401.00003" in archive


def test_concurrent_threads_lose_no_writes(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    saves = data_dir.store("saves")
    archive = Archive(data_dir.store("archive"))
    threads_n, per_thread = 8, 40
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(per_thread):
                with saves.transaction():
                    saves.table("saves").insert(Document({"t": t, "i": i}, doc_id=f"{t}:{i}"))
                archive.upsert([new_record(f"2402.{t * 1000 + i:05d}", source="hf", title=f"T{t} I{i}")])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    data_dir.close()
    on_disk = orjson.loads((tmp_path / "saves.json").read_bytes())["saves"]
    assert len(on_disk) == threads_n * per_thread
    papers = orjson.loads((tmp_path / "archive.json").read_bytes())["papers"]
    assert len(papers) == threads_n * per_thread


@pytest.mark.e2e
def test_kill_9_at_random_moments_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(1234)
    # Start with some bulk so each rewrite takes long enough for kills to land inside it.
    with DataDir(tmp_path) as seed:
        Archive(seed.store("archive")).upsert(
            [new_record(f"2301.{i:05d}", source="hf", title=f"Seed {i}", abstract="z" * 1200) for i in range(4000)])
    acked: set[int] = set()
    next_n = 0
    kills = 0
    server = subprocess.Popen([sys.executable, str(WRITER), str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, bufsize=1)
    assert server.stdin is not None and server.stdout is not None
    try:
        assert server.stdout.readline().strip() == "ready"
        for round_no in range(ROUNDS):
            server.stdin.write(f"{next_n}\n")
            server.stdin.flush()
            pid_line = server.stdout.readline().strip()
            assert pid_line.startswith("pid "), pid_line
            assert server.stdout.readline().strip() == "ready"
            # Kills land inside a write as often after the first acknowledged write as after the twelfth.
            target_acks = rng.randint(1, 3)
            last = next_n - 1
            for _ in range(target_acks):
                line = server.stdout.readline().strip()
                assert line.startswith("ack "), line
                last = int(line.split()[1])
                acked.add(last)
            # Kill at a random moment inside the next write, not right after an ack.
            threading.Event().wait(rng.uniform(0, 0.03))
            os.kill(int(pid_line.split()[1]), signal.SIGKILL)
            while (line := server.stdout.readline().strip()) != "dead":  # acks we did not wait for don't count
                assert line.startswith("ack "), line
            kills += 1
            next_n = last + 1000  # fresh keys each round; whatever was unacknowledged may or may not be there
            with DataDir(tmp_path) as check:  # loads, and holds every acknowledged write
                saves = check.store("saves").raw_table("saves")
                papers = check.store("archive").raw_table("papers")
                missing_saves = [n for n in acked if f"k{n}" not in saves]
                missing_papers = [n for n in acked if f"2401.{n:05d}" not in papers]
                assert not missing_saves, f"round {round_no}: lost acknowledged saves {missing_saves[:5]}"
                assert not missing_papers, f"round {round_no}: lost acknowledged papers {missing_papers[:5]}"
                assert len(papers) >= 4000
                assert papers["2301.00000"]["upvotes"] >= last, "an acknowledged update was lost"
            assert not list(tmp_path.glob("*.tmp-*")), "stale temp files are cleaned up on open"
    finally:
        server.kill()
        server.wait()
    assert kills == ROUNDS and len(acked) >= ROUNDS


def test_an_archive_update_replaces_records_and_leaves_earlier_snapshots_intact(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data_dir:
        archive = Archive(data_dir.store("archive"))
        archive.upsert([new_record("2401.00001", source="hf", title="Old title", upvotes=1)])
        before = archive.snapshot()
        result = archive.upsert([new_record("2401.00001v2", source="arxiv", title="New title",
                                            abstract="Now with an abstract.")])
        assert result.updated == ["2401.00001"]
        assert before[0]["title"] == "Old title" and before[0]["upvotes"] == 1, "a reader's snapshot is stable"
        assert archive.get("2401.00001")["title"] == "New title"
    with DataDir(tmp_path, read_only=True) as reopened:
        stored = Archive(reopened.store("archive")).get("2401.00001")
        assert stored["title"] == "New title" and stored["upvotes"] == 1 and stored["abstract"]
