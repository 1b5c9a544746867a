"""Saving papers, over the repositories: what a save reaction does before Slack gets its 200
(`ReactionSaver`), and the archive records of a reading list (`records_for`). Not Slack-specific."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.store.models import Pending, SaveOutcome, Unreacted, base_emoji
from bot.store.protocols import ArchiveRepository, PostLedgerRepository, SaveStore


@dataclass(frozen=True)
class ReactionResult:
    """What a save reaction did at once: saved a bot-posted paper, or was recorded as pending."""

    kind: str  # "saved", "pending", "ignored" (not a save emoji)
    outcome: SaveOutcome | None = None
    pending: Pending | None = None


class ReactionSaver:
    """The durable part of a save reaction, fast enough to run before Slack gets its 200: a reaction on a
    bot post is saved at once (an in-memory ledger lookup and one small write); a reaction on any other
    message is recorded as pending for a worker to read the message."""

    def __init__(self, saves: SaveStore, posts: PostLedgerRepository, emojis: Iterable[str]) -> None:
        self.saves = saves
        self.posts = posts
        self.emojis = frozenset(base_emoji(e) for e in emojis)

    def is_save_emoji(self, reaction: str) -> bool:
        return base_emoji(reaction) in self.emojis

    def added(self, user: str, channel: str, ts: str, reaction: str, event_ts: str | None = None) -> ReactionResult:
        """With Slack's `event_ts`, an add no later than the latest recorded event of the same reaction (a
        redelivery) is "ignored": a later removal wins, also across a restart."""
        if not self.is_save_emoji(reaction):
            return ReactionResult("ignored")
        paper_id = self.posts.paper_for(channel, ts)
        if paper_id is not None:
            if event_ts is None:
                outcome = self.saves.save(user, paper_id, via="reaction", channel=channel, ts=ts, reaction=reaction)
            else:
                found = self.saves.save_reaction(user, paper_id, channel=channel, ts=ts, reaction=reaction,
                                                 event_ts=event_ts)
                if found is None:
                    return ReactionResult("ignored")
                outcome = found
            return ReactionResult("saved", outcome=outcome)
        pending = self.saves.add_pending(user, channel, ts, reaction) if event_ts is None else \
            self.saves.add_pending_reaction(user, channel, ts, reaction, event_ts=event_ts)
        return ReactionResult("ignored") if pending is None else ReactionResult("pending", pending=pending)

    def removed(self, user: str, channel: str, ts: str, reaction: str,
                event_ts: str | None = None) -> Unreacted | None:
        """With Slack's `event_ts`, a removal no later than the latest recorded event of the same reaction (a
        redelivery after the user added it again) changes nothing: an empty `Unreacted`."""
        if not self.is_save_emoji(reaction):
            return None
        return self.saves.remove_reaction(user, channel, ts, reaction, event_ts=event_ts)


def records_for(archive: ArchiveRepository, paper_ids: Iterable[str]) -> list[Mapping[str, Any]]:
    """Archive records (bot.papers.PaperRecord) for `paper_ids`, in that order; a paper the archive lacks
    (saved before it could be fetched) is only `{"id": …}`, so a list or an export still shows it."""
    ids = list(dict.fromkeys(paper_ids))
    known = archive.get_many(ids)
    return [known.get(paper_id) or {"id": paper_id} for paper_id in ids]
