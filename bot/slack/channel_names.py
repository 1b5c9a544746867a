"""Channel names learned from Slack's payloads, so `channel:#name` in a search finds what was posted there.

Process-local and best effort: slash commands and button clicks carry the channel's name (except for private
channels and DMs), and nothing asks Slack for names it did not send.
"""

from __future__ import annotations

import threading

from bot.slack.ids import is_channel_id
from bot.store.protocols import PostLedgerRepository

# Slack names every private channel "privategroup" and every DM "directmessage" in these payloads.
_PLACEHOLDERS = ("privategroup", "directmessage")


class ChannelNames:
    def __init__(self, posts: PostLedgerRepository) -> None:
        self._posts = posts
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def learn(self, channel_id: str, name: object) -> None:
        if isinstance(name, str) and name and name not in _PLACEHOLDERS and channel_id:
            with self._lock:
                self._ids[name.casefold()] = channel_id

    def papers_posted_in(self, channel: str) -> set[str]:
        """The search core's `channel:` hook: papers the bot posted in a channel given by id or name."""
        if is_channel_id(channel):
            channel_id: str | None = channel
        else:
            with self._lock:
                channel_id = self._ids.get(channel.lstrip("#").casefold())
        return self._posts.papers_in(channel_id) if channel_id else set()
