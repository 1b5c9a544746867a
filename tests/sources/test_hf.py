"""The Hugging Face client against a local server speaking the real format: every field mapped, pagination,
odd items, and malformed payloads ending as one clear `SourceError`."""

from __future__ import annotations

import random
from datetime import date

import orjson
import pytest
from fake_sources import FakeSources, load_fixture, make_hf_day
from local_http import Reply
from source_clients import DAY, hf_client

from bot.sources import SourceError, SourceNotFound


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
