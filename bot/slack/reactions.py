"""Save reactions: a save emoji (PAPERBOT_SAVE_EMOJI) on a message saves its papers; removing it unsaves.

When a save is durable. Bolt runs each listener's ack function inline, before the HTTP 200 (app.py), so a
save that Slack has seen acknowledged must already be on disk:

- A save reaction on a message the bot posted: the ledger lookup is in memory and the save is one small
  fsync'd write (~5 ms with a year of data, bench/save_bench.py), so it happens in the ack function.
- A save reaction on a message a person wrote needs the message (conversations.history / .replies) and
  perhaps the papers (Hugging Face, arXiv): seconds. The ack function records it as *pending* (one small
  write); the pending queue (this module's `Drain`) does the work afterwards and completes the pending entry
  atomically with its saves. Entries left by a crash are queued again at start-up (`resume`); transient
  failures retry a few times.

If that write fails, the ack is a 500 (Slack retries the event) and nothing claims success. The user hears
what happened in an ephemeral message (in the DM with the bot when the bot is not in the channel).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.ingest import fetch_papers
from bot.papers import find_arxiv_ids, normalize_arxiv_id
from bot.saves import ReactionSaver
from bot.slack import blocks, replies
from bot.slack import feedback as not_relevant
from bot.slack import save_blocks as sb
from bot.slack.links import MAX_PAPERS_PER_MESSAGE, SeenInSlack, capped, message_text
from bot.slack.paper_card import PaperLike, record_or_stub
from bot.slack.plumbing import CONTEXT_KEY, mapping, reaction_on_message, slack_error, write_before_ack
from bot.slack.retry import rate_limits_not_waited
from bot.slack.work import Drain

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot.slack.saves")  # the saving feature's logger: operators filter its lines by name

SLOW_WORKERS = 2
PENDING_RETRY_SECONDS = (30.0, 120.0, 600.0)  # then give up (the entry is dropped and the user told)
RATE_LIMITED_READS = 10  # reads Slack refuses with a 429 in a row, each tried again after Retry-After, before
# one counts as a failed attempt (PENDING_RETRY_SECONDS): a rate limit is Slack saying "later", not an error
MIN_RATE_LIMIT_WAIT = 0.25  # the item is still being handled when it is put back: not at once
REPLIES_PAGES = 5
NOT_THERE = frozenset({"not_in_channel", "channel_not_found"})  # ephemerals there fail: the DM instead


def reaction_ack(saver: ReactionSaver, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Persist what a reaction_added / reaction_removed event means, before the ack. Returns a JSON-able
    summary for the work that follows, or None when the event is not a save reaction on a message.
    (Pure enough to benchmark: bench/save_bench.py.)"""
    found = reaction_on_message(event)
    if found is None or not saver.is_save_emoji(found.reaction):
        return None
    user, reaction, channel, ts, event_ts = found.user, found.reaction, found.channel, found.ts, found.event_ts
    where = {"user": user, "channel": channel, "ts": ts}
    if found.added:
        result = saver.added(user, channel, ts, reaction, event_ts)
        if result.kind == "ignored":
            return None
        if result.outcome is not None:
            outcome = result.outcome
            return {"kind": "saved", "paper": outcome.save.paper_id, "new": outcome.new, "changed": outcome.changed,
                    **where}
        assert result.pending is not None
        return {"kind": "pending", "key": result.pending.key, **where}
    removed = saver.removed(user, channel, ts, reaction, event_ts)
    assert removed is not None
    return {"kind": "removed", "unsaved": list(removed.unsaved), "kept": list(removed.kept), **where}


def _describe(body: Mapping[str, Any]) -> str:
    event = mapping(body.get("event"))
    return f"event={event.get('type')} user={event.get('user')}"


class _Unreadable(Exception):
    """Slack refused to give us the message; `error` is its error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Reactions:
    def __init__(self, services: Services, client: WebClient, executor: Callable[[], Executor]) -> None:
        self.services = services
        self.saves = services.saves
        self.client = client
        self.command_name = services.settings.command
        self.saver = services.reaction_saver
        # The one queue of reactions waiting for their message to be read (and its papers fetched).
        self.pending = Drain("pending", executor, self._process_pending, limit=SLOW_WORKERS)
        self._rate_limited: dict[str, int] = {}  # pending key -> reads refused with a 429 in a row
        self._rate_limited_lock = threading.Lock()

    def record(self, paper_id: str) -> PaperLike:
        return record_or_stub(self.services.archive, paper_id)

    def resume(self) -> int:
        """Queue every reaction left pending by a previous run (start-up); how many there were."""
        left = self.saves.pending()
        for pending in left:
            self.pending.put(pending.key)
        if left:
            log.info("save.pending.resume count=%d", len(left))
        return len(left)

    # --- the event ------------------------------------------------------------------------------------------

    def write(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ack phase: the save (or the pending entry) on disk before Slack hears 200."""
        event = mapping(body.get("event"))
        # Not a save reaction: perhaps a not-relevant one (one listener per event type: Bolt runs only one).
        summary = reaction_ack(self.saver, event) or not_relevant.reaction_ack(self.services, event)
        if summary is not None and summary["kind"] == "pending":
            self.pending.put(summary["key"])
        return summary

    def work(self, context: BoltContext) -> None:
        """After the ack: tell the user what their reaction did (pending ones answer when processed)."""
        summary = context.get(CONTEXT_KEY)
        if isinstance(summary, dict) and summary["kind"] in not_relevant.REACTION_KINDS:
            not_relevant.reaction_work(self.services, summary, self.ephemeral)
            return
        if not isinstance(summary, dict) or summary["kind"] not in ("saved", "removed"):
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
        """True if the notice went out now; under a 429 it waits in the outbox (replies.py), not here."""
        delivered = False

        def attempt() -> None:
            nonlocal delivered
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=payload["text"],
                                               blocks=payload.get("blocks"), thread_ts=thread_ts)
            except (SlackApiError, SlackClientError, OSError) as exc:
                replies.raise_if_rate_limited(exc)
                error = slack_error(exc)
                log.warning("save.notify.failed user=%s channel=%s error=%s", user, channel, error)
                if error in NOT_THERE:  # the bot is not in that channel: say it in the user's DM with the bot
                    delivered = self._direct_message(user, payload)
                return
            delivered = True

        replies.send(f"ephemeral:{channel}:{user}", f"ephemeral user={user} channel={channel}", attempt)
        return delivered

    def _direct_message(self, user: str, payload: blocks.Message) -> bool:
        try:
            self.client.chat_postMessage(channel=user, text=payload["text"], blocks=payload.get("blocks"),
                                         unfurl_links=False, unfurl_media=False)
        except (SlackApiError, SlackClientError, OSError) as exc:
            replies.raise_if_rate_limited(exc)  # the outbox tries the notice again later
            log.warning("save.notify.failed user=%s channel=dm error=%s", user, slack_error(exc))
            return False
        return True

    # --- pending reactions (messages people wrote) ----------------------------------------------------------

    def _process_pending(self, key: str) -> None:
        pending = self.saves.get_pending(key)
        if pending is None:
            with self._rate_limited_lock:
                self._rate_limited.pop(key, None)
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
            wait = replies.rate_limit_wait(exc)
            if wait is None or not self._wait_out_rate_limit(key, fields, wait):
                self._retry_or_give_up(key, fields, slack_error(exc))
            return
        with self._rate_limited_lock:
            self._rate_limited.pop(key, None)
        ids, left_out = capped(find_arxiv_ids(message_text(message)))
        thread_ts = message.get("thread_ts") if message.get("thread_ts") != message.get("ts") else None
        if not ids:
            self.saves.drop_pending(key)
            log.info("save.pending.no_papers %s", fields)
            return  # a :bookmark: on an ordinary message is not for us: say nothing
        fetched = fetch_papers(SeenInSlack(self.services.archive), self.services.sources, ids, skip_known=True,
                               hf_limit=MAX_PAPERS_PER_MESSAGE)
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
        log.info("save.pending.done %s papers=%d missing=%d left_out=%d ms=%d", fields, len(to_save),
                 len(fetched.missing), left_out, (time.monotonic() - started) * 1000)
        if outcomes is None and to_save:
            return  # the reaction was removed while we worked
        records = [self.record(o.save.paper_id) for o in outcomes or [] if o.changed]
        if records:
            self.ephemeral(pending.channel, pending.user, sb.saved(records, self.command_name,
                                                                   missing=fetched.missing, left_out=left_out,
                                                                   limit=MAX_PAPERS_PER_MESSAGE),
                           thread_ts)
        elif fetched.missing:
            self.ephemeral(pending.channel, pending.user, sb.missing_papers(fetched.missing, left_out=left_out,
                                                                                 limit=MAX_PAPERS_PER_MESSAGE),
                           thread_ts)

    def _wait_out_rate_limit(self, key: str, fields: str, wait: float) -> bool:
        """Read the message again after Slack's Retry-After (on a timer, not on this worker); False once
        RATE_LIMITED_READS reads in a row were refused: that counts as a failed attempt."""
        with self._rate_limited_lock:
            count = self._rate_limited.get(key, 0) + 1
            if count > RATE_LIMITED_READS:
                self._rate_limited.pop(key, None)
                return False
            self._rate_limited[key] = count
        wait = max(wait, MIN_RATE_LIMIT_WAIT)
        log.info("save.pending.rate_limited %s reads=%d in_s=%.1f", fields, count, wait)
        self.pending.put_later(key, wait)
        return True

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
        replies (history does not list those). A 429 is raised at once, not slept out on this worker."""
        try:
            with rate_limits_not_waited():
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


def register(app: App, services: Services) -> Reactions:
    """The reaction listeners, and the queue of reactions a previous run left pending."""
    feature = Reactions(services, app.client, lambda: app.listener_runner.listener_executor)
    on_reaction_ack = write_before_ack(log, _describe)(feature.write)

    def on_reaction_work(context: BoltContext) -> None:
        feature.work(context)

    app.event("reaction_added")(ack=on_reaction_ack, lazy=[on_reaction_work])
    app.event("reaction_removed")(ack=on_reaction_ack, lazy=[on_reaction_work])
    feature.resume()
    return feature
