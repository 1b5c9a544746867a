"""Bolt listeners: parse what Slack sent, call the core, render with `blocks`, answer. Nothing else.

Every listener acks at once (inline, see app.py) and does its work in a lazy function on the worker pool.
An exception there becomes a short apology with a reference id for the user and a traceback with the same
id in the log; the process keeps serving.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack import blocks, digest_listeners, save_listeners
from bot.slack.commands import CONFIG_SUBCOMMANDS, ParsedCommand, from_slack, parse
from bot.slack.ids import is_channel_id
from bot.slack.plumbing import EPHEMERAL, Click, RecentIds, Responder, new_ref, slack_error
from bot.topics import TopicError, normalize_topic

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack")

PAGE_SIZE = 5
# Searches are CPU-bound: running several at once gains little under the GIL but takes it away from the
# server threads that ack. Measured with a deliberately slow (~50 ms) search and a backlog of requests
# (bench/ack_bench.py): ack p95 272 ms with 8 searches at a time, 97 ms with one.
SEARCH_CONCURRENCY = 1
SHARE_REPEAT_SECONDS = 60.0
IN_CHANNEL = "in_channel"


@dataclass
class _Outcome:
    """What one listener run did, for its log line."""

    fields: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"


class Handlers:
    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.command_name = settings.command
        self.admins = settings.admins
        self._recent_shares = RecentIds(SHARE_REPEAT_SECONDS, 10_000)
        self._search_gate = threading.BoundedSemaphore(SEARCH_CONCURRENCY)
        # Channel names seen in payloads, so `channel:#name` in a search finds what was posted there.
        self._channel_names: dict[str, str] = {}
        # Set by register(): digest, schedule, sources and topics are answered by bot/slack/digest_listeners.py;
        # saved, unsave, top and export by bot/slack/save_listeners.py.
        self.digest: digest_listeners.DigestHandlers | None = None
        self.saving: save_listeners.SaveFeature | None = None

    # --- plumbing ---------------------------------------------------------------------------------------

    def responder(self, body: dict[str, Any]) -> Responder:
        return Responder(body.get("response_url"), self.settings.http_timeout)

    @contextmanager
    def _guard(self, event: str, reply: Responder | None, **fields: Any) -> Iterator[_Outcome]:
        """Time the work, log one line for it, and turn any exception into an apology with a reference."""
        outcome = _Outcome(fields=dict(fields))
        started = time.monotonic()
        try:
            yield outcome
        except Exception:
            ref = new_ref()
            outcome.status = f"error ref={ref}"
            log.exception("slack.error ref=%s event=%s %s", ref, event, _kv(fields))
            if reply is not None:
                reply(blocks.apology(ref))
        finally:
            ms = (time.monotonic() - started) * 1000
            log.info("%s %s ms=%d status=%s", event, _kv(outcome.fields), ms, outcome.status)

    def learn_channel(self, channel_id: str, name: object) -> None:
        # Slack names every private channel "privategroup" and every DM "directmessage" in these payloads.
        if isinstance(name, str) and name and name not in ("privategroup", "directmessage") and channel_id:
            self._channel_names[name.casefold()] = channel_id

    def papers_posted_in(self, channel: str) -> set[str]:
        """The search core's `channel:` hook: papers the bot posted in a channel given by id or name."""
        channel_id = channel if is_channel_id(channel) else \
            self._channel_names.get(channel.lstrip("#").casefold())
        return self.services.posts.papers_in(channel_id) if channel_id else set()

    def may_configure(self, user_id: str) -> bool:
        return not self.admins or user_id in self.admins

    # --- /papers ----------------------------------------------------------------------------------------

    def command(self, body: dict[str, Any]) -> None:
        reply = self.responder(body)
        user, channel = str(body.get("user_id", "")), str(body.get("channel_id", ""))
        self.learn_channel(channel, body.get("channel_name"))
        with self._guard("slack.command", reply, user=user, channel=channel, sub="?") as outcome:
            parsed = parse(from_slack(body.get("text")))
            outcome.fields["sub"] = parsed.name
            if self.saving is not None and parsed.name in save_listeners.SAVE_SUBCOMMANDS:
                outcome.fields.update(self.saving.command(parsed.name, parsed.args, user, channel, reply))
                return  # it answered through `reply` (an export can take several messages)
            if self.digest is not None and parsed.name in digest_listeners.SUBCOMMANDS:
                payload, response_type = self.digest.handle(parsed.name, parsed.args, user, channel,
                                                            outcome.fields, reply)
            else:
                payload, response_type = self.run(parsed, user, channel, outcome)
            reply(payload, response_type=response_type)

    def run(self, parsed: ParsedCommand, user: str, channel: str,
            outcome: _Outcome) -> tuple[blocks.Message, str]:
        """The reply to one subcommand and whether the channel sees it."""
        name, cmd = parsed.name, self.command_name
        if name == "help":
            return blocks.help_message(cmd, admins=self.admins), EPHEMERAL
        if name == "unknown":
            assert parsed.suggestion is not None
            return blocks.unknown_subcommand(cmd, parsed.word, parsed.suggestion, parsed.args,
                                             admins=self.admins), EPHEMERAL
        if name == "search":
            return self.search(parsed.args, user, channel, 0, outcome), EPHEMERAL
        if name == "topics":
            topics = self.services.channels.topics(channel)
            return blocks.topics_list(topics, cmd, may_configure=self.may_configure(user)), EPHEMERAL
        if name in CONFIG_SUBCOMMANDS and not self.may_configure(user):
            outcome.fields["refused"] = "not_admin"
            return blocks.not_allowed(cmd, self.admins), EPHEMERAL
        if name == "watch":
            return self.watch(parsed.args, user, channel)
        if name == "unwatch":
            return self.unwatch(parsed.args, user, channel)
        return blocks.help_message(cmd, admins=self.admins), EPHEMERAL  # unreachable once register() wired all

    def search(self, query: str, user: str, channel: str, offset: int, outcome: _Outcome) -> blocks.Message:
        from bot.search import QueryError, SearchContext

        if not query.strip():
            return blocks.search_usage(self.command_name)
        try:
            with self._search_gate:
                context = SearchContext(user_id=user, channel_id=channel, channel_ids=self.papers_posted_in,
                                        saved_ids=self.services.saves.saved_ids)
                page = self.services.index.search(query, limit=PAGE_SIZE, offset=offset, context=context)
        except QueryError as exc:
            outcome.fields["refused"] = "query"
            return blocks.query_problem(str(exc), self.command_name)
        outcome.fields.update(results=len(page.hits), total=page.total)
        return blocks.search_results(page, command=self.command_name)

    def watch(self, text: str, user: str, channel: str) -> tuple[blocks.Message, str]:
        try:
            added = self.services.channels.watch(channel, text, user)
        except TopicError as exc:
            return blocks.topic_problem(exc.reason, self.command_name, limit=exc.limit), EPHEMERAL
        topic = normalize_topic(text)
        if not added:
            return blocks.topic_already_watched(topic), EPHEMERAL
        # A change to the channel's settings is news for everyone in it.
        return blocks.topic_added(user, topic, self.services.channels.topics(channel)), IN_CHANNEL

    def unwatch(self, text: str, user: str, channel: str) -> tuple[blocks.Message, str]:
        try:
            removed = self.services.channels.unwatch(channel, text, user)
        except TopicError:
            return blocks.topic_problem("empty_unwatch", self.command_name), EPHEMERAL
        topics = self.services.channels.topics(channel)
        if removed is None:
            return blocks.topic_not_watched(normalize_topic(text), topics, self.command_name), EPHEMERAL
        return blocks.topic_removed(user, removed, topics), IN_CHANNEL

    # --- buttons ----------------------------------------------------------------------------------------

    def _action(self, body: dict[str, Any]) -> tuple[str, str, str]:
        click = Click.of(body)
        self.learn_channel(click.channel, (body.get("channel") or {}).get("name"))
        return click.user, click.channel, click.value

    def share(self, body: dict[str, Any], client: WebClient) -> None:
        reply = self.responder(body)
        user, channel, paper_id = self._action(body)
        with self._guard("slack.action", reply, action="share", user=user, channel=channel,
                         paper=paper_id) as outcome:
            record = self.services.archive.get(paper_id)
            if record is None:
                outcome.fields["refused"] = "missing"
                reply(blocks.paper_missing())
                return
            key = f"{channel}:{user}:{record['id']}"
            if not self._recent_shares.add(key):
                outcome.fields["refused"] = "repeat"
                reply(blocks.share_repeated())
                return
            post = blocks.shared_paper(record, user)
            try:
                response = client.chat_postMessage(channel=channel, text=post["text"], blocks=post["blocks"],
                                                   unfurl_links=False, unfurl_media=False)
            except SlackApiError as exc:
                self._recent_shares.discard(key)
                error = slack_error(exc)
                outcome.fields["refused"] = error
                reply(blocks.share_failed(error))
                return
            self.services.posts.record(channel, str(response["ts"]), record["id"], "share", user=user)

    def page(self, body: dict[str, Any]) -> None:
        reply = self.responder(body)
        user, channel, value = self._action(body)
        with self._guard("slack.action", reply, action="page", user=user, channel=channel) as outcome:
            parsed = blocks.parse_page_value(value)
            if parsed is None:
                outcome.fields["refused"] = "bad_value"
                reply(blocks.note("That button no longer works; please search again."))
                return
            query, offset = parsed
            outcome.fields["offset"] = offset
            reply(self.search(query, user, channel, offset, outcome), replace_original=True)

def _kv(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _ack_now(ack: Ack) -> None:
    ack()


def register(app: App, settings: Settings, services: Services) -> Handlers:
    """Attach paperbot's listeners to `app`. Bolt injects arguments by parameter name, hence the closures."""
    handlers = Handlers(settings, services)
    handlers.digest = digest_listeners.register(app, settings, services, handlers.may_configure)
    handlers.saving = save_listeners.register(app, settings, services, channel_ids=handlers.papers_posted_in)

    def on_command(body: dict[str, Any]) -> None:
        handlers.command(body)

    def on_share(body: dict[str, Any], client: WebClient) -> None:
        handlers.share(body, client)

    def on_page(body: dict[str, Any]) -> None:
        handlers.page(body)

    lazy: list[tuple[Callable[..., Any], Callable[..., None]]] = [
        (app.command(settings.command), on_command),
        (app.action(blocks.ACTION_SHARE), on_share),
        (app.action(re.compile(f"^(?:{blocks.ACTION_PAGE_PREV}|{blocks.ACTION_PAGE_NEXT})$")), on_page),
    ]
    for decorator, work in lazy:
        decorator(ack=_ack_now, lazy=[work])

    @app.error
    def on_unhandled(error: Exception, body: Any) -> BoltResponse | None:
        """Errors outside the lazy work (an ack function, a middleware): log, and apologise if we can."""
        ref = new_ref()
        log.error("slack.error ref=%s event=bolt", ref, exc_info=error)
        if isinstance(body, dict) and body.get("command"):
            apology = {**blocks.apology(ref), "response_type": EPHEMERAL}
            return BoltResponse(status=200, body=apology)
        return None

    return handlers
