"""`paperbot search` in a subprocess, against a small data directory, while a writer holds the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.papers import new_record
from bot.store.files import DataDir
from bot.store.tinydb.archive import Archive

ROOT = Path(__file__).resolve().parents[1]

PAPERS = [
    ("2203.15556", "Training Compute-Optimal Large Language Models",
     "We find that model size and training tokens should be scaled equally; Chinchilla outperforms Gopher.",
     ["Jordan Hoffmann", "Sebastian Borgeaud"], "2022-03-29"),
    ("1706.03762", "Attention Is All You Need", "The Transformer, based solely on attention mechanisms.",
     ["Ashish Vaswani", "Łukasz Kaiser"], "2017-06-12"),
    ("2001.08361", "Scaling Laws for Neural Language Models", "Loss scales as a power-law with model size.",
     ["Jared Kaplan", "Sam McCandlish"], "2020-01-23"),
]


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERBOT_DATA_DIR": str(data_dir), "PAPERBOT_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "bot", "search", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    with DataDir(path) as writer:
        Archive(writer.store("archive")).upsert([
            new_record(i, source="arxiv", title=t, abstract=a, authors=au, published=f"{d}T12:00:00Z")
            for i, t, a, au, d in PAPERS
        ])
    return path


@pytest.mark.e2e
def test_text_output_ranks_and_shows_id_year_score_title_and_link(data_dir: Path) -> None:
    result = run(data_dir, "compute-optimal", "langauge", "models", "--limit", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. 2203.15556  2022")
    assert "Training Compute-Optimal Large Language Models" in lines[0]
    assert lines[1].strip() == "https://arxiv.org/abs/2203.15556"
    assert "1–1 of 2 results" in result.stdout
    assert "note: searched for language instead of langauge" in result.stdout


@pytest.mark.e2e
def test_json_output_is_an_array_of_hits_and_exclusions_are_not_options(data_dir: Path) -> None:
    result = run(data_dir, "--json", "language", "models", "-attention", "--limit", "5")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["2203.15556", "2001.08361"] or [r["id"] for r in rows] == [
        "2001.08361", "2203.15556"]
    assert all({"id", "title", "score", "year", "link"} <= row.keys() for row in rows)
    assert rows[0]["score"] >= rows[1]["score"] > 0


@pytest.mark.e2e
def test_a_query_may_start_with_an_exclusion(data_dir: Path) -> None:
    result = run(data_dir, "-attention", "language", "models", "--json")
    assert result.returncode == 0, result.stderr
    assert "1706.03762" not in {r["id"] for r in json.loads(result.stdout)}
    assert json.loads(result.stdout), "the other words still search"
    typo = subprocess.run([sys.executable, "-m", "bot", "ingest", "--bogus"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert typo.returncode == 2 and "unrecognized arguments: --bogus" in typo.stderr


@pytest.mark.e2e
def test_works_while_the_bot_holds_the_writer_lock(data_dir: Path) -> None:
    with DataDir(data_dir):  # as a running bot does
        result = run(data_dir, "--json", "author:kaiser")
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ["1706.03762"]


@pytest.mark.e2e
@pytest.mark.parametrize(("args", "fragment"), [
    (("the", "of"), "too common to search for"),
    (("since:yesterday",), "a date looks like"),
    (("--limit", "0", "x"), "--limit must be from 1 to 100"),
])
def test_a_bad_query_is_one_friendly_line_and_exit_1(data_dir: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run(data_dir, *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and fragment in result.stderr and "Traceback" not in result.stderr


@pytest.mark.e2e
def test_an_empty_archive_says_so(tmp_path: Path) -> None:
    DataDir(tmp_path).close()
    result = run(tmp_path, "anything")
    assert result.returncode == 1
    assert "is empty" in result.stderr and result.stderr.count("\n") == 1
