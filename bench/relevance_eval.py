"""Topic relevance on real arXiv records: precision and recall of the digest's topic matcher per topic.

Builds paperbot's real search index (bot.search.SearchIndex) and relevance engine (bot.relevance: the
corpus's stored paper vectors, tests/relevance/corpus/vectors.bin, and acronyms learned from the corpus)
from the corpus records, made the way ingest makes them (bot.papers.new_record), matches every labelled
topic of tests/relevance/topics.json the way a digest does (bot.relevance.matcher.TopicMatcher at the
"normal" strictness, or `--min`; `--lexical` without vectors; `--baseline` the old `index.match`) and
scores the matched paper ids against tests/relevance/topics_labels.jsonl:

- precision: matched papers judged relevant / matched papers (1.0 when nothing is matched);
- recall: relevant papers matched / relevant papers.

A paper outside a topic's judged pool counts as not relevant (the pools include the matcher's own hits,
so every paper it returns was read). Reported per topic and as macro averages over topics, for the dev
and test halves separately. Tune on dev only; test is for the final figure (tests/relevance/README.md).

    .venv/bin/python bench/relevance_eval.py              # table
    .venv/bin/python bench/relevance_eval.py --json       # JSON on stdout
    .venv/bin/python bench/relevance_eval.py --misses     # dev false positives / negatives with titles

Prints only; writes nothing. Single-threaded index build (workers=1): a few seconds on 3,400 papers.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from real_corpus import CORPUS, VECTORS, load_records  # noqa: E402

from bot.digest.settings import STRICTNESS  # noqa: E402
from bot.papers import PaperRecord  # noqa: E402
from bot.relevance.engine import Relevance  # noqa: E402
from bot.relevance.matcher import TopicMatcher  # noqa: E402
from bot.relevance.vectors import PaperVectors  # noqa: E402
from bot.search import QueryError, SearchIndex  # noqa: E402

TOPICS = ROOT / "tests" / "relevance" / "topics.json"
LABELS = ROOT / "tests" / "relevance" / "topics_labels.jsonl"
SPLITS = ("dev", "test")
TARGETS = {"precision": 0.90, "recall": 0.90}  # the macro targets on the held-out half



def load_labels(topics_path: Path, labels_path: Path) -> list[dict[str, Any]]:
    """Topics with their split and the set of ids judged relevant."""
    topics = json.loads(topics_path.read_text(encoding="utf-8"))
    relevant: dict[str, set[str]] = {t["topic"]: set() for t in topics}
    judged: dict[str, int] = dict.fromkeys(relevant, 0)
    with labels_path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            if item["topic"] not in relevant:
                raise SystemExit(f"label for a topic not in {topics_path.name}: {item['topic']!r}")
            judged[item["topic"]] += 1
            if item["relevant"]:
                relevant[item["topic"]].add(item["id"])
    out = []
    for t in topics:
        if t["split"] not in SPLITS or not relevant[t["topic"]]:
            raise SystemExit(f"bad topic in {topics_path.name}: {t['topic']!r}")
        out.append({"topic": t["topic"], "split": t["split"], "relevant": relevant[t["topic"]],
                    "judged": judged[t["topic"]]})
    return out


def open_relevance(records: list[PaperRecord], *, lexical: bool = False, fitting: bool = False) -> Relevance:
    """The relevance engine over the corpus: its stored vectors (unless `lexical`) and learned acronyms.
    `fitting`: with a blank topic model (bench/fit_topic_model.py reads features only)."""
    from bot.relevance.topic_scorer import FEATURES, TopicModel

    blank = TopicModel((0.0,) * len(FEATURES), 0.0) if fitting else None
    from bot.relevance.encoder import TextEncoder, bundled_model_dir
    from bot.relevance.engine import PAPER_TOKENS

    model = None if lexical else bundled_model_dir()
    if model is None:
        relevance = Relevance(encoder=None, vectors=None, model=blank, lexical_model=blank)
    else:
        encoder = TextEncoder(model, max_tokens=PAPER_TOKENS)
        vectors = PaperVectors(encoder.dimensions, encoder.name, VECTORS)
        if len(vectors) < len(records):
            raise SystemExit(f"{VECTORS} lacks vectors: run bench/embed_corpus.py")
        relevance = Relevance(encoder=encoder, vectors=vectors, model=blank, lexical_model=blank)
    relevance.learn(records)
    return relevance


class Matcher:
    """Paper ids a digest would count as matching a topic."""

    def __init__(self, index: SearchIndex, records: list[PaperRecord], *, minimum: float, baseline: bool,
                 lexical: bool) -> None:
        self.index, self.minimum, self.baseline = index, minimum, baseline
        self.records = {r["id"]: r for r in records}
        self.topic_matcher = None if baseline else TopicMatcher(index, open_relevance(records, lexical=lexical))
        self._probabilities: dict[str, dict[str, float]] = {}

    def probabilities(self, topic: str) -> dict[str, float]:
        """Every paper the topic may match, with its probability (1.0 for the old matcher's hits); cached."""
        if topic not in self._probabilities:
            try:
                if self.topic_matcher is None:
                    found = {hit.paper["id"]: 1.0 for hit in self.index.match(topic)}
                else:
                    found = {pid: m.probability for pid, m in self.topic_matcher.match(topic, self.records).items()}
            except QueryError:
                found = {}
            self._probabilities[topic] = found
        return self._probabilities[topic]

    def at(self, minimum: float) -> Matcher:
        """The same matcher (and cache) at another strictness."""
        other = copy.copy(self)
        other.minimum = minimum
        return other

    def __call__(self, topic: str) -> set[str]:
        return {pid for pid, p in self.probabilities(topic).items() if p >= self.minimum}


def score(matched: set[str], relevant: set[str]) -> dict[str, Any]:
    hits = matched & relevant
    return {
        "matched": len(matched), "relevant": len(relevant), "true_positives": len(hits),
        "precision": len(hits) / len(matched) if matched else 1.0,
        "recall": len(hits) / len(relevant),
        "false_positives": sorted(matched - relevant), "false_negatives": sorted(relevant - matched),
    }


def evaluate(match: Matcher, topics: list[dict[str, Any]]) -> dict[str, Any]:
    per_topic = []
    for t in topics:
        result = score(match(t["topic"]), t["relevant"])
        per_topic.append({"topic": t["topic"], "split": t["split"], "judged": t["judged"], **result})
    macro = {}
    for split in SPLITS:
        rows = [r for r in per_topic if r["split"] == split]
        macro[split] = {
            "topics": len(rows),
            "precision": sum(r["precision"] for r in rows) / len(rows) if rows else 0.0,
            "recall": sum(r["recall"] for r in rows) / len(rows) if rows else 0.0,
        }
    return {"topics": per_topic, "macro": macro, "targets": TARGETS}


def print_table(report: dict[str, Any]) -> None:
    for split in SPLITS:
        rows = [r for r in report["topics"] if r["split"] == split]
        print(f"\n{split}: {len(rows)} topics")
        print(f"  {'topic':36s} {'rel':>4s} {'match':>5s} {'tp':>4s} {'P':>6s} {'R':>6s}")
        for r in rows:
            print(f"  {r['topic']:36s} {r['relevant']:4d} {r['matched']:5d} {r['true_positives']:4d} "
                  f"{r['precision']:6.3f} {r['recall']:6.3f}")
        m = report["macro"][split]
        print(f"  {'macro':36s} {'':4s} {'':5s} {'':4s} {m['precision']:6.3f} {m['recall']:6.3f}")
    print(f"\ntargets (macro, test): precision >= {TARGETS['precision']:.2f}, recall >= {TARGETS['recall']:.2f}")


def print_misses(report: dict[str, Any], records: dict[str, PaperRecord]) -> None:
    for r in report["topics"]:
        if r["split"] != "dev" or not (r["false_positives"] or r["false_negatives"]):
            continue
        print(f"\n{r['topic']}  P={r['precision']:.3f} R={r['recall']:.3f}")
        for label, ids in (("FP", r["false_positives"]), ("FN", r["false_negatives"])):
            for pid in ids:
                print(f"  {label} {pid}  {records[pid]['title'][:110]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--misses", action="store_true", help="list dev false positives and negatives")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--min", type=float, default=STRICTNESS["normal"], help="minimum probability")
    parser.add_argument("--lexical", action="store_true", help="without paper vectors (no embedding model)")
    parser.add_argument("--baseline", action="store_true", help="the old matcher (index.match)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records = load_records(args.corpus)
    topics = load_labels(TOPICS, LABELS)
    index = SearchIndex.build(records, workers=1)
    report = evaluate(Matcher(index, records, minimum=args.min, baseline=args.baseline, lexical=args.lexical),
                      topics)
    report["corpus"] = {"path": str(args.corpus), "papers": len(records)}
    report["seconds"] = round(time.perf_counter() - started, 2)

    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        print(f"{len(records)} papers, {len(topics)} topics, {report['seconds']} s")
        print_table(report)
        if args.misses:
            print_misses(report, {r["id"]: r for r in records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
