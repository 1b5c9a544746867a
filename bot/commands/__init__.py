"""CLI subcommands: each module has `register(subparsers)`, which adds its parser and sets `handler`.

A handler takes (args, settings) and returns the exit code. Raise `CommandError` for a one-line failure.
"""

from __future__ import annotations


class CommandError(Exception):
    """A failure the CLI prints as one line, exit status 1 (or `status`)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


COMMAND_MODULES = ("ingest", "search", "match", "run", "export", "digest", "doctor")
