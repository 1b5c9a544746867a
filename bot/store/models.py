"""Value types the repositories take and return (and the keys they are stored under): backend-neutral."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.store.documents import FeedbackDoc, PendingDoc, SaveDoc

VIA = ("reaction", "button", "command")


@dataclass
class UpsertResult:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(frozen=True)
class Post:
    channel: str
    ts: str
    paper_id: str
    kind: str  # "digest", "share", …
    posted_at: str


def now_precise() -> str:
    """UTC now with microseconds (`2026-11-24T10:00:00.123456Z`): orders saves made within one second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp(at: str | datetime | None) -> str:
    if at is None:
        return now_precise()
    if isinstance(at, str):
        # One format for every stored time, so that string order is time order.
        at = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def base_emoji(reaction: str) -> str:
    """`thumbsup::skin-tone-2` -> `thumbsup`: the name to compare with the configured save emojis."""
    return reaction.split("::", 1)[0].strip(":")


def reaction_anchor(channel: str, ts: str, reaction: str) -> str:
    return f"{channel}:{ts}:{base_emoji(reaction)}"


@dataclass(frozen=True)
class Save:
    user: str
    paper_id: str
    channel: str | None  # where it was first saved from
    ts: str | None  # the message it was first saved from
    saved_at: str  # ISO 8601 UTC with microseconds
    via: str  # "reaction", "button" or "command"
    reactions: tuple[str, ...]  # "channel:ts:emoji" save reactions still on
    kept: bool  # saved by a button or command: stays until an explicit unsave

    @property
    def key(self) -> str:
        return save_key(self.user, self.paper_id)

    def to_doc(self) -> SaveDoc:
        return {"user": self.user, "paper_id": self.paper_id, "channel": self.channel, "ts": self.ts,
                "saved_at": self.saved_at, "via": self.via, "reactions": list(self.reactions), "kept": self.kept}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Save:
        """Tolerant of documents written by earlier versions (no `via`, `reactions` or `kept`)."""
        return cls(user=doc["user"], paper_id=doc["paper_id"], channel=doc.get("channel"), ts=doc.get("ts"),
                   saved_at=doc["saved_at"], via=doc.get("via", "button"),
                   reactions=tuple(doc.get("reactions") or ()), kept=bool(doc.get("kept")))


def save_key(user: str, paper_id: str) -> str:
    return f"{user}:{paper_id}"


@dataclass(frozen=True)
class SaveOutcome:
    save: Save
    new: bool  # the paper was not in the user's list before
    changed: bool  # anything was written (False: an exact repeat, such as a retried event)


@dataclass(frozen=True)
class Pending:
    """A save reaction on a message that is not a bot post, recorded before the ack, processed after."""

    user: str
    channel: str
    ts: str
    reaction: str
    received_at: str
    attempts: int = 0

    @property
    def key(self) -> str:
        return pending_key(self.user, self.channel, self.ts, self.reaction)

    def to_doc(self) -> PendingDoc:
        return {"user": self.user, "channel": self.channel, "ts": self.ts, "reaction": self.reaction,
                "received_at": self.received_at, "attempts": self.attempts}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Pending:
        return cls(user=doc["user"], channel=doc["channel"], ts=doc["ts"], reaction=doc["reaction"],
                   received_at=doc["received_at"], attempts=int(doc.get("attempts", 0)))


def pending_key(user: str, channel: str, ts: str, reaction: str) -> str:
    return f"{user}:{reaction_anchor(channel, ts, reaction)}"


@dataclass(frozen=True)
class TopPaper:
    paper_id: str
    users: tuple[str, ...]  # who saved it, earliest first
    last_saved_at: str

    @property
    def count(self) -> int:
        return len(self.users)


@dataclass(frozen=True)
class Unreacted:
    """What removing one save reaction did."""

    unsaved: tuple[str, ...]  # papers that left the user's list (that was their last reason)
    kept: tuple[str, ...]  # papers still saved for another reason (another reaction, a button)
    cancelled_pending: bool  # the reaction had not been processed yet; now it never will be


NOT_RELEVANT = "not_relevant"
FEEDBACK_KINDS = (NOT_RELEVANT,)  # a save is feedback too, but it lives in the saves (SaveRepository)
FEEDBACK_VIA = ("button", "reaction")


def feedback_key(channel: str, paper_id: str, user: str, kind: str, via: str, reaction: str | None = None) -> str:
    """One record per channel, paper, user, kind and source (the button, or each reaction emoji), so that
    taking one source back (removing the reaction) leaves the others."""
    source = f"reaction:{base_emoji(reaction)}" if via == "reaction" and reaction else via
    return f"{channel}:{paper_id}:{user}:{kind}:{source}"


@dataclass(frozen=True)
class Feedback:
    """One person's feedback on a paper offered to a channel (today only "not_relevant")."""

    channel: str
    paper_id: str
    user: str
    kind: str  # "not_relevant"
    via: str  # "button" or "reaction"
    reaction: str | None  # the emoji (base name), for a reaction
    ts: str | None  # the message it was given on
    at: str  # when it was given (ISO 8601 UTC with microseconds); again after an undo, the new time
    event_ts: str | None = None  # Slack's stamp of the reaction event that gave it (reactions only)

    @property
    def key(self) -> str:
        return feedback_key(self.channel, self.paper_id, self.user, self.kind, self.via, self.reaction)

    def to_doc(self, *, active: bool = True) -> FeedbackDoc:
        doc: FeedbackDoc = {"channel": self.channel, "paper_id": self.paper_id, "user": self.user,
                            "kind": self.kind, "via": self.via, "reaction": self.reaction, "ts": self.ts,
                            "at": self.at, "active": active}
        if self.event_ts is not None:
            doc["event_ts"] = self.event_ts
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Feedback:
        return cls(channel=doc["channel"], paper_id=doc["paper_id"], user=doc["user"],
                   kind=doc.get("kind", NOT_RELEVANT), via=doc.get("via", "button"), reaction=doc.get("reaction"),
                   ts=doc.get("ts"), at=doc["at"], event_ts=doc.get("event_ts"))


@dataclass(frozen=True)
class FeedbackOutcome:
    feedback: Feedback
    new: bool  # False: this source had already given it (a double click, a redelivered event)
