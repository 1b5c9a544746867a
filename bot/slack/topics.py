"""`/papers watch | unwatch | topics [try <topic>]`: the topics a channel's digest follows.

A change is news for everyone in the channel, so it is announced there; views and refusals are ephemeral.
`topics try <topic>` shows what a topic would have matched over the last 30 days from this channel's sources
(`DigestService.trial`, the digest's own matching), changing and storing nothing.
`watch` and `unwatch` are for PAPERBOT_ADMINS when that is set (the registry says so; commands.py refuses).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.digest.trial import TRIAL_DAYS
from bot.search.models import QueryError
from bot.slack import topics_blocks as tb
from bot.slack.blocks import Message
from bot.slack.commands import CommandRouter
from bot.slack.plumbing import EPHEMERAL, IN_CHANNEL, Answer
from bot.slack.registry import Invocation
from bot.topics import TopicError, normalize_topic, topic_key

if TYPE_CHECKING:
    from bot.services import Services


class Topics:
    def __init__(self, services: Services) -> None:
        self.channels = services.channels
        self.digests = services.digests
        self.command_name = services.settings.command

    def topics(self, inv: Invocation) -> Answer:
        """Each topic with how many of the last 7 days' papers it matched; `topics try <topic>`: a trial."""
        first, _, rest = inv.args.strip().partition(" ")
        if first.casefold() == "try":
            return self.try_topic(inv, rest), EPHEMERAL
        state = self.digests.channel(inv.channel)
        counts = self.digests.topic_counts(state) if state.topics else []
        return tb.topics_with_counts(state, counts, self.command_name, may_configure=inv.may_configure), EPHEMERAL

    def try_topic(self, inv: Invocation, text: str) -> Message:
        """What `text` would have matched in this channel over the last 30 days; nothing is stored."""
        topic = normalize_topic(text)
        if not topic:
            return tb.topic_problem("empty_try", self.command_name)
        inv.fields["topic_chars"] = len(topic)
        state = self.digests.channel(inv.channel)
        try:
            trial = self.digests.trial(topic, self.digests.clock() - timedelta(days=TRIAL_DAYS), state)
        except QueryError as exc:
            return tb.topic_refused(topic, str(exc))
        inv.fields["matched"] = trial.count
        return tb.topic_trial(trial, state, self.command_name, days=TRIAL_DAYS,
                              watched=topic_key(topic) in {topic_key(t) for t in state.topics})

    def watch(self, inv: Invocation) -> Answer:
        try:
            added = self.channels.watch(inv.channel, inv.args, inv.user)
        except TopicError as exc:
            return tb.topic_problem(exc.reason, self.command_name, limit=exc.limit), EPHEMERAL
        topic = normalize_topic(inv.args)
        if not added:
            return tb.topic_already_watched(topic), EPHEMERAL
        return tb.topic_added(inv.user, topic, self.channels.topics(inv.channel)), IN_CHANNEL

    def unwatch(self, inv: Invocation) -> Answer:
        try:
            removed = self.channels.unwatch(inv.channel, inv.args, inv.user)
        except TopicError:
            return tb.topic_problem("empty_unwatch", self.command_name), EPHEMERAL
        topics = self.channels.topics(inv.channel)
        if removed is None:
            return tb.topic_not_watched(normalize_topic(inv.args), topics, self.command_name), EPHEMERAL
        return tb.topic_removed(inv.user, removed, topics), IN_CHANNEL


def register(app: App, services: Services, commands: CommandRouter) -> Topics:
    """Binds the subcommands; topics need no Bolt listener of their own (no buttons, no events)."""
    feature = Topics(services)
    commands.registry.bind("topics", feature.topics)
    commands.registry.bind("watch", feature.watch)
    commands.registry.bind("unwatch", feature.unwatch)
    return feature
