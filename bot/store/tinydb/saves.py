"""The TinyDB reading lists: which user saved which paper, where and when. Not Slack-specific.

One document per (user, paper) in the "saves" store (its own small file, so a save never rewrites the
archive or the post ledger), table "saves", doc id `"{user}:{paper_id}"` — saving twice (a Slack retry, a
double click, a second reaction) lands on the same document, so saving is idempotent by construction:

    {"user", "paper_id", "channel", "ts", "saved_at", "via", "reactions": ["C…:ts:emoji", …], "kept": bool}

`channel`/`ts`/`via`/`saved_at` describe the first save (where the user found the paper). What keeps the
save alive is recorded too: `reactions` are the save reactions the user has on messages about the paper,
`kept` says the user saved it explicitly (a button or a command). Removing a reaction removes only that
reason: the paper leaves the list when the last reason goes (so taking one of two :bookmark: reactions
off, on two posts of the same paper, keeps it saved). An explicit unsave (button, command) removes the
paper whatever reactions remain; a new reaction saves it again.

Table "pending" holds reactions on messages people wrote: reading the message and fetching its papers
is slow, so the reaction is recorded durably first (before Slack gets its 200), then processed, and
re-processed at start-up if the process died in between. Completing one is atomic with its saves, and
removing the reaction meanwhile cancels it.

Table "unreacted" holds, per (user, message, emoji), the latest event of that save reaction Slack stamped:
`{"user", "channel", "ts", "reaction", "event_ts", "kind": "added" | "removed"}` (a document without `kind`,
written before adds were recorded, is a removal). Reaction events skip the in-memory event de-dup, so Slack's
retry of an event, or a redelivery after a restart, runs again: an add or a removal stamped no later than the
latest recorded event of its reaction (equal: the same event again) is ignored, checked and recorded in the
same transaction as the save or unsave. So a redelivered add does not undo a later removal, and a redelivered
removal does not undo a later add. Events without `event_ts` are neither checked nor recorded. Entries older
than `TOMBSTONE_SECONDS` before the newest are dropped: Slack stops retrying long before.

Every lookup is answered from in-memory indexes built at open; the file is only written. All access holds
the store's lock, so memory always equals what the file holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.papers import normalize_arxiv_id
from bot.store.documents import ReactionEventDoc
from bot.store.models import (
    VIA,
    Pending,
    Save,
    SaveOutcome,
    TopPaper,
    Unreacted,
    base_emoji,
    pending_key,
    reaction_anchor,
    timestamp,
)
from bot.store.tinydb.files import Store

log = logging.getLogger("bot.saves")

SAVES_TABLE = "saves"
PENDING_TABLE = "pending"
TOMBSTONES_TABLE = "unreacted"
TOMBSTONE_SECONDS = 7 * 24 * 3600
ADDED, REMOVED = "added", "removed"

Moment = tuple[int, int]


def event_time(event_ts: object) -> Moment | None:
    """Slack's "1716200000.000100" as (seconds, microseconds), exact (a float would round); None if malformed."""
    if not event_ts or not isinstance(event_ts, str):
        return None
    seconds, _, fraction = event_ts.partition(".")
    if not (seconds.isdecimal() and (fraction.isdecimal() or not fraction)) or len(fraction) > 6:
        return None
    return int(seconds), int(fraction.ljust(6, "0"))


def bare_id(paper_id: str) -> str:
    """The bare arXiv id; ValueError for anything else."""
    bare = normalize_arxiv_id(paper_id)
    if bare is None:
        raise ValueError(f"not an arXiv id: {paper_id!r}")
    return bare


class Saves:
    """Both the `SaveRepository` and the `PendingReactionQueue` (bot.store.protocols): completing a pending
    reaction is atomic with the saves it makes, and removing a reaction cancels it, so both live in one store
    and every change to either is one transaction of that store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_user: dict[str, dict[str, Save]] = {}
        self._by_paper: dict[str, set[str]] = {}
        self._by_reaction: dict[tuple[str, str], set[str]] = {}  # (user, anchor) -> paper ids
        self._pending: dict[str, Pending] = {}
        # pending key -> (event time, "added"/"removed") of the latest event Slack stamped for that reaction
        self._last_event: dict[str, tuple[Moment, str]] = {}
        with store.lock:
            for doc in store.raw_table(SAVES_TABLE).values():
                self._remember(Save.from_doc(doc))
            for doc in store.raw_table(PENDING_TABLE).values():
                pending = Pending.from_doc(doc)
                self._pending[pending.key] = pending
            for key, doc in store.raw_table(TOMBSTONES_TABLE).items():
                moment = event_time(doc.get("event_ts")) if isinstance(doc, dict) else None
                if moment is not None:
                    self._last_event[key] = (moment, doc.get("kind", REMOVED))

    # --- in-memory indexes (callers hold the store lock) ------------------------------------------------

    def _remember(self, save: Save) -> None:
        self._forget(save.user, save.paper_id)
        self._by_user.setdefault(save.user, {})[save.paper_id] = save
        self._by_paper.setdefault(save.paper_id, set()).add(save.user)
        for anchor in save.reactions:
            self._by_reaction.setdefault((save.user, anchor), set()).add(save.paper_id)

    def _forget(self, user: str, paper_id: str) -> None:
        old = self._by_user.get(user, {}).pop(paper_id, None)
        if old is None:
            return
        if not self._by_user[user]:
            del self._by_user[user]
        users = self._by_paper.get(paper_id)
        if users is not None:
            users.discard(user)
            if not users:
                del self._by_paper[paper_id]
        for anchor in old.reactions:
            papers = self._by_reaction.get((user, anchor))
            if papers is not None:
                papers.discard(paper_id)
                if not papers:
                    del self._by_reaction[(user, anchor)]

    # --- writes -----------------------------------------------------------------------------------------

    def _commit(self, puts: list[Save], deletes: list[Save], pending_puts: Iterable[Pending] = (),
                pending_deletes: Iterable[str] = (), tombstones: dict[str, ReactionEventDoc] | None = None,
                tombstone_deletes: Iterable[str] = ()) -> None:
        """Write the changes in one atomic transaction, then mirror them in memory (caller holds the lock)."""
        pending_puts, pending_deletes = list(pending_puts), list(pending_deletes)
        tombstones, tombstone_deletes = tombstones or {}, list(tombstone_deletes)
        with self._store.transaction():
            self._store.change(SAVES_TABLE, {save.key: save.to_doc() for save in puts},
                               deletes=[save.key for save in deletes])
            if pending_puts or pending_deletes:
                self._store.change(PENDING_TABLE, {item.key: item.to_doc() for item in pending_puts},
                                   deletes=pending_deletes)
            if tombstones or tombstone_deletes:
                self._store.change(TOMBSTONES_TABLE, dict(tombstones), deletes=tombstone_deletes)
        for key in tombstone_deletes:
            self._last_event.pop(key, None)
        for key, doc in tombstones.items():
            moment = event_time(doc["event_ts"])
            assert moment is not None
            self._last_event[key] = (moment, doc.get("kind", REMOVED))
        for save in deletes:
            self._forget(save.user, save.paper_id)
        for save in puts:
            self._remember(save)
        for item in pending_puts:
            self._pending[item.key] = item
        for key in pending_deletes:
            self._pending.pop(key, None)

    def _merged(self, user: str, paper_id: str, via: str, channel: str | None, ts: str | None,
                reaction: str | None, at: str) -> tuple[Save, bool, bool]:
        """(the save after this one, new to the list, anything to write)."""
        if via not in VIA:
            raise ValueError(f"unknown via {via!r}")
        anchor = reaction_anchor(channel, ts, reaction) if via == "reaction" and channel and ts and reaction \
            else None
        if via == "reaction" and anchor is None:
            raise ValueError("a reaction save needs channel, ts and reaction")
        old = self._by_user.get(user, {}).get(paper_id)
        if old is None:
            save = Save(user=user, paper_id=paper_id, channel=channel or None, ts=ts or None, saved_at=at, via=via,
                        reactions=(anchor,) if anchor else (), kept=anchor is None)
            return save, True, True
        reactions = old.reactions + ((anchor,) if anchor and anchor not in old.reactions else ())
        kept = old.kept or anchor is None
        if reactions == old.reactions and kept == old.kept:
            return old, False, False
        return replace(old, reactions=reactions, kept=kept), False, True

    def save(self, user: str, paper_id: str, *, via: str, channel: str | None = None, ts: str | None = None,
             reaction: str | None = None, at: str | datetime | None = None) -> SaveOutcome:
        """Save `paper_id` for `user` (durable when this returns). Saving again is harmless: the first save's
        place and time are kept; a new reaction or an explicit save is added as another reason to keep it."""
        return self.save_many(user, [paper_id], via=via, channel=channel, ts=ts, reaction=reaction, at=at)[0]

    def save_many(self, user: str, paper_ids: Iterable[str], *, via: str, channel: str | None = None,
                  ts: str | None = None, reaction: str | None = None,
                  at: str | datetime | None = None) -> list[SaveOutcome]:
        """Save several papers (the links in one message) in one write."""
        stamp = timestamp(at)
        ids = list(dict.fromkeys(bare_id(p) for p in paper_ids))
        with self._store.lock:
            outcomes, puts = self._plan_saves(user, ids, via, channel, ts, reaction, stamp)
            if puts:
                self._commit(puts, [])
        self._log_saves(outcomes, via)
        return outcomes

    def save_reaction(self, user: str, paper_id: str, *, channel: str, ts: str, reaction: str, event_ts: str,
                      at: str | datetime | None = None) -> SaveOutcome | None:
        """Save a paper for a save reaction Slack stamped `event_ts`; None, and nothing saved, if an event of
        that reaction stamped `event_ts` or later is recorded (this add is a redelivery: of itself, or of an add
        a later removal undid). Otherwise the add is recorded as the reaction's latest event, with the save."""
        stamp = timestamp(at)
        bare = bare_id(paper_id)
        key = pending_key(user, channel, ts, reaction)
        with self._store.lock:
            stale = self._stale(key, event_ts)
            if stale is None:
                outcomes, puts = self._plan_saves(user, [bare], "reaction", channel, ts, reaction, stamp)
                events, pruned = self._plan_event(key, user, channel, ts, reaction, event_ts, ADDED)
                if puts or events or pruned:
                    self._commit(puts, [], tombstones=events, tombstone_deletes=pruned)
                outcome = outcomes[0]
        if stale is not None:
            self._log_stale(user, channel, ts, event_ts, stale)
            return None
        self._log_saves([outcome], "reaction")
        return outcome

    def _stale(self, key: str, event_ts: str | None) -> str | None:
        """Why an event of reaction `key` stamped `event_ts` is a redelivery to ignore ("redelivered": the same
        event again; "removed_later"/"added_later": a later event of the reaction is recorded), or None if it
        is news (or has no usable stamp). Caller holds the lock."""
        moment, latest = event_time(event_ts), self._last_event.get(key)
        if moment is None or latest is None or moment > latest[0]:
            return None
        return "redelivered" if moment == latest[0] else f"{latest[1]}_later"

    @staticmethod
    def _log_stale(user: str, channel: str, ts: str, event_ts: str | None, reason: str) -> None:
        log.info("save.stale user=%s channel=%s ts=%s event_ts=%s reason=%s", user, channel, ts, event_ts, reason)

    def _plan_saves(self, user: str, ids: list[str], via: str, channel: str | None, ts: str | None,
                    reaction: str | None, stamp: str) -> tuple[list[SaveOutcome], list[Save]]:
        outcomes, puts = [], []
        for paper_id in ids:
            save, new, changed = self._merged(user, paper_id, via, channel, ts, reaction, stamp)
            outcomes.append(SaveOutcome(save, new, changed))
            if changed:
                puts.append(save)
        return outcomes, puts

    @staticmethod
    def _log_saves(outcomes: list[SaveOutcome], via: str) -> None:
        for outcome in outcomes:
            save = outcome.save
            event = "added" if outcome.new else "again" if outcome.changed else "repeat"
            log.info("save.%s user=%s paper=%s via=%s channel=%s ts=%s", event,
                     save.user, save.paper_id, via, save.channel, save.ts)

    def unsave(self, user: str, paper_id: str) -> Save | None:
        """Take the paper off the user's list whatever saved it; the removed save, or None if it wasn't there."""
        bare = normalize_arxiv_id(paper_id)
        with self._store.lock:
            old = self._by_user.get(user, {}).get(bare) if bare else None
            if old is None:
                return None
            self._commit([], [old])
        log.info("save.removed user=%s paper=%s via=unsave", user, old.paper_id)
        return old

    def remove_reaction(self, user: str, channel: str, ts: str, reaction: str, *,
                        event_ts: str | None = None) -> Unreacted:
        """The user took a save reaction off a message: drop that reason for every paper it saved (a paper
        with no reason left leaves the list), and cancel the reaction if it is still pending. With Slack's
        `event_ts`, the removal is remembered, so an add of that reaction older than it is ignored later; and
        the removal itself is ignored (nothing changes) if an event of that reaction stamped `event_ts` or later
        is recorded: a redelivered removal does not undo the user's adding the reaction again."""
        anchor = reaction_anchor(channel, ts, reaction)
        key = pending_key(user, channel, ts, reaction)
        with self._store.lock:
            reason = self._stale(key, event_ts)
            if reason is not None:
                self._log_stale(user, channel, ts, event_ts, reason)
                return Unreacted((), (), False)
            tombstones, stale = self._plan_event(key, user, channel, ts, reaction, event_ts, REMOVED)
            unsaved, kept, puts, deletes = [], [], [], []
            for paper_id in sorted(self._by_reaction.get((user, anchor), ())):
                old = self._by_user[user][paper_id]
                reactions = tuple(a for a in old.reactions if a != anchor)
                if reactions or old.kept:
                    kept.append(paper_id)
                    puts.append(replace(old, reactions=reactions))
                else:
                    unsaved.append(paper_id)
                    deletes.append(old)
            cancelled = key in self._pending
            if puts or deletes or cancelled or tombstones or stale:
                self._commit(puts, deletes, pending_deletes=[key] if cancelled else [], tombstones=tombstones,
                             tombstone_deletes=stale)
        for paper_id in unsaved:
            log.info("save.removed user=%s paper=%s via=reaction channel=%s ts=%s", user, paper_id, channel, ts)
        for paper_id in kept:
            log.info("save.kept user=%s paper=%s reason=other_reasons channel=%s ts=%s", user, paper_id, channel, ts)
        if cancelled:
            log.info("save.pending.cancelled user=%s channel=%s ts=%s", user, channel, ts)
        return Unreacted(tuple(unsaved), tuple(kept), cancelled)

    def _plan_event(self, key: str, user: str, channel: str, ts: str, reaction: str, event_ts: str | None,
                    kind: str) -> tuple[dict[str, ReactionEventDoc], list[str]]:
        """The record to write for an add or removal (`kind`) at `event_ts` (none without a usable stamp, or if
        an equal or later event is recorded), and the old records to drop (caller holds the lock)."""
        moment = event_time(event_ts)
        if moment is None or event_ts is None or self._stale(key, event_ts) is not None:
            return {}, []
        cutoff = (moment[0] - TOMBSTONE_SECONDS, moment[1])
        stale = [k for k, (at, _) in self._last_event.items() if at < cutoff and k != key]
        doc: ReactionEventDoc = {"user": user, "channel": channel, "ts": ts, "reaction": base_emoji(reaction),
                                 "event_ts": event_ts, "kind": kind}
        return {key: doc}, stale

    # --- pending reactions ------------------------------------------------------------------------------

    def add_pending(self, user: str, channel: str, ts: str, reaction: str,
                    at: str | datetime | None = None) -> Pending:
        """Record a reaction to process later (durable when this returns); recording it twice is harmless."""
        pending = Pending(user=user, channel=channel, ts=ts, reaction=base_emoji(reaction),
                          received_at=timestamp(at))
        with self._store.lock:
            existing = self._pending.get(pending.key)
            if existing is not None:
                return existing
            self._commit([], [], pending_puts=[pending])
        log.info("save.pending user=%s channel=%s ts=%s reaction=%s", user, channel, ts, pending.reaction)
        return pending

    def add_pending_reaction(self, user: str, channel: str, ts: str, reaction: str, *, event_ts: str,
                             at: str | datetime | None = None) -> Pending | None:
        """`add_pending` for a reaction Slack stamped `event_ts`; None, and nothing queued, if an event of that
        reaction stamped `event_ts` or later is recorded (see `save_reaction`). Otherwise the add is recorded as
        the reaction's latest event, with the entry."""
        pending = Pending(user=user, channel=channel, ts=ts, reaction=base_emoji(reaction),
                          received_at=timestamp(at))
        with self._store.lock:
            stale = self._stale(pending.key, event_ts)
            existing = self._pending.get(pending.key)
            if stale is None:
                events, pruned = self._plan_event(pending.key, user, channel, ts, reaction, event_ts, ADDED)
                if existing is None or events or pruned:
                    self._commit([], [], pending_puts=[pending] if existing is None else [], tombstones=events,
                                 tombstone_deletes=pruned)
        if stale is not None:
            self._log_stale(user, channel, ts, event_ts, stale)
            return None
        if existing is not None:
            return existing
        log.info("save.pending user=%s channel=%s ts=%s reaction=%s", user, channel, ts, pending.reaction)
        return pending

    def pending(self) -> list[Pending]:
        """Every reaction not processed yet, oldest first."""
        with self._store.lock:
            return sorted(self._pending.values(), key=lambda p: p.received_at)

    def get_pending(self, key: str) -> Pending | None:
        with self._store.lock:
            return self._pending.get(key)

    def complete_pending(self, key: str, paper_ids: Iterable[str],
                         at: str | datetime | None = None) -> list[SaveOutcome] | None:
        """Save the papers a pending reaction found and forget the reaction, in one write. None (and nothing
        saved) if it is no longer pending: the reaction was removed, or another worker completed it."""
        stamp = timestamp(at)
        ids = list(dict.fromkeys(bare_id(p) for p in paper_ids))
        with self._store.lock:
            pending = self._pending.get(key)
            if pending is None:
                return None
            outcomes, puts = self._plan_saves(pending.user, ids, "reaction", pending.channel, pending.ts,
                                              pending.reaction, stamp)
            self._commit(puts, [], pending_deletes=[key])
        self._log_saves(outcomes, "reaction")
        return outcomes

    def retry_pending(self, key: str) -> int | None:
        """Count a failed attempt at a pending reaction; the new count, or None if it is gone."""
        with self._store.lock:
            pending = self._pending.get(key)
            if pending is None:
                return None
            bumped = replace(pending, attempts=pending.attempts + 1)
            self._commit([], [], pending_puts=[bumped])
            return bumped.attempts

    def drop_pending(self, key: str) -> bool:
        with self._store.lock:
            if key not in self._pending:
                return False
            self._commit([], [], pending_deletes=[key])
            return True

    # --- reads (memory only) ----------------------------------------------------------------------------

    def get(self, user: str, paper_id: str) -> Save | None:
        bare = normalize_arxiv_id(paper_id)
        with self._store.lock:
            return self._by_user.get(user, {}).get(bare) if bare else None

    def saved(self, user: str) -> list[Save]:
        """The user's reading list, newest first."""
        with self._store.lock:
            saves = list(self._by_user.get(user, {}).values())
        return sorted(saves, key=lambda s: (s.saved_at, s.paper_id), reverse=True)

    def saved_ids(self, user: str) -> set[str]:
        """Ids of the papers `user` saved (the search core's `saved:me` hook)."""
        with self._store.lock:
            return set(self._by_user.get(user, ()))

    def savers(self, paper_id: str) -> set[str]:
        with self._store.lock:
            return set(self._by_paper.get(paper_id, ()))

    def channels_of(self, user: str) -> set[str]:
        """Channels the user has saved papers from."""
        with self._store.lock:
            return {s.channel for s in self._by_user.get(user, {}).values() if s.channel}

    def top(self, since: str | datetime | None = None, limit: int = 10) -> list[TopPaper]:
        """The most-saved papers among saves made at or after `since` (all time if None): most savers first,
        then the most recently saved."""
        cutoff = timestamp(since) if since is not None else ""
        with self._store.lock:
            by_paper: dict[str, list[Save]] = {}
            for user_saves in self._by_user.values():
                for save in user_saves.values():
                    if save.saved_at >= cutoff:
                        by_paper.setdefault(save.paper_id, []).append(save)
        ranked = []
        for paper_id, paper_saves in by_paper.items():
            paper_saves.sort(key=lambda s: (s.saved_at, s.user))
            ranked.append(TopPaper(paper_id, tuple(s.user for s in paper_saves), paper_saves[-1].saved_at))
        # Stable sorts, least significant first: most savers, then most recently saved, then id.
        ranked.sort(key=lambda t: t.paper_id)
        ranked.sort(key=lambda t: t.last_saved_at, reverse=True)
        ranked.sort(key=lambda t: t.count, reverse=True)
        return ranked[:max(0, limit)]

    def __len__(self) -> int:
        with self._store.lock:
            return sum(len(s) for s in self._by_user.values())
