"""The paper sources against a local server speaking the real Hugging Face and arXiv formats: every field
mapped, pagination, and every way a response can go wrong ending as one clear `SourceError`."""

from __future__ import annotations

import itertools
import random
import threading
import time
from datetime import date
from pathlib import Path

import orjson
import pytest
from fake_sources import FakeSources, arxiv_entry, load_fixture, make_arxiv_entries, make_hf_day, render_atom
from local_http import Reply

from bot.sources import (
    ArxivClient,
    HFClient,
    HttpClient,
    RateLimiter,
    SourceError,
    SourceNotFound,
    build_sources,
)

DAY = date(2026, 11, 20)


def http(retries: int = 2, timeout: float = 2.0, limiter: RateLimiter | None = None) -> HttpClient:
    return HttpClient(timeout=timeout, retries=retries, backoff=0.01, limiter=limiter)


def hf_client(fake: FakeSources, **kwargs: object) -> HFClient:
    page_size = kwargs.pop("page_size", 100)
    return HFClient(fake.hf_api_url, http(**kwargs), page_size=page_size)  # type: ignore[arg-type]


def arxiv_client(fake: FakeSources, page_size: int = 200, **kwargs: object) -> ArxivClient:
    return ArxivClient(fake.arxiv_api_url, http(**kwargs), page_size=page_size)  # type: ignore[arg-type]


# --- Hugging Face -----------------------------------------------------------------------------------------

def test_daily_papers_fixture_maps_every_field(fake_sources: FakeSources) -> None:
    fake_sources.add_hf_day("2026-11-20", orjson.loads(load_fixture("hf/daily_papers_2026-11-20.json")))
    records = {r["id"]: r for r in hf_client(fake_sources).daily(DAY)}

    assert list(records) == ["2611.14502", "2611.14890", "2611.13007"]
    moe = records["2611.14502"]
    assert moe["title"] == "Scaling Laws for Sparse Mixture-of-Experts: Compute-Optimal Routing at Trillion-Token Scale"
    assert moe["authors"] == ["Mei Tanaka", "Jonas Müller", "Priya Raghavan"]
    assert moe["abstract"].startswith("We study how the number of experts") and "\n" not in moe["abstract"]
    assert moe["published"] == "2026-11-19T18:59:59Z"
    assert moe["upvotes"] == 42 and moe["github_stars"] == 318
    assert moe["keywords"] == ["Mixture-of-Experts", "scaling laws", "routing granularity"]
    assert moe["links"]["hf"] == "https://huggingface.co/papers/2611.14502"
    assert moe["links"]["github"] == "https://github.com/example-lab/moe-scaling"
    assert moe["links"]["abs"] == "https://arxiv.org/abs/2611.14502"
    assert moe["sources"] == ["hf"] and moe["hf_date"] == "2026-11-20"

    # ai_keywords and githubRepo at item level, projectPage inside paper.
    vid = records["2611.14890"]
    assert vid["keywords"] == ["retrieval-augmented generation", "long video understanding", "multimodal models"]
    assert vid["links"]["github"] == "https://github.com/example-university/vidrag"
    assert vid["links"]["project"] == "https://vidrag.github.io"

    # Nulls everywhere but id and paper.title; the title keeps no line breaks.
    tiny = records["2611.13007"]
    assert tiny["title"] == "Tiny Recursive Reasoners"
    assert tiny["authors"] == [] and tiny["abstract"] == "" and tiny["keywords"] == []
    assert tiny["upvotes"] is None and tiny["published"] is None
    assert "github" not in tiny["links"]


def test_single_paper_endpoint_and_unknown_paper(fake_sources: FakeSources) -> None:
    fake_sources.hf_papers["2611.14890"] = orjson.loads(load_fixture("hf/paper_2611.14890.json"))
    client = hf_client(fake_sources)

    record = client.paper("2611.14890")
    assert record["title"] == "VidRAG: Retrieval-Augmented Long Video Understanding"
    assert (record["upvotes"], record["github_stars"], record["hf_date"]) == (23, 54, None)
    with pytest.raises(SourceNotFound, match=r"Hugging Face paper 2611\.99999: not found"):
        client.paper("2611.99999")
    assert len(fake_sources.seen("/papers/2611.99999")) == 1  # a 404 is an answer, not retried


def test_daily_papers_follows_pages(fake_sources: FakeSources) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 120, rng=random.Random(1)))
    records = hf_client(fake_sources, page_size=50).daily(DAY)

    assert len({r["id"] for r in records}) == 120
    pages = fake_sources.seen("daily_papers")
    assert [(r.query["p"], r.query["limit"], r.query["date"]) for r in pages] == [
        ("0", "50", "2026-11-20"), ("1", "50", "2026-11-20"), ("2", "50", "2026-11-20")]


def test_daily_papers_stops_when_the_server_ignores_the_page_parameter(fake_sources: FakeSources) -> None:
    page = orjson.dumps(make_hf_day("2026-11-20", 10, rng=random.Random(2)))
    fake_sources.fail("daily_papers", Reply.json(page), times=None)
    records = hf_client(fake_sources, page_size=10).daily(DAY)
    assert len(records) == 10
    assert len(fake_sources.seen("daily_papers")) == 2


def test_an_empty_day_is_no_papers_not_an_error(fake_sources: FakeSources) -> None:
    assert hf_client(fake_sources).daily(date(2026, 11, 22)) == []


def test_an_item_without_an_arxiv_id_is_skipped_not_fatal(fake_sources: FakeSources) -> None:
    items = make_hf_day("2026-11-20", 3, rng=random.Random(3))
    items[1]["paper"]["id"] = None
    fake_sources.add_hf_day("2026-11-20", items)
    assert [r["id"] for r in hf_client(fake_sources).daily(DAY)] == ["2611.00001", "2611.00003"]


# --- arXiv ------------------------------------------------------------------------------------------------

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


# --- what can go wrong on the wire ------------------------------------------------------------------------

def test_a_500_that_recovers_is_retried(fake_sources: FakeSources) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 5, rng=random.Random(7)))
    fake_sources.fail("daily_papers", Reply(500, b"upstream error"), times=2)
    assert len(hf_client(fake_sources, retries=2).daily(DAY)) == 5
    assert len(fake_sources.seen("daily_papers")) == 3


def test_a_500_that_never_recovers_names_the_fetch(fake_sources: FakeSources) -> None:
    fake_sources.fail("daily_papers", Reply(503, b"down"), times=None)
    with pytest.raises(SourceError) as caught:
        hf_client(fake_sources, retries=2).daily(DAY)
    assert str(caught.value) == ("Hugging Face daily_papers for 2026-11-20: HTTP 503 Service Unavailable "
                                 "(after 3 attempts)")


def test_retry_after_is_honoured(fake_sources: FakeSources) -> None:
    fake_sources.fail("daily_papers", Reply(429, b"slow down", {"Retry-After": "0.3"}))
    hf_client(fake_sources, retries=1).daily(DAY)
    first, second = fake_sources.seen("daily_papers")
    assert second.at - first.at >= 0.3


def test_a_timeout_is_retried_then_reported(fake_sources: FakeSources) -> None:
    fake_sources.add_hf_day("2026-11-20", make_hf_day("2026-11-20", 2, rng=random.Random(8)))
    fake_sources.fail("daily_papers", Reply(200, b"[]", delay=1.0))
    assert len(hf_client(fake_sources, retries=1, timeout=0.3).daily(DAY)) == 2  # second try answers fast

    fake_sources.fail("daily_papers", Reply(200, b"[]", delay=1.0), times=None)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"for 2026-11-20: timed out after 0\.3s \(after 2 attempts\)$"):
        hf_client(fake_sources, retries=1, timeout=0.3).daily(DAY)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.json(b"<html><h1>502 Bad Gateway</h1></html>"), "response is not valid JSON"),
        (Reply.json(b'[{"paper": {"id": "2611.00001", "title": "Cut'), "response is not valid JSON"),
        (Reply.json(b'{"error": "Invalid date"}'), "expected a JSON array, got an object"),
        (Reply.json(b'[1, 2, 3]'), "item 0 is not an object with a 'paper' object"),
    ],
    ids=["html", "truncated-json", "object-not-array", "wrong-items"],
)
def test_malformed_hf_payloads_are_clear_errors(fake_sources: FakeSources, reply: Reply, message: str) -> None:
    fake_sources.fail("daily_papers", reply, times=None)
    with pytest.raises(SourceError, match=r"^Hugging Face daily_papers for 2026-11-20") as caught:
        hf_client(fake_sources).daily(DAY)
    assert message in str(caught.value)
    assert len(fake_sources.seen("daily_papers")) == 1  # a bad payload is not a transport error: no retry


def test_a_body_cut_off_by_the_connection_is_retried(fake_sources: FakeSources) -> None:
    body = orjson.dumps(make_hf_day("2026-11-20", 20, rng=random.Random(9)))
    fake_sources.fail("daily_papers", Reply(200, body, cut_at=len(body) // 2), times=None)
    with pytest.raises(SourceError, match=r"response cut off .*\(after 3 attempts\)$"):
        hf_client(fake_sources, retries=2).daily(DAY)
    assert len(fake_sources.seen("daily_papers")) == 3


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


def test_nobody_listening_is_a_connection_error(fake_sources: FakeSources) -> None:
    client = HFClient("http://127.0.0.1:9/api", http(retries=1))  # port 9 (discard): nothing listens
    with pytest.raises(SourceError, match=r"^Hugging Face daily_papers for 2026-11-20: cannot connect \(.*"
                                          r"\(after 2 attempts\)$"):
        client.daily(DAY)


# --- arXiv courtesy rule --------------------------------------------------------------------------------

def test_rate_limiter_spaces_arxiv_requests(fake_sources: FakeSources) -> None:
    fake_sources.add_arxiv(arxiv_entry("2611.00001", "A Paper", published="2026-11-02T10:00:00Z"))
    client = arxiv_client(fake_sources, limiter=RateLimiter(0.2))
    for _ in range(3):
        client.by_ids(["2611.00001"])
    # Threads share the limiter: they queue, never hit the server together.
    threads = [threading.Thread(target=client.by_ids, args=(["2611.00001"],)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    arrivals = [r.at for r in fake_sources.seen("id_list")]
    assert len(arrivals) == 6
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.2, gaps


def test_rate_limiter_also_spaces_retries(fake_sources: FakeSources) -> None:
    fake_sources.add_arxiv(arxiv_entry("2611.00001", "A Paper", published="2026-11-02T10:00:00Z"))
    fake_sources.fail("id_list", Reply(500))
    arxiv_client(fake_sources, limiter=RateLimiter(0.2), retries=1).by_ids(["2611.00001"])
    first, second = fake_sources.seen("id_list")
    assert second.at - first.at >= 0.2


def test_build_sources_applies_the_settings_and_shares_the_arxiv_limiter(fake_sources: FakeSources,
                                                                        tmp_path: Path) -> None:
    settings = fake_sources.settings(tmp_path, PAPERBOT_HTTP_TIMEOUT="7", PAPERBOT_HTTP_RETRIES="4",
                                     PAPERBOT_ARXIV_DELAY="0.25")
    first, second = build_sources(settings), build_sources(settings)
    assert first.arxiv is not None and second.arxiv is not None and first.hf is not None
    assert (first.hf.http.timeout, first.hf.http.retries) == (7.0, 4)
    assert first.hf.http.limiter is None  # only arXiv asks for spacing
    assert first.arxiv.http.limiter is second.arxiv.http.limiter
    assert first.arxiv.http.limiter is not None and first.arxiv.http.limiter.interval == 0.25
