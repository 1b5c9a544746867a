"""Ack latency of `/papers` slash commands: signed POST -> HTTP 200, against the real server and search index.

Starts the Slack emulator, seeds a synthetic archive (bench/synthetic.py), serves the real app with waitress
on 127.0.0.1, then sends `--requests` signed search commands from `--concurrency` client threads. Reports
percentiles of the ack (what Slack's 3-second limit applies to) and of the answer (until the results reach
the response URL), plus the index build time.

    .venv/bin/python bench/ack_bench.py --papers 10000 --requests 500 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from slack_driver import SlackStack, start_stack  # noqa: E402
from synthetic import generate_papers  # noqa: E402

from bot.slack.app import tune_for_latency  # noqa: E402


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99), "max_ms": ordered[-1] * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000}


def queries(papers: list[dict[str, Any]], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [w for p in papers[:2000] for w in p["title"].split() if len(w) > 3]
    return [" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(n)]


def run(stack: SlackStack, texts: list[str], concurrency: int,
        rate: float = 0.0) -> tuple[list[float], list[float], int]:
    """Send every command (at most `rate` per second overall, if given); return (ack latencies, answer
    latencies, non-200 count)."""
    acks: list[float] = []
    answers: list[tuple[float, str]] = []
    failures = 0
    lock = threading.Lock()
    todo = list(enumerate(texts))
    start = time.monotonic()

    def client() -> None:
        nonlocal failures
        while True:
            with lock:
                if not todo:
                    return
                index, text = todo.pop(0)
            if rate:
                time.sleep(max(0.0, start + index / rate - time.monotonic()))
            body, response_url = stack.driver.command_body(text)
            sent_at = time.monotonic()
            response, elapsed = stack.driver.post(body, "application/x-www-form-urlencoded")
            with lock:
                acks.append(elapsed)
                answers.append((sent_at, response_url))
                failures += response.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = []
    for sent_at, url in answers:
        stack.slack.wait_for_responses(url, timeout=120)
        arrived = min(p.at for p in stack.slack.response_posts if p.id == url.rsplit("/", 1)[-1])
        done.append(arrived - sent_at)
    return acks, done, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests per second (default: as fast as the acks come back)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tune_for_latency()  # as `paperbot run` does

    papers = generate_papers(args.papers, args.seed)
    texts = queries(papers, args.requests + 20, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        stack = start_stack(Path(tmp), papers)
        open_s = time.monotonic() - started
        try:
            run(stack, texts[:20], args.concurrency)  # warm-up: connections, caches
            started = time.monotonic()
            acks, answers, failures = run(stack, texts[20:], args.concurrency, args.rate)
            wall = time.monotonic() - started
            problems = list(stack.slack.problems)
        finally:
            stack.stop()

    result = {
        "papers": args.papers, "requests": args.requests, "concurrency": args.concurrency, "rate": args.rate,
        "seed_and_open_s": round(open_s, 2), "non_200": failures, "slack_problems": len(problems),
        "ack": {k: round(v, 1) for k, v in percentiles(acks).items()},
        "answer": {k: round(v, 1) for k, v in percentiles(answers).items()},
        "throughput_rps": round(args.requests / wall, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.papers} papers (archive seeded and index built in {result['seed_and_open_s']} s), "
              f"{args.requests} signed /papers searches, {args.concurrency} concurrent clients, "
              f"{f'{args.rate:g}/s' if args.rate else 'no pacing'}")
        for name in ("ack", "answer"):
            r = result[name]
            print(f"  {name:<6} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms   "
                  f"max {r['max_ms']:7.1f} ms")
        print(f"  throughput {result['throughput_rps']} req/s; non-200: {failures}; "
              f"messages Slack would reject: {len(problems)}")
    return 0 if failures == 0 and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
