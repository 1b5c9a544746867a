"""CLI subcommands: each module has `register(subparsers)`, which adds its parser and sets `handler`.

A handler takes (args, settings) and returns the exit code. Raise `CommandError` for a one-line failure.
"""

from __future__ import annotations

from collections.abc import Collection


class CommandError(Exception):
    """A failure the CLI prints as one line, exit status 1 (or `status`)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


COMMAND_MODULES = ("ingest", "search", "match", "run", "export", "digest", "doctor")


def words_and_trailing_options(tokens: list[str], flags: Collection[str],
                               valued: Collection[str]) -> tuple[list[str], set[str], dict[str, str | None]]:
    """Split the words of a REMAINDER argument (a query or topic, where `-word` is an exclusion, not an option)
    from options typed after them: `--json` (a flag), `--limit 5` / `--limit=5` (valued; None when the value is
    missing); everything after `--` is words. Returns (words, flags seen, values by option name)."""
    words: list[str] = []
    seen: set[str] = set()
    values: dict[str, str | None] = {}
    rest = list(tokens)
    while rest:
        token = rest.pop(0)
        name, eq, inline = token.partition("=")
        if name in flags and not eq:
            seen.add(name)
        elif name in valued:
            values[name] = inline if eq else (rest.pop(0) if rest else None)
        elif token == "--":
            words.extend(rest)
            break
        else:
            words.append(token)
    return words, seen, values
