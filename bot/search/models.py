"""The search core's public value types (see bot.search for the whole interface)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.papers import PaperRecord


class QueryError(ValueError):
    """A query that cannot be run; str(exc) is a friendly one-sentence message for the user."""


@dataclass(frozen=True)
class SearchContext:
    """Bot state some filters need. Without the hook, `saved:` / `channel:` give an empty page and a note."""

    user_id: str | None = None
    channel_id: str | None = None
    saved_ids: Callable[[str], set[str]] | None = None  # user_id -> ids of papers that user saved ("saved:me")
    channel_ids: Callable[[str], set[str]] | None = None  # channel name or id -> ids of papers posted there


@dataclass
class Hit:
    paper: PaperRecord  # a copy of the archive record
    score: float


@dataclass
class SearchPage:
    query: str
    hits: list[Hit]
    total: int  # matching papers (see notes: a phrase search over very many candidates says "about")
    offset: int
    limit: int
    notes: list[str] = field(default_factory=list)  # user-facing remarks: corrections, ignored words, hooks
