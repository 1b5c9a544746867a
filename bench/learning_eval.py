"""Learning from the team, simulated on real arXiv papers: does a channel's feedback improve what it gets next?

For each labelled topic (tests/relevance/topics.json), a channel watches it at `--strictness` (default
broad). The corpus is split at random (seeded) into the papers that arrived before (the channel's past) and
after (what it has not seen yet). The channel is offered the past papers its digest would post, in arrival
order; a simulated team reacts to the first 30: a save when the paper is judged about the topic
(tests/relevance/topics_labels.jsonl), "Not relevant" otherwise. The channel's model
(bot/relevance/preferences.py, fit exactly as digests fit it: paper vectors and topic-model logits) then
re-scores the unseen papers. Reported: macro precision and recall on the unseen papers at the channel's
threshold, without and with the learned preferences, per split of the topics.

    .venv/bin/python bench/learning_eval.py                 # broad strictness, all topics
    .venv/bin/python bench/learning_eval.py --strictness normal --seeds 5
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from real_corpus import load_records  # noqa: E402
from relevance_eval import LABELS, TOPICS, load_labels, open_relevance  # noqa: E402

from bot.digest.strictness import STRICTNESS  # noqa: E402
from bot.papers import PaperRecord  # noqa: E402
from bot.relevance.engine import Relevance  # noqa: E402
from bot.relevance.matcher import TopicMatcher  # noqa: E402
from bot.relevance.preferences import ChannelModel, Example  # noqa: E402
from bot.search import SearchIndex  # noqa: E402

FEEDBACK = 30  # papers the simulated team reacts to


def _pr(chosen: set[str], relevant: set[str]) -> tuple[float, float]:
    hits = len(chosen & relevant)
    return (hits / len(chosen) if chosen else 1.0), (hits / len(relevant) if relevant else 1.0)


def simulate_topic(topic: str, relevant: set[str], matcher: TopicMatcher, relevance: Relevance,
                   records: list[PaperRecord], minimum: float, seed: int) -> dict[str, Any] | None:
    order = list(records)
    random.Random(f"{seed}:{topic}").shuffle(order)
    past, future = order[: len(order) // 2], order[len(order) // 2:]
    scored_past = matcher.match(topic, {r["id"]: r for r in past}, floor=0.0)
    offered = [r["id"] for r in past if r["id"] in scored_past and scored_past[r["id"]].probability >= minimum]
    feedback = offered[:FEEDBACK]
    if len(feedback) < 5:
        return None  # too quiet a topic to learn from in this simulation
    assert relevance.vectors is not None
    vectors, present = relevance.vectors.get(feedback)
    examples = [Example(vectors[i], scored_past[pid].logit, 1.0 if pid in relevant else 0.0, 1.0)
                for i, pid in enumerate(feedback) if present[i]]
    model = ChannelModel.fit(examples)
    scored = matcher.match(topic, {r["id"]: r for r in future}, floor=0.0)
    future_relevant = relevant & {r["id"] for r in future}
    if not future_relevant:
        return None
    before = {pid for pid, m in scored.items() if m.probability >= minimum}
    after = before
    if model is not None:
        ids = list(scored)
        future_vectors, _ = relevance.vectors.get(ids)
        logits = model.adjust(future_vectors, np.asarray([scored[pid].logit for pid in ids]))
        after = {pid for pid, z in zip(ids, logits.tolist(), strict=True) if 1 / (1 + math.exp(-z)) >= minimum}
    p0, r0 = _pr(before, future_relevant)
    p1, r1 = _pr(after, future_relevant)
    return {"topic": topic, "feedback": len(feedback), "saved": sum(e.label for e in examples),
            "before": {"precision": p0, "recall": r0, "posted": len(before)},
            "after": {"precision": p1, "recall": r1, "posted": len(after)}}


def simulate(topics: list[dict[str, Any]], records: list[PaperRecord], relevance: Relevance, minimum: float,
             seeds: int = 3) -> dict[str, Any]:
    matcher = TopicMatcher(SearchIndex.build(records, workers=1), relevance)
    rows = [row for seed in range(seeds) for t in topics
            if (row := simulate_topic(t["topic"], t["relevant"], matcher, relevance, records, minimum, seed))]

    def mean(stage: str, metric: str) -> float:
        return sum(r[stage][metric] for r in rows) / len(rows) if rows else 0.0

    return {"runs": len(rows), "rows": rows,
            "before": {"precision": mean("before", "precision"), "recall": mean("before", "recall")},
            "after": {"precision": mean("after", "precision"), "recall": mean("after", "recall")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strictness", choices=sorted(STRICTNESS), default="broad")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    records = load_records()
    relevance = open_relevance(records)
    labels = load_labels(TOPICS, LABELS)
    for split in ("dev", "test"):
        result = simulate([t for t in labels if t["split"] == split], records, relevance,
                          STRICTNESS[args.strictness], args.seeds)
        b, a = result["before"], result["after"]
        print(f"{split}: {result['runs']} channel runs ({args.seeds} seeds), strictness {args.strictness}: "
              f"precision {b['precision']:.3f} -> {a['precision']:.3f}, recall {b['recall']:.3f} -> {a['recall']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
