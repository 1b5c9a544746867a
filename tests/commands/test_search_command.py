"""`paperbot search` against a small data directory: in this process, and once as a real process while a
writer holds the lock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import Completed, PaperbotCLI, run_process

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir

PAPERS = [
    ("2203.15556", "Training Compute-Optimal Large Language Models",
     "We find that model size and training tokens should be scaled equally; Chinchilla outperforms Gopher.",
     ["Jordan Hoffmann", "Sebastian Borgeaud"], "2022-03-29"),
    ("1706.03762", "Attention Is All You Need", "The Transformer, based solely on attention mechanisms.",
     ["Ashish Vaswani", "Łukasz Kaiser"], "2017-06-12"),
    ("2001.08361", "Scaling Laws for Neural Language Models", "Loss scales as a power-law with model size.",
     ["Jared Kaplan", "Sam McCandlish"], "2020-01-23"),
]


def env(data_dir: Path) -> dict[str, str]:
    return {"PAPERBOT_DATA_DIR": str(data_dir), "PAPERBOT_LOG_LEVEL": "WARNING"}


Run = Callable[..., Completed]


@pytest.fixture
def run(paperbot: PaperbotCLI) -> Run:
    return lambda data_dir, *args: paperbot("search", *args, env=env(data_dir))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    with DataDir(path) as writer:
        Archive(writer.store("archive")).upsert([
            new_record(i, source="arxiv", title=t, abstract=a, authors=au, published=f"{d}T12:00:00Z")
            for i, t, a, au, d in PAPERS
        ])
    return path


def test_text_output_ranks_and_shows_id_year_score_title_and_link(run: Run, data_dir: Path) -> None:
    result = run(data_dir, "compute-optimal", "langauge", "models", "--limit", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. 2203.15556  2022")
    assert "Training Compute-Optimal Large Language Models" in lines[0]
    assert lines[1].strip() == "https://arxiv.org/abs/2203.15556"
    assert "1–1 of 2 results" in result.stdout
    assert "note: searched for language instead of langauge" in result.stdout


def test_json_output_is_an_array_of_hits_and_exclusions_are_not_options(run: Run, data_dir: Path) -> None:
    result = run(data_dir, "--json", "language", "models", "-attention", "--limit", "5")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["2203.15556", "2001.08361"] or [r["id"] for r in rows] == [
        "2001.08361", "2203.15556"]
    assert all({"id", "title", "score", "year", "link"} <= row.keys() for row in rows)
    assert rows[0]["score"] >= rows[1]["score"] > 0


def test_a_query_may_start_with_an_exclusion(run: Run, paperbot: PaperbotCLI, data_dir: Path) -> None:
    result = run(data_dir, "-attention", "language", "models", "--json")
    assert result.returncode == 0, result.stderr
    assert "1706.03762" not in {r["id"] for r in json.loads(result.stdout)}
    assert json.loads(result.stdout), "the other words still search"
    typo = paperbot("ingest", "--bogus")
    assert typo.returncode == 2 and "unrecognized arguments: --bogus" in typo.stderr


@pytest.mark.e2e
def test_works_while_the_bot_holds_the_writer_lock(data_dir: Path, tmp_path: Path) -> None:
    with DataDir(data_dir):  # as a running bot does
        result = run_process("search", "--json", "author:kaiser", env=env(data_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ["1706.03762"]


@pytest.mark.parametrize(("args", "fragment"), [
    (("the", "of"), "too common to search for"),
    (("since:yesterday",), "a date looks like"),
    (("--limit", "0", "x"), "--limit must be from 1 to 100"),
])
def test_a_bad_query_is_one_friendly_line_and_exit_1(run: Run, data_dir: Path, args: tuple[str, ...],
                                                      fragment: str) -> None:
    result = run(data_dir, *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and fragment in result.stderr and "Traceback" not in result.stderr


def test_an_empty_archive_says_so(run: Run, tmp_path: Path) -> None:
    DataDir(tmp_path).close()
    result = run(tmp_path, "anything")
    assert result.returncode == 1
    assert "is empty" in result.stderr and result.stderr.count("\n") == 1


def test_control_characters_in_stored_titles_never_reach_the_terminal(paperbot: PaperbotCLI, tmp_path: Path) -> None:
    # Written by an earlier version that did not strip them at ingest: the CLI strips them when it prints.
    nasty = "Evil\x1b[2J\x1b]0;pwned\x07 \u202eTitle\x00\x9b"
    record = {**new_record("2405.66666", source="hf", title="placeholder", authors=["A\x1b[31mB"]), "title": nasty}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "archive.json").write_text(json.dumps({"papers": {"2405.66666": record}}))
    text = paperbot("search", "evil", env=env(tmp_path / "data"))
    as_json = paperbot("search", "--json", "evil", env=env(tmp_path / "data"))
    for result in (text, as_json):
        assert result.returncode == 0, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\x00\x9b\u202e"), repr(result.stdout)
    assert "2405.66666" in text.stdout and "Evil Title" in text.stdout
    assert json.loads(as_json.stdout)[0]["title"] == "Evil Title"
    assert json.loads(as_json.stdout)[0]["authors"] == ["AB"]
