"""The real arXiv records (tests/relevance/corpus, a copy of ../shared/corpora) as paperbot records, for the
relevance evaluations and tests.

`PAPERBOT_CORPUS` overrides the path (.jsonl or .jsonl.gz). Every record gets the same fixed `first_seen`, so
runs build identical indexes (ties broken by date rank the same every time)."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.papers import PaperRecord, new_record  # noqa: E402

CORPUS = Path(os.environ.get("PAPERBOT_CORPUS") or ROOT / "tests" / "relevance" / "corpus" / "arxiv-2025-05.jsonl.gz")
VECTORS = ROOT / "tests" / "relevance" / "corpus" / "vectors.bin"  # the corpus's paper vectors (bench/embed_corpus.py)
SEEN_AT = "2025-06-01T00:00:00Z"


def load_records(path: Path = CORPUS) -> list[PaperRecord]:
    records = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            categories = raw.get("categories") or []
            records.append(new_record(
                raw["id"], source="arxiv", seen_at=SEEN_AT, title=raw.get("title"),
                abstract=raw.get("abstract"), authors=raw.get("authors") or [], categories=categories,
                primary_category=categories[0] if categories else None))
    return records
