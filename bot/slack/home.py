"""The App Home tab: the user's newest saves, the topics of the channels they share with the bot, then help.

"Channels they share with the bot": of the channels that have topics (the channels store, a handful), those
whose member list includes the user (conversations.members, cached ten minutes; scopes channels:read,
groups:read). Where a member list cannot be read, a channel counts if the user saved a paper from it. So
the tab needs no call per channel of the workspace, and no user token. A 429 on a member list is not waited
out: the tab is published at once without it (the same fallback), and the next open asks again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.saves import records_for
from bot.slack import blocks as b
from bot.slack import home_blocks as hb
from bot.slack import replies
from bot.slack.help import help_blocks
from bot.slack.plumbing import ack_now, slack_error
from bot.slack.retry import rate_limits_not_waited

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name

MEMBERS_CACHE_SECONDS = 600.0


class HomeTab:
    def __init__(self, services: Services, client: WebClient) -> None:
        self.services = services
        self.settings = services.settings
        self.client = client
        self._members: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._members_lock = threading.Lock()

    def publish(self, user: str) -> None:
        view = self.build(user)

        def attempt() -> None:
            try:
                self.client.views_publish(user_id=user, view=view)
            except (SlackApiError, SlackClientError, OSError) as exc:
                replies.raise_if_rate_limited(exc)  # waits in the outbox, not on this worker
                log.warning("home.publish.failed user=%s error=%s", user, slack_error(exc))

        replies.send(f"home:{user}", f"home user={user}", attempt)

    def build(self, user: str) -> dict[str, Any]:
        services, command = self.services, self.settings.command
        saves = services.saves.saved(user)
        newest = saves[:hb.HOME_SAVES]
        records = records_for(services.archive, [s.paper_id for s in newest])
        configured = {cid: doc.get("topics", []) for cid, doc in services.channels.all().items() if doc.get("topics")}
        mine = self.member_channels(user, sorted(configured))
        topics = {channel: configured[channel] for channel in mine}
        blocks = [
            {"type": "header", "text": b.plain("paperbot")},
            *hb.home_saves(list(zip(newest, records, strict=True)), len(saves), command,
                           emoji=self.settings.save_emojis[0]),
            b.divider(),
            *hb.home_topics(topics, command),
            b.divider(),
            *help_blocks(command, admins=self.settings.admins),
        ]
        return {"type": "home", "blocks": b.clamp_blocks(blocks, b.MAX_VIEW_BLOCKS)}

    def member_channels(self, user: str, channels: Iterable[str]) -> list[str]:
        """Those of `channels` `user` is a member of (conversations.members, cached); a channel whose members
        we cannot read counts if the user saved a paper from it."""
        saved_from = self.services.saves.channels_of(user)
        found = []
        for channel in channels:
            members = self._channel_members(channel)
            if (user in members) if members is not None else (channel in saved_from):
                found.append(channel)
        return found

    def _channel_members(self, channel: str) -> frozenset[str] | None:
        now = time.monotonic()
        with self._members_lock:
            cached = self._members.get(channel)
            if cached is not None and cached[0] > now:
                return cached[1]
        members: set[str] | None = set()
        cursor = None
        try:
            with rate_limits_not_waited():  # a 429 is not slept out on this worker
                for _ in range(20):
                    response = self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                    assert members is not None
                    members.update(response.get("members") or [])
                    cursor = (response.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        break
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("home.members.unavailable channel=%s error=%s", channel, slack_error(exc))
            if replies.rate_limit_wait(exc) is not None:
                return None  # unknown this time (the tab is published without it); not cached: asked next time
            members = None
        result = frozenset(members) if members is not None else None
        with self._members_lock:
            self._members[channel] = (now + MEMBERS_CACHE_SECONDS, result)
        return result


def register(app: App, services: Services) -> HomeTab:
    home = HomeTab(services, app.client)

    def on_home_opened(body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab") == "home" and event.get("user"):
            home.publish(str(event["user"]))

    app.event("app_home_opened")(ack=ack_now, lazy=[on_home_opened])
    return home
