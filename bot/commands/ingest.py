"""`paperbot ingest`: not built yet (see the open issues)."""

from __future__ import annotations

import argparse

from bot.commands import CommandError
from bot.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="(not available yet)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, settings: Settings) -> int:
    raise CommandError("'ingest' is not available in this version yet")
