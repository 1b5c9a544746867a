"""Links to papers shared in channels: archived even without a reaction, so search finds what the team
discussed. Also how paperbot reads paper links out of a Slack message (the save reactions use it too).

A `message` event is handled inline (a regex and a queue); the fetching runs on the links queue, which waits
`LINK_BATCH_SECONDS` for the rest of a burst so a busy channel costs one request and one archive write.

Anyone in a channel can post a message with thousands of links: only the first `MAX_PAPERS_PER_MESSAGE` papers
of a message are taken (the author is told once how many were left out), Hugging Face is asked about at most that
many papers per batch, and the rest go to arXiv `id_list` requests of up to 100 ids.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.expiring import ExpiringSet
from bot.ingest import fetch_papers
from bot.papers import PaperRecord, find_arxiv_ids
from bot.slack import replies
from bot.slack import save_blocks as sb
from bot.slack.plumbing import mapping, slack_error
from bot.slack.work import Drain
from bot.store.models import UpsertResult
from bot.store.protocols import ArchiveRepository, ChangeListener

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name

LINK_BATCH_SECONDS = 1.0  # links shared within this long are fetched in one request and written at once
MESSAGE_TEXT_CHARS = 100_000
MAX_PAPERS_PER_MESSAGE = 20  # papers taken from one message; also how many Hugging Face is asked about at once
NOTIFIED_SECONDS = 7 * 24 * 3600.0  # a message's left-out notice is not repeated for its edits within this long
NOTIFIED_MAX = 10_000


def capped(ids: list[str]) -> tuple[list[str], int]:
    """The papers of one message that are taken, and how many more were left out."""
    return ids[:MAX_PAPERS_PER_MESSAGE], max(0, len(ids) - MAX_PAPERS_PER_MESSAGE)


def message_paper_ids(event: Mapping[str, Any]) -> list[str]:
    """Paper ids linked in a `message` event written by a person (new or edited); [] for bots, deletions,
    joins and the like. Edits count: a link added by editing is as much "discussed" as a new one."""
    message: Mapping[str, Any] = event
    if event.get("subtype") == "message_changed":
        message = mapping(event.get("message"))
    elif event.get("subtype") not in (None, "thread_broadcast", "file_share", "me_message"):
        return []
    if message.get("bot_id") or message.get("subtype") == "bot_message" or not message.get("user"):
        return []
    return find_arxiv_ids(message_text(message))


def message_text(message: Mapping[str, Any]) -> str:
    """Every string of a message's text, blocks and attachments (links hide in unfurls and rich text)."""
    parts: list[str] = []
    size = 0

    def walk(value: Any) -> None:
        nonlocal size
        if size > MESSAGE_TEXT_CHARS:
            return
        if isinstance(value, str):
            parts.append(value)
            size += len(value)
        elif isinstance(value, Mapping):
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    for key in ("text", "blocks", "attachments"):
        walk(message.get(key))
    return "\n".join(parts)[:MESSAGE_TEXT_CHARS]


class SeenInSlack:
    """The archive as `fetch_papers` uses it, marking what it writes as also seen in Slack (`sources`)."""

    def __init__(self, archive: ArchiveRepository) -> None:
        self._archive = archive

    def subscribe(self, listener: ChangeListener) -> None:
        self._archive.subscribe(listener)

    def __len__(self) -> int:
        return len(self._archive)

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._archive

    def get(self, paper_id: str) -> PaperRecord | None:
        return self._archive.get(paper_id)

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, PaperRecord]:
        return self._archive.get_many(paper_ids)

    def snapshot(self) -> list[PaperRecord]:
        return self._archive.snapshot()

    def arrived_since(self, moment: datetime) -> list[PaperRecord]:
        return self._archive.arrived_since(moment)

    def upsert(self, records: Iterable[PaperRecord]) -> UpsertResult:
        marked = []
        for record in records:
            copy = record.copy()
            copy["sources"] = list(dict.fromkeys([*record.get("sources", []), "slack"]))
            marked.append(copy)
        return self._archive.upsert(marked)


class Links:
    def __init__(self, services: Services, executor: Callable[[], Executor], client: WebClient | None = None) -> None:
        self.services = services
        self.client = client
        self._executor = executor
        self.queue = Drain("links", executor, self._archive_links, limit=1)
        # Messages whose author was told papers were left out: Slack sends `message_changed` for the unfurl of
        # the links and for every edit, and the author hears it once per message.
        self._notified = ExpiringSet(NOTIFIED_SECONDS, NOTIFIED_MAX)

    def message(self, body: Mapping[str, Any]) -> None:
        event = mapping(body.get("event"))
        # Known papers are skipped by the worker (fetch_papers(skip_known=True)).
        ids, left_out = capped(message_paper_ids(event))
        if ids:
            log.info("links.seen channel=%s papers=%d left_out=%d", event.get("channel"), len(ids), left_out)
            for paper_id in ids:
                self.queue.put(paper_id)
        if left_out:
            message = mapping(event.get("message")) if event.get("subtype") == "message_changed" else event
            channel, user, thread_ts = event.get("channel"), message.get("user"), message.get("thread_ts")
            ts = message.get("ts")
            first = not isinstance(ts, str) or self._notified.add(f"{channel}:{ts}")
            if isinstance(channel, str) and isinstance(user, str) and first:
                with contextlib.suppress(RuntimeError):  # the pool is shut down: the process is stopping
                    self._executor().submit(self._tell_left_out, channel, user, left_out,
                                            thread_ts if isinstance(thread_ts, str) else None)

    def _tell_left_out(self, channel: str, user: str, left_out: int, thread_ts: str | None) -> None:
        if self.client is None:
            return
        client, payload = self.client, sb.left_out(left_out, MAX_PAPERS_PER_MESSAGE)

        def attempt() -> None:
            try:
                client.chat_postEphemeral(channel=channel, user=user, text=payload["text"],
                                          blocks=payload.get("blocks"), thread_ts=thread_ts)
            except (SlackApiError, SlackClientError, OSError) as exc:
                replies.raise_if_rate_limited(exc)  # waits in the outbox, not on this worker
                log.warning("links.notify.failed user=%s channel=%s error=%s", user, channel, slack_error(exc))

        # The key of the save notices (reactions.py): one user's notices in one channel go out in order.
        replies.send(f"ephemeral:{channel}:{user}", f"ephemeral user={user} channel={channel}", attempt)

    def _archive_links(self, first: str) -> None:
        time.sleep(LINK_BATCH_SECONDS)  # let the rest of a burst arrive: one request, one archive write
        batch = list(dict.fromkeys([first, *self.queue.take_all()]))
        fetched = fetch_papers(SeenInSlack(self.services.archive), self.services.sources, batch, skip_known=True,
                               hf_limit=MAX_PAPERS_PER_MESSAGE)
        log.info("links.archived papers=%d new=%d missing=%d failed=%d", len(batch), len(fetched.upsert.new),
                 len(fetched.missing), len(fetched.failed))


def register(app: App, services: Services) -> Links:
    feature = Links(services, lambda: app.listener_runner.listener_executor, app.client)

    def on_message(body: dict[str, Any]) -> None:
        feature.message(body)  # a regex and a queue: runs inline, no lazy work

    app.event("message")(on_message)
    return feature
