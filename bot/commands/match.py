"""`paperbot match TOPIC [--channel C] [--since YYYY-MM-DD] [--limit N] [--json]`: try a topic on the archive.

Prints every archived paper that arrived since `--since` (default: 30 days ago) which TOPIC matches under
exactly the rules a channel digest uses (`DigestService.trial`), without the daily cap, best first. With
`--channel` only papers from that channel's sources are candidates (its learned preferences and strictness
will apply too once they exist). Opens the data directory read-only, so it works while the bot runs.

Text output: one line per paper (rank, id, score, title) and its why below, then the count. `--json`: a JSON
array of {id, title, score, why, topic, words} on stdout. At most `MAX_LIMIT` papers are printed; the count says
how many matched. A topic the query parser refuses, a malformed or unknown `--channel`, a bad `--since` or
`--limit`: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta

from bot.commands import CommandError, words_and_trailing_options
from bot.config import Settings
from bot.digest.trial import TRIAL_DAYS
from bot.papers import clean_text, printable
from bot.slack.ids import is_channel_id

MAX_LIMIT = 1000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "match", help="which archived papers a topic would match in a digest (works while the bot runs)",
        description="Every archived paper that TOPIC matches under exactly the rules a channel digest uses, "
                    "without the daily maximum, best first. Read-only: safe while the bot runs. "
                    "Example: paperbot match sparse autoencoders --channel C0123ABCD --limit 20")
    parser.add_argument("--channel", metavar="C", help="a Slack channel id: only papers from its sources")
    parser.add_argument("--since", metavar="YYYY-MM-DD",
                        help=f"papers that arrived on or after this day (default: {TRIAL_DAYS} days ago)")
    parser.add_argument("--limit", type=int, default=None,
                        help=f"papers to print (1–{MAX_LIMIT}, default: all, at most {MAX_LIMIT})")
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of text")
    # REMAINDER: `-word` exclusions in the topic must not be taken for options.
    parser.add_argument("topic", nargs=argparse.REMAINDER, help="the topic, as /papers watch takes it")
    parser.set_defaults(handler=handle)


def _options_after_topic(args: argparse.Namespace) -> list[str]:
    """Pull --channel/--since/--limit/--json typed after the topic out of it."""
    words, flags, values = words_and_trailing_options(args.topic, ("--json",), ("--channel", "--since", "--limit"))
    args.json = args.json or "--json" in flags
    for name, value in values.items():
        if value is None:
            raise CommandError(f"{name} needs a value", status=2)
        setattr(args, name[2:], value)
    return words


def _limit(value: object) -> int:
    if value is None:
        return MAX_LIMIT
    try:
        limit = int(str(value))
    except ValueError:
        raise CommandError(f"--limit needs a whole number, got {value!r}", status=2) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise CommandError(f"--limit must be from 1 to {MAX_LIMIT}", status=2)
    return limit


def _since(value: str | None, now: datetime) -> datetime:
    if value is None:
        return now - timedelta(days=TRIAL_DAYS)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be a date like 2025-06-01 (got {value!r})", status=2) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    from bot.search import QueryError
    from bot.services import ReadOnlyServices
    from bot.topics import normalize_topic

    topic = normalize_topic(" ".join(_options_after_topic(args)))
    limit = _limit(args.limit)
    if not topic:
        raise CommandError("give a topic, e.g. `paperbot match sparse autoencoders`", status=2)
    if args.channel is not None and not is_channel_id(args.channel):
        raise CommandError(f"--channel must be a Slack channel id such as C0123ABCD (got {args.channel!r})",
                           status=2)
    with ReadOnlyServices.open(settings) as services:
        since = _since(args.since, services.digests.clock())
        channel = None
        if args.channel is not None:
            if services.channels.get(args.channel) is None:
                raise CommandError(f"paperbot knows no channel {args.channel} in {settings.data_dir} "
                                   f"(channel ids are case-sensitive, like C0123ABCD)", status=2)
            channel = services.digests.channel(args.channel)
        try:
            trial = services.digests.trial(topic, since, channel)
        except QueryError as exc:
            raise CommandError(f"topic refused: {exc}", status=2) from None

    shown = trial.matches[:limit]
    if args.json:
        rows = [{"id": clean_text(m.paper_id), "title": clean_text(m.record.get("title")), "score": m.score,
                 "why": printable(m.why), "topic": printable(m.pick.topic), "words": list(m.words)} for m in shown]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0

    width = len(str(len(shown)))
    for rank, m in enumerate(shown, start=1):
        print(f"{rank:>{width}}. {clean_text(m.paper_id)}  {m.score:7.2f}  {clean_text(m.record.get('title'))}")
        print(f"{'':>{width}}  {clean_text(m.why)}")
    where = f" from {trial.channel}'s sources" if trial.channel else ""
    more = f" (first {len(shown)} shown)" if len(shown) < trial.count else ""
    print(f"\n{trial.count:,} of {trial.candidates:,} papers that arrived since {since.date().isoformat()}{where} "
          f"match {clean_text(topic)!r}{more}")
    return 0
