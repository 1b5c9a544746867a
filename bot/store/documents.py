"""The stored documents, one TypedDict per kind: the shape every backend stores and returns.

These are the on-disk formats of the TinyDB data directory (a data directory written by an earlier version
loads as it is), so a field is only ever added, never renamed. The paper record is `bot.papers.PaperRecord`.
Documents may carry keys not listed here (written by another version, or `**extra` of a post): a repository
keeps them as they are on every update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NotRequired, TypedDict

from bot.digest.strictness import STRICTNESS, stored


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
    strictness: str | float  # a level name of bot.digest.strictness.STRICTNESS, or a minimum score in [0, 1]
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


class ReactionEventDoc(TypedDict):
    """The latest add or removal of one save reaction, keyed like a pending entry (table "unreacted" of
    saves.json). `kind` is "added" or "removed"; a document without it (written before adds were recorded)
    is a removal."""

    user: str
    channel: str
    ts: str
    reaction: str
    event_ts: str  # Slack's stamp of that event
    kind: NotRequired[str]


class PendingDoc(TypedDict):
    """A save reaction not processed yet, keyed `"{user}:{channel}:{ts}:{emoji}"` (table "pending" of saves.json)."""

    user: str
    channel: str
    ts: str
    reaction: str
    received_at: str
    attempts: int


class FeedbackDoc(TypedDict):
    """One person's feedback on a paper offered to a channel, keyed `"{channel}:{paper_id}:{user}:{kind}:{source}"`
    (source: "button" or "reaction:{emoji}"; table "feedback" of feedback.json). `active` False: taken back, kept
    a while as the latest event of that reaction (with its `event_ts`) so a redelivered older add is ignored."""

    channel: str
    paper_id: str
    user: str
    kind: str  # "not_relevant"
    via: str  # "button" or "reaction"
    reaction: str | None
    ts: str | None  # the message it was given on
    at: str  # ISO 8601 UTC with microseconds
    active: bool
    event_ts: NotRequired[str]  # Slack's stamp of the latest reaction event (reactions only)


# --- validation at load: what each repository reads must have the type it expects ---------------------------
# A check returns None for a good document, else a short phrase saying what is wrong. Only types are checked
# (and presence of the fields read without a default): values are the repositories' business.

Check = Callable[[Any], "str | None"]
_MISSING = object()
_STR = (str,)
_OPT_STR = (str, type(None))
_INT = (int,)
_NUMBER = (int, float)
_BOOL = (bool,)
_DICT = (dict,)
STR_LIST = "list of strings"


def kind(value: object) -> str:
    """How a wrong value reads in an error message: `null`, `a list`, …"""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def is_str_list(value: object) -> bool:
    if type(value) is not list:
        return False
    try:
        "".join(value)  # a C loop: much faster than all(isinstance(...)) over 100k records
    except TypeError:
        return False
    return True


def fields_check(fields: Mapping[str, tuple[tuple[type, ...] | str, bool]]) -> Check:
    """A check for documents whose field `name` has types `types` (or is a list of strings: STR_LIST);
    required fields must be present."""
    spec = tuple((name, types, required) for name, (types, required) in fields.items())

    def check(doc: Any) -> str | None:
        if type(doc) is not dict:
            return f"{kind(doc)}, not an object"
        for name, types, required in spec:
            value = doc.get(name, _MISSING)
            if value is _MISSING:
                if required:
                    return f"no {name!r}"
            elif types is STR_LIST:
                if not is_str_list(value):
                    return f"{name!r} is {kind(value)}, not a list of strings"
            elif not isinstance(value, types):  # type: ignore[arg-type]
                return f"{name!r} is {kind(value)}"
        return None

    return check


_paused_check = fields_check({"reason": (_STR, False), "at": (_STR, False)})
_digest_settings_check = fields_check({
    "enabled": (_BOOL, False), "time": (_STR, False), "tz": (_STR, False), "days": (_STR, False),
    "max_papers": (_INT, False), "post_empty": (_BOOL, False), "sources": (STR_LIST, False),
    "strictness": ((str, int, float), False), "paused": (_DICT, False), "effective_from": (_STR, False),
})
_channel_fields = fields_check({
    "id": (_STR, False), "topics": (STR_LIST, False), "created_at": (_STR, False), "updated_at": (_STR, False),
    "updated_by": (_STR, False), "digest": (_DICT, False),
})


def channel_problem(doc: Any) -> str | None:
    problem = _channel_fields(doc)
    if problem is None and "digest" in doc:
        problem = _digest_settings_check(doc["digest"])
        if problem is None and "paused" in doc["digest"]:
            problem = _paused_check(doc["digest"]["paused"])
        if problem is None and "strictness" in doc["digest"] and stored(doc["digest"]["strictness"]) is None:
            problem = (f"'strictness' is {doc['digest']['strictness']!r}, not {', '.join(STRICTNESS)} or a number "
                       f"from 0 to 1")
        problem = problem and f"'digest': {problem}"
    return problem


post_problem = fields_check({
    "channel": (_STR, True), "ts": (_STR, True), "paper_id": (_STR, True), "kind": (_STR, False),
    "posted_at": (_STR, False), "digest_date": (_STR, False), "thread_ts": (_OPT_STR, False),
})
_pick_check = fields_check({"id": (_STR, True), "score": (_NUMBER, True), "topic": (_STR, True)})  # all read
_digest_fields = fields_check({
    "channel": (_STR, True), "date": (_STR, True), "trigger": (_STR, False), "status": (_STR, True),
    "planned_at": (_STR, False), "since": (_STR, True), "picks": ((list,), True), "skipped": (STR_LIST, True),
    "candidates": (_INT, True), "header_ts": (_OPT_STR, False), "attempts": (_INT, False),
    "next_try_at": (_OPT_STR, False), "last_error": (_OPT_STR, False), "done_at": (_OPT_STR, False),
    "posted": (_INT, False),
})


def digest_problem(doc: Any) -> str | None:
    problem = _digest_fields(doc)
    if problem is None:
        for number, pick in enumerate(doc["picks"], start=1):
            if (pick_problem := _pick_check(pick)) is not None:
                return f"pick {number}: {pick_problem}"
    return problem


save_problem = fields_check({
    "user": (_STR, True), "paper_id": (_STR, True), "channel": (_OPT_STR, False), "ts": (_OPT_STR, False),
    "saved_at": (_STR, True), "via": (_STR, False), "reactions": (STR_LIST, False), "kept": (_BOOL, False),
})
pending_problem = fields_check({
    "user": (_STR, True), "channel": (_STR, True), "ts": (_STR, True), "reaction": (_STR, True),
    "received_at": (_STR, True), "attempts": (_INT, False),
})
reaction_event_problem = fields_check({
    "event_ts": (_STR, True), "kind": (_STR, False), "user": (_STR, False), "channel": (_STR, False),
    "ts": (_STR, False), "reaction": (_STR, False),
})
feedback_problem = fields_check({
    "channel": (_STR, True), "paper_id": (_STR, True), "user": (_STR, True), "kind": (_STR, False),
    "via": (_STR, False), "reaction": (_OPT_STR, False), "ts": (_OPT_STR, False), "at": (_STR, True),
    "active": (_BOOL, False), "event_ts": (_STR, False),
})
