"""The repositories the core talks to, as typed protocols; bot/store/tinydb/ implements them today.

Every method is one transaction: it either happens completely and durably before it returns, or not at all,
and concurrent calls (other threads, other connections) never lose each other's writes. Nothing here assumes
a whole table in memory or a process-local lock, so a database backend can implement each call as one
transaction (a read-modify-write method as one `SELECT … FOR UPDATE` + write, or one conditional statement).
Every returned document or value is the caller's own: changing it changes nothing stored.

tests/store/ holds the contract suite that any implementation must pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.store.documents import ChannelDoc, DigestDoc
from bot.store.models import (
    NOT_RELEVANT,
    Feedback,
    FeedbackOutcome,
    Pending,
    Post,
    Save,
    SaveOutcome,
    TopPaper,
    Unreacted,
    UpsertResult,
)

if TYPE_CHECKING:
    from bot.digest.schedule import ScheduleChange
    from bot.digest.selection import Plan
    from bot.digest.settings import ChannelDigest
    from bot.papers import PaperRecord

ChangeListener = Callable[[list["PaperRecord"]], None]


class ArchiveRepository(Protocol):
    """Every paper ingested or shared, one record per bare arXiv id. Ids may be given in any spelling
    (`2405.12345v2`, an abs or Hugging Face link); records are stored and returned under the bare id."""

    def subscribe(self, listener: ChangeListener) -> None:
        """Call `listener(changed_records)` after every `upsert` through this object that added or changed
        papers, in commit order (the search index follows the archive this way)."""
        ...

    def __len__(self) -> int:
        """How many papers (a COUNT)."""
        ...

    def __contains__(self, paper_id: object) -> bool: ...

    def get(self, paper_id: str) -> PaperRecord | None: ...

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, PaperRecord]:
        """The known ones among `paper_ids` (bare ids), keyed by id; unknown ids are left out."""
        ...

    def snapshot(self) -> list[PaperRecord]:
        """Every record: for building the search index at start-up only (a backend may stream it from a
        cursor). Anything that runs while serving uses a narrower query."""
        ...

    def arrived_since(self, moment: datetime) -> list[PaperRecord]:
        """Records first ingested (`first_seen`), or listed on Daily Papers (`hf_date`, a day), at or after
        `moment`: the digest's candidates."""
        ...

    def upsert(self, records: Iterable[PaperRecord]) -> UpsertResult:
        """Insert new papers and merge sightings into known ones (bot.papers.merge_records), as one
        transaction. A record whose merge differs from the stored one only in `last_seen` is `unchanged` and
        not written."""
        ...


class ChannelRepository(Protocol):
    """Per-channel settings: the topics a channel watches and its digest settings (one document per channel,
    written by this repository only). Keys it does not know are kept as they are on every update."""

    def get(self, channel_id: str) -> ChannelDoc | None: ...

    def all(self) -> dict[str, ChannelDoc]: ...

    def topics(self, channel_id: str) -> list[str]:
        """The channel's topics in the order they were added ([] for a channel never configured)."""
        ...

    def watch(self, channel_id: str, topic: str, user_id: str) -> bool:
        """Add a topic (bot.topics.normalize_topic); False if the channel already watches it in any case or
        spacing. Raises bot.topics.TopicError for an empty or too long topic, or one topic too many."""
        ...

    def unwatch(self, channel_id: str, topic: str, user_id: str) -> str | None:
        """Remove a topic given as text, or else as its 1-based number in `topics()`; the removed topic, or
        None if there was no such topic."""
        ...

    def digest(self, channel_id: str) -> ChannelDigest:
        """The channel's digest settings, defaults resolved (also for a channel never configured)."""
        ...

    def all_digests(self) -> list[ChannelDigest]: ...

    def change_schedule(self, channel_id: str, user_id: str, change: ScheduleChange,
                        now: datetime) -> ChannelDigest:
        """Apply `/papers schedule …` (bot.digest.settings.apply_schedule_change); any change un-pauses."""
        ...

    def set_sources(self, channel_id: str, user_id: str, sources: Sequence[str], now: datetime) -> ChannelDigest: ...

    def pause(self, channel_id: str, reason: str, now: datetime) -> bool:
        """Pause the channel's digests; False if it was paused already (so the caller logs only once)."""
        ...


class PostLedgerRepository(Protocol):
    """Messages the bot posted about papers: (channel, ts) → paper id. Written by this repository only."""

    def record(self, channel: str, ts: str, paper_id: str, kind: str, **extra: Any) -> Post:
        """Persist that message `ts` in `channel` is about `paper_id` (`extra`: more fields of the document,
        such as `digest_date`). Recording the same message again replaces it, never duplicates it."""
        ...

    def paper_for(self, channel: str, ts: str) -> str | None: ...

    def papers_in(self, channel: str) -> set[str]:
        """Every paper the bot has posted to `channel`."""
        ...

    def was_posted(self, channel: str, paper_id: str) -> bool: ...

    def posts_in(self, channel: str, kind: str | None = None) -> list[Post]:
        """The channel's posts (only those of `kind`, such as "digest", if given), oldest first."""
        ...


class DigestLedgerRepository(Protocol):
    """One document per (channel, local date): the plan, stored before anything is posted, and its progress.
    Written by this repository only."""

    def get(self, channel: str, day: date) -> DigestDoc | None: ...

    def by_channel(self, since: date | None = None) -> dict[str, list[DigestDoc]]:
        """Every channel's documents dated `since` or later (all if None), newest first."""
        ...

    def unfinished(self) -> list[DigestDoc]:
        """Documents whose status is not "done"."""
        ...

    def create(self, plan: Plan, trigger: str, keep_days: int) -> DigestDoc:
        """Store the plan as status "planned", unless the (channel, day) already has a document: the first
        writer wins and every caller gets the stored document. Prunes the channel's documents dated more
        than `keep_days` before the plan's day, in the same transaction."""
        ...

    def update(self, channel: str, day: date, **fields: Any) -> None:
        """Set these fields of an existing document (KeyError if there is none); the others stay."""
        ...

    def start_attempt(self, channel: str, day: date) -> int:
        """Count an attempt at posting; the number of earlier attempts (0: a fresh digest)."""
        ...


class SaveRepository(Protocol):
    """Reading lists: which user saved which paper (one save per user and paper), and the reasons it stays
    saved (save reactions still on messages, or an explicit save by a button or command). Paper ids may be
    given in any spelling; a save is stored under the bare id.

    `remove_reaction` also cancels that reaction if it is still in the `PendingReactionQueue`, in the same
    transaction, so a backend implements both protocols over one store (see `SaveStore`)."""

    def save(self, user: str, paper_id: str, *, via: str, channel: str | None = None, ts: str | None = None,
             reaction: str | None = None, at: str | datetime | None = None) -> SaveOutcome:
        """Save a paper. Saving again is harmless: the first save's place and time stay; a new reaction, or
        an explicit save, is added as another reason. An exact repeat writes nothing (`changed` False).
        Raises ValueError for an id that is not an arXiv id, an unknown `via`, or a reaction save without
        its message (channel, ts, reaction)."""
        ...

    def save_many(self, user: str, paper_ids: Iterable[str], *, via: str, channel: str | None = None,
                  ts: str | None = None, reaction: str | None = None,
                  at: str | datetime | None = None) -> list[SaveOutcome]:
        """Save several papers (the links of one message) in one transaction; one outcome per distinct id."""
        ...

    def save_reaction(self, user: str, paper_id: str, *, channel: str, ts: str, reaction: str, event_ts: str,
                      at: str | datetime | None = None) -> SaveOutcome | None:
        """`save` for a save reaction Slack stamped `event_ts`, in one transaction with the check that no event
        of that reaction (user, message, emoji) stamped `event_ts` or later is recorded: if one is (this add is
        a redelivery, of itself or of an add a later removal undid), None and nothing saved. Otherwise the add
        is recorded durably as that reaction's latest event, in the same transaction."""
        ...

    def unsave(self, user: str, paper_id: str) -> Save | None:
        """Take the paper off the user's list whatever saved it; the removed save, or None."""
        ...

    def remove_reaction(self, user: str, channel: str, ts: str, reaction: str, *,
                        event_ts: str | None = None) -> Unreacted:
        """Drop that reaction as a reason for every paper it saved (a paper with no reason left leaves the
        list), and cancel it if it is still pending. With Slack's `event_ts`, the removal is remembered
        durably (per user, message and emoji), so an add of that reaction stamped earlier is ignored; and the
        removal itself changes nothing (empty `Unreacted`) if an event of that reaction stamped `event_ts` or
        later is recorded (a redelivered removal after the user added the reaction again). Reaction events
        reach the repository again on every Slack retry: this check is what makes them idempotent."""
        ...

    def get(self, user: str, paper_id: str) -> Save | None: ...

    def saved(self, user: str) -> list[Save]:
        """The user's reading list, newest first."""
        ...

    def saved_ids(self, user: str) -> set[str]: ...

    def savers(self, paper_id: str) -> set[str]: ...

    def channels_of(self, user: str) -> set[str]:
        """Channels the user has saved papers from."""
        ...

    def top(self, since: str | datetime | None = None, limit: int = 10) -> list[TopPaper]:
        """The most-saved papers among saves made at or after `since` (all time if None): most savers first,
        then the most recently saved, then by id."""
        ...


class PendingReactionQueue(Protocol):
    """A durable work queue of save reactions on messages the bot did not post: recorded before Slack gets
    its 200, processed after (reading the message and fetching its papers is slow), re-processed at start-up
    if the process died in between. Completing an entry is atomic with the saves it makes, so a backend
    implements this over the same store as its `SaveRepository`."""

    def add_pending(self, user: str, channel: str, ts: str, reaction: str,
                    at: str | datetime | None = None) -> Pending:
        """Queue a reaction; queuing it again (a retried event) returns the entry already queued."""
        ...

    def add_pending_reaction(self, user: str, channel: str, ts: str, reaction: str, *, event_ts: str,
                             at: str | datetime | None = None) -> Pending | None:
        """`add_pending` for a reaction Slack stamped `event_ts`; None, and nothing queued, if an event of that
        reaction stamped `event_ts` or later is recorded (see `SaveRepository.save_reaction`)."""
        ...

    def pending(self) -> list[Pending]:
        """Every entry not processed yet, oldest first."""
        ...

    def get_pending(self, key: str) -> Pending | None: ...

    def complete_pending(self, key: str, paper_ids: Iterable[str],
                         at: str | datetime | None = None) -> list[SaveOutcome] | None:
        """Save the papers the entry's message names, as reaction saves, and remove the entry, in one
        transaction. None, and nothing saved, if it is no longer queued (the reaction was removed, or
        another worker completed it)."""
        ...

    def retry_pending(self, key: str) -> int | None:
        """Count a failed attempt; the new count, or None if the entry is gone."""
        ...

    def drop_pending(self, key: str) -> bool:
        """Give up on an entry; False if it was gone already."""
        ...


class SaveStore(SaveRepository, PendingReactionQueue, Protocol):
    """Saves and the pending-reaction queue over one store, as every backend provides them."""


class EventDedupRepository(Protocol):
    """Which Slack deliveries were already handled (Slack redelivers what it thinks went unanswered)."""

    def first_delivery(self, key: str) -> bool:
        """Remember `key`; False if it was seen before (within the backend's retention)."""
        ...

    def forget(self, key: str) -> None:
        """Let `key` through again (its handling failed, so Slack's retry must be handled)."""
        ...


class FeedbackRepository(Protocol):
    """What people told the bot about papers offered to a channel, other than saving them (saves live in the
    `SaveRepository`): today "not_relevant" (the Not relevant button, or the not-relevant reaction). One record
    per channel, paper, user, kind and source (the button; each reaction emoji), so taking one source back
    leaves the others; paper ids may be given in any spelling and are stored bare.

    Reaction events carry Slack's `event_ts`: per source, the latest add or removal wins. An event stamped no
    later than the latest recorded one of its source (a redelivery) changes nothing, checked and recorded in
    the same transaction, so a redelivered add does not undo a later removal, nor a redelivered removal a
    later add."""

    def mark(self, channel: str, paper_id: str, user: str, *, via: str, kind: str = NOT_RELEVANT,
             ts: str | None = None, reaction: str | None = None, event_ts: str | None = None,
             at: str | datetime | None = None) -> FeedbackOutcome | None:
        """Record the feedback. Giving it again from the same source is harmless (`new` False; the first time
        stays). None, and nothing recorded, if `event_ts` is no later than the latest recorded event of that
        source. Raises ValueError for an id that is not an arXiv id, an unknown `kind` or `via`, or a reaction
        without its emoji."""
        ...

    def unmark(self, channel: str, paper_id: str, user: str, *, via: str, kind: str = NOT_RELEVANT,
               reaction: str | None = None, event_ts: str | None = None) -> Feedback | None:
        """Take the feedback of that source back; what was taken back, or None if there was none (or the removal
        is a redelivery: an event of that source stamped `event_ts` or later is recorded). With `event_ts`, the
        removal is remembered, so an add of that reaction stamped earlier is ignored later."""
        ...

    def in_channel(self, channel: str) -> list[Feedback]:
        """The channel's feedback in force (taken-back feedback is left out), oldest first."""
        ...
