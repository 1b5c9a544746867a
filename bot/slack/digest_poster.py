"""Posts digests through the Web API: renders with digest_blocks, maps Slack's answers to bot.digest errors.

Layout: one header message in the channel, each paper a reply in its thread. The channel gets one
top-level message (and one notification) a day instead of ten, while every paper is still its own message,
so a reaction names exactly one paper. The thread is also how a resumed digest sees which replies went
out before a crash (`conversations.replies`), so none is posted twice.

The client's RateLimitErrorRetryHandler already waits out a few 429s (bot/slack/retry.py); a 429 that gets
through becomes `RateLimited(retry_after)`, which bot.digest waits out again. Pacing is bot.digest's job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.digest.selection import Pick
from bot.digest.service import GONE_ERRORS, ChannelGone, PostError, RateLimited
from bot.digest.settings import ChannelDigest
from bot.papers import PaperRecord
from bot.slack import digest_blocks
from bot.slack.plumbing import slack_error
from bot.slack.retry import retry_handlers

log = logging.getLogger("bot.slack.digest")

HISTORY_LIMIT = 200
# Errors reading history that mean "we may not look", not "try later": reconciling then assumes nothing was posted.
NO_HISTORY_ACCESS = frozenset({"missing_scope", "not_allowed_token_type", "no_permission"})


def _error(exc: SlackApiError) -> tuple[str, Any]:
    return slack_error(exc), exc.response


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def _raise_for(exc: SlackApiError) -> None:
    error, response = _error(exc)
    if getattr(response, "status_code", 200) == 429 or error == "ratelimited":
        raise RateLimited(_retry_after(response)) from None
    if error in GONE_ERRORS:
        raise ChannelGone(error) from None
    raise PostError(error) from None


class SlackPoster:
    def __init__(self, client: WebClient, *, command: str = "/papers") -> None:
        self.client = client  # reads (history, replies): retried as usual
        # Posts are not resent after a 5xx or a dropped connection (Slack may have posted already): the digest
        # stays unfinished and its next attempt reads the thread before posting what is missing.
        self._posting = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                  logger=client.logger, retry_handlers=retry_handlers(ambiguous=False))
        self.command = command

    def _post(self, channel_id: str, payload: Mapping[str, Any], thread_ts: str | None = None) -> str:
        try:
            response = self._posting.chat_postMessage(channel=channel_id, text=payload["text"],
                                                    blocks=payload.get("blocks"), thread_ts=thread_ts,
                                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            _raise_for(exc)
            raise  # unreachable
        except OSError as exc:  # connection refused / reset / timeout, after the client's retries
            raise PostError(f"connection_error:{type(exc).__name__}") from None
        return str(response["ts"])

    def header(self, channel: ChannelDigest, day: date, items: Sequence[tuple[PaperRecord, Pick]]) -> str:
        return self._post(channel.channel, digest_blocks.digest_header(channel, day, items, command=self.command))

    def paper(self, channel: ChannelDigest, day: date, record: PaperRecord, pick: Pick, position: int,
              total: int, thread_ts: str) -> str:
        return self._post(channel.channel, digest_blocks.digest_paper(record, pick, position, total), thread_ts)

    def find_header(self, channel_id: str, day: date) -> str | None:
        """The ts of this day's header if it is in the channel already (posted, but its ts not stored)."""
        wanted = digest_blocks.header_block_id(day)
        try:
            # The newest messages, not "since planned_at": the header was posted moments before the crash, and
            # a clock that disagrees with Slack's must not hide it. Its block_id names the day.
            response = self.client.conversations_history(channel=channel_id, limit=HISTORY_LIMIT)
        except SlackApiError as exc:
            error, _ = _error(exc)
            if error not in NO_HISTORY_ACCESS:
                _raise_for(exc)  # a 429 or a hiccup: try the whole digest again later rather than post twice
            # Without history access we cannot check; posting the header again beats not posting the digest.
            log.warning("digest.reconcile.failed channel=%s method=conversations.history error=%s", channel_id, error)
            return None
        except OSError as exc:
            raise PostError(f"connection_error:{type(exc).__name__}") from None
        for message in response.get("messages") or []:
            if any(block.get("block_id") == wanted for block in message.get("blocks") or []):
                return str(message["ts"])
        return None

    def thread_papers(self, channel_id: str, thread_ts: str) -> dict[str, str]:
        """paper id → ts for every paper reply in the digest's thread (paper_blocks mark them `paper:ID`)."""
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            try:
                response = self.client.conversations_replies(channel=channel_id, ts=thread_ts, limit=HISTORY_LIMIT,
                                                             cursor=cursor)
            except SlackApiError as exc:
                error, _ = _error(exc)
                if error not in NO_HISTORY_ACCESS:
                    _raise_for(exc)
                log.warning("digest.reconcile.failed channel=%s method=conversations.replies error=%s", channel_id,
                            error)
                return found
            except OSError as exc:
                raise PostError(f"connection_error:{type(exc).__name__}") from None
            for message in response.get("messages") or []:
                if message.get("ts") == thread_ts:
                    continue
                for block in message.get("blocks") or []:
                    block_id = str(block.get("block_id") or "")
                    if block_id.startswith("paper:"):
                        found.setdefault(block_id.split(":", 1)[1], str(message["ts"]))
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not response.get("has_more") or not cursor:
                return found
