"""The TinyDB feedback store: what people told the bot about papers offered to a channel (today "not relevant").
Not Slack-specific.

Its own small file, `feedback.json`, table "feedback", one document per channel, paper, user, kind and source
(bot.store.models.feedback_key: the button, or each reaction emoji), so giving the same feedback twice (a double
click, a Slack retry) lands on the same document, and taking one source back (removing the reaction) leaves the
others (the button):

    {"channel", "paper_id", "user", "kind": "not_relevant", "via": "button" | "reaction", "reaction", "ts",
     "at", "active": bool, "event_ts"?}

A reaction's document also records Slack's `event_ts` of the latest add or removal of that reaction, and is kept
after the removal (`active` False) as that record: an add or removal stamped no later than it (a redelivery,
after a Slack retry or a restart) is ignored, checked and written in the same transaction. So a redelivered add
does not undo a later removal (bot/store/tinydb/saves.py does the same for save reactions). Taken-back records
older than `TOMBSTONE_SECONDS` before the newest event are dropped: Slack stops retrying long before. A button's
feedback has no stamp; taking it back deletes its document.

Every lookup is answered from in-memory indexes built at open; the file is only written, atomically (see
files.py), under the store's lock, so memory always equals what the file holds.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.papers import normalize_arxiv_id
from bot.store.models import (
    FEEDBACK_KINDS,
    FEEDBACK_VIA,
    NOT_RELEVANT,
    Feedback,
    FeedbackOutcome,
    base_emoji,
    feedback_key,
    timestamp,
)
from bot.store.tinydb.files import Store
from bot.store.tinydb.saves import TOMBSTONE_SECONDS, bare_id, event_time

log = logging.getLogger("bot.feedback")

FEEDBACK_TABLE = "feedback"
def _check(kind: str, via: str, reaction: str | None) -> str | None:
    """The reaction's base emoji (None for the button); ValueError for what the repository does not know."""
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"unknown feedback kind {kind!r}")
    if via not in FEEDBACK_VIA:
        raise ValueError(f"unknown via {via!r}")
    if via == "reaction":
        if not reaction or not base_emoji(reaction):
            raise ValueError("reaction feedback needs its reaction")
        return base_emoji(reaction)
    return None


class FeedbackStore:
    """The `FeedbackRepository` (bot.store.protocols) over one TinyDB file."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._docs: dict[str, tuple[Feedback, bool]] = {}  # key -> (record, in force)
        self._by_channel: dict[str, set[str]] = {}  # channel -> keys in force
        with store.lock:
            for key, doc in store.raw_table(FEEDBACK_TABLE).items():
                self._remember(key, Feedback.from_doc(doc), bool(doc.get("active", True)))

    # --- memory (callers hold the store lock) -------------------------------------------------------------

    def _remember(self, key: str, feedback: Feedback, active: bool) -> None:
        self._docs[key] = (feedback, active)
        keys = self._by_channel.setdefault(feedback.channel, set())
        if active:
            keys.add(key)
        else:
            keys.discard(key)

    def _forget(self, key: str) -> None:
        old = self._docs.pop(key, None)
        if old is not None:
            self._by_channel.get(old[0].channel, set()).discard(key)

    def _commit(self, puts: dict[str, tuple[Feedback, bool]], deletes: list[str]) -> None:
        """One atomic write, then the same change in memory."""
        self._store.change(FEEDBACK_TABLE, {key: f.to_doc(active=active) for key, (f, active) in puts.items()},
                           deletes=deletes)
        for key in deletes:
            self._forget(key)
        for key, (feedback, active) in puts.items():
            self._remember(key, feedback, active)

    def _stale(self, key: str, event_ts: str | None) -> str | None:
        """Why an event of source `key` stamped `event_ts` is a redelivery to ignore, or None if it is news (or
        has no usable stamp)."""
        moment = event_time(event_ts)
        old = self._docs.get(key)
        latest = event_time(old[0].event_ts) if old is not None else None
        if moment is None or latest is None or moment > latest:
            return None
        if moment == latest:
            return "redelivered"
        return "added_later" if old is not None and old[1] else "removed_later"

    def _expired(self, event_ts: str | None, keep: str) -> list[str]:
        """Taken-back records stamped more than TOMBSTONE_SECONDS before `event_ts`, to drop with this write."""
        moment = event_time(event_ts)
        if moment is None:
            return []
        cutoff = (moment[0] - TOMBSTONE_SECONDS, moment[1])
        return [key for key, (f, active) in self._docs.items()
                if not active and key != keep and (at := event_time(f.event_ts)) is not None and at < cutoff]

    @staticmethod
    def _log_stale(feedback: str, channel: str, paper_id: str, user: str, event_ts: str | None, why: str) -> None:
        log.info("feedback.stale kind=%s user=%s channel=%s paper=%s event_ts=%s reason=%s", feedback, user,
                 channel, paper_id, event_ts, why)

    # --- the protocol ---------------------------------------------------------------------------------------

    def mark(self, channel: str, paper_id: str, user: str, *, via: str, kind: str = NOT_RELEVANT,
             ts: str | None = None, reaction: str | None = None, event_ts: str | None = None,
             at: str | datetime | None = None) -> FeedbackOutcome | None:
        """Record the feedback (durable when this returns). Again from the same source: harmless, `new` False.
        None, and nothing recorded, if `event_ts` is no later than the latest recorded event of that source."""
        emoji = _check(kind, via, reaction)
        bare = bare_id(paper_id)
        key = feedback_key(channel, bare, user, kind, via, emoji)
        stamp = timestamp(at)
        stamped = event_ts if event_time(event_ts) is not None else None
        with self._store.lock:
            why = self._stale(key, stamped)
            if why is None:
                old = self._docs.get(key)
                if old is not None and old[1]:
                    outcome = FeedbackOutcome(old[0], new=False)
                    if stamped is not None and stamped != old[0].event_ts:
                        kept = replace(old[0], event_ts=stamped)
                        self._commit({key: (kept, True)}, self._expired(stamped, key))
                        outcome = FeedbackOutcome(kept, new=False)
                else:
                    feedback = Feedback(channel=channel, paper_id=bare, user=user, kind=kind, via=via,
                                        reaction=emoji, ts=ts, at=stamp, event_ts=stamped)
                    self._commit({key: (feedback, True)}, self._expired(stamped, key))
                    outcome = FeedbackOutcome(feedback, new=True)
        if why is not None:
            self._log_stale(kind, channel, bare, user, stamped, why)
            return None
        if outcome.new:
            log.info("feedback.added kind=%s user=%s channel=%s paper=%s via=%s", kind, user, channel, bare, via)
        return outcome

    def unmark(self, channel: str, paper_id: str, user: str, *, via: str, kind: str = NOT_RELEVANT,
               reaction: str | None = None, event_ts: str | None = None) -> Feedback | None:
        """Take that source's feedback back; what was taken back, or None (none in force, or a redelivered
        removal). With a usable `event_ts` the removal is remembered, so an older add is ignored later."""
        emoji = _check(kind, via, reaction)
        bare = normalize_arxiv_id(paper_id)
        if bare is None:
            return None
        key = feedback_key(channel, bare, user, kind, via, emoji)
        stamped = event_ts if event_time(event_ts) is not None else None
        removed: Feedback | None = None
        with self._store.lock:
            why = self._stale(key, stamped)
            if why is None:
                old = self._docs.get(key)
                removed = old[0] if old is not None and old[1] else None
                if stamped is not None:
                    # Remembered as the latest event of this reaction, in force or not before.
                    base = old[0] if old is not None else Feedback(
                        channel=channel, paper_id=bare, user=user, kind=kind, via=via, reaction=emoji, ts=None,
                        at=timestamp(None))
                    self._commit({key: (replace(base, event_ts=stamped), False)}, self._expired(stamped, key))
                elif removed is not None:
                    self._commit({}, [key])
        if why is not None:
            self._log_stale(kind, channel, bare, user, stamped, why)
            return None
        if removed is not None:
            log.info("feedback.removed kind=%s user=%s channel=%s paper=%s via=%s", kind, user, channel, bare, via)
        return removed

    def in_channel(self, channel: str) -> list[Feedback]:
        """The channel's feedback in force, oldest first."""
        with self._store.lock:
            found = [self._docs[key][0] for key in self._by_channel.get(channel, ())]
        return sorted(found, key=lambda f: (f.at, f.key))

    def __len__(self) -> int:
        """Records in force."""
        with self._store.lock:
            return sum(len(keys) for keys in self._by_channel.values())
