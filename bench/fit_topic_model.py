"""Fit the topic model (bot/relevance/topic_model.json) on the development half of the labelled topics.

For every dev topic of tests/relevance/topics.json, every corpus paper is one example: its features
(bot.relevance.topic_scorer.FEATURES, computed by the relevance engine exactly as a digest computes them)
and whether it was judged about the topic (tests/relevance/topics_labels.jsonl; an unjudged paper is not).
Two L2-regularised logistic regressions are fit by Newton's method: "semantic" with the paper vectors and
"lexical" with the semantic features zeroed (for a paperbot without the embedding model). The test half is
never read here; bench/relevance_eval.py reports on it.

    .venv/bin/python bench/fit_topic_model.py            # fit, print dev figures, write the model
    .venv/bin/python bench/fit_topic_model.py --dry-run  # fit and print only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from real_corpus import load_records  # noqa: E402
from relevance_eval import LABELS, TOPICS, load_labels, open_relevance  # noqa: E402

from bot.relevance.matcher import plain_words  # noqa: E402
from bot.relevance.topic_scorer import FEATURES, MODEL_FILE  # noqa: E402
from bot.search.query import parse_query  # noqa: E402

L2 = 0.01  # per 1,000 examples
SEMANTIC = [i for i, name in enumerate(FEATURES) if name in ("semantic", "semantic_z", "neighbourhood_z", "has_vector")]


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    penalty = np.r_[np.full(d, l2 * n / 1000), 1e-6]
    theta = np.zeros(d + 1)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(xb @ theta)))
        gradient = xb.T @ (p - y) + penalty * theta
        hessian = (xb.T * (p * (1 - p))) @ xb + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-9:
            break
    return theta[:-1], float(theta[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    records = load_records()
    topics = [t for t in load_labels(TOPICS, LABELS) if t["split"] == "dev"]
    relevance = open_relevance(records, fitting=True)
    rows, labels = [], []
    for t in topics:
        prepared = relevance.prepared(t["topic"], plain_words(parse_query(t["topic"])))
        matrix, _, _ = relevance.feature_rows(prepared, records)
        rows.append(matrix)
        labels.append(np.asarray([r["id"] in t["relevant"] for r in records], dtype=np.float64))
    x, y = np.vstack(rows), np.concatenate(labels)
    lexical_x = x.copy()
    lexical_x[:, SEMANTIC] = 0.0
    model = {}
    for kind, data in (("semantic", x), ("lexical", lexical_x)):
        weights, bias = fit(data, y)
        model[kind] = {"features": list(FEATURES), "weights": [round(float(w), 6) for w in weights],
                       "bias": round(bias, 6)}
        print(kind, {f: round(float(w), 2) for f, w in zip(FEATURES, weights, strict=True)}, round(bias, 2))
    if not args.dry_run:
        MODEL_FILE.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
