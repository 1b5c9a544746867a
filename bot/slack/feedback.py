""""Not relevant": the digest's button (with an Undo in its ephemeral answer), and the not-relevant reaction
(PAPERBOT_NOT_RELEVANT_EMOJI, :-1: by default) on a paper the bot posted, which removing undoes.

Like a save, the mark is one small durable write done in the ack function (`write_before_ack`): Slack hears 200
only once it is on disk, else a 500 (Slack retries the event; a button shows its error). The core is
bot/relevance/feedback.py (`services.channel_feedback`); this module parses, calls it and renders
(feedback_blocks.py).

Reactions arrive through the reaction listener of reactions.py (Bolt runs one listener per event): a reaction
that is not a save emoji is handed to `reaction_ack` here, and its summary to `reaction_work`. Reaction events
reach the ack again on every Slack retry or redelivery: the feedback store ignores an event stamped no later
than the latest one of that reaction, so nobody is told twice and a redelivered add does not undo a removal.

The button does not toggle: clicking Not relevant twice keeps it marked (a double click is harmless); the
answer carries an Undo button, and clicking Not relevant again brings one back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext

from bot.papers import normalize_arxiv_id
from bot.slack import blocks
from bot.slack import feedback_blocks as fb
from bot.slack.paper_card import PaperLike, record_or_stub
from bot.slack.plumbing import CONTEXT_KEY, Click, reaction_on_message, responder, write_before_ack
from bot.store.models import base_emoji

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.feedback")

MARKED, UNMARKED = "not_relevant", "not_relevant_undone"
REACTION_KINDS = frozenset({MARKED, UNMARKED})

Notify = Callable[[str, str, blocks.Message], Any]  # (channel, user, payload): an ephemeral notice


def _emojis(services: Services) -> frozenset[str]:
    return frozenset(base_emoji(e) for e in services.settings.not_relevant_emojis)


# --- the reaction (through reactions.py's listener) ---------------------------------------------------------


def reaction_ack(services: Services, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Persist what a not-relevant reaction_added / reaction_removed on a bot post means, before the ack; a
    JSON-able summary for `reaction_work`, or None (another emoji, another message, a redelivery)."""
    found = reaction_on_message(event)
    if found is None or base_emoji(found.reaction) not in _emojis(services):
        return None
    user, reaction, channel, ts, event_ts = found.user, found.reaction, found.channel, found.ts, found.event_ts
    where = {"user": user, "channel": channel, "ts": ts, "emoji": base_emoji(reaction)}
    if found.added:
        marked = services.channel_feedback.reaction_added(user, channel, ts, reaction, event_ts)
        if marked is None:
            return None
        return {"kind": MARKED, "paper": marked.paper_id, "new": marked.new, **where}
    unmarked = services.channel_feedback.reaction_removed(user, channel, ts, reaction, event_ts)
    if unmarked is None:
        return None
    return {"kind": UNMARKED, "paper": unmarked.paper_id, "still": list(unmarked.still), **where}


def reaction_work(services: Services, summary: Mapping[str, Any], notify: Notify) -> None:
    """After the ack: tell the person what their reaction did (once: a repeat of an add is not `new`)."""
    user, channel, emoji = summary["user"], summary["channel"], summary["emoji"]
    record = record_or_stub(services.archive, summary["paper"])
    if summary["kind"] == MARKED:
        if summary["new"]:
            notify(channel, user, fb.noted_by_reaction(record, channel, emoji))
        return
    notify(channel, user, fb.undone(record, channel, summary["still"], emoji))


# --- the buttons --------------------------------------------------------------------------------------------


def _describe(body: Mapping[str, Any]) -> str:
    click = Click.of(body)
    paper_id = normalize_arxiv_id(click.value)
    return f"event=not_relevant.button user={click.user} channel={click.channel} paper={paper_id}"


class NotRelevantButtons:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.channel_feedback = services.channel_feedback
        self.emoji = services.settings.not_relevant_emojis[0]

    def record(self, paper_id: str) -> PaperLike:
        return record_or_stub(self.services.archive, paper_id)

    def mark_write(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The ack phase of Not relevant: the mark on disk before Slack hears 200."""
        click = Click.of(body)
        paper_id = normalize_arxiv_id(click.value)
        if not (paper_id and click.user and click.channel):
            return {"kind": "bad_value"}
        marked = self.channel_feedback.not_relevant(click.channel, paper_id, click.user, ts=click.ts)
        if marked is None:
            return {"kind": "not_offered", "paper": paper_id}
        return {"kind": "marked", "paper": paper_id, "new": marked.new}

    def undo_write(self, body: Mapping[str, Any]) -> dict[str, Any]:
        click = Click.of(body)
        paper_id = normalize_arxiv_id(click.value)
        if not (paper_id and click.user and click.channel):
            return {"kind": "bad_value"}
        undone = self.channel_feedback.undo(click.channel, paper_id, click.user)
        return {"kind": "undone" if undone.removed else "absent", "paper": paper_id, "still": list(undone.still)}

    def work(self, action: str, body: Mapping[str, Any], context: BoltContext) -> None:
        """After the ack: answer the person (ephemeral); an Undo replaces the answer it was clicked in."""
        click = Click.of(body)
        summary = context.get(CONTEXT_KEY) or {"kind": "error", "ref": "-"}
        log.info("slack.action action=%s user=%s channel=%s paper=%s status=%s", action, click.user, click.channel,
                 summary.get("paper", "-"), summary["kind"])
        reply = responder(body, self.services.settings.http_timeout)
        kind = summary["kind"]
        if kind == "error":
            reply(fb.failed(summary["ref"]))
        elif kind in ("bad_value", "not_offered"):
            reply(fb.not_offered())
        elif kind == "marked":
            reply(fb.noted(self.record(summary["paper"]), click.channel, new=summary["new"]))
        elif kind == "undone":
            reply(fb.undone(self.record(summary["paper"]), click.channel, summary["still"], self.emoji),
                  replace_original=True)
        elif kind == "absent":
            reply(fb.nothing_to_undo(self.record(summary["paper"]), click.channel), replace_original=True)


def register(app: App, services: Services) -> NotRelevantButtons:
    """The Not relevant and Undo buttons (the reaction is heard by reactions.py's listener)."""
    feature = NotRelevantButtons(services)

    def on_mark_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.work("not_relevant", body, context)

    def on_undo_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.work("not_relevant_undo", body, context)

    app.action(fb.ACTION_NOT_RELEVANT)(ack=write_before_ack(log, _describe)(feature.mark_write), lazy=[on_mark_work])
    app.action(fb.ACTION_NOT_RELEVANT_UNDO)(ack=write_before_ack(log, _describe)(feature.undo_write),
                                            lazy=[on_undo_work])
    return feature
