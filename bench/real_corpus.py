"""The real arXiv records of ../shared/corpora as paperbot records, for the relevance evaluations.

`PAPERBOT_CORPUS` overrides the path. Every record gets the same fixed `first_seen`, so runs build identical
indexes (ties broken by date rank the same every time)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.papers import PaperRecord, new_record  # noqa: E402

CORPUS = Path(os.environ.get("PAPERBOT_CORPUS") or ROOT.parent / "shared" / "corpora" / "arxiv-2025-05.jsonl")
SEEN_AT = "2025-06-01T00:00:00Z"


def load_records(path: Path = CORPUS) -> list[PaperRecord]:
    records = []
    with path.open(encoding="utf-8") as handle:
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
