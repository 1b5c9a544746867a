"""The sources' HTTP client on the wire: retries of 5xx, Retry-After, timeouts, cut-off bodies, nobody
listening, and the rate limiter that spaces arXiv requests (retries included)."""

from __future__ import annotations

import itertools
import random
import threading
import time

import orjson
import pytest
from fake_sources import FakeSources, arxiv_entry, make_hf_day
from local_http import Reply
from source_clients import DAY, arxiv_client, hf_client, http

from bot.sources import HFClient, RateLimiter, SourceError


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


def test_a_body_cut_off_by_the_connection_is_retried(fake_sources: FakeSources) -> None:
    body = orjson.dumps(make_hf_day("2026-11-20", 20, rng=random.Random(9)))
    fake_sources.fail("daily_papers", Reply(200, body, cut_at=len(body) // 2), times=None)
    with pytest.raises(SourceError, match=r"response cut off .*\(after 3 attempts\)$"):
        hf_client(fake_sources, retries=2).daily(DAY)
    assert len(fake_sources.seen("daily_papers")) == 3


def test_nobody_listening_is_a_connection_error(fake_sources: FakeSources) -> None:
    client = HFClient("http://127.0.0.1:9/api", http(retries=1))  # port 9 (discard): nothing listens
    with pytest.raises(SourceError, match=r"^Hugging Face daily_papers for 2026-11-20: cannot connect \(.*"
                                          r"\(after 2 attempts\)$"):
        client.daily(DAY)


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
