"""Ingestion through the real code path: local HTTP sources → clients → ingest → archive file on disk."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from fake_sources import FakeSources, arxiv_entry, hf_item, load_fixture, make_arxiv_entries, make_hf_day
from local_http import Reply

from bot.ingest import fetch_papers, ingest, iter_days
from bot.sources import ArxivClient, HFClient, HttpClient, Sources
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir

NOV = [date(2026, 11, d) for d in (18, 19, 20)]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[DataDir]:
    with DataDir(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def archive(data_dir: DataDir) -> Archive:
    return Archive(data_dir.store("archive"))


def sources(fake: FakeSources, *, hf_page: int = 100, arxiv_page: int = 200, retries: int = 1,
            timeout: float = 2.0) -> Sources:
    def http() -> HttpClient:
        return HttpClient(timeout=timeout, retries=retries, backoff=0.01)

    return Sources(hf=HFClient(fake.hf_api_url, http(), page_size=hf_page),
                   arxiv=ArxivClient(fake.arxiv_api_url, http(), page_size=arxiv_page))


def archive_bytes(data_dir: DataDir) -> bytes:
    return (data_dir.path / "archive.json").read_bytes()


def test_same_paper_from_both_sources_and_two_versions_is_one_record(fake_sources: FakeSources,
                                                                     archive: Archive) -> None:
    fake_sources.add_hf_day("2026-11-20", orjson.loads(load_fixture("hf/daily_papers_2026-11-20.json")))
    fake_sources.add_arxiv(
        arxiv_entry("2611.14502", "Scaling Laws for Sparse Mixture-of-Experts (draft)", version=1,
                    published="2026-11-19T18:59:59Z", categories=("cs.LG", "cs.CL")),
        arxiv_entry("2611.14502", "Scaling Laws for Sparse Mixture-of-Experts: Compute-Optimal Routing at "
                    "Trillion-Token Scale", version=2, published="2026-11-19T18:59:59Z",
                    updated="2026-11-20T16:41:07Z", categories=("cs.LG", "cs.CL"), comment="28 pages"),
    )
    # Daily Papers lists on the 20th what arXiv got on the 19th: the arXiv window starts a day earlier.
    report = ingest(archive, sources(fake_sources), dates=[date(2026, 11, 20)], categories=["cs.LG"],
                    since=date(2026, 11, 19))

    assert report.ok and sorted(report.new) == ["2611.13007", "2611.14502", "2611.14890"]
    assert report.updated == [] and report.unchanged == []
    paper = archive.get("https://arxiv.org/abs/2611.14502v1")
    assert paper is not None
    assert paper["sources"] == ["hf", "arxiv"]
    assert paper["version"] == 2 and paper["updated"] == "2026-11-20T16:41:07Z"
    assert paper["upvotes"] == 42 and paper["hf_date"] == "2026-11-20"
    assert paper["categories"] == ["cs.LG", "cs.CL"] and paper["comment"] == "28 pages"
    assert paper["links"]["hf"] == "https://huggingface.co/papers/2611.14502"
    assert len(archive) == 3


def test_pages_of_both_sources_are_all_archived_in_few_writes(fake_sources: FakeSources, data_dir: DataDir,
                                                              archive: Archive) -> None:
    rng = random.Random(10)
    for n, day in enumerate(NOV):
        fake_sources.add_hf_day(day.isoformat(), make_hf_day(day.isoformat(), 120, rng=rng, id_start=1 + n * 200))
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 18), 3, 90, rng=rng, id_start=5000,
                                               categories=("cs.LG",)))
    report = ingest(archive, sources(fake_sources, hf_page=50, arxiv_page=100), dates=NOV, categories=["cs.LG"])

    assert report.ok and len(report.new) == 360 + 270 == len(archive)
    assert [r.query["p"] for r in fake_sources.seen("daily_papers")] == ["0", "1", "2"] * 3
    assert [r.query["start"] for r in fake_sources.seen("cat%3Acs.LG")] == ["0", "100", "200"]
    # 630 records in batches of at most 500: two rewrites of the archive file, not 630.
    assert data_dir.store("archive").writes == 2


def test_reingesting_reports_unchanged_and_new_upvotes_as_updated(fake_sources: FakeSources,
                                                                  archive: Archive) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 4, rng=random.Random(11)))
    assert len(ingest(archive, sources(fake_sources), dates=[date(2026, 11, 20)]).new) == 4

    fake_sources.hf_days["2026-11-20"][0]["paper"]["upvotes"] = 999
    again = ingest(archive, sources(fake_sources), dates=[date(2026, 11, 20)])
    assert (again.new, again.updated, len(again.unchanged)) == ([], ["2611.00001"], 3)
    assert archive.get("2611.00001")["upvotes"] == 999  # type: ignore[index]


def test_a_failed_day_is_reported_and_the_others_still_arrive(fake_sources: FakeSources, archive: Archive,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(12)
    for n, day in enumerate(NOV):
        fake_sources.add_hf_day(day.isoformat(), make_hf_day(day.isoformat(), 5, rng=rng, id_start=1 + n * 10))
    fake_sources.fail("date=2026-11-19", Reply(500, b"Internal Server Error"), times=None)
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger="bot.ingest"):
        report = ingest(archive, sources(fake_sources), dates=NOV, progress=lines.append)

    assert report.failed == [("hf 2026-11-19", "Hugging Face daily_papers for 2026-11-19: HTTP 500 "
                                                "Internal Server Error (after 2 attempts)")]
    assert len(report.new) == 10 and len(archive) == 10
    assert not any(p["hf_date"] == "2026-11-19" for p in archive)
    assert report.summary() == "10 new, 0 updated, 0 unchanged, 1 failed"
    assert lines[0] == "[1/3] hf 2026-11-18: 5 papers" and lines[1].startswith("[2/3] hf 2026-11-19: FAILED: ")
    messages = [r.getMessage() for r in caplog.records]
    assert "ingest.fetch source=hf date=2026-11-20 papers=5" in messages
    assert any(m.startswith('ingest.fail source=hf date=2026-11-19 error="Hugging Face') for m in messages)


def test_a_500_that_recovers_loses_nothing(fake_sources: FakeSources, archive: Archive) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 7, rng=random.Random(13)))
    fake_sources.fail("daily_papers", Reply(502, b"Bad Gateway"))
    report = ingest(archive, sources(fake_sources), dates=[date(2026, 11, 20)])
    assert report.ok and len(report.new) == 7


def test_an_empty_day_is_fine(fake_sources: FakeSources, archive: Archive) -> None:
    report = ingest(archive, sources(fake_sources), dates=[date(2026, 11, 22)])
    assert report.ok and report.summary() == "0 new, 0 updated, 0 unchanged, 0 failed"
    assert len(archive) == 0


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, b"oops"),
        Reply(200, b"[]", delay=1.0),
        Reply.json(b"\x00\xff garbage \x1b[31m"),
        Reply.json(b'[{"paper": {"id": "2611.00001", "authors": [{"_id": "6740", "na'),
        Reply(200, b'[{"paper": {"id": "2611.00001", "title": "A"}}, {"paper": {"id": "2611.00002"}}]' * 50,
              cut_at=600),
        Reply.json(b'{"error": "Invalid date"}'),
    ],
    ids=["500-forever", "timeout", "garbage", "truncated-json", "cut-off-connection", "wrong-shape"],
)
def test_a_failed_fetch_leaves_the_archive_byte_identical(fake_sources: FakeSources, data_dir: DataDir,
                                                          archive: Archive, reply: Reply) -> None:
    fake_sources.add_hf_day("2026-11-19", make_hf_day("2026-11-19", 6, rng=random.Random(14)))
    ingest(archive, sources(fake_sources), dates=[date(2026, 11, 19)])
    before = archive_bytes(data_dir)

    # A new day whose answer is broken, and a re-sighting of the stored day whose upvotes would change it.
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 6, rng=random.Random(15), id_start=100))
    for item in fake_sources.hf_days["2026-11-19"]:
        item["paper"]["upvotes"] += 1
    fake_sources.fail(lambda req: req.path.endswith("daily_papers"), reply, times=None)
    report = ingest(archive, sources(fake_sources, timeout=0.3), dates=[date(2026, 11, 20), date(2026, 11, 19)])

    assert [unit for unit, _ in report.failed] == ["hf 2026-11-20", "hf 2026-11-19"]
    assert all(error.startswith("Hugging Face daily_papers for 2026-11-") for _, error in report.failed)
    assert archive_bytes(data_dir) == before
    assert data_dir.store("archive").writes == 1  # only the first run's write


def test_arxiv_keeps_complete_pages_before_a_broken_one_and_goes_on(fake_sources: FakeSources,
                                                                    archive: Archive) -> None:
    rng = random.Random(16)
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 18), 3, 20, rng=rng, categories=("cs.LG",)))
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 18), 3, 5, rng=rng, id_start=900,
                                               categories=("cs.CL",)))
    truncated = load_fixture("arxiv/query_cs_LG.xml")[:1800]
    fake_sources.fail(lambda req: req.query.get("search_query") == "cat:cs.LG" and req.query["start"] == "25",
                      Reply(200, truncated), times=None)
    report = ingest(archive, sources(fake_sources, arxiv_page=25), categories=["cs.LG", "cs.CL"],
                    since=date(2026, 11, 18))

    [(unit, error)] = report.failed
    assert unit == "arxiv cs.LG"
    assert error.startswith("arXiv cat:cs.LG start=25: response is not well-formed XML (")
    assert error.endswith("no element found; 1800 bytes)")
    assert len(archive) == 25 + 15
    assert sum("cs.CL" in p["categories"] for p in archive) == 15


def test_fetch_specific_papers_prefers_hugging_face_and_falls_back_to_arxiv(fake_sources: FakeSources,
                                                                           archive: Archive) -> None:
    fake_sources.add_hf_day("2026-11-20", [hf_item("2611.00001", "On Hugging Face", day="2026-11-20", upvotes=5)])
    fake_sources.add_hf_day("2026-11-21", [hf_item("2611.00004", "Hugging Face Is Down", day="2026-11-21")])
    fake_sources.fail("/papers/2611.00004", Reply(500), times=None)
    fake_sources.add_arxiv(arxiv_entry("2611.00002", "Only On arXiv", published="2026-11-19T08:00:00Z", version=3),
                           arxiv_entry("2611.00004", "Hugging Face Is Down", published="2026-11-19T09:00:00Z"))
    result = fetch_papers(archive, sources(fake_sources), [
        "https://huggingface.co/papers/2611.00001", "<https://arxiv.org/abs/2611.00002v1|paper>", "arXiv:2611.00003",
        "2611.00004", "not a paper", "https://arxiv.org/pdf/2611.00001v2.pdf"])

    assert sorted(result.records) == ["2611.00001", "2611.00002", "2611.00004"]
    assert result.records["2611.00001"]["sources"] == ["hf"] and result.records["2611.00001"]["upvotes"] == 5
    assert result.records["2611.00002"]["sources"] == ["arxiv"] and result.records["2611.00002"]["version"] == 3
    assert result.records["2611.00004"]["sources"] == ["arxiv"]
    assert result.missing == ["2611.00003"]
    assert result.failed == [("not a paper", "not an arXiv id or paper link: 'not a paper'")]
    # HF is asked per paper; arXiv once, for everything HF could not give.
    assert [r.query["id_list"] for r in fake_sources.seen("id_list")] == ["2611.00002,2611.00003,2611.00004"]
    assert len(archive) == 3


def test_when_hugging_face_fails_the_other_papers_go_straight_to_arxiv(fake_sources: FakeSources,
                                                                       archive: Archive) -> None:
    fake_sources.fail("/papers/", Reply(503), times=None)
    ids = ["2611.00011", "2611.00012", "2611.00013"]
    fake_sources.add_arxiv(*(arxiv_entry(i, f"Paper {i}", published="2026-11-19T08:00:00Z") for i in ids))
    result = fetch_papers(archive, sources(fake_sources, retries=1), ids)
    assert sorted(result.records) == ids and result.failed == []
    assert len(fake_sources.seen("/papers/")) == 2, "one paper, with its one retry; not every paper"
    assert [r.query["id_list"] for r in fake_sources.seen("id_list")] == [",".join(ids)]


def test_hf_limit_bounds_hugging_face_and_the_rest_go_to_arxiv_in_batches(fake_sources: FakeSources,
                                                                          archive: Archive) -> None:
    ids = [f"2611.{n:05d}" for n in range(1, 251)]
    fake_sources.add_arxiv(*(arxiv_entry(i, f"Paper {i}", published="2026-11-19T08:00:00Z") for i in ids))
    result = fetch_papers(archive, sources(fake_sources), ids, hf_limit=5)
    assert sorted(result.records) == ids and result.missing == [] and result.failed == []
    assert len(fake_sources.seen("/papers/")) == 5, "Hugging Face has no batch endpoint: asked about 5 only"
    assert [len(r.query["id_list"].split(",")) for r in fake_sources.seen("id_list")] == [100, 100, 50]


def test_fetch_specific_papers_can_skip_known_ones(fake_sources: FakeSources, archive: Archive) -> None:
    fake_sources.add_hf_day("2026-11-20", [hf_item("2611.00001", "Known Paper", day="2026-11-20")])
    fetch_papers(archive, sources(fake_sources), ["2611.00001"])
    result = fetch_papers(archive, sources(fake_sources), ["2611.00001"], skip_known=True)
    assert result.records["2611.00001"]["title"] == "Known Paper"
    assert len(fake_sources.seen("/papers/")) == 1


def test_fetch_specific_papers_when_every_source_is_down(fake_sources: FakeSources, data_dir: DataDir,
                                                         archive: Archive) -> None:
    fake_sources.fail("/", Reply(503), times=None)
    result = fetch_papers(archive, sources(fake_sources, retries=0), ["2611.00001"])
    assert result.records == {} and result.missing == []
    assert result.failed == [("2611.00001", "Hugging Face paper 2611.00001: HTTP 503 Service Unavailable; "
                                            "arXiv id_list=2611.00001: HTTP 503 Service Unavailable")]
    assert not (data_dir.path / "archive.json").exists()


def test_iter_days_is_inclusive() -> None:
    assert list(iter_days(date(2026, 2, 27), date(2026, 3, 1))) == [date(2026, 2, 27), date(2026, 2, 28),
                                                                    date(2026, 3, 1)]
