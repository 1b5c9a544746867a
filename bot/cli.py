"""`paperbot` command line: parses arguments, loads settings, runs one subcommand.

Every expected failure (bad configuration, busy or corrupt data directory, bad arguments) ends as one
line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.commands import COMMAND_MODULES, CommandError
from bot.config import ConfigError, load_settings
from bot.logs import configure
from bot.store.tinydb.files import StoreError

log = logging.getLogger("bot.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperbot", description="Research papers for Slack channels.")
    parser.add_argument("--version", action="version", version=f"paperbot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"bot.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command == "search":
        args.query = [*unknown, *args.query]  # `paperbot search -vision transformers`: an exclusion, not an option
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"paperbot: configuration error: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level)
    try:
        return int(args.handler(args, settings) or 0)
    except ConfigError as exc:
        print(f"paperbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"paperbot: {exc}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"paperbot: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("paperbot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
