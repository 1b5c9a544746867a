"""Block Kit for `/papers search`: result pages with Previous / Next, usage and query problems, and the
channel post a *Share to channel* click makes."""

from __future__ import annotations

import json
from typing import Any

from bot.papers import clean_text
from bot.slack.blocks import (
    BUTTON_VALUE,
    CONTEXT_ELEMENTS,
    MAX_MESSAGE_BLOCKS,
    Block,
    Message,
    actions,
    button,
    code,
    context,
    divider,
    escape_mrkdwn,
    mention,
    message,
    note,
    quoted,
    section,
    slack_len,
    truncate_plain,
)
from bot.slack.paper_card import PaperLike, paper_blocks, paper_fallback

SHARED_ABSTRACT_CHARS = 900

ACTION_PAGE_PREV = "search_page_prev"  # action ids must differ within a block
ACTION_PAGE_NEXT = "search_page_next"

_RESULT_BLOCKS = 3  # divider, section, actions
_FIXED_BLOCKS = 4  # summary, notes, navigation, footer


def page_value(query: str, offset: int) -> str | None:
    """The navigation button's value, or None when the query is too long to carry in one."""
    value = json.dumps({"q": query, "o": offset}, ensure_ascii=False)
    # Values are never rendered, but keep even them free of anything Slack could read as markup.
    value = value.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return value if slack_len(value) <= BUTTON_VALUE else None


def parse_page_value(value: str) -> tuple[str, int] | None:
    try:
        data = json.loads(value)
        query, offset = data["q"], data["o"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(query, str) or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    return query, offset


def search_results(page: Any, *, command: str) -> Message:
    """Render a `SearchPage` (query, hits, total, offset, limit, notes) as an ephemeral result list."""
    query = str(page.query)
    shown_query = quoted(query)
    notes = [escape_mrkdwn(truncate_plain(str(n), 300)) for n in (page.notes or []) if str(n).strip()]
    if not page.hits:
        text = f"No papers match {shown_query}."
        empty = [section(f"{text}\nTry fewer or different words, or paste an arXiv id or link.")]
        if notes:
            empty.append(context(*notes[:CONTEXT_ELEMENTS]))
        return message(text, empty)

    room = (MAX_MESSAGE_BLOCKS - _FIXED_BLOCKS) // _RESULT_BLOCKS
    hits = list(page.hits)[:room]
    first, last = page.offset + 1, page.offset + len(hits)
    total = max(int(page.total), last)
    count, verb = (f"{total} papers", "match") if total != 1 else ("1 paper", "matches")
    showing = f" (showing {first}–{last})" if total > len(hits) else ""
    blocks: list[Block] = [section(f"*{count}* {verb} {shown_query}{showing}")]
    if notes:
        blocks.append(context(*notes[:CONTEXT_ELEMENTS]))
    for hit in hits:
        blocks.append(divider())
        blocks.extend(paper_blocks(hit.paper))

    nav = []
    size = max(int(page.limit or len(hits)), 1)
    if page.offset > 0 and (value := page_value(query, max(page.offset - size, 0))):
        nav.append(button("Previous", ACTION_PAGE_PREV, value=value))
    if last < total and (value := page_value(query, last)):
        nav.append(button(f"Next {min(size, total - last)}", ACTION_PAGE_NEXT, value=value))
    if nav:
        blocks.append(actions(*nav, block_id="search_nav"))
    blocks.append(context(f"Only you can see these results. *Share to channel* posts a paper for everyone. "
                          f"More: {code(command + ' help')}"))
    titles = "; ".join(paper_fallback(hit.paper) for hit in hits)
    return message(f"{count} {verb} {shown_query}{showing}: {titles}", blocks)


def search_usage(command: str) -> Message:
    return note(f"Tell me what to look for, for example {code(command + ' search diffusion transformers')} "
                f"or {code(command + ' 2405.12345')}.")


def query_problem(problem: str, command: str) -> Message:
    """The search core refused the query; `problem` is its friendly message (outside text: escaped)."""
    return note(f"{escape_mrkdwn(truncate_plain(clean_text(problem), 500))}\n"
                f"For example: {code(command + ' search diffusion transformers')}")


# --- sharing ------------------------------------------------------------------------------------------------

def shared_paper(record: PaperLike, user_id: str) -> Message:
    """The visible channel post for a shared paper; it keeps a Save button so everyone can save it."""
    blocks = paper_blocks(record, abstract_chars=SHARED_ABSTRACT_CHARS, share=False)
    blocks.append(context(f"Shared by {mention(user_id)} with paperbot"))
    return message(f"{mention(user_id)} shared {paper_fallback(record)}", blocks)


_SHARE_PROBLEMS = {
    "not_in_channel": "I can't post here because I'm not a member of this channel. "
                      "Invite me with `/invite @paperbot` and try again.",
    "channel_not_found": "I can't post here: this is a private channel or conversation I'm not part of. "
                         "Invite me with `/invite @paperbot` and try again.",
    "is_archived": "I can't post here because this channel is archived.",
    "restricted_action": "This workspace doesn't allow me to post in this channel.",
    "ratelimited": "Slack is asking me to slow down. Please try again in a minute.",
}


def share_failed(error: str) -> Message:
    return note(_SHARE_PROBLEMS.get(error, "I couldn't post the paper to this channel."))


def share_repeated() -> Message:
    return note("You shared this paper here a moment ago.")


def paper_missing() -> Message:
    return note("I can't find that paper in the archive any more.")


