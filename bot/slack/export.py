"""`/papers export [bibtex] [saved | channel | topic <topic>]`: BibTeX of the user's reading list, the papers
paperbot posted in the channel, or a search, as a `.bib` file in the user's DM with the bot (files upload
v2); as code blocks through the response URL if the upload fails."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.bibtex import to_bibtex
from bot.saves import records_for
from bot.slack import blocks, replies
from bot.slack import export_blocks as eb
from bot.slack.channel_names import ChannelNames
from bot.slack.commands import CommandRouter
from bot.slack.plumbing import Responder, slack_error
from bot.slack.registry import Invocation
from bot.slack.search_blocks import query_problem

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name

TOPIC_EXPORT_LIMIT = 100


class Export:
    def __init__(self, services: Services, client: WebClient, channel_names: ChannelNames) -> None:
        self.services = services
        self.client = client
        self.command_name = services.settings.command
        # The search core's `channel:` hook, as `/papers search` has it.
        self.channel_names = channel_names

    def command(self, inv: Invocation) -> None:
        inv.fields.update(self.export(inv.args, inv.user, inv.channel, inv.reply))

    def export(self, args: str, user: str, channel: str, reply: Responder) -> dict[str, Any]:
        """Answer through `reply` (possibly several messages); returns fields for the command's log line."""
        words = args.split()
        if words and words[0].lower() in ("bibtex", "bib"):
            words = words[1:]
        scope = words[0].lower() if words else "saved"
        if scope == "saved" and len(words) <= 1:
            ids = [s.paper_id for s in self.services.saves.saved(user)]
            what, empty, filename = "your reading list", "your reading list is empty", "reading-list.bib"
        elif scope == "channel" and len(words) == 1:
            ids = sorted(self.services.posts.papers_in(channel), reverse=True)
            what, empty = "the papers paperbot posted in this channel", "paperbot hasn't posted papers here yet"
            filename = "channel-papers.bib"
        elif scope == "topic" and len(words) > 1:
            topic = " ".join(words[1:])
            found = self.topic_ids(topic, user, channel, reply)
            if found is None:
                return {"refused": "query"}
            ids, notes = found
            what, empty = f"papers about “{topic}”", f"no papers match “{blocks.truncate_plain(topic, 100)}”"
            if notes:
                empty += " (" + "; ".join(notes) + ")"
            filename = f"topic-{_slug(topic)}.bib"
        else:
            reply(eb.export_usage(self.command_name))
            return {"refused": "usage"}
        if not ids:
            reply(eb.export_empty(blocks.escape_mrkdwn(empty)))
            return {"scope": scope, "papers": 0}
        records = records_for(self.services.archive, ids)
        bib = to_bibtex(records)
        filename = f"paperbot-{filename}"
        fields: dict[str, Any] = {"scope": scope, "papers": len(records), "delivery": "waiting"}

        def deliver() -> None:  # under a 429 the upload waits in the outbox (replies.py), not on this worker
            problem = self.upload(user, bib, filename, eb.export_comment(len(records), what))
            if problem is None:
                reply(eb.export_sent(len(records), filename))
                log.info("export.sent user=%s scope=%s papers=%d bytes=%d", user, scope, len(records), len(bib))
                fields["delivery"] = "file"
                return
            for message in eb.export_fallback(bib, len(records), problem):
                reply(message)
            log.info("export.fallback user=%s scope=%s papers=%d reason=%s", user, scope, len(records), problem)
            fields["delivery"] = "messages"

        replies.send(f"export:{user}", f"export user={user}", deliver)
        return fields

    def topic_ids(self, topic: str, user: str, channel: str,
                  reply: Responder) -> tuple[list[str], list[str]] | None:
        """The ids of the papers a search for `topic` finds, and the search's notes; None if it was refused."""
        from bot.search import QueryError, SearchContext

        try:
            context = SearchContext(user_id=user, channel_id=channel, saved_ids=self.services.saves.saved_ids,
                                    channel_ids=self.channel_names.papers_posted_in)
            page = self.services.index.search(topic, limit=TOPIC_EXPORT_LIMIT, context=context)
        except QueryError as exc:
            reply(query_problem(str(exc), self.command_name))
            return None
        return [str(hit.paper["id"]) for hit in page.hits], list(page.notes)

    def upload(self, user: str, content: str, filename: str, comment: str) -> str | None:
        """Send the file to the user's DM with the bot (files upload v2); None, or why it failed."""
        try:
            dm = self.client.conversations_open(users=user)["channel"]["id"]
            self.client.files_upload_v2(channel=dm, content=content.encode(), filename=filename,
                                        title=filename, initial_comment=comment)
        except SlackApiError as exc:
            replies.raise_if_rate_limited(exc)
            return slack_error(exc)
        except (SlackClientError, OSError) as exc:
            log.warning("export.upload.failed user=%s error=%s", user, type(exc).__name__)
            return "upload failed"
        return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "topic"


def register(app: App, services: Services, commands: CommandRouter, channel_names: ChannelNames) -> Export:
    """Binds the subcommand; the export has no Bolt listener of its own."""
    feature = Export(services, app.client, channel_names)
    commands.registry.bind("export", feature.command)
    return feature
