"""`paperbot export`: in this process, and once as a real `python -m bot export` process while another process
holds the data directory (the running bot)."""

from __future__ import annotations

from pathlib import Path

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
