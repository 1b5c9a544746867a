"""Block Kit for "not relevant": the digest's button, and what marking or unmarking a paper tells the person.

Built on bot/slack/blocks.py: titles go through `title_link` (escaped once), channels are `<#C…>` references
and emoji names from the configuration are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.slack import blocks as b
from bot.slack.paper_card import PaperLike, title_link

ACTION_NOT_RELEVANT = "paper_not_relevant"
ACTION_NOT_RELEVANT_UNDO = "paper_not_relevant_undo"


def not_relevant_button(paper_id: str) -> dict[str, Any]:
    """The digest reply's second button, next to Save."""
    return b.button("Not relevant", ACTION_NOT_RELEVANT, value=paper_id)


def _undo(paper_id: str) -> b.Block:
    return b.actions(b.button("Undo", ACTION_NOT_RELEVANT_UNDO, value=paper_id), block_id=f"undo:{paper_id}")


def noted(record: PaperLike, channel: str, *, new: bool) -> b.Message:
    """After a click on Not relevant: ephemeral, with an Undo button."""
    paper_id = str(record.get("id", ""))
    if new:
        text = (f"Noted: fewer papers like {title_link(record)} in {b.channel_ref(channel)}. "
                f"Saving a paper does the opposite.")
    else:
        text = f"You already marked {title_link(record)} as not relevant in {b.channel_ref(channel)}."
    return b.message(text, [b.section(text), _undo(paper_id)])


def noted_by_reaction(record: PaperLike, channel: str, emoji: str) -> b.Message:
    """After a not-relevant reaction on a paper the bot posted: ephemeral; removing the reaction undoes it."""
    return b.note(f"Noted: fewer papers like {title_link(record)} in {b.channel_ref(channel)}. "
                  f"Remove your {b.emoji(emoji)} to take it back.")


def undone(record: PaperLike, channel: str, still: Sequence[str], emoji: str) -> b.Message:
    """A not-relevant taken back (by Undo, or by removing the reaction), and what still says it."""
    text = f"Undone: {title_link(record)} counts as before in {b.channel_ref(channel)}."
    if "reaction" in still:
        text = (f"Your *Not relevant* click on {title_link(record)} is undone, but your {b.emoji(emoji)} on it "
                f"still marks it not relevant in {b.channel_ref(channel)}: remove the reaction to take that back.")
    elif "button" in still:
        text = (f"Your {b.emoji(emoji)} is off, but you also clicked *Not relevant* on {title_link(record)}, so it "
                f"still counts in {b.channel_ref(channel)}: click *Not relevant* again for an Undo button.")
    return b.note(text)


def nothing_to_undo(record: PaperLike, channel: str) -> b.Message:
    return b.note(f"{title_link(record)} isn't marked not relevant by you in {b.channel_ref(channel)}, so there "
                  f"was nothing to undo.")


def not_offered() -> b.Message:
    """A click whose paper the bot never posted in that channel (an old or forged button)."""
    return b.note("I can't find that paper among the papers I posted in this channel, so I noted nothing.")


def failed(ref: str) -> b.Message:
    return b.note(f"Sorry, I couldn't note that (ref {b.escape_mrkdwn(ref)}). Please try again.")
