"""`paperbot match` against a small data directory: in this process, and once as a real process while a
writer holds the lock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_runner import Completed, PaperbotCLI, run_process

from bot.digest.settings import DigestOptions
from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.files import DataDir

TOPIC = "sparse autoencoders"
EXTRA = [f"2406.{100 + i:05d}" for i in range(10)]  # ten more cs.LG matches: more than a digest's maximum


def env(data_dir: Path) -> dict[str, str]:
    return {"PAPERBOT_DATA_DIR": str(data_dir), "PAPERBOT_LOG_LEVEL": "WARNING"}


Run = Callable[..., Completed]


@pytest.fixture
def run(paperbot: PaperbotCLI, data_dir: Path) -> Run:
    return lambda *args: paperbot("match", *args, env=env(data_dir))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    records = [
        new_record("2406.00001", source="arxiv", title="Sparse Autoencoders Find Interpretable Features",
                   abstract="We train sparse autoencoders on the residual stream.", categories=["cs.LG"],
                   upvotes=50),
        new_record("2406.00002", source="arxiv", title="Dictionary learning with sparse auto-encoders for vision",
                   abstract="Features of vision transformers.", categories=["cs.CV"]),
        new_record("2406.00003", source="arxiv", title="Steering language models",
                   abstract="We steer models. Sparse autoencoders give features; sparse autoencoders scale; "
                            "we compare sparse autoencoders with probes.", categories=["cs.CL"]),
        new_record("2406.00004", source="arxiv", title="Diffusion models for audio",
                   abstract="Audio generation with diffusion.", categories=["cs.LG"]),
        new_record("2001.00005", source="arxiv", title="Sparse autoencoders, revisited", abstract="Old work.",
                   categories=["cs.LG"], seen_at="2020-01-02T00:00:00Z"),
        *(new_record(pid, source="arxiv", title=f"Sparse autoencoders for layer {i}", abstract="Layers.",
                     categories=["cs.LG"]) for i, pid in enumerate(EXTRA)),
    ]
    now = datetime.now(UTC)
    with DataDir(path) as writer:
        Archive(writer.store("archive")).upsert(records)
        channels = Channels(writer.store("channels"), DigestOptions())
        channels.watch("C0ML", TOPIC, "U0ALICE")
        channels.set_sources("C0ML", "U0ALICE", ["cs.LG"], now)
        channels.watch("C0CL", "steering", "U0ALICE")
        channels.set_sources("C0CL", "U0ALICE", ["cs.CL"], now)
    return path


def test_text_output_ranks_every_match_with_id_score_title_and_why(run: Run) -> None:
    result = run(*TOPIC.split())
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0].startswith("1. 2406.00001 ")
    assert lines[0].endswith("Sparse Autoencoders Find Interpretable Features")
    assert lines[1] == "matches “sparse autoencoders”: sparse, autoencoders"
    ids = [line.split()[1] for line in lines if line[:1].isdigit() and ". " in line[:4]]
    assert set(ids) == {"2406.00001", "2406.00002", "2406.00003", *EXTRA}, "last 30 days only, no daily cap"
    assert "2406.00004" not in result.stdout and "2001.00005" not in result.stdout
    assert "13 of 14 papers that arrived since" in result.stdout


def test_json_is_an_array_of_id_title_score_why_best_first(run: Run) -> None:
    result = run("--json", "sparse", "auto-encoder", "--limit", "3")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert all({"id", "title", "score", "why"} <= row.keys() for row in rows)
    assert rows[0]["id"] == "2406.00001"
    assert rows[0]["score"] > 0 and rows[0]["why"].startswith("matches “sparse auto-encoder”")
    assert rows[0]["words"] == ["sparse", "auto-encoder"], "word forms compared the way search does"


def test_channel_limits_candidates_to_its_sources_and_since_reaches_back(run: Run) -> None:
    ml = json.loads(run(TOPIC, "--channel", "C0ML", "--json").stdout)
    assert {r["id"] for r in ml} == {"2406.00001", *EXTRA}, "cs.LG only, more than its daily maximum of 10"
    cl = json.loads(run(TOPIC, "--channel=C0CL", "--json").stdout)
    assert [r["id"] for r in cl] == ["2406.00003"]
    old = json.loads(run(TOPIC, "--since", "2020-01-01", "--channel", "C0ML", "--json").stdout)
    assert "2001.00005" in {r["id"] for r in old}
    assert json.loads(run(TOPIC, "--since", "2999-01-01", "--json").stdout) == []


@pytest.mark.parametrize(("args", "fragment"), [
    (("since:yesterday",), "a date looks like"),
    ((TOPIC, "--channel", "general"), "--channel must be a Slack channel id"),
    ((TOPIC, "--channel", "C0NOBODY"), "knows no channel C0NOBODY"),
    ((TOPIC, "--since", "last week"), "--since must be a date"),
    ((TOPIC, "--limit", "0"), "--limit must be from 1 to 1000"),
    ((), "give a topic"),
])
def test_a_refused_topic_or_bad_option_is_one_line_and_exit_2(run: Run, args: tuple[str, ...],
                                                               fragment: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and fragment in result.stderr and "Traceback" not in result.stderr


def test_control_characters_in_stored_titles_never_reach_the_terminal(paperbot: PaperbotCLI, tmp_path: Path) -> None:
    nasty = "Evil\x1b[2J\x1b]0;pwned\x07 \u202eSparse autoencoders\x00\x9b"
    record = {**new_record("2405.66666", source="hf", title="placeholder"), "title": nasty}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "archive.json").write_text(json.dumps({"papers": {"2405.66666": record}}))
    text = paperbot("match", TOPIC, env=env(tmp_path / "data"))
    as_json = paperbot("match", "--json", TOPIC, env=env(tmp_path / "data"))
    for result in (text, as_json):
        assert result.returncode == 0, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\x00\x9b\u202e"), repr(result.stdout)
    assert "2405.66666" in text.stdout and "Evil Sparse autoencoders" in text.stdout
    assert json.loads(as_json.stdout)[0]["title"] == "Evil Sparse autoencoders"


def test_works_while_the_bot_holds_the_writer_lock(data_dir: Path, tmp_path: Path) -> None:
    with DataDir(data_dir):  # as a running bot does
        result = run_process("match", "--json", TOPIC, "--channel", "C0CL", env=env(data_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ["2406.00003"]
