"""The stored documents, one TypedDict per kind: the shape every backend stores and returns.

These are the on-disk formats of the TinyDB data directory (a data directory written by an earlier version
loads as it is), so a field is only ever added, never renamed. The paper record is `bot.papers.PaperRecord`.
Documents may carry keys not listed here (written by another version, or `**extra` of a post): a repository
keeps them as they are on every update.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PausedDoc(TypedDict):
    """Why a channel's digests stopped posting (a Slack error), until the next `/papers schedule …`."""

    reason: str
    at: str  # ISO 8601 UTC


class DigestSettingsDoc(TypedDict, total=False):
    """The "digest" part of a channel document: only what people set (bot.digest.settings resolves defaults)."""

    enabled: bool
    time: str  # "HH:MM", local to `tz`
    tz: str  # IANA zone name
    days: str  # "daily" or "weekdays"
    max_papers: int
    post_empty: bool
    sources: list[str]  # "hf" and/or arXiv categories
    paused: PausedDoc
    effective_from: str  # ISO 8601 UTC: scheduled digests due before this instant are not run


class ChannelDoc(TypedDict):
    """One channel's settings, keyed by the Slack channel id (table "channels" of channels.json)."""

    id: str
    topics: list[str]
    created_at: str
    updated_at: NotRequired[str]
    updated_by: NotRequired[str]  # a user id, or "paperbot" for an automatic pause
    digest: NotRequired[DigestSettingsDoc]


class PostDoc(TypedDict):
    """A message the bot posted about one paper, keyed `"{channel}:{ts}"` (table "posts" of posts.json)."""

    channel: str
    ts: str
    paper_id: str
    kind: str  # "digest", "share", …
    posted_at: str
    digest_date: NotRequired[str]  # a digest's reply: the digest's local date
    thread_ts: NotRequired[str | None]  # a digest's reply: the header message it replies to


class PickDoc(TypedDict):
    id: str
    score: float
    topic: str


class DigestDoc(TypedDict):
    """One digest of one channel on one local date, keyed `"{channel}:{date}"` (table "digests" of posts.json):
    the plan, stored before anything is posted, and the progress of posting it."""

    channel: str
    date: str  # YYYY-MM-DD, local to the channel's schedule
    trigger: str  # "schedule", "command", …
    status: str  # "planned" or "done"
    planned_at: str
    since: str
    picks: list[PickDoc]
    skipped: list[str]  # matched, but over the channel's maximum
    candidates: int
    header_ts: str | None
    attempts: int
    next_try_at: str | None
    last_error: str | None
    done_at: str | None
    posted: int


class SaveDoc(TypedDict):
    """One paper on one user's reading list, keyed `"{user}:{paper_id}"` (table "saves" of saves.json)."""

    user: str
    paper_id: str
    channel: str | None
    ts: str | None
    saved_at: str
    via: str  # "reaction", "button" or "command"
    reactions: list[str]  # "channel:ts:emoji" save reactions still on
    kept: bool


class PendingDoc(TypedDict):
    """A save reaction not processed yet, keyed `"{user}:{channel}:{ts}:{emoji}"` (table "pending" of saves.json)."""

    user: str
    channel: str
    ts: str
    reaction: str
    received_at: str
    attempts: int
