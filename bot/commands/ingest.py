"""`paperbot ingest`: fetch papers from Hugging Face Daily Papers and/or arXiv into the archive.

Defaults: Hugging Face for today (in PAPERBOT_TZ). arXiv only with `--category` or `--source arxiv|all`
(default category cs.LG); without a date it looks back ARXIV_LOOKBACK_DAYS, because arXiv lists a
submission only after its announcement (a day later, longer over weekends) and re-ingesting is harmless.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands import CommandError
from bot.config import Settings
from bot.ingest import ingest, iter_days
from bot.sources import Sources, is_category

MAX_DAYS = 31
DEFAULT_CATEGORIES = ("cs.LG",)
ARXIV_LOOKBACK_DAYS = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ingest", help="fetch new papers into the archive",
        description="Fetch papers from Hugging Face Daily Papers and/or arXiv into the archive. Prints one "
                    "progress line per day or page on stderr and a summary on stdout; exits 1 if any fetch failed.",
    )
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--date", metavar="YYYY-MM-DD", help="one day (default: today in PAPERBOT_TZ)")
    when.add_argument("--since", metavar="YYYY-MM-DD",
                      help=f"every day from this date to today (at most {MAX_DAYS} days)")
    parser.add_argument("--source", choices=("hf", "arxiv", "all"),
                        help="default: hf, plus arxiv when --category is given")
    parser.add_argument("--category", nargs="+", action="extend", metavar="CAT", default=[],
                        help=f"arXiv categories such as cs.LG cs.CL (default: {' '.join(DEFAULT_CATEGORIES)})")
    parser.set_defaults(handler=handle)


def _parse_date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2026-11-20 (got {text!r})", status=2) from None


def handle(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import IngestServices

    today = datetime.now(ZoneInfo(settings.tz)).date()
    for arg in args.category:
        if not arg.replace(",", "").strip():  # `--category ""` must not quietly mean the default category
            raise CommandError(f"--category must be an arXiv category such as cs.LG (got {arg!r})", status=2)
    categories = list(dict.fromkeys(c for arg in args.category for c in arg.split(",") if c))
    for category in categories:
        if not is_category(category):
            raise CommandError(f"--category must be an arXiv category such as cs.LG (got {category!r})", status=2)
    if args.source == "hf" and categories:
        raise CommandError("--category applies to arXiv; use --source arxiv or --source all", status=2)
    use_hf = args.source in (None, "hf", "all")
    use_arxiv = args.source in ("arxiv", "all") or bool(categories)
    if use_arxiv and not categories:
        categories = list(DEFAULT_CATEGORIES)

    # `is not None`: an empty `--date ""` is a bad date, not "no date given".
    if args.date is not None:
        first = last = _parse_date("--date", args.date)
    elif args.since is not None:
        first, last = _parse_date("--since", args.since), today
    else:
        first = last = today
    if last > today:
        raise CommandError(f"--date {last.isoformat()} is in the future (today is {today.isoformat()} in "
                           f"{settings.tz})", status=2)
    if first > last:
        raise CommandError(f"--since {first.isoformat()} is in the future (today is {today.isoformat()} in "
                           f"{settings.tz})", status=2)
    span = (last - first).days + 1
    if span > MAX_DAYS:
        raise CommandError(f"--since {first.isoformat()} covers {span} days; one run ingests at most {MAX_DAYS} "
                           f"(use --since {(today - timedelta(days=MAX_DAYS - 1)).isoformat()} or later, or --date "
                           f"for older days)", status=2)
    days = list(iter_days(first, last))
    dated = args.date is not None or args.since is not None
    arxiv_since = first if dated else today - timedelta(days=ARXIV_LOOKBACK_DAYS)

    # The progress lines below say what bot.ingest's fetch/fail log lines would (the bot, which prints no
    # progress, relies on those); show them only when debugging, and keep errors such as parser bugs.
    ingest_log = logging.getLogger("bot.ingest")
    saved_level = ingest_log.level
    if not ingest_log.isEnabledFor(logging.DEBUG):
        ingest_log.setLevel(logging.ERROR)

    def progress(line: str) -> None:
        print(f"ingest: {line}", file=sys.stderr, flush=True)

    try:
        with IngestServices.open(settings) as services:
            chosen = Sources(hf=services.sources.hf if use_hf else None,
                             arxiv=services.sources.arxiv if use_arxiv else None)
            report = ingest(
                services.archive,
                chosen,
                dates=days if use_hf else [],
                categories=categories if use_arxiv else [],
                since=arxiv_since,
                until=last,
                progress=progress,
            )
    finally:
        ingest_log.setLevel(saved_level)
    print(f"ingest: {report.summary()}", flush=True)
    return 0 if report.ok else 1
