"""Source clients pointed at the local fake sources (tests/fake_sources.py), with test-sized timeouts and
backoff."""

from __future__ import annotations

from datetime import date

from fake_sources import FakeSources

from bot.sources import ArxivClient, HFClient, HttpClient, RateLimiter

DAY = date(2026, 11, 20)


def http(retries: int = 2, timeout: float = 2.0, limiter: RateLimiter | None = None) -> HttpClient:
    return HttpClient(timeout=timeout, retries=retries, backoff=0.01, limiter=limiter)


def hf_client(fake: FakeSources, **kwargs: object) -> HFClient:
    page_size = kwargs.pop("page_size", 100)
    return HFClient(fake.hf_api_url, http(**kwargs), page_size=page_size)  # type: ignore[arg-type]


def arxiv_client(fake: FakeSources, page_size: int = 200, **kwargs: object) -> ArxivClient:
    return ArxivClient(fake.arxiv_api_url, http(**kwargs), page_size=page_size)  # type: ignore[arg-type]
