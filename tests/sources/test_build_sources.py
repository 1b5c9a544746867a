"""`build_sources`: the clients configured from the settings, one arXiv rate limiter shared by all."""

from __future__ import annotations

from pathlib import Path

from fake_sources import FakeSources

from bot.sources import build_sources


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
