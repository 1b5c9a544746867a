"""`paperbot ingest` end to end against the local fake sources: in this process, and once as a real
`python -m bot` process."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from cli_runner import Completed, PaperbotCLI, run_process
from fake_sources import FakeSources, load_fixture, make_arxiv_entries, make_hf_day
from local_http import Reply


class Ingest:
    def __init__(self, paperbot: PaperbotCLI) -> None:
        self.paperbot = paperbot

    def __call__(self, fake: FakeSources, tmp_path: Path, *args: str, **env: str) -> Completed:
        # Retry at once: these tests count attempts, not seconds.
        env = {"PAPERBOT_HTTP_BACKOFF": "0", **env}
        return self.paperbot("ingest", *args, env=fake.env(tmp_path / "data", **env), cwd=tmp_path)


@pytest.fixture
def run(paperbot: PaperbotCLI) -> Ingest:
    return Ingest(paperbot)


def archived(tmp_path: Path) -> dict[str, dict]:
    return orjson.loads((tmp_path / "data" / "archive.json").read_bytes())["papers"]


def test_ingest_a_day_then_again(run: Ingest, fake_sources: FakeSources, tmp_path: Path) -> None:
    fake_sources.add_hf_day("2026-11-20", orjson.loads(load_fixture("hf/daily_papers_2026-11-20.json")))

    first = run(fake_sources, tmp_path, "--date", "2026-11-20")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "ingest: 3 new, 0 updated, 0 unchanged, 0 failed\n"
    assert "ingest: [1/1] hf 2026-11-20: 3 papers" in first.stderr
    assert sorted(archived(tmp_path)) == ["2611.13007", "2611.14502", "2611.14890"]

    second = run(fake_sources, tmp_path, "--date", "2026-11-20")
    assert (second.returncode, second.stdout) == (0, "ingest: 0 new, 0 updated, 3 unchanged, 0 failed\n")


def test_since_with_arxiv_and_one_failing_day_exits_1(run: Ingest, fake_sources: FakeSources, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (2, 1, 0)]
    rng = random.Random(20)
    for n, day in enumerate(days):
        fake_sources.add_hf_day(day.isoformat(), make_hf_day(day.isoformat(), 4, rng=rng, id_start=1 + 10 * n))
    fake_sources.add_arxiv(*make_arxiv_entries(days[0], 3, 3, rng=rng, id_start=500, categories=("cs.CL",)))
    fake_sources.fail(f"date={days[1].isoformat()}", Reply(500, b"boom"), times=None)

    result = run(fake_sources, tmp_path, "--since", days[0].isoformat(), "--category", "cs.CL")
    assert result.returncode == 1
    assert result.stdout == "ingest: 17 new, 0 updated, 0 unchanged, 1 failed\n"
    assert (f"ingest: [2/3] hf {days[1].isoformat()}: FAILED: Hugging Face daily_papers for {days[1].isoformat()}: "
            f"HTTP 500 Internal Server Error (after 2 attempts)") in result.stderr
    assert "ingest: arxiv cs.CL start=0: 9 papers (9 of 9 listed)" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(archived(tmp_path)) == 17


@pytest.mark.e2e
def test_default_is_today_on_hugging_face_only(fake_sources: FakeSources, tmp_path: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    fake_sources.add_hf_day(today, make_hf_day(today, 2, rng=random.Random(21)))
    result = run_process("ingest", env=fake_sources.env(tmp_path / "data"), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "ingest: 2 new, 0 updated, 0 unchanged, 0 failed\n")
    assert fake_sources.seen("/arxiv/") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-13-45"], "paperbot: --date must be a date like 2026-11-20 (got '2026-13-45')"),
        (["--since", "yesterday"], "paperbot: --since must be a date like 2026-11-20 (got 'yesterday')"),
        (["--date", "2999-01-01"], "paperbot: --date 2999-01-01 is in the future (today is "),
        (["--since", "2020-01-01"], "paperbot: --since 2020-01-01 covers "),
        (["--category", "machine learning"], "paperbot: --category must be an arXiv category such as cs.LG "
                                             "(got 'machine learning')"),
        (["--source", "hf", "--category", "cs.LG"], "paperbot: --category applies to arXiv"),
        (["--date", ""], "paperbot: --date must be a date like 2026-11-20 (got '')"),
        (["--since", ""], "paperbot: --since must be a date like 2026-11-20 (got '')"),
        (["--category", ""], "paperbot: --category must be an arXiv category such as cs.LG (got '')"),
        (["--category", "cs.LG", ","], "paperbot: --category must be an arXiv category such as cs.LG (got ',')"),
    ],
    ids=["bad-date", "bad-since", "future", "too-many-days", "bad-category", "category-without-arxiv",
         "empty-date", "empty-since", "empty-category", "comma-category"],
)
def test_bad_arguments_are_one_line(run: Ingest, fake_sources: FakeSources, tmp_path: Path, args: list[str],
                                    message: str) -> None:
    result = run(fake_sources, tmp_path, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(message), result.stderr
    assert fake_sources.requests == []


def test_sources_that_are_down_fail_cleanly_and_leave_the_archive_alone(run: Ingest, fake_sources: FakeSources,
                                                                         tmp_path: Path) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 3, rng=random.Random(22)))
    assert run(fake_sources, tmp_path, "--date", "2026-11-20").returncode == 0
    before = (tmp_path / "data" / "archive.json").read_bytes()

    result = run(fake_sources, tmp_path, "--date", "2026-11-20", "--source", "all",
                 HF_API_URL="http://127.0.0.1:9/api", ARXIV_API_URL="http://127.0.0.1:9/api/query")
    assert result.returncode == 1
    assert result.stdout == "ingest: 0 new, 0 updated, 0 unchanged, 2 failed\n"
    assert "Traceback" not in result.stderr
    assert "arxiv cs.LG: FAILED: arXiv cat:cs.LG start=0: cannot connect" in result.stderr
    assert (tmp_path / "data" / "archive.json").read_bytes() == before
