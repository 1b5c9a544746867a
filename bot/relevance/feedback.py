"""A channel's feedback on the papers it was offered, over the repositories: recording "not relevant" (the
digest's button, or the not-relevant reaction on a paper the bot posted), and the labelled examples the
channel's preference model (bot/relevance/preferences.py) learns from. Not Slack-specific.

Examples, per channel, over the papers the bot posted there (the post ledger):

- saved, by anyone, from this channel or from somewhere neutral (the Home tab, a command, a channel the bot
  never posted the paper to): positive, weight 1. A save from another channel the paper was also posted to
  speaks for that channel, not this one.
- marked "not relevant" in this channel by anyone: negative, weight 1; a save made later wins (and a mark made
  later than every save wins over them).
- posted in a digest at least IGNORED_AFTER ago and neither saved nor marked: negative, weight IGNORED_WEIGHT.
- anything newer, untouched: not an example yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.papers import normalize_arxiv_id
from bot.store.models import NOT_RELEVANT, Save, timestamp
from bot.store.protocols import FeedbackRepository, PostLedgerRepository, SaveRepository
from bot.timeutil import utc_now

IGNORED_AFTER = timedelta(days=7)
IGNORED_WEIGHT = 0.3
EXPLICIT_WEIGHT = 1.0
MAX_EXAMPLES = 500  # the newest papers offered: what the channel wants now, and a fit in milliseconds


@dataclass(frozen=True)
class Labelled:
    """One paper a channel was offered, with what the channel made of it (bot.relevance.preferences.Example
    without the vector and base logit, which the caller looks up)."""

    paper_id: str
    label: float  # 1.0 saved, 0.0 not relevant or ignored
    weight: float  # EXPLICIT_WEIGHT, or IGNORED_WEIGHT for a paper left alone
    reason: str  # "saved", "not_relevant" or "ignored"


@dataclass(frozen=True)
class Marked:
    """A "not relevant" recorded."""

    channel: str
    paper_id: str
    user: str
    new: bool  # False: the same source had said it already (a double click, a repeated event)


@dataclass(frozen=True)
class Unmarked:
    """A "not relevant" taken back (from one source: the button, or one reaction)."""

    channel: str
    paper_id: str
    user: str
    removed: bool  # False: that source had nothing in force
    still: tuple[str, ...]  # the user's other sources still saying it ("button", "reaction"): it still counts


class ChannelFeedback:
    def __init__(self, posts: PostLedgerRepository, saves: SaveRepository, feedback: FeedbackRepository) -> None:
        self.posts = posts
        self.saves = saves
        self.feedback = feedback

    # --- recording (each one small durable write: fast enough to run before Slack gets its 200) ---------------

    def offered(self, channel: str, paper_id: str) -> bool:
        """Whether the bot posted `paper_id` in `channel` (a digest reply, or a shared paper)."""
        bare = normalize_arxiv_id(paper_id)
        return bare is not None and self.posts.was_posted(channel, bare)

    def not_relevant(self, channel: str, paper_id: str, user: str, *, ts: str | None = None) -> Marked | None:
        """The Not relevant button: None, and nothing recorded, unless the paper was posted in the channel."""
        bare = normalize_arxiv_id(paper_id)
        if bare is None or not self.posts.was_posted(channel, bare):
            return None
        outcome = self.feedback.mark(channel, bare, user, via="button", ts=ts)
        assert outcome is not None  # only reaction events can be stale
        return Marked(channel, bare, user, outcome.new)

    def undo(self, channel: str, paper_id: str, user: str) -> Unmarked:
        """Undo of the Not relevant button (a reaction stays until it is removed)."""
        bare = normalize_arxiv_id(paper_id)
        if bare is None:
            return Unmarked(channel, paper_id, user, False, ())
        removed = self.feedback.unmark(channel, bare, user, via="button")
        return Unmarked(channel, bare, user, removed is not None, self._sources(channel, bare, user))

    def reaction_added(self, user: str, channel: str, ts: str, reaction: str,
                       event_ts: str | None = None) -> Marked | None:
        """A not-relevant reaction on a message: None unless the message is the bot's post of a paper, and the
        event is news (not a redelivery, of itself or of an add a later removal undid)."""
        paper_id = self.posts.paper_for(channel, ts)
        if paper_id is None:
            return None
        outcome = self.feedback.mark(channel, paper_id, user, via="reaction", reaction=reaction, ts=ts,
                                     event_ts=event_ts)
        return None if outcome is None else Marked(channel, paper_id, user, outcome.new)

    def reaction_removed(self, user: str, channel: str, ts: str, reaction: str,
                         event_ts: str | None = None) -> Unmarked | None:
        """The reaction taken off: None unless the message is the bot's post of a paper and the removal took
        back a mark in force (a redelivered removal after the user reacted again takes nothing back)."""
        paper_id = self.posts.paper_for(channel, ts)
        if paper_id is None:
            return None
        removed = self.feedback.unmark(channel, paper_id, user, via="reaction", reaction=reaction, event_ts=event_ts)
        if removed is None:
            return None
        return Unmarked(channel, paper_id, user, True, self._sources(channel, paper_id, user))

    def _sources(self, channel: str, paper_id: str, user: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.via for f in self.feedback.in_channel(channel)
                                   if f.paper_id == paper_id and f.user == user and f.kind == NOT_RELEVANT))

    # --- what the channel said ----------------------------------------------------------------------------------

    def examples(self, channel: str, now: datetime | None = None, limit: int = MAX_EXAMPLES) -> list[Labelled]:
        """The channel's labelled papers, newest post first, at most `limit` (see the module doc)."""
        posts = self.posts.posts_in(channel)
        first_posted: dict[str, str] = {}
        digest: set[str] = set()
        for post in posts:  # oldest first
            first_posted.setdefault(post.paper_id, post.posted_at)
            if post.kind == "digest":
                digest.add(post.paper_id)
        posted_anywhere = set(first_posted)
        marks: dict[str, str] = {}
        for mark in self.feedback.in_channel(channel):
            if mark.kind == NOT_RELEVANT and mark.paper_id in posted_anywhere:
                marks[mark.paper_id] = max(marks.get(mark.paper_id, ""), mark.at)
        ignored_before = timestamp((now or utc_now()) - IGNORED_AFTER)
        found: list[tuple[str, Labelled]] = []
        for paper_id, posted_at in first_posted.items():
            saved_at = self._saved_at(channel, paper_id)
            marked_at = marks.get(paper_id)
            if saved_at is not None and (marked_at is None or saved_at > marked_at):
                found.append((posted_at, Labelled(paper_id, 1.0, EXPLICIT_WEIGHT, "saved")))
            elif marked_at is not None:
                found.append((posted_at, Labelled(paper_id, 0.0, EXPLICIT_WEIGHT, NOT_RELEVANT)))
            elif paper_id in digest and posted_at and timestamp(posted_at) <= ignored_before:
                found.append((posted_at, Labelled(paper_id, 0.0, IGNORED_WEIGHT, "ignored")))
        found.sort(key=lambda item: (item[0], item[1].paper_id), reverse=True)
        return [labelled for _, labelled in found[:max(0, limit)]]

    def _saved_at(self, channel: str, paper_id: str) -> str | None:
        """When the paper was last saved by someone whose save speaks for `channel`; None if nobody's does."""
        times = [save.saved_at for user in self.saves.savers(paper_id)
                 if (save := self.saves.get(user, paper_id)) is not None and self._speaks_for(save, channel)]
        return max(times, default=None)

    def _speaks_for(self, save: Save, channel: str) -> bool:
        if save.channel == channel or any(anchor.startswith(f"{channel}:") for anchor in save.reactions):
            return True
        return save.channel is None or not self.posts.was_posted(save.channel, save.paper_id)

