"""Saving papers from Slack: save reactions, Save / Unsave buttons, paper links in messages, and the
`/papers saved | unsave | top | export` subcommands. `register(app, settings, services)` wires it all.

When a save is durable. Bolt runs each listener's ack function inline, before the HTTP 200 (app.py), so a
save that Slack has seen acknowledged must already be on disk:

- A save reaction on a message the bot posted: the ledger lookup is in memory and the save is one small
  fsync'd write (~5 ms with a year of data, bench/save_bench.py), so it happens in the ack function.
- A save reaction on a message a person wrote needs the message (conversations.history / .replies) and
  perhaps the papers (Hugging Face, arXiv): seconds. The ack function records it as *pending* (one small
  write); the work runs afterwards and completes the pending entry atomically with its saves. Pending
  entries left by a crash are processed again at start-up; transient failures retry a few times.
- Save / Unsave buttons are one small write too: done in the ack function.

If that write fails, the ack is a 500 (Slack retries events; a button shows its error) and nothing claims
success. The slow work (pending reactions, archiving shared links) runs on Bolt's listener pool, at most
`SLOW_WORKERS` jobs at a time so searches still find a free worker; `shutdown_app` drains it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.bibtex import to_bibtex
from bot.config import Settings
from bot.ingest import fetch_papers
from bot.papers import find_arxiv_ids, normalize_arxiv_id
from bot.saves import ReactionSaver, records_for
from bot.slack import blocks
from bot.slack import save_blocks as sb
from bot.slack.plumbing import Click, Responder, new_ref, slack_error
from bot.sources import Sources, build_sources
from bot.store.models import UpsertResult
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.saves import Saves

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")

SAVE_SUBCOMMANDS = frozenset({"saved", "unsave", "top", "export"})
SLOW_WORKERS = 2
PENDING_RETRY_SECONDS = (30.0, 120.0, 600.0)  # then give up (the entry is dropped and the user told)
LINK_BATCH_SECONDS = 1.0  # links shared within this long are fetched in one request and written at once
MESSAGE_TEXT_CHARS = 100_000
REPLIES_PAGES = 5
TOP_WINDOWS: dict[str, int | None] = {"week": 7, "month": 30, "all": None}
TOPIC_EXPORT_LIMIT = 100
MEMBERS_CACHE_SECONDS = 600.0
NOT_THERE = frozenset({"not_in_channel", "channel_not_found"})  # ephemerals there fail: the DM instead
CONTEXT_KEY = "paperbot_save"  # what the ack function did, for the work function (Bolt copies the context)


# --- the ack phase (pure enough to benchmark: bench/save_bench.py) -------------------------------------------


def reaction_ack(saver: ReactionSaver, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Persist what a reaction_added / reaction_removed event means, before the ack. Returns a JSON-able
    summary for the work that follows, or None when the event is not a save reaction on a message."""
    kind = event.get("type")
    item = event.get("item") if isinstance(event.get("item"), Mapping) else {}
    user, reaction = event.get("user"), event.get("reaction")
    channel, ts = item.get("channel"), item.get("ts")
    if kind not in ("reaction_added", "reaction_removed") or item.get("type") != "message":
        return None
    if not all(isinstance(v, str) and v for v in (user, reaction, channel, ts)):
        return None
    assert isinstance(user, str) and isinstance(reaction, str) and isinstance(channel, str) and isinstance(ts, str)
    if not saver.is_save_emoji(reaction):
        return None
    where = {"user": user, "channel": channel, "ts": ts}
    if kind == "reaction_added":
        result = saver.added(user, channel, ts, reaction)
        if result.outcome is not None:
            outcome = result.outcome
            return {"kind": "saved", "paper": outcome.save.paper_id, "new": outcome.new, "changed": outcome.changed,
                    **where}
        assert result.pending is not None
        return {"kind": "pending", "key": result.pending.key, **where}
    removed = saver.removed(user, channel, ts, reaction)
    assert removed is not None
    return {"kind": "removed", "unsaved": list(removed.unsaved), "kept": list(removed.kept), **where}


def message_paper_ids(event: Mapping[str, Any]) -> list[str]:
    """Paper ids linked in a `message` event written by a person (new or edited); [] for bots, deletions,
    joins and the like. Edits count: a link added by editing is as much "discussed" as a new one."""
    message: Mapping[str, Any] = event
    if event.get("subtype") == "message_changed":
        message = event.get("message") if isinstance(event.get("message"), Mapping) else {}
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


# --- slow work on a bounded share of Bolt's pool ----------------------------------------------------------


class Drain:
    """Runs `handle(item)` for queued items on at most `limit` threads of `executor`. An item already queued or
    being handled is not queued again (a redelivered reaction, a resume at start-up)."""

    def __init__(self, name: str, executor: Callable[[], Executor], handle: Callable[[Any], None],
                 limit: int = 1) -> None:
        self.name = name
        self._executor = executor
        self._handle = handle
        self._limit = limit
        self._queue: deque[Any] = deque()
        self._waiting: set[Any] = set()  # queued or being handled
        self._active = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def put(self, item: Any) -> None:
        with self._lock:
            if item in self._waiting:
                return
            self._waiting.add(item)
            self._queue.append(item)
            if self._active >= self._limit:
                return
            self._active += 1
        try:
            self._executor().submit(self._run)
        except RuntimeError:  # the pool is shut down: the process is stopping
            with self._lock:
                self._active -= 1
            log.info("save.worker.stopped queue=%s", self.name)

    def put_later(self, item: Any, delay: float) -> None:
        timer = threading.Timer(delay, self.put, args=(item,))
        timer.daemon = True
        timer.start()

    def take_all(self) -> list[Any]:
        """Every queued item, for the handler running now to do at once."""
        with self._lock:
            items, self._queue = list(self._queue), deque()
            self._waiting.difference_update(items)
            return items

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._active -= 1
                    self._idle.notify_all()
                    return
                item = self._queue.popleft()
            try:
                self._handle(item)
            except Exception:
                log.exception("slack.error ref=%s event=save.worker queue=%s", new_ref(), self.name)
            finally:
                with self._lock:
                    self._waiting.discard(item)

    def wait_idle(self, timeout: float) -> bool:
        """For tests: True once nothing is queued or running."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queue and not self._active, timeout)


class _SeenInSlack:
    """The archive as `fetch_papers` uses it, marking what it writes as also seen in Slack (`sources`)."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def __contains__(self, paper_id: str) -> bool:
        return paper_id in self._archive

    def upsert(self, records: Iterable[dict[str, Any]]) -> UpsertResult:
        return self._archive.upsert([{**r, "sources": list(dict.fromkeys([*r.get("sources", []), "slack"]))}
                                     for r in records])

    def get_many(self, paper_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self._archive.get_many(paper_ids)


class _Unreadable(Exception):
    """Slack refused to give us the message; `error` is its error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


# --- the feature --------------------------------------------------------------------------------------------


class SaveFeature:
    def __init__(self, settings: Settings, services: Services, client: WebClient, executor: Callable[[], Executor],
                 *, sources: Sources | None = None, channel_ids: Callable[[str], set[str]] | None = None) -> None:
        self.settings = settings
        self.services = services
        self.client = client
        self.command_name = settings.command
        self.saver = ReactionSaver(services.saves, services.posts, settings.save_emojis)
        self.sources = sources if sources is not None else build_sources(settings)
        # The search core's `channel:` hook, as `/papers search` has it (Handlers knows the channel names).
        self.channel_ids = channel_ids
        self.pending = Drain("pending", executor, self._process_pending, limit=SLOW_WORKERS)
        self.links = Drain("links", executor, self._archive_links, limit=1)
        self._members: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._members_lock = threading.Lock()

    @property
    def saves(self) -> Saves:
        return self.services.saves

    def responder(self, body: Mapping[str, Any]) -> Responder:
        return Responder(body.get("response_url"), self.settings.http_timeout)

    def record(self, paper_id: str) -> dict[str, Any]:
        return self.services.archive.get(paper_id) or {"id": paper_id}

    def resume(self) -> int:
        """Queue every reaction left pending by a previous run (start-up); how many there were."""
        left = self.saves.pending()
        for pending in left:
            self.pending.put(pending.key)
        if left:
            log.info("save.pending.resume count=%d", len(left))
        return len(left)

    # --- reactions --------------------------------------------------------------------------------------

    def reaction_ack(self, body: Mapping[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        event = body.get("event") if isinstance(body.get("event"), Mapping) else {}
        try:
            summary = reaction_ack(self.saver, event)
        except Exception:
            # Not acknowledged: Slack sends the event again (up to 3 times), and nothing told the user.
            ref = new_ref()
            log.exception("slack.error ref=%s event=%s user=%s", ref, event.get("type"), event.get("user"))
            return BoltResponse(status=500, body="")
        if summary is not None:
            context[CONTEXT_KEY] = summary
            if summary["kind"] == "pending":
                self.pending.put(summary["key"])
        ack()
        return None

    def reaction_work(self, context: BoltContext) -> None:
        """After the ack: tell the user what their reaction did (pending ones answer when processed)."""
        summary = context.get(CONTEXT_KEY)
        if not isinstance(summary, dict) or summary["kind"] == "pending":
            return
        user, channel = summary["user"], summary["channel"]
        if summary["kind"] == "saved":
            if not summary["changed"]:
                return  # an exact repeat (a redelivered event): the user was already told
            record = self.record(summary["paper"])
            payload = sb.saved([record], self.command_name) if summary["new"] else \
                sb.already_saved(record, self.command_name)
            self.ephemeral(channel, user, payload)
            return
        for paper_id in summary["unsaved"]:
            self.ephemeral(channel, user, sb.unsaved(self.record(paper_id)))
        for paper_id in summary["kept"]:
            save = self.saves.get(user, paper_id)
            if save is not None:
                self.ephemeral(channel, user, sb.kept(self.record(paper_id), save))

    def ephemeral(self, channel: str, user: str, payload: blocks.Message, thread_ts: str | None = None) -> bool:
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=payload["text"],
                                           blocks=payload.get("blocks"), thread_ts=thread_ts)
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = slack_error(exc)
            log.warning("save.notify.failed user=%s channel=%s error=%s", user, channel, error)
            if error in NOT_THERE:  # the bot is not in that channel: say it in the user's DM with the bot
                return self._direct_message(user, payload)
            return False
        return True

    def _direct_message(self, user: str, payload: blocks.Message) -> bool:
        try:
            self.client.chat_postMessage(channel=user, text=payload["text"], blocks=payload.get("blocks"),
                                         unfurl_links=False, unfurl_media=False)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("save.notify.failed user=%s channel=dm error=%s", user, slack_error(exc))
            return False
        return True

    # --- pending reactions (messages people wrote) ------------------------------------------------------

    def _process_pending(self, key: str) -> None:
        pending = self.saves.get_pending(key)
        if pending is None:
            return  # removed meanwhile, or already done
        started = time.monotonic()
        fields = f"user={pending.user} channel={pending.channel} ts={pending.ts}"
        try:
            message = self._read_message(pending.channel, pending.ts)
        except _Unreadable as exc:
            self.saves.drop_pending(key)
            log.warning("save.pending.failed %s reason=%s", fields, exc.error)
            self.ephemeral(pending.channel, pending.user, sb.cannot_read(exc.error))
            return
        except (SlackClientError, OSError) as exc:  # Slack unreachable or failing, after the client's retries
            self._retry_or_give_up(key, fields, slack_error(exc))
            return
        ids = find_arxiv_ids(message_text(message))
        thread_ts = message.get("thread_ts") if message.get("thread_ts") != message.get("ts") else None
        if not ids:
            self.saves.drop_pending(key)
            log.info("save.pending.no_papers %s", fields)
            return  # a :bookmark: on an ordinary message is not for us: say nothing
        fetched = fetch_papers(_SeenInSlack(self.services.archive), self.sources, ids,  # type: ignore[arg-type]
                               skip_known=True)
        failed = [i for i, _ in fetched.failed if normalize_arxiv_id(i)]
        attempts = pending.attempts + 1
        if failed and attempts <= len(PENDING_RETRY_SECONDS):
            self._retry_or_give_up(key, fields, "source_error")
            return
        # Papers neither source knows are not saved; ones we could not look up after every retry are (the
        # link was there, the user meant it); the archive learns about them when they are next seen.
        to_save = [i for i in ids if i not in fetched.missing]
        outcomes = self.saves.complete_pending(key, to_save) if to_save else None
        if not to_save:
            self.saves.drop_pending(key)
        log.info("save.pending.done %s papers=%d missing=%d ms=%d", fields, len(to_save), len(fetched.missing),
                 (time.monotonic() - started) * 1000)
        if outcomes is None and to_save:
            return  # the reaction was removed while we worked
        records = [self.record(o.save.paper_id) for o in outcomes or [] if o.changed]
        if records:
            self.ephemeral(pending.channel, pending.user, sb.saved(records, self.command_name,
                                                                   missing=fetched.missing), thread_ts)
        elif fetched.missing:
            self.ephemeral(pending.channel, pending.user, sb.missing_papers(fetched.missing), thread_ts)

    def _retry_or_give_up(self, key: str, fields: str, error: str) -> None:
        """Count a failed attempt; try again later, or give up once PENDING_RETRY_SECONDS are used. (A paper
        source that keeps failing does not end here: the last attempt saves what the message links.)"""
        attempts = self.saves.retry_pending(key)
        if attempts is None:
            return
        if attempts <= len(PENDING_RETRY_SECONDS):
            delay = PENDING_RETRY_SECONDS[attempts - 1]
            log.warning("save.pending.retry %s attempt=%d error=%s in_s=%d", fields, attempts, error, delay)
            self.pending.put_later(key, delay)
            return
        self.saves.drop_pending(key)  # Slack would not give us the message: nobody to tell either
        log.warning("save.pending.gave_up %s attempts=%d error=%s", fields, attempts, error)

    def _read_message(self, channel: str, ts: str) -> dict[str, Any]:
        """The message at (channel, ts): conversations.history for channel messages, .replies for thread
        replies (history does not list those)."""
        try:
            history = self.client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
            for message in history.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
            cursor = None
            for _ in range(REPLIES_PAGES):
                replies = self.client.conversations_replies(channel=channel, ts=ts, latest=ts, inclusive=True,
                                                            limit=200, cursor=cursor)
                for message in replies.get("messages") or []:
                    if message.get("ts") == ts:
                        return dict(message)
                cursor = (replies.get("response_metadata") or {}).get("next_cursor")
                if not replies.get("has_more") or not cursor:
                    break
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in sb.READ_PROBLEMS:
                raise _Unreadable(error) from None
            raise  # ratelimited, internal_error, …: may pass, so the caller retries
        raise _Unreadable("message_not_found")

    # --- links shared in messages -----------------------------------------------------------------------

    def message_ack(self, body: Mapping[str, Any]) -> None:
        event = body.get("event") if isinstance(body.get("event"), Mapping) else {}
        ids = message_paper_ids(event)  # known papers are skipped by the worker (fetch_papers(skip_known=True))
        if ids:
            log.info("links.seen channel=%s papers=%d", event.get("channel"), len(ids))
            for paper_id in ids:
                self.links.put(paper_id)

    def _archive_links(self, first: str) -> None:
        time.sleep(LINK_BATCH_SECONDS)  # let the rest of a burst arrive: one request, one archive write
        batch = list(dict.fromkeys([first, *self.links.take_all()]))
        fetched = fetch_papers(_SeenInSlack(self.services.archive), self.sources, batch,  # type: ignore[arg-type]
                               skip_known=True)
        log.info("links.archived papers=%d new=%d missing=%d failed=%d", len(batch), len(fetched.upsert.new),
                 len(fetched.missing), len(fetched.failed))

    # --- buttons ----------------------------------------------------------------------------------------

    def save_ack(self, body: Mapping[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        click = Click.of(body)
        user, channel, ts, value = click.user, click.channel or None, click.ts, click.value  # None: the Home tab
        paper_id = normalize_arxiv_id(value)
        summary: dict[str, Any] = {"kind": "bad_value"}
        if paper_id and user:
            try:
                outcome = self.saves.save(user, paper_id, via="button", channel=channel, ts=ts)
            except Exception:
                ref = new_ref()
                log.exception("slack.error ref=%s event=save.button user=%s paper=%s", ref, user, paper_id)
                context[CONTEXT_KEY] = {"kind": "error", "ref": ref}
                return BoltResponse(status=500, body="")
            summary = {"kind": "saved", "paper": paper_id, "new": outcome.new}
        context[CONTEXT_KEY] = summary
        ack()
        return None

    def _button_work(self, action: str, body: Mapping[str, Any],
                     context: BoltContext) -> tuple[str, dict[str, Any], Responder]:
        """After a Save / Unsave ack: who clicked, what the ack did (logged), and where to answer."""
        click = Click.of(body)
        user, channel = click.user, click.channel
        summary = context.get(CONTEXT_KEY) or {"kind": "error", "ref": "-"}
        log.info("slack.action action=%s user=%s channel=%s paper=%s status=%s", action, user, channel,
                 summary.get("paper", "-"), summary["kind"])
        return user, summary, self.responder(body)

    def save_work(self, body: Mapping[str, Any], context: BoltContext) -> None:
        user, summary, reply = self._button_work("save", body, context)
        if summary["kind"] == "error":
            if reply.url:
                reply(sb.save_failed(summary["ref"]))
            return
        if summary["kind"] == "bad_value":
            reply(blocks.note("That button no longer works; please search again."))
            return
        if not reply.url:  # a button in the Home tab: show the list there
            self.publish_home(user)
            return
        record = self.record(summary["paper"])
        reply(sb.saved([record], self.command_name) if summary["new"] else
              sb.already_saved(record, self.command_name))

    def unsave_ack(self, body: Mapping[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        click = Click.of(body)
        user, value = click.user, click.value
        paper_id, page = sb.parse_unsave_value(value)
        try:
            removed = self.saves.unsave(user, paper_id) if paper_id and user else None
        except Exception:
            ref = new_ref()
            log.exception("slack.error ref=%s event=unsave.button user=%s paper=%s", ref, user, paper_id)
            context[CONTEXT_KEY] = {"kind": "error", "ref": ref}
            return BoltResponse(status=500, body="")
        context[CONTEXT_KEY] = {"kind": "unsaved" if removed else "absent", "paper": paper_id, "page": page}
        ack()
        return None

    def unsave_work(self, body: Mapping[str, Any], context: BoltContext) -> None:
        user, summary, reply = self._button_work("unsave", body, context)
        if not reply.url:
            self.publish_home(user)
            return
        if summary["kind"] == "error":
            reply(sb.save_failed(summary["ref"]))
            return
        note = None
        if summary["kind"] == "unsaved" and summary["paper"]:
            note = f"Removed {sb.title_link(self.record(summary['paper']))}."
        reply(self.reading_list(user, int(summary.get("page") or 0), note), replace_original=True)

    def page_work(self, body: Mapping[str, Any]) -> None:
        click = Click.of(body)
        user, value = click.user, click.value
        reply = self.responder(body)
        page = int(value) if value.isdecimal() else 0
        reply(self.reading_list(user, page), replace_original=True)

    # --- /papers saved | unsave | top | export ----------------------------------------------------------

    def command(self, name: str, args: str, user: str, channel: str, reply: Responder) -> dict[str, Any]:
        """Answer one of SAVE_SUBCOMMANDS through `reply`; returns fields for the command's log line."""
        if name == "saved":
            page = int(args) - 1 if args.strip().isdecimal() and int(args) > 0 else 0
            reply(self.reading_list(user, page))
            return {"page": page + 1}
        if name == "unsave":
            return self.unsave_command(args, user, reply)
        if name == "top":
            return self.top_command(args, reply)
        return self.export_command(args, user, channel, reply)

    def reading_list(self, user: str, page: int, note: str | None = None) -> blocks.Message:
        saves = self.saves.saved(user)
        pages = max(1, -(-len(saves) // sb.SAVED_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        chunk = saves[page * sb.SAVED_PAGE_SIZE:(page + 1) * sb.SAVED_PAGE_SIZE]
        records = records_for(self.services.archive, [s.paper_id for s in chunk])
        return sb.reading_list(list(zip(chunk, records, strict=True)), page=page, total=len(saves),
                               command=self.command_name, note=note, emoji=self.settings.save_emojis[0])

    def unsave_command(self, args: str, user: str, reply: Responder) -> dict[str, Any]:
        words = args.split()
        paper_id = normalize_arxiv_id(words[0]) if len(words) == 1 else None
        if paper_id is None:
            reply(sb.unsave_usage(self.command_name))
            return {"refused": "usage"}
        removed = self.saves.unsave(user, paper_id)
        if removed is None:
            reply(sb.not_saved(paper_id, self.command_name))
            return {"refused": "not_saved"}
        reply(sb.unsaved(self.record(paper_id)))
        return {"paper": paper_id}

    def top_command(self, args: str, reply: Responder) -> dict[str, Any]:
        window = args.strip().lower() or "week"
        if window not in TOP_WINDOWS:
            reply(sb.top_usage(self.command_name, args.strip()))
            return {"refused": "usage"}
        days = TOP_WINDOWS[window]
        since = datetime.now(UTC) - timedelta(days=days) if days is not None else None
        top = self.saves.top(since=since, limit=sb.TOP_SIZE)
        records = records_for(self.services.archive, [t.paper_id for t in top])
        reply(sb.top_list(list(zip(top, records, strict=True)), window, self.command_name,
                          emoji=self.settings.save_emojis[0]))
        return {"window": window, "results": len(top)}

    def export_command(self, args: str, user: str, channel: str, reply: Responder) -> dict[str, Any]:
        words = args.split()
        if words and words[0].lower() in ("bibtex", "bib"):
            words = words[1:]
        scope = words[0].lower() if words else "saved"
        if scope == "saved" and len(words) <= 1:
            ids = [s.paper_id for s in self.saves.saved(user)]
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
            reply(sb.export_usage(self.command_name))
            return {"refused": "usage"}
        if not ids:
            reply(sb.export_empty(blocks.escape_mrkdwn(empty)))
            return {"scope": scope, "papers": 0}
        records = records_for(self.services.archive, ids)
        bib = to_bibtex(records)
        filename = f"paperbot-{filename}"
        problem = self.upload(user, bib, filename, sb.export_comment(len(records), what))
        if problem is None:
            reply(sb.export_sent(len(records), filename))
            log.info("export.sent user=%s scope=%s papers=%d bytes=%d", user, scope, len(records), len(bib))
            return {"scope": scope, "papers": len(records), "delivery": "file"}
        for message in sb.export_fallback(bib, len(records), problem):
            reply(message)
        log.info("export.fallback user=%s scope=%s papers=%d reason=%s", user, scope, len(records), problem)
        return {"scope": scope, "papers": len(records), "delivery": "messages"}

    def topic_ids(self, topic: str, user: str, channel: str,
                  reply: Responder) -> tuple[list[str], list[str]] | None:
        """The ids of the papers a search for `topic` finds, and the search's notes; None if it was refused."""
        from bot.search import QueryError, SearchContext

        try:
            page = self.services.index.search(topic, limit=TOPIC_EXPORT_LIMIT, context=SearchContext(
                user_id=user, channel_id=channel, saved_ids=self.saves.saved_ids, channel_ids=self.channel_ids))
        except QueryError as exc:
            reply(blocks.query_problem(str(exc), self.command_name))
            return None
        return [str(hit.paper["id"]) for hit in page.hits], list(page.notes)

    def upload(self, user: str, content: str, filename: str, comment: str) -> str | None:
        """Send the file to the user's DM with the bot (files upload v2); None, or why it failed."""
        try:
            dm = self.client.conversations_open(users=user)["channel"]["id"]
            self.client.files_upload_v2(channel=dm, content=content.encode(), filename=filename,
                                        title=filename, initial_comment=comment)
        except SlackApiError as exc:
            return slack_error(exc)
        except (SlackClientError, OSError) as exc:
            log.warning("export.upload.failed user=%s error=%s", user, type(exc).__name__)
            return "upload failed"
        return None

    # --- App Home ---------------------------------------------------------------------------------------

    def publish_home(self, user: str) -> None:
        from bot.slack import home

        view = home.build(self, user)
        try:
            self.client.views_publish(user_id=user, view=view)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("home.publish.failed user=%s error=%s", user, slack_error(exc))

    def member_channels(self, user: str, channels: Iterable[str]) -> list[str]:
        """Those of `channels` `user` is a member of (conversations.members, cached); a channel whose members
        we cannot read counts if the user saved a paper from it."""
        saved_from = self.saves.channels_of(user)
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
            for _ in range(20):
                response = self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                assert members is not None
                members.update(response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("home.members.unavailable channel=%s error=%s", channel, slack_error(exc))
            members = None
        result = frozenset(members) if members is not None else None
        with self._members_lock:
            self._members[channel] = (now + MEMBERS_CACHE_SECONDS, result)
        return result


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "topic"


def register(app: App, settings: Settings, services: Services, *, sources: Sources | None = None,
             channel_ids: Callable[[str], set[str]] | None = None) -> SaveFeature:
    """Attach the saving listeners to `app` and queue reactions a previous run left pending."""
    feature = SaveFeature(settings, services, app.client, lambda: app.listener_runner.listener_executor,
                          sources=sources, channel_ids=channel_ids)

    def on_reaction_ack(body: dict[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        return feature.reaction_ack(body, context, ack)

    def on_reaction_work(context: BoltContext) -> None:
        feature.reaction_work(context)

    def on_save_ack(body: dict[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        return feature.save_ack(body, context, ack)

    def on_save_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.save_work(body, context)

    def on_unsave_ack(body: dict[str, Any], context: BoltContext, ack: Ack) -> BoltResponse | None:
        return feature.unsave_ack(body, context, ack)

    def on_unsave_work(body: dict[str, Any], context: BoltContext) -> None:
        feature.unsave_work(body, context)

    def ack_only(ack: Ack) -> None:
        ack()

    def on_page_work(body: dict[str, Any]) -> None:
        feature.page_work(body)

    def on_message(body: dict[str, Any]) -> None:
        feature.message_ack(body)  # a regex and a queue: runs inline, no lazy work

    def on_home_opened(body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab") == "home" and event.get("user"):
            feature.publish_home(str(event["user"]))

    app.event("reaction_added")(ack=on_reaction_ack, lazy=[on_reaction_work])
    app.event("reaction_removed")(ack=on_reaction_ack, lazy=[on_reaction_work])
    app.action(blocks.ACTION_SAVE)(ack=on_save_ack, lazy=[on_save_work])
    app.action(sb.ACTION_UNSAVE)(ack=on_unsave_ack, lazy=[on_unsave_work])
    app.action(re.compile(f"^(?:{sb.ACTION_SAVED_PREV}|{sb.ACTION_SAVED_NEXT})$"))(ack=ack_only,
                                                                                   lazy=[on_page_work])
    app.event("message")(on_message)
    app.event("app_home_opened")(ack=ack_only, lazy=[on_home_opened])
    feature.resume()
    return feature
