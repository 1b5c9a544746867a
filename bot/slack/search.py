"""`/papers search` (and a bare `/papers <words>`), the Previous / Next buttons of a result page, and the
*Share to channel* button that posts a result for everyone."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.expiring import ExpiringSet
from bot.slack import blocks, replies
from bot.slack import search_blocks as sb
from bot.slack.channel_names import ChannelNames
from bot.slack.commands import CommandRouter
from bot.slack.paper_card import ACTION_SHARE
from bot.slack.plumbing import EPHEMERAL, Answer, Click, ack_now, guarded, responder, slack_error
from bot.slack.registry import Invocation

if TYPE_CHECKING:
    from bot.services import Services

PAGE_SIZE = 5
# Searches are CPU-bound: running several at once gains little under the GIL but takes it away from the
# server threads that ack. Measured with a deliberately slow (~50 ms) search and a backlog of requests
# (bench/ack_bench.py): ack p95 272 ms with 8 searches at a time, 97 ms with one.
SEARCH_CONCURRENCY = 1
SHARE_REPEAT_SECONDS = 60.0


class Search:
    def __init__(self, services: Services, channel_names: ChannelNames) -> None:
        self.services = services
        self.command_name = services.settings.command
        self.timeout = services.settings.http_timeout
        self.channel_names = channel_names
        self._recent_shares = ExpiringSet(SHARE_REPEAT_SECONDS, 10_000)
        self._gate = threading.BoundedSemaphore(SEARCH_CONCURRENCY)

    def command(self, inv: Invocation) -> Answer:
        return self.search(inv.args, inv.user, inv.channel, 0, inv.fields), EPHEMERAL

    def search(self, query: str, user: str, channel: str, offset: int, fields: dict[str, Any]) -> blocks.Message:
        from bot.search import QueryError, SearchContext

        if not query.strip():
            return sb.search_usage(self.command_name)
        try:
            with self._gate:
                context = SearchContext(user_id=user, channel_id=channel,
                                        channel_ids=self.channel_names.papers_posted_in,
                                        saved_ids=self.services.saves.saved_ids)
                page = self.services.index.search(query, limit=PAGE_SIZE, offset=offset, context=context)
        except QueryError as exc:
            fields["refused"] = "query"
            return sb.query_problem(str(exc), self.command_name)
        fields.update(results=len(page.hits), total=page.total)
        return sb.search_results(page, command=self.command_name)

    def _click(self, body: dict[str, Any]) -> Click:
        click = Click.of(body)
        self.channel_names.learn(click.channel, (body.get("channel") or {}).get("name"))
        return click

    def share(self, body: dict[str, Any], client: WebClient) -> None:
        reply = responder(body, self.timeout)
        click = self._click(body)
        user, channel, paper_id = click.user, click.channel, click.value
        with guarded("slack.action", reply, action="share", user=user, channel=channel, paper=paper_id) as outcome:
            record = self.services.archive.get(paper_id)
            if record is None:
                outcome.fields["refused"] = "missing"
                reply(sb.paper_missing())
                return
            key = f"{channel}:{user}:{record['id']}"
            if not self._recent_shares.add(key):
                outcome.fields["refused"] = "repeat"
                reply(sb.share_repeated())
                return
            post = sb.shared_paper(record, user)
            paper = record["id"]

            def attempt() -> None:
                try:
                    response = client.chat_postMessage(channel=channel, text=post["text"], blocks=post["blocks"],
                                                       unfurl_links=False, unfurl_media=False)
                except SlackApiError as exc:
                    replies.raise_if_rate_limited(exc)  # waits in the outbox, not on this worker
                    self._recent_shares.discard(key)
                    error = slack_error(exc)
                    outcome.fields["refused"] = error
                    reply(sb.share_failed(error))
                    return
                self.services.posts.record(channel, str(response["ts"]), paper, "share", user=user)

            replies.send(f"share:{channel}:{user}", f"share user={user} channel={channel}", attempt)

    def page(self, body: dict[str, Any]) -> None:
        reply = responder(body, self.timeout)
        click = self._click(body)
        with guarded("slack.action", reply, action="page", user=click.user, channel=click.channel) as outcome:
            parsed = sb.parse_page_value(click.value)
            if parsed is None:
                outcome.fields["refused"] = "bad_value"
                reply(blocks.button_expired())
                return
            query, offset = parsed
            outcome.fields["offset"] = offset
            reply(self.search(query, click.user, click.channel, offset, outcome.fields), replace_original=True)


def register(app: App, services: Services, commands: CommandRouter, channel_names: ChannelNames) -> Search:
    feature = Search(services, channel_names)
    commands.registry.bind("search", feature.command)

    def on_share(body: dict[str, Any], client: WebClient) -> None:
        feature.share(body, client)

    def on_page(body: dict[str, Any]) -> None:
        feature.page(body)

    app.action(ACTION_SHARE)(ack=ack_now, lazy=[on_share])
    app.action(re.compile(f"^(?:{sb.ACTION_PAGE_PREV}|{sb.ACTION_PAGE_NEXT})$"))(ack=ack_now, lazy=[on_page])
    return feature
