"""Save latency: a reaction on a bot post -> the save is on disk (fsync'd), with a year of data around it.

Builds (or reuses, with `--data-dir`) a data directory holding a synthetic archive of `--papers` papers
(bench/synthetic.py), `--posts` posted messages in the ledger and `--saves` saves, then replays reactions
through the code the reaction listener runs before Slack gets its 200 (`bot.slack.reactions.reaction_ack`:
parse the event, look the message up in the ledger, write the save). Reports p50/p95/p99 per kind of reaction,
the start-up cost of the in-memory indexes and the size of each file in the data directory, and writes them
to bench/results/save_bench.json and save_bench.md.

    .venv/bin/python bench/save_bench.py --data-dir /tmp/save-bench   # first run builds it (~1 min)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
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

from tinydb.table import Document  # noqa: E402

from bot.saves import ReactionSaver  # noqa: E402
from bot.store.models import Save, reaction_anchor  # noqa: E402
from bot.store.tinydb.archive import Archive  # noqa: E402
from bot.store.tinydb.files import DataDir  # noqa: E402
from bot.store.tinydb.posts import POSTS_TABLE, PostLedger  # noqa: E402
from bot.store.tinydb.saves import SAVES_TABLE, Saves  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_P95_MS = 10.0  # a reaction on a bot post -> its save persisted
KINDS = {
    "save_on_bot_post": "save reaction on a bot post (new save, one fsync'd write)",
    "repeat_save_retry": "the same reaction again (Slack retry / double delivery: no write)",
    "reaction_removed": "reaction removed (unsave, one fsync'd write)",
    "pending_on_person_message": "save reaction on a person's message (pending entry, one fsync'd write)",
}
YEAR_START = 1_732_000_000  # 2024-11-19
CHANNELS = [f"C0CHAN{n:04d}" for n in range(12)]
USERS = [f"U0USER{n:04d}" for n in range(60)]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99),
            "max_ms": round(ordered[-1] * 1000, 2), "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def build(path: Path, papers: int, posts: int, saves: int, seed: int) -> None:
    """Write the data directory in a few big transactions (the bot would have written it over a year)."""
    from synthetic import generate_papers

    rng = random.Random(seed)
    started = time.monotonic()
    records = generate_papers(papers, seed)
    print(f"build: generated {papers} papers in {time.monotonic() - started:.0f} s", file=sys.stderr)
    ids = [r["id"] for r in records]
    with DataDir(path) as data_dir:
        Archive(data_dir.store("archive")).upsert(records)
        del records
        ledger = data_dir.store("posts")
        posted: list[tuple[str, str, str]] = []
        with ledger.transaction():
            docs = []
            for n in range(posts):
                channel = CHANNELS[n % len(CHANNELS)]
                ts = f"{YEAR_START + n * 450}.{n % 1_000_000:06d}"
                paper_id = rng.choice(ids)
                posted.append((channel, ts, paper_id))
                doc = {"channel": channel, "ts": ts, "paper_id": paper_id, "kind": "digest",
                       "posted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(YEAR_START + n * 450))}
                docs.append(Document(doc, doc_id=f"{channel}:{ts}"))
            ledger.table(POSTS_TABLE).insert_multiple(docs)
        store = data_dir.store("saves")
        with store.transaction():
            docs, keys = [], set()
            while len(docs) < saves:
                channel, ts, paper_id = rng.choice(posted)
                user = rng.choice(USERS)
                if f"{user}:{paper_id}" in keys:
                    continue
                keys.add(f"{user}:{paper_id}")
                by_reaction = rng.random() < 0.7
                at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(float(ts) + rng.randint(60, 86_400)))
                save = Save(user=user, paper_id=paper_id, channel=channel, ts=ts, saved_at=at,
                            via="reaction" if by_reaction else "button",
                            reactions=(reaction_anchor(channel, ts, "bookmark"),) if by_reaction else (),
                            kept=not by_reaction)
                docs.append(Document(save.to_doc(), doc_id=save.key))
            store.table(SAVES_TABLE).insert_multiple(docs)
    print(f"build: data directory written in {time.monotonic() - started:.0f} s", file=sys.stderr)


def sizes(path: Path) -> dict[str, float]:
    return {p.name: round(p.stat().st_size / 1e6, 2) for p in sorted(path.glob("*.json"))}


def reaction_event(kind: str, user: str, channel: str, ts: str, reaction: str = "bookmark") -> dict[str, Any]:
    return {"type": kind, "user": user, "reaction": reaction, "item_user": "U0POSTER",
            "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": f"{time.time():.6f}"}


def measure(path: Path, reactions: int, seed: int) -> dict[str, Any]:
    from bot.config import load_settings

    rng = random.Random(seed + 1)
    result: dict[str, Any] = {"files_mb": sizes(path)}
    with DataDir(path) as data_dir:
        # The running bot holds the archive in memory too: its objects are what the garbage collector walks.
        started = time.perf_counter()
        archive = Archive(data_dir.store("archive"))
        result["papers"] = len(archive)
        result["open_archive_ms"] = round((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        ledger = PostLedger(data_dir.store("posts"))
        result["open_posts_ms"] = round((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        saves = Saves(data_dir.store("saves"))
        result["open_saves_ms"] = round((time.perf_counter() - started) * 1000)
        result["posts"], result["saves_before"] = len(ledger), len(saves)
        settings = load_settings({"PAPERBOT_DATA_DIR": str(path)})
        ack = _ack_path(settings, saves, ledger)
        posted = list(ledger._by_message.items())  # (channel, ts) -> paper id

        def timed(events: list[dict[str, Any]]) -> list[float]:
            out = []
            for event in events:
                started = time.perf_counter()
                ack(event)
                out.append(time.perf_counter() - started)
            return out

        new_saves = []
        while len(new_saves) < reactions:
            (channel, ts), paper_id = rng.choice(posted)
            user = rng.choice(USERS)
            if saves.get(user, paper_id) is None:
                new_saves.append(reaction_event("reaction_added", user, channel, ts))
        timed(new_saves[:20])  # warm-up (page cache, first allocations); those saves stay
        result["save_on_bot_post"] = percentiles(timed(new_saves[20:]))
        result["repeat_save_retry"] = percentiles(timed(new_saves[20:220]))
        result["reaction_removed"] = percentiles(timed(
            [{**e, "type": "reaction_removed"} for e in new_saves[20:220]]))
        person = [reaction_event("reaction_added", rng.choice(USERS), rng.choice(CHANNELS), f"{1_800_000_000 + n}.0")
                  for n in range(200)]
        result["pending_on_person_message"] = percentiles(timed(person))
        result["saves_after"] = len(saves)
        result["files_mb_after"] = sizes(path)
    return result


def _ack_path(settings: Any, saves: Saves, ledger: PostLedger) -> Any:
    """What the reaction listener runs before the 200; falls back to the core when the Slack module is absent."""
    try:
        from bot.slack.reactions import reaction_ack
    except ImportError:
        saver = ReactionSaver(saves, ledger, settings.save_emojis)

        def fallback(event: dict[str, Any]) -> Any:
            item = event["item"]
            method = saver.added if event["type"] == "reaction_added" else saver.removed
            return method(event["user"], item["channel"], item["ts"], event["reaction"])

        return fallback
    saver = ReactionSaver(saves, ledger, settings.save_emojis)
    return lambda event: reaction_ack(saver, event)


def machine(path: Path) -> str:
    """`x86_64, 2 CPUs, Python 3.11.7, Linux 6.1, data on ext4` (the file system holding `path`, from
    /proc/mounts when there is one)."""
    fs = "?"
    with contextlib.suppress(OSError):
        where = str(path.resolve())
        best = ""
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and where.startswith(fields[1]) and len(fields[1]) >= len(best):
                best, fs = fields[1], fields[2]
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, data on {fs}")


def write_results(result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "save_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    files, after = result["files_mb"], result["files_mb_after"]
    p95 = result["save_on_bot_post"]["p95_ms"]
    verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
    lines = [
        "# Save benchmark",
        "",
        result["machine"],
        "",
        f"Data: {result['papers']:,} papers in the archive, {result['posts']:,} posted messages in the ledger, "
        f"{result['saves_before']:,} saves ({result['saves_after']:,} after the run). Timed: what the reaction "
        f"listener runs before Slack gets its 200 (`bot.slack.reactions.reaction_ack`: parse the event, "
        f"look the message up in the post ledger, write saves.json by temp file + fsync + rename), in-process, "
        f"without the HTTP round trip.",
        "",
        f"Target (reaction on a bot post -> save persisted, p95 <= {TARGET_P95_MS:g} ms): **{verdict}** "
        f"(p95 {p95} ms).",
        "",
        "| kind | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in KINDS.items():
        r = result[name]
        lines.append(f"| {label} | {r['n']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |")
    lines += [
        "",
        f"Start-up (loading each store and building its in-memory indexes): archive {result['open_archive_ms']} ms, "
        f"post ledger {result['open_posts_ms']} ms, saves {result['open_saves_ms']} ms.",
        "",
        "Files (MB, before -> after the run): " + ", ".join(
            f"{name} {size}" + (f" -> {after[name]}" if after.get(name) != size else "")
            for name, size in files.items()) + ".",
        "",
        "Run: `.venv/bin/python bench/save_bench.py --data-dir /tmp/save-bench` "
        f"({', '.join(f'--{k.replace(chr(95), chr(45))} {v}' for k, v in result['args'].items())}).",
        "",
    ]
    (RESULTS / "save_bench.md").write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=70_000)
    parser.add_argument("--saves", type=int, default=10_000)
    parser.add_argument("--reactions", type=int, default=1000, help="new saves to time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, help="build here once and reuse (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(dir=args.data_dir.parent if args.data_dir else None) as tmp:
        path = args.data_dir or Path(tmp) / "data"
        if not (path / "archive.json").exists():
            build(path, args.papers, args.posts, args.saves, args.seed)
        # Each run times fresh saves on a copy, so the reused directory keeps its year of data unchanged.
        work = Path(tmp) / "run"
        work.mkdir()
        for name in ("posts.json", "saves.json"):
            (work / name).write_bytes((path / name).read_bytes())
        (work / "archive.json").symlink_to((path / "archive.json").resolve())
        result = measure(work, args.reactions, args.seed)
        result["files_mb"]["archive.json"] = sizes(path)["archive.json"]
        result["files_mb_after"]["archive.json"] = result["files_mb"]["archive.json"]

    result["args"] = {k: v for k, v in vars(args).items() if k not in ("json", "data_dir")}
    result["machine"] = machine(args.data_dir or Path(tempfile.gettempdir()))
    write_results(result)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"data dir: {result['files_mb']} MB; {result['posts']} posted messages, {result['saves_before']} saves")
    print(f"start-up: archive ({result['papers']} papers) {result['open_archive_ms']} ms, "
          f"post ledger {result['open_posts_ms']} ms, saves {result['open_saves_ms']} ms")
    for name in ("save_on_bot_post", "repeat_save_retry", "reaction_removed", "pending_on_person_message"):
        r = result[name]
        print(f"  {name:<26} n={r['n']:<5} p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  "
              f"p99 {r['p99_ms']:6.2f} ms  max {r['max_ms']:6.2f} ms")
    print(f"after: {result['saves_after']} saves; files {result['files_mb_after']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
