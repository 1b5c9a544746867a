"""The App Home tab: the user's newest saves, the topics of the channels they share with the bot, then help.

"Channels they share with the bot": of the channels that have topics (the channels store, a handful), those
whose member list includes the user (conversations.members, cached ten minutes; scopes channels:read,
groups:read). Where a member list cannot be read, a channel counts if the user saved a paper from it. So
the tab needs no call per channel of the workspace, and no user token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.saves import records_for
from bot.slack import blocks as b
from bot.slack import save_blocks as sb

if TYPE_CHECKING:
    from bot.slack.save_listeners import SaveFeature


def build(feature: SaveFeature, user: str) -> dict[str, Any]:
    services = feature.services
    saves = services.saves.saved(user)
    newest = saves[:sb.HOME_SAVES]
    records = records_for(services.archive, [s.paper_id for s in newest])
    configured = {cid: doc.get("topics", []) for cid, doc in services.channels.all().items() if doc.get("topics")}
    mine = feature.member_channels(user, sorted(configured))
    topics = {channel: configured[channel] for channel in mine}
    help_blocks = b.help_blocks(feature.command_name, admins=feature.settings.admins)
    blocks = [
        {"type": "header", "text": b.plain("paperbot")},
        *sb.home_saves(list(zip(newest, records, strict=True)), len(saves), feature.command_name,
                       emoji=feature.settings.save_emojis[0]),
        b.divider(),
        *sb.home_topics(topics, feature.command_name),
        b.divider(),
        *help_blocks,
    ]
    return {"type": "home", "blocks": b.clamp_blocks(blocks, b.MAX_VIEW_BLOCKS)}
