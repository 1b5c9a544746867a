"""`paperbot export`: in this process, and once as a real `python -m bot export` process while another process
holds the data directory (the running bot)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest
from cli_runner import Completed, PaperbotCLI, run_process

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves


class Export:
    def __init__(self, paperbot: PaperbotCLI) -> None:
        self.paperbot = paperbot

    def __call__(self, data: Path, *args: str, cwd: Path) -> Completed:
        return self.paperbot("export", *args, env={"PAPERBOT_DATA_DIR": str(data)}, cwd=cwd)


@pytest.fixture
def run(paperbot: PaperbotCLI) -> Export:
    return Export(paperbot)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    with DataDir(path) as data_dir:
        Archive(data_dir.store("archive")).upsert([
            new_record("2405.00001", source="arxiv", title="Older & Wiser", authors=["Ada Lovelace"],
                       published="2024-05-01T00:00:00Z", primary_category="cs.LG"),
            new_record("2405.00002", source="arxiv", title="Newer {Models}", authors=["Alan Turing"],
                       published="2024-05-02T00:00:00Z", primary_category="cs.CL"),
        ])
        saves = Saves(data_dir.store("saves"))
        saves.save("U0ALICE", "2405.00001", via="button", at="2026-11-01T00:00:00Z")
        saves.save("U0ALICE", "2405.00002", via="button", at="2026-11-02T00:00:00Z")
        saves.save("U0ALICE", "2405.99999", via="reaction", channel="C1", ts="1.1", reaction="bookmark",
                   at="2026-11-03T00:00:00Z")  # saved before it could be fetched
        PostLedger(data_dir.store("posts")).record("C0GENERAL", "1.1", "2405.00002", "digest")
    return path


@pytest.mark.e2e
def test_export_a_reading_list_while_the_bot_holds_the_data_dir(data: Path, tmp_path: Path) -> None:
    with DataDir(data):  # the running bot's writer lock
        result = run_process("export", "--user", "U0ALICE", "--format", "bibtex",
                             env={"PAPERBOT_DATA_DIR": str(data)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "export: 3 papers (U0ALICE's reading list)"
    out = result.stdout
    assert [line for line in out.splitlines() if line.startswith("@")] == [
        "@misc{anon2024,", "@misc{turing2024newer,", "@misc{lovelace2024older,"], "newest save first"
    assert "  title={Older \\& Wiser},\n" in out
    assert "  title={Newer \\textbraceleft{}Models\\textbraceright{}},\n" in out
    assert "  eprint={2405.99999},\n" in out and "  url={https://arxiv.org/abs/2405.99999},\n" in out


def test_export_to_a_file_and_a_channels_papers(run: Export, data: Path, tmp_path: Path) -> None:
    result = run(data, "--user", "U0ALICE", "--output", "list.bib", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "list.bib").read_text().count("@misc{") == 3
    assert "written to list.bib" in result.stderr
    channel = run(data, "--channel", "C0GENERAL", cwd=tmp_path)
    assert channel.returncode == 0 and channel.stdout.startswith("@misc{turing2024newer,")


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--user", "U0NOBODY"], 1, "paperbot: U0NOBODY has no saved papers (user ids are case-sensitive, like U0123ABCD)"),
    (["--user", "alice"], 2, "paperbot: --user must be a Slack user id such as U0123ABCD (got 'alice')"),
    (["--channel", "C0EMPTY"], 1, "paperbot: paperbot has posted no papers to C0EMPTY"),
    (["--user", "U0ALICE", "--output", "missing/dir/list.bib"], 1, "paperbot: cannot write missing/dir/list.bib: "
                                                                      "No such file or directory"),
])
def test_failures_are_one_line(run: Export, data: Path, tmp_path: Path, args: list[str], status: int,
                               message: str) -> None:
    result = run(data, *args, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (status, message, "")


def test_a_missing_data_dir_is_one_line(run: Export, tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere", "--user", "U0ALICE", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("paperbot: data directory") and "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["archive.json", "saves.json", "new.bib", "sub/new.bib"])
def test_export_never_writes_inside_the_data_directory(run: Export, data: Path, tmp_path: Path, target: str) -> None:
    (data / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in data.glob("*.json")}
    result = run(data, "--user", "U0ALICE", "--output", str(data / target), "--force", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == f"paperbot: will not write {data / target}: it is inside the data directory " \
                                    f"{data} (choose a file elsewhere)"
    assert {p.name: p.read_bytes() for p in data.glob("*.json")} == before
    assert not (data / "new.bib").exists() and not (data / "sub" / "new.bib").exists()


def test_export_never_writes_inside_the_data_directory_through_a_link(run: Export, data: Path, tmp_path: Path) -> None:
    (tmp_path / "link.bib").symlink_to(data / "archive.json")
    before = (data / "archive.json").read_bytes()
    result = run(data, "--user", "U0ALICE", "-o", "link.bib", "--force", cwd=tmp_path)
    assert result.returncode == 1 and "is inside the data directory" in result.stderr
    assert (data / "archive.json").read_bytes() == before


def test_export_refuses_what_exists_and_is_not_a_regular_file(run: Export, data: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    for target in ("fifo", "folder", "/dev/null"):
        result = run(data, "--user", "U0ALICE", "-o", target, "--force", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == f"paperbot: will not write {target}: it exists and is not a regular file"
    assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode) and (tmp_path / "folder").is_dir()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_export_replaces_an_existing_file_only_with_force(run: Export, data: Path, tmp_path: Path) -> None:
    (tmp_path / "list.bib").write_text("my notes\n")
    refused = run(data, "--user", "U0ALICE", "-o", "list.bib", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "paperbot: list.bib exists: add --force to replace it"
    assert (tmp_path / "list.bib").read_text() == "my notes\n"
    forced = run(data, "--user", "U0ALICE", "-o", "list.bib", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "list.bib").read_text().count("@misc{") == 3


def test_a_bad_archive_record_is_skipped_with_a_warning(run: Export, data: Path, tmp_path: Path) -> None:
    tree = orjson.loads((data / "archive.json").read_bytes())
    tree["papers"]["2405.00001"] = None
    (data / "archive.json").write_bytes(orjson.dumps(tree))
    result = run(data, "--user", "U0ALICE", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "store.record_skipped " in result.stderr and "key=2405.00001" in result.stderr
    assert result.stdout.count("@misc{") == 3 and "eprint={2405.00001}" in result.stdout  # as if not fetched yet


@pytest.mark.parametrize("record", [None, [1, 2], {"user": "U0ALICE", "paper_id": "2405.00001"}])
def test_a_wrong_shaped_save_is_one_line_naming_file_and_record(run: Export, data: Path, tmp_path: Path,
                                                                  record: object) -> None:
    tree = orjson.loads((data / "saves.json").read_bytes())
    tree["saves"]["U0ALICE:2405.00001"] = record
    (data / "saves.json").write_bytes(orjson.dumps(tree))
    result = run(data, "--user", "U0ALICE", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"paperbot: {data / 'saves.json'}: record 'U0ALICE:2405.00001' ")
