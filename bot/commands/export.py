"""`paperbot export`: a user's reading list (or a channel's posted papers) as BibTeX.

Opens the data directory read-only, so it works while the bot runs (the bot's writes are atomic renames:
this sees the saves as of the moment it starts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.bibtex import to_bibtex
from bot.commands import CommandError
from bot.config import Settings
from bot.saves import records_for
from bot.slack.ids import is_channel_id, is_user_id
from bot.store.tinydb.files import atomic_write_bytes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export", help="export a reading list as BibTeX",
        description="Write a user's saved papers (newest first), or the papers paperbot posted to a channel, "
                    "as BibTeX. Reads the data directory without locking it: safe while the bot runs.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--user", metavar="U…", help="the Slack user id whose reading list to export")
    which.add_argument("--channel", metavar="C…", help="a Slack channel id: the papers paperbot posted there")
    parser.add_argument("--format", choices=("bibtex",), default="bibtex", help="output format (default: bibtex)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if args.user is not None and not is_user_id(args.user):
        raise CommandError(f"--user must be a Slack user id such as U0123ABCD (got {args.user!r})", status=2)
    if args.channel is not None and not is_channel_id(args.channel):
        raise CommandError(f"--channel must be a Slack channel id such as C0123ABCD (got {args.channel!r})",
                           status=2)
    from bot.services import ReadOnlyServices

    with ReadOnlyServices.open(settings) as services:
        if args.user:
            ids = [s.paper_id for s in services.saves.saved(args.user)]
            what = f"{args.user}'s reading list"
            if not ids:
                raise CommandError(f"{args.user} has no saved papers (user ids are case-sensitive, like U0123ABCD)")
        else:
            # Newest arXiv ids first: the ledger keeps no order per channel.
            ids = sorted(services.posts.papers_in(args.channel), reverse=True)
            what = f"papers posted to {args.channel}"
            if not ids:
                raise CommandError(f"paperbot has posted no papers to {args.channel}")
        records = records_for(services.archive, ids)
    text = to_bibtex(records)
    if args.output:
        try:
            atomic_write_bytes(Path(args.output).resolve(), text.encode())
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"export: {len(records)} papers ({what}) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
        print(f"export: {len(records)} papers ({what})", file=sys.stderr)
    return 0
