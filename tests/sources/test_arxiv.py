"""The arXiv client against a local server speaking Atom: every field mapped, paging by date window and total,
newest versions, error feeds, and malformed payloads ending as one clear `SourceError`."""

from __future__ import annotations

import random
from datetime import date

import pytest
from fake_sources import FakeSources, arxiv_entry, load_fixture, make_arxiv_entries, render_atom
from local_http import Reply
from source_clients import DAY, arxiv_client

from bot.sources import SourceError


def test_arxiv_fixture_maps_every_field(fake_sources: FakeSources) -> None:
    fake_sources.fail("cat%3Acs.LG", Reply(200, load_fixture("arxiv/query_cs_LG.xml")), times=None)
    pages = list(arxiv_client(fake_sources).category_pages("cs.LG", since=date(1990, 1, 1)))
    records = {r["id"]: r for page in pages for r in page.records}

    assert list(records) == ["2611.14502", "2611.14377", "hep-th/9901001"]
    moe = records["2611.14502"]
    assert moe["version"] == 2
    assert moe["title"] == "Scaling Laws for Sparse Mixture-of-Experts: Compute-Optimal Routing at Trillion-Token Scale"
    assert moe["authors"] == ["Mei Tanaka", "Jonas Müller", "Priya Raghavan"]
    assert moe["abstract"].endswith("follows a simple power law & that <top-2> routing is rarely optimal.")
    assert moe["categories"] == ["cs.LG", "cs.CL", "stat.ML"] and moe["primary_category"] == "cs.LG"
    assert (moe["published"], moe["updated"]) == ("2026-11-19T18:59:59Z", "2026-11-20T16:41:07Z")
    assert moe["comment"] == "28 pages, 14 figures; v2: added ablations on routing temperature"
    assert moe["journal_ref"] == "Proceedings of ICLR 2027"
    assert moe["doi"] == "10.48550/arXiv.2611.14502"
    assert moe["links"] == {"abs": "https://arxiv.org/abs/2611.14502", "pdf": "https://arxiv.org/pdf/2611.14502"}
    assert moe["sources"] == ["arxiv"] and moe["upvotes"] is None

    gnn = records["2611.14377"]
    assert gnn["primary_category"] == "stat.ML" and gnn["comment"] is None and gnn["doi"] is None
    old = records["hep-th/9901001"]
    assert old["version"] == 3 and old["links"]["pdf"] == "https://arxiv.org/pdf/hep-th/9901001"


def test_arxiv_pages_stop_at_the_since_date(fake_sources: FakeSources) -> None:
    # 10 cs.LG papers a day for Nov 1-10; since Nov 8 needs 30 papers, i.e. pages 0 and 25 (which reaches Nov 7).
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 1), 10, 10, rng=random.Random(4),
                                               categories=("cs.LG",)))
    pages = list(arxiv_client(fake_sources, page_size=25).category_pages("cs.LG", since=date(2026, 11, 8)))

    assert [p.start for p in pages] == [0, 25]
    requests = fake_sources.seen("/arxiv/api/query")
    assert [r.query["start"] for r in requests] == ["0", "25"]
    assert all(r.query["search_query"] == "cat:cs.LG" and r.query["sortBy"] == "submittedDate"
               and r.query["sortOrder"] == "descending" and r.query["max_results"] == "25" for r in requests)
    records = [r for p in pages for r in p.records]
    assert len(records) == 30 and min(r["published"] for r in records) >= "2026-11-08"


def test_arxiv_pages_until_total_and_window_end(fake_sources: FakeSources) -> None:
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 1), 3, 20, rng=random.Random(5),
                                               categories=("cs.CL",)))
    client = arxiv_client(fake_sources, page_size=25)
    pages = list(client.category_pages("cs.CL", since=date(2026, 10, 1), until=date(2026, 11, 2)))
    assert [p.start for p in pages] == [0, 25, 50]  # 60 entries: runs out at totalResults
    records = [r for p in pages for r in p.records]
    assert len(records) == 40 and max(r["published"] for r in records) < "2026-11-03"


def test_arxiv_retries_an_empty_page_inside_the_total(fake_sources: FakeSources) -> None:
    fake_sources.add_arxiv(*make_arxiv_entries(date(2026, 11, 1), 1, 30, rng=random.Random(6),
                                               categories=("cs.LG",)))
    empty = render_atom([], total=30, start=25, per_page=25, query="search_query=cat:cs.LG")
    fake_sources.fail("start=25", Reply(200, empty))
    pages = list(arxiv_client(fake_sources, page_size=25).category_pages("cs.LG", since=date(2026, 11, 1)))
    assert sum(len(p.records) for p in pages) == 30
    assert len(fake_sources.seen("start=25")) == 2


def test_arxiv_by_ids_returns_the_newest_version(fake_sources: FakeSources) -> None:
    fake_sources.add_arxiv(
        arxiv_entry("2611.00042", "First Title", published="2026-11-02T10:00:00Z", version=1),
        arxiv_entry("2611.00042", "Revised Title", published="2026-11-02T10:00:00Z", version=2,
                    updated="2026-11-15T08:00:00Z"),
        arxiv_entry("2611.00043", "Another Paper", published="2026-11-02T11:00:00Z"),
    )
    records = arxiv_client(fake_sources).by_ids(["2611.00042", "2611.00043", "2611.09999"])
    assert [(r["id"], r["version"], r["title"]) for r in records] == [
        ("2611.00042", 2, "Revised Title"), ("2611.00043", 1, "Another Paper")]
    assert fake_sources.seen("id_list")[0].query["id_list"] == "2611.00042,2611.00043,2611.09999"


def test_arxiv_error_feed_becomes_its_message(fake_sources: FakeSources) -> None:
    fake_sources.fail("id_list", Reply(400, load_fixture("arxiv/error_bad_id.xml")))
    with pytest.raises(SourceError, match=r"arXiv says: incorrect id format for 2611\.1450$"):
        arxiv_client(fake_sources).by_ids(["2611.1450"])
    assert len(fake_sources.seen("id_list")) == 1  # a 400 is not retried


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (load_fixture("arxiv/query_cs_LG.xml")[:2500], "response is not well-formed XML"),
        (b"<!DOCTYPE html><html><body>Rate exceeded.</body></html>", "response is not an Atom feed"),
        (b"", "response is not an Atom feed (empty body)"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', "no opensearch:totalResults"),
    ],
    ids=["truncated-xml", "html", "empty", "not-arxiv"],
)
def test_malformed_arxiv_payloads_are_clear_errors(fake_sources: FakeSources, body: bytes, message: str) -> None:
    fake_sources.fail("cat%3Acs.LG", Reply(200, body), times=None)
    with pytest.raises(SourceError, match=r"^arXiv cat:cs.LG start=0: ") as caught:
        list(arxiv_client(fake_sources).category_pages("cs.LG", since=DAY))
    assert message in str(caught.value)
