"""Stores that exist but hold the wrong thing: empty or truncated files and wrong-shaped records are refused
(one line naming the file and the record), never read as empty and overwritten; one bad archive record is
skipped with a warning and kept on disk."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from bot_process import bot_env
from cli_runner import PaperbotCLI
from slack_emulator import SlackEmulator

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.files import CorruptStoreError, DataDir, DataDirBusyError
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves


@pytest.mark.parametrize("name", ["saves", "archive", "channels", "posts"])
@pytest.mark.parametrize("content", [b"", b"   \n", b'{"saves": {"U1:2405.00001": {"user": "U1"'])
def test_an_empty_or_truncated_store_is_refused_and_left_as_it_is(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / f"{name}.json").write_bytes(content)
    with DataDir(tmp_path) as data_dir, pytest.raises(CorruptStoreError) as refused:
        data_dir.store(name)
    message = str(refused.value)
    assert str(tmp_path / f"{name}.json") in message and "\n" not in message
    assert "will not overwrite" in message
    assert (tmp_path / f"{name}.json").read_bytes() == content


def _write(path: Path, tables: dict[str, object]) -> None:
    path.write_bytes(orjson.dumps(tables))


GOOD_PAPER = dict(new_record("2405.00001", source="arxiv", title="Good", abstract="Fine."))
GOOD_SAVE = {"user": "U1", "paper_id": "2405.00001", "channel": None, "ts": None,
             "saved_at": "2026-01-01T00:00:00.000000Z", "via": "button", "reactions": [], "kept": True}
GOOD_POST = {"channel": "C1", "ts": "1.1", "paper_id": "2405.00001", "kind": "digest",
             "posted_at": "2026-01-01T00:00:00Z"}
GOOD_DIGEST = {"channel": "C1", "date": "2026-01-01", "trigger": "schedule", "status": "done",
               "planned_at": "2026-01-01T00:00:00Z", "since": "2025-12-31T00:00:00Z",
               "picks": [{"id": "2405.00001", "score": 1.0, "topic": "x"}], "skipped": [], "candidates": 1,
               "header_ts": "1.1", "attempts": 1, "next_try_at": None, "last_error": None,
               "done_at": "2026-01-01T00:00:01Z", "posted": 1}


@pytest.mark.parametrize(("name", "table", "key", "record"), [
    ("channels", "channels", "C1", ["not", "a", "record"]),
    ("channels", "channels", "C1", None),
    ("channels", "channels", "C1", {"id": "C1", "topics": "diffusion", "created_at": "2026-01-01T00:00:00Z"}),
    ("channels", "channels", "C1", {"id": "C1", "topics": [], "created_at": "x", "digest": {"time": 9}}),
    ("posts", "posts", "C1:1.1", {**GOOD_POST, "paper_id": None}),
    ("posts", "posts", "C1:1.1", [1, 2]),
    ("posts", "digests", "C1:2026-01-01", {**GOOD_DIGEST, "picks": [None]}),
    ("posts", "digests", "C1:2026-01-01", {k: v for k, v in GOOD_DIGEST.items() if k != "status"}),
    ("saves", "saves", "U1:2405.00001", {k: v for k, v in GOOD_SAVE.items() if k != "saved_at"}),
    ("saves", "saves", "U1:2405.00001", None),
    ("saves", "pending", "U1:C1:1.1:bookmark", {"user": "U1", "channel": "C1", "ts": "1.1"}),
])
def test_a_wrong_shaped_record_is_one_line_naming_file_and_key(tmp_path: Path, name: str, table: str, key: str,
                                                               record: object) -> None:
    path = tmp_path / f"{name}.json"
    _write(path, {table: {key: record}})
    before = path.read_bytes()
    with DataDir(tmp_path) as data_dir, pytest.raises(CorruptStoreError) as refused:
        store = data_dir.store(name)
        {"channels": Channels, "posts": PostLedger, "saves": Saves}[name](store)
    message = str(refused.value)
    assert str(path) in message and repr(key) in message and table in message, message
    assert "\n" not in message and "will not overwrite" in message
    assert path.read_bytes() == before


def test_good_records_of_every_store_load(tmp_path: Path) -> None:
    _write(tmp_path / "archive.json", {"papers": {"2405.00001": GOOD_PAPER}})
    _write(tmp_path / "saves.json", {"saves": {"U1:2405.00001": GOOD_SAVE}, "pending": {}})
    _write(tmp_path / "posts.json", {"posts": {"C1:1.1": GOOD_POST}, "digests": {"C1:2026-01-01": GOOD_DIGEST}})
    _write(tmp_path / "channels.json", {"channels": {"C1": {
        "id": "C1", "topics": ["diffusion"], "created_at": "2026-01-01T00:00:00Z",
        "digest": {"time": "09:00", "tz": "UTC", "paused": {"reason": "x", "at": "2026-01-01T00:00:00Z"}}}}})
    with DataDir(tmp_path) as data_dir:
        assert len(Archive(data_dir.store("archive"))) == 1
        assert len(Saves(data_dir.store("saves"))) == 1
        assert len(PostLedger(data_dir.store("posts"))) == 1
        assert DigestLedger(data_dir.store("posts")).by_channel()["C1"][0]["posted"] == 1
        assert Channels(data_dir.store("channels")).topics("C1") == ["diffusion"]


@pytest.mark.parametrize("bad", [
    None, ["a", "list"], "a string", {"title": "no id"}, {**GOOD_PAPER, "id": 5},
    {**GOOD_PAPER, "title": None}, {**GOOD_PAPER, "authors": "Ada Lovelace"}, {**GOOD_PAPER, "links": []},
    {**GOOD_PAPER, "first_seen": 20260101}, {**GOOD_PAPER, "keywords": [1, 2]}, {**GOOD_PAPER, "upvotes": "many"},
])
def test_a_bad_archive_record_is_skipped_with_one_warning_and_kept_on_disk(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: object) -> None:
    _write(tmp_path / "archive.json", {"papers": {"2405.00001": GOOD_PAPER, "2405.00002": bad}})
    caplog.set_level(logging.WARNING)
    with DataDir(tmp_path) as data_dir:
        archive = Archive(data_dir.store("archive"))
        assert [r["id"] for r in archive.snapshot()] == ["2405.00001"]
        assert archive.get("2405.00002") is None and "2405.00002" not in archive
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, warnings
        assert warnings[0].startswith("store.record_skipped ") and "key=2405.00002" in warnings[0]
        assert str(tmp_path / "archive.json") in warnings[0] and "\n" not in warnings[0]
        archive.upsert([new_record("2405.00003", source="arxiv", title="New")])
    on_disk = orjson.loads((tmp_path / "archive.json").read_bytes())["papers"]
    assert on_disk["2405.00002"] == bad, "a skipped record is never repaired or dropped silently"
    assert set(on_disk) == {"2405.00001", "2405.00002", "2405.00003"}


def test_a_good_sighting_replaces_a_skipped_record(tmp_path: Path) -> None:
    _write(tmp_path / "archive.json", {"papers": {"2405.00002": {"id": "2405.00002", "title": None}}})
    with DataDir(tmp_path) as data_dir:
        archive = Archive(data_dir.store("archive"))
        result = archive.upsert([new_record("2405.00002", source="arxiv", title="Now good")])
        assert result.new == ["2405.00002"]
    on_disk = orjson.loads((tmp_path / "archive.json").read_bytes())["papers"]
    assert on_disk["2405.00002"]["title"] == "Now good"


def test_a_read_only_opener_skips_bad_archive_records_too(tmp_path: Path) -> None:
    _write(tmp_path / "archive.json", {"papers": {"2405.00001": GOOD_PAPER, "2405.00002": None}})
    with DataDir(tmp_path, read_only=True) as data_dir:
        assert [r["id"] for r in Archive(data_dir.store("archive")).snapshot()] == ["2405.00001"]


def test_deleting_the_lock_file_does_not_let_a_second_writer_in(tmp_path: Path) -> None:
    with DataDir(tmp_path):
        (tmp_path / ".paperbot.lock").unlink()
        with pytest.raises(DataDirBusyError, match="in use by another paperbot process"):
            DataDir(tmp_path)
    with DataDir(tmp_path):  # released on close
        pass


@pytest.mark.parametrize(("name", "tree"), [
    ("saves", {"saves": {"U1:2405.00001": {"user": "U1", "paper_id": "2405.00001"}}}),
    ("channels", {"channels": {"C1": ["a", "list"]}}),
    ("posts", b""),
])
def test_paperbot_run_refuses_a_bad_store_in_one_line(paperbot: PaperbotCLI, slack: SlackEmulator, tmp_path: Path,
                                                      name: str, tree: object) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / f"{name}.json").write_bytes(tree if isinstance(tree, bytes) else orjson.dumps(tree))
    result = paperbot("run", "--port", "0", env=bot_env(slack, data))
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("paperbot: ")]
    assert len(lines) == 1 and str(data / f"{name}.json") in lines[0], result.stderr
    assert "Traceback" not in result.stderr
