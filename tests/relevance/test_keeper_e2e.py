"""The bot keeps paper vectors up to date by itself (bot/relevance/keeper.py through bot/services.py), with the
embedding model on (PAPERBOT_EMBEDDINGS=auto): papers ingested from the sources get a vector in `vectors.bin`
in the background, a restart loads them from the file instead of computing them again, and a paper that arrives
while the bot runs gets its vector too."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from embedding_model import needs_model
from fake_sources import FakeSources, hf_item
from numpy.typing import NDArray

from bot.config import Settings
from bot.ingest import ingest
from bot.papers import new_record
from bot.relevance.encoder import TextEncoder, paper_text
from bot.relevance.engine import VECTORS_FILE
from bot.relevance.vectors import PaperVectors
from bot.services import Services

pytestmark = [
    pytest.mark.e2e,
    needs_model,
]

DAY = "2026-11-20"
WAIT = 60.0  # seconds the keeper may take (a few papers take well under one)
PAPERS = [
    ("2611.00001", "Sparse autoencoders find interpretable features in vision transformers",
     "We train sparse autoencoders on the residual stream of a vision transformer and find monosemantic features."),
    ("2611.00002", "Scaling diffusion transformers for minute-long video generation",
     "A sparse spatio-temporal attention and a curriculum over clip length let diffusion transformers make long "
     "videos."),
    ("2611.00003", "Teaching robots to grasp unfamiliar objects from few demonstrations",
     "A robot arm learns to pick up new household items after watching a handful of human demonstrations."),
    ("2611.00004", "Predicting protein conformations from sequence with equivariant networks",
     "Equivariant graph networks map amino-acid sequences to three-dimensional structures."),
]


class EncodeCounter:
    """Counts the texts every TextEncoder of this process embeds (the class's method, wrapped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        self._lock = threading.Lock()
        real = TextEncoder.encode

        def counting(encoder: TextEncoder, texts: Sequence[str], *, workers: int | None = None) -> NDArray[np.float32]:
            with self._lock:
                self.texts.extend(texts)
            return real(encoder, texts, workers=workers)

        monkeypatch.setattr(TextEncoder, "encode", counting)


@pytest.fixture
def sources() -> Iterator[FakeSources]:
    fake = FakeSources()
    with fake:
        fake.add_hf_day(DAY, [hf_item(pid, title, day=DAY, abstract=abstract, authors=["Ada Lovelace"],
                                      rng=random.Random(pid)) for pid, title, abstract in PAPERS])
        yield fake


def settings(sources: FakeSources, data_dir: Path) -> Settings:
    return sources.settings(data_dir, PAPERBOT_EMBEDDINGS="auto")


def stored_ids(data_dir: Path, model: str) -> set[str]:
    """Which of this test's papers `vectors.bin` holds, read as another process would (read-only)."""
    vectors = PaperVectors(384, model, data_dir / VECTORS_FILE, read_only=True)
    return {pid for pid in [*(p for p, _, _ in PAPERS), "2611.00099"] if pid in vectors}


def embedded_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("relevance.embedded")]


def test_ingested_papers_get_vectors_that_a_restart_loads_instead_of_computing(
        sources: FakeSources, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="bot.relevance.keeper")
    counter = EncodeCounter(monkeypatch)
    ids = {pid for pid, _, _ in PAPERS}

    with Services.open(settings(sources, tmp_path)) as services:
        assert services.relevance.semantic
        report = ingest(services.archive, services.sources, dates=[date.fromisoformat(DAY)])
        assert set(report.new) == ids
        assert services.keeper.wait_idle(WAIT)
        assert services.relevance.vectors is not None
        assert services.relevance.vectors.missing(ids) == []
        model = services.relevance.vectors.model
        # What the keeper stored is the paper's own vector (title and abstract), not a placeholder.
        got, _ = services.relevance.vectors.get(["2611.00003"])
        assert services.relevance.encoder is not None
        assert float(got[0] @ services.relevance.encoder.encode(["robot grasping from demonstrations"])[0]) > 0.4
    assert stored_ids(tmp_path, model) == ids, "every paper's vector is in vectors.bin"
    assert len(embedded_logs(caplog)) >= 1
    assert len(counter.texts) >= len(ids)
    size = (tmp_path / VECTORS_FILE).stat().st_size

    caplog.clear()
    counter.texts.clear()
    with Services.open(settings(sources, tmp_path)) as services:
        assert services.relevance.vectors is not None
        assert services.relevance.vectors.missing(ids) == [], "loaded from the file at start-up"
        assert services.keeper.wait_idle(WAIT)
    assert embedded_logs(caplog) == [], "nothing was embedded again"
    assert counter.texts == [], "the encoder was not asked for any paper"
    assert (tmp_path / VECTORS_FILE).stat().st_size == size, "nothing appended"


def test_a_paper_added_while_the_bot_runs_gets_its_vector(
        sources: FakeSources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = EncodeCounter(monkeypatch)
    with Services.open(settings(sources, tmp_path)) as services:
        ingest(services.archive, services.sources, dates=[date.fromisoformat(DAY)])
        assert services.keeper.wait_idle(WAIT)
        vectors = services.relevance.vectors
        assert vectors is not None
        counter.texts.clear()

        shared = new_record("2611.00099", source="arxiv", title="Mechanistic interpretability of induction heads",
                            abstract="We reverse-engineer the circuits small transformers use to copy earlier tokens.",
                            published="2026-11-19T00:00:00Z")
        services.archive.upsert([shared])
        assert services.keeper.wait_idle(WAIT)
        assert "2611.00099" in vectors
        assert len(counter.texts) == 1 and counter.texts[0].startswith("Mechanistic interpretability"), \
            "only the new paper is embedded"
        # Seen again (a later sighting changes the record): its stored vector is kept, not recomputed.
        services.archive.upsert([{**shared, "upvotes": 12}])
        assert services.keeper.wait_idle(WAIT)
        assert len(counter.texts) == 1
        model = vectors.model
    assert "2611.00099" in stored_ids(tmp_path, model)
    # After a restart, the nearest paper to its own subject comes from the stored vector: only the query is embedded.
    counter.texts.clear()
    query = "understanding how transformers copy tokens with induction heads"
    with Services.open(settings(sources, tmp_path)) as services:
        assert services.keeper.wait_idle(WAIT)
        assert [pid for pid, _ in services.relevance.similar(query, 1)] == ["2611.00099"]
    assert counter.texts == [query]


def test_with_embeddings_off_nothing_is_embedded_or_written(
        sources: FakeSources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = EncodeCounter(monkeypatch)
    with Services.open(sources.settings(tmp_path)) as services:  # the test default: PAPERBOT_EMBEDDINGS=off
        assert not services.relevance.semantic
        ingest(services.archive, services.sources, dates=[date.fromisoformat(DAY)])
        assert services.keeper.wait_idle(WAIT)
        assert len(services.archive) == len(PAPERS)
    assert counter.texts == []
    assert not (tmp_path / VECTORS_FILE).exists()


def test_a_paper_whose_abstract_arrives_later_gets_a_vector_of_its_abstract(
        sources: FakeSources, tmp_path: Path) -> None:
    """Regression: the vector used to stay title-only forever once stored (embed_missing skipped known ids)."""
    title = "Induction heads"
    abstract = "We reverse-engineer the circuits small transformers use to copy earlier tokens of their context."
    with Services.open(settings(sources, tmp_path)) as services:
        services.archive.upsert([new_record("2611.00098", source="hf", title=title,
                                            published="2026-11-19T00:00:00Z")])
        assert services.keeper.wait_idle(WAIT)
        services.archive.upsert([new_record("2611.00098", source="arxiv", title=title, abstract=abstract,
                                            published="2026-11-19T00:00:00Z")])
        assert services.keeper.wait_idle(WAIT)
        record = services.archive.get("2611.00098")
        assert record is not None and record.get("abstract") == abstract
        vectors, encoder = services.relevance.vectors, services.relevance.encoder
        assert vectors is not None and encoder is not None
        stored, _ = vectors.get(["2611.00098"])
        expected = encoder.encode([paper_text(title, abstract)])[0]
        assert float(stored[0] @ expected) > 0.99
