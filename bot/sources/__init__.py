"""Paper sources: Hugging Face Daily Papers and the arXiv API. They fetch and parse; they never store.

Build them once per process with `build_sources(settings)` so every arXiv request of the process shares
one rate limiter (it is also shared per host if several are built).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from bot.config import Settings
from bot.sources.arxiv import ArxivClient, ArxivPage, is_category
from bot.sources.hf import HFClient
from bot.sources.http import HttpClient, HTTPStatusError, RateLimiter, SourceError, SourceNotFound, shared_limiter

__all__ = [
    "ArxivClient",
    "ArxivPage",
    "HFClient",
    "HTTPStatusError",
    "HttpClient",
    "RateLimiter",
    "SourceError",
    "SourceNotFound",
    "Sources",
    "build_sources",
    "is_category",
]



@dataclass
class Sources:
    hf: HFClient | None = None
    arxiv: ArxivClient | None = None


def build_sources(settings: Settings, *, backoff: float | None = None) -> Sources:
    """Both clients, configured from settings (timeout, retries, arXiv delay); `backoff` is the first retry wait."""
    backoff = settings.http_backoff if backoff is None else backoff
    hf_http = HttpClient(timeout=settings.http_timeout, retries=settings.http_retries, backoff=backoff)
    limiter = shared_limiter(urlparse(settings.arxiv_api_url).netloc, settings.arxiv_delay)
    arxiv_http = HttpClient(timeout=settings.http_timeout, retries=settings.http_retries, backoff=backoff,
                            limiter=limiter)
    return Sources(hf=HFClient(settings.hf_api_url, hf_http), arxiv=ArxivClient(settings.arxiv_api_url, arxiv_http))
