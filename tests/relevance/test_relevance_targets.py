"""Relevance on real arXiv text, measured on the held-out (test) half of the labels in this folder.

Topic matching is scored as bench/relevance_eval.py scores it (a digest's TopicMatcher at "normal"
strictness) and search as bench/search_relevance_eval.py does (MRR@5 of the first page). The floors:

- search: the issue's targets (MRR@5 >= 0.90 overall, >= 0.80 for paraphrase and acronym queries);
- topics: the issue asks for macro precision and recall >= 0.90, which this matcher does not reach (see
  tests/relevance/README.md). The floors below are what it does reach on the test half, rounded down by
  about 0.02, and a margin over the old matcher (search index `match`) on the same labels, so a change that
  loses the gain fails here: recall at least 0.05 above the old matcher's, precision no more than 0.02 below.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench")]

from embedding_model import needs_model  # noqa: E402
from real_corpus import load_records  # noqa: E402
from relevance_eval import LABELS, TOPICS, Matcher, evaluate, load_labels  # noqa: E402
from search_relevance_eval import QUERIES, TARGETS, load_queries, run_query, score, summarise  # noqa: E402

from bot.digest.strictness import STRICTNESS  # noqa: E402
from bot.papers import PaperRecord  # noqa: E402
from bot.search import SearchIndex  # noqa: E402

TOPIC_PRECISION = 0.74
TOPIC_RECALL = 0.58
GAIN_RECALL = 0.05
LOSS_PRECISION = 0.02


@pytest.fixture(scope="module")
def records() -> list[PaperRecord]:
    return load_records()


@pytest.fixture(scope="module")
def index(records: list[PaperRecord]) -> Iterator[SearchIndex]:
    yield SearchIndex.build(records, workers=1)


@pytest.fixture(scope="module")
def matcher(records: list[PaperRecord], index: SearchIndex) -> Matcher:
    return Matcher(index, records, minimum=STRICTNESS["normal"], baseline=False, lexical=False)


def macro(match: Matcher) -> dict[str, Any]:
    held_out = [t for t in load_labels(TOPICS, LABELS) if t["split"] == "test"]
    return evaluate(match, held_out)["macro"]["test"]


@needs_model
def test_topic_matching_on_the_held_out_topics_beats_the_old_matcher(records: list[PaperRecord],
                                                                      index: SearchIndex, matcher: Matcher) -> None:
    new = macro(matcher)
    old = macro(Matcher(index, records, minimum=0.0, baseline=True, lexical=False))
    assert new["topics"] == 9
    assert new["precision"] >= TOPIC_PRECISION, new
    assert new["recall"] >= TOPIC_RECALL, new
    assert new["recall"] >= old["recall"] + GAIN_RECALL, (new, old)
    assert new["precision"] >= old["precision"] - LOSS_PRECISION, (new, old)


@needs_model
def test_stricter_levels_trade_recall_for_precision_on_the_held_out_topics(matcher: Matcher) -> None:
    figures = {level: macro(matcher.at(STRICTNESS[level])) for level in ("broad", "normal", "strict")}
    assert figures["broad"]["recall"] > figures["normal"]["recall"] > figures["strict"]["recall"], figures
    assert figures["broad"]["precision"] < figures["normal"]["precision"] < figures["strict"]["precision"], figures


@needs_model
def test_search_on_the_held_out_queries_meets_the_targets(records: list[PaperRecord]) -> None:
    from relevance_eval import open_relevance

    index = SearchIndex.build(records, workers=1)
    index.semantic = open_relevance(records)
    rows = []
    for item in load_queries(QUERIES):
        if item["split"] != "test":
            continue
        ids, _ = run_query(index, item["query"])
        rows.append({"kind": item["kind"], "split": "test", **score(item, ids)})
    summary = summarise(rows)["test"]
    for kind, target in TARGETS.items():
        assert summary[kind]["mrr5"] >= target, (kind, summary[kind])
