"""Search relevance on real arXiv records: MRR@5 and recall@10 of `/papers search` per query kind.

Builds paperbot's real search index (bot.search.SearchIndex) from the corpus records, made the way
ingest makes them (bot.papers.new_record), with the relevance engine's closeness in meaning (the corpus's
stored vectors; `--lexical`: without them, as a paperbot without the embedding model searches), runs
every labelled query of tests/relevance/search_queries.json as `/papers search` does (the first page is 5
results; the next page is 5 more) and scores the ranking:

- MRR@5: 1/rank of the first relevant paper within the top 5 (the first Slack page), 0 otherwise;
- recall@10: the share of a query's relevant papers found in the top 10 (the first two pages);
- best@5: the share of queries with one of their "best" papers (the must-rank-first ones) in the top 5.

Reported per query kind (keyword, paraphrase, acronym, typo, author) and overall, for the dev and test
halves separately. Tune on dev only; test is for the final figure (see tests/relevance/README.md).

    .venv/bin/python bench/search_relevance_eval.py              # table
    .venv/bin/python bench/search_relevance_eval.py --json       # JSON on stdout
    .venv/bin/python bench/search_relevance_eval.py --misses     # dev queries that miss, with their top 5

Prints only; writes nothing. Single-threaded index build (workers=1): a few seconds on 3,400 papers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from real_corpus import CORPUS, load_records  # noqa: E402

from bot.search import QueryError, SearchIndex  # noqa: E402

QUERIES = ROOT / "tests" / "relevance" / "search_queries.json"
KINDS = ("keyword", "paraphrase", "acronym", "typo", "author")
SPLITS = ("dev", "test")
PAGE = 5  # bot/slack/search.py PAGE_SIZE: the first page a user sees
DEPTH = 10  # recall is measured over the first two pages
# The targets (MRR@5): overall, and for the kinds that need more than word matching.
TARGETS = {"all": 0.90, "paraphrase": 0.80, "acronym": 0.80}



def load_queries(path: Path) -> list[dict[str, Any]]:
    queries = json.loads(path.read_text(encoding="utf-8"))
    for item in queries:
        if item["kind"] not in KINDS or item["split"] not in SPLITS or not item["relevant"]:
            raise SystemExit(f"bad labelled query in {path}: {item.get('query')!r}")
    return list(queries)


def run_query(index: SearchIndex, query: str) -> tuple[list[str], list[str]]:
    """Ids of the first DEPTH results (two pages of PAGE, as the Next button fetches them) and notes."""
    ids: list[str] = []
    notes: list[str] = []
    try:
        for offset in range(0, DEPTH, PAGE):
            page = index.search(query, limit=PAGE, offset=offset)
            ids.extend(hit.paper["id"] for hit in page.hits)
            notes.extend(page.notes)
    except QueryError as exc:
        notes.append(f"refused: {exc}")
    return ids, list(dict.fromkeys(notes))


def score(item: dict[str, Any], ids: list[str]) -> dict[str, float]:
    relevant = set(item["relevant"])
    best = set(item["best"]) or relevant
    rr = next((1.0 / rank for rank, pid in enumerate(ids[:PAGE], start=1) if pid in relevant), 0.0)
    recall = len(relevant & set(ids[:DEPTH])) / len(relevant)
    best_hit = 1.0 if best & set(ids[:PAGE]) else 0.0
    return {"mrr5": rr, "recall10": recall, "best5": best_hit}


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for split in SPLITS:
        out[split] = {}
        for kind in (*KINDS, "all"):
            chosen = [r for r in rows if r["split"] == split and kind in (r["kind"], "all")]
            if not chosen:
                continue
            n = len(chosen)
            out[split][kind] = {"n": n, **{m: round(sum(r[m] for r in chosen) / n, 4)
                                           for m in ("mrr5", "recall10", "best5")}}
    return out


def table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    head = f"{'kind':<11}" + "".join(f" | {s + ' n':>6} {'MRR@5':>6} {'R@10':>6} {'best@5':>6}" for s in SPLITS)
    lines = [head, "-" * len(head)]
    for kind in (*KINDS, "all"):
        cells = []
        for split in SPLITS:
            m = summary[split].get(kind)
            cells.append(f" | {m['n']:>6} {m['mrr5']:>6.3f} {m['recall10']:>6.3f} {m['best5']:>6.3f}" if m
                         else f" | {'':>6} {'':>6} {'':>6} {'':>6}")
        target = f"   (target MRR@5 >= {TARGETS[kind]:.2f})" if kind in TARGETS else ""
        lines.append(f"{kind:<11}" + "".join(cells) + target)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"JSONL records (default {CORPUS})")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="labelled queries (JSON list)")
    parser.add_argument("--json", action="store_true", help="print the summary and per-query rows as JSON")
    parser.add_argument("--misses", action="store_true",
                        help="list queries with no relevant paper in the top 5, with what ranked there "
                             "(dev only, unless --split test is given: do not tune on test)")
    parser.add_argument("--split", choices=SPLITS, default="dev", help="which half --misses lists (default dev)")
    parser.add_argument("--lexical", action="store_true", help="without paper vectors (no embedding model)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records = load_records(args.corpus)
    queries = load_queries(args.queries)
    index = SearchIndex.build(records, workers=1)
    if not args.lexical:
        from relevance_eval import open_relevance

        index.semantic = open_relevance(records)
    built = time.perf_counter() - started
    titles = {r["id"]: r["title"] for r in records}
    missing = sorted({pid for q in queries for pid in q["relevant"] if pid not in titles})
    if missing:
        raise SystemExit(f"labelled ids not in the corpus: {', '.join(missing)}")

    rows = []
    for item in queries:
        ids, notes = run_query(index, item["query"])
        rows.append({"query": item["query"], "kind": item["kind"], "split": item["split"],
                     **score(item, ids), "top": ids, "notes": notes})
    summary = summarise(rows)

    if args.json:
        print(json.dumps({"papers": len(records), "queries": len(rows), "page": PAGE, "depth": DEPTH,
                          "summary": summary, "rows": rows}, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(records):,} papers indexed, {len(rows)} labelled queries ({built:.1f} s to load and build)\n")
    print(table(summary))
    if args.misses:
        print(f"\n{args.split} queries with no relevant paper in the top {PAGE}:")
        for row, item in zip(rows, queries, strict=True):
            if row["split"] != args.split or row["mrr5"] > 0:
                continue
            print(f"\n  [{row['kind']}] {row['query']!r}  wants {', '.join(item['best'])}"
                  + (f"  notes: {'; '.join(row['notes'])}" if row["notes"] else ""))
            for rank, pid in enumerate(row["top"][:PAGE], start=1):
                print(f"    {rank}. {pid} {titles.get(pid, '?')[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
