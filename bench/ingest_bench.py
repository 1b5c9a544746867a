"""Ingest benchmark: a month of Daily Papers plus arXiv listing pages, served over real HTTP from a local
fake (tests/fake_sources.py), into an empty data directory and into one preloaded with synthetic papers.

    .venv/bin/python bench/ingest_bench.py [--days 30] [--per-day 100] [--preload 50000]

Prints wall time, archive writes and file size per scenario. arXiv's courtesy delay is set to 0 here; a
real run adds PAPERBOT_ARXIV_DELAY (3 s) per arXiv page on top of the network time.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_sources import FakeSources, arxiv_entry, make_hf_day, synthetic_paper  # noqa: E402

from bot.ingest import ingest, iter_days  # noqa: E402
from bot.papers import new_record  # noqa: E402
from bot.sources import build_sources  # noqa: E402
from bot.store.tinydb.archive import Archive  # noqa: E402
from bot.store.tinydb.files import DataDir  # noqa: E402

FIRST_DAY = date(2026, 10, 1)


def serve(fake: FakeSources, days: list[date], per_day: int, arxiv_per_day: int) -> None:
    rng = random.Random(2026)
    for n, day in enumerate(days):
        items = make_hf_day(day.isoformat(), per_day, rng=rng, id_start=1 + n * 1000)
        fake.add_hf_day(day.isoformat(), items)
        # arXiv lists a third of each HF day (same ids, submitted the day before) plus its own papers.
        stamp = f"{(day - timedelta(days=1)).isoformat()}T12:00:00Z"
        for item in items[: per_day // 3]:
            fake.add_arxiv(arxiv_entry(item["paper"]["id"], item["title"], published=stamp, version=2,
                                       abstract=item["paper"]["summary"], categories=("cs.LG", "cs.CL"),
                                       authors=[a["name"] for a in item["paper"]["authors"]]))
        for k in range(arxiv_per_day):
            paper = synthetic_paper(rng, f"{day:%y%m}.{n * 1000 + 500 + k:05d}")
            fake.add_arxiv(arxiv_entry(paper["id"], paper["title"], published=f"{day.isoformat()}T08:00:00Z",
                                       abstract=paper["abstract"], authors=paper["authors"], categories=("cs.LG",)))


def preload(archive: Archive, count: int) -> float:
    rng = random.Random(7)
    records = []
    for n in range(count):
        paper = synthetic_paper(rng, f"{2401 + n // 90000 * 100:04d}.{n % 90000 + 10000:05d}")
        records.append(new_record(paper["id"], source="arxiv", title=paper["title"], abstract=paper["abstract"],
                                  authors=paper["authors"], published="2024-01-15T10:00:00Z",
                                  categories=["cs.LG"], keywords=paper["keywords"], version=1))
    started = time.perf_counter()
    archive.upsert(records)
    return time.perf_counter() - started


def run(label: str, data_path: Path, fake: FakeSources, days: list[date], preload_count: int = 0) -> None:
    settings = fake.settings(data_path)
    with DataDir(data_path) as data_dir:
        store = data_dir.store("archive")
        archive = Archive(store)
        if preload_count:
            seconds = preload(archive, preload_count)
            print(f"  (preloaded {preload_count:,} records in {seconds:.1f} s)")
        writes_before = store.writes
        started = time.perf_counter()
        report = ingest(archive, build_sources(settings, backoff=0.01), dates=days, categories=["cs.LG"],
                        since=days[0] - timedelta(days=1), until=days[-1])
        wall = time.perf_counter() - started
        size = (data_path / "archive.json").stat().st_size
        print(f"{label:<28} {wall:7.2f} s  {report.fetched:6,} fetched  {report.summary():<44} "
              f"{store.writes - writes_before:3d} writes  archive {len(archive):7,} papers {size / 2**20:7.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=100, help="Daily Papers per day")
    parser.add_argument("--arxiv-per-day", type=int, default=40, help="extra arXiv-only papers per day")
    parser.add_argument("--preload", type=int, default=50_000)
    args = parser.parse_args()

    days = list(iter_days(FIRST_DAY, FIRST_DAY + timedelta(days=args.days - 1)))
    with FakeSources() as fake, tempfile.TemporaryDirectory() as tmp:
        serve(fake, days, args.per_day, args.arxiv_per_day)
        print(f"{args.days} days x {args.per_day} Daily Papers + {len(fake.arxiv_entries):,} arXiv entries "
              f"(cs.LG, pages of 200), batches of 500")
        run("empty archive", Path(tmp) / "empty", fake, days)
        run("same run again (unchanged)", Path(tmp) / "empty", fake, days)
        run(f"preloaded {args.preload // 1000}k archive", Path(tmp) / "preloaded", fake, days, args.preload)
        print(f"HTTP requests served: {len(fake.requests):,}")


if __name__ == "__main__":
    main()
