"""`paperbot export`: a user's reading list (or a channel's posted papers) as BibTeX.

Opens the data directory read-only, so it works while the bot runs (the bot's writes are atomic renames:
this sees the saves as of the moment it starts).
"""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path

from bot.bibtex import to_bibtex
from bot.commands import CommandError
from bot.config import Settings
from bot.papers import printable
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
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output "
                        "(never inside the data directory; an existing file only with --force)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists (a regular file only)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    if args.user is not None and not is_user_id(args.user):
        raise CommandError(f"--user must be a Slack user id such as U0123ABCD (got {args.user!r})", status=2)
    if args.channel is not None and not is_channel_id(args.channel):
        raise CommandError(f"--channel must be a Slack channel id such as C0123ABCD (got {args.channel!r})",
                           status=2)
    from bot.services import ReadOnlyServices

    target = _output_path(args.output, settings, force=args.force) if args.output else None
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
    text = printable(to_bibtex(records))  # stored text is outside text: no terminal escapes, wherever it goes
    if target is not None:
        try:
            atomic_write_bytes(target, text.encode())
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"export: {len(records)} papers ({what}) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
        print(f"export: {len(records)} papers ({what})", file=sys.stderr)
    return 0


def _output_path(output: str, settings: Settings, *, force: bool) -> Path:
    """Where `--output` may write: the file it names, links followed. The write is a rename over it, so it
    must not be one of the bot's own files, nor a device, pipe or folder (renaming over /dev/null as root
    replaces the device)."""
    target = Path(output).resolve()
    data_dir = Path(settings.data_dir).resolve()
    if target.is_relative_to(data_dir):
        raise CommandError(f"will not write {output}: it is inside the data directory {settings.data_dir} "
                           f"(choose a file elsewhere)")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise CommandError(f"will not write {output}: it exists and is not a regular file")
    if not force:
        raise CommandError(f"{output} exists: add --force to replace it")
    return target
