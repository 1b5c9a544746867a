"""Block Kit for reading lists: `/papers saved` (with Unsave buttons and paging) and `/papers top`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.papers import normalize_arxiv_id
from bot.slack import blocks as b
from bot.slack.paper_card import ACTION_SAVE, PaperLike, paper_fallback, paper_text, title_link
from bot.store.models import Save, TopPaper

ACTION_UNSAVE = "paper_unsave"
ACTION_SAVED_PREV = "saved_page_prev"
ACTION_SAVED_NEXT = "saved_page_next"

SAVED_PAGE_SIZE = 10
TOP_SIZE = 10
SAVERS_SHOWN = 5

WINDOW_LABELS = {"week": "this week", "month": "this month", "all": "of all time"}


def _saved_line(save: Save) -> str:
    when = _day(save.saved_at)
    where = f" from {b.channel_ref(save.channel)}" if save.channel else ""
    return f"_Saved {when}{where}_"


def _day(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%-d %b %Y")
    except ValueError:
        return b.escape_mrkdwn(stamp[:10])


def saved_entry(save: Save, record: PaperLike, page: int = 0) -> b.Block:
    """One paper of a reading list: title, authors, links, when it was saved, and an Unsave button (whose
    value also carries the page, so the list can be shown again where the user was)."""
    text = paper_text(record, abstract_chars=0) + "\n" + _saved_line(save)
    block = b.section(b.truncate_mrkdwn(text, b.SECTION_TEXT), block_id=f"saved:{save.paper_id}")
    block["accessory"] = b.button("Unsave", ACTION_UNSAVE, value=f"{save.paper_id} {page}")
    return block


def parse_unsave_value(value: str) -> tuple[str | None, int]:
    """(paper id or None, page) from an Unsave button's value."""
    parts = value.split()
    paper_id = normalize_arxiv_id(parts[0]) if parts else None
    page = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return paper_id, page


def reading_list(entries: Sequence[tuple[Save, PaperLike]], *, page: int, total: int, command: str,
                 note: str | None = None, emoji: str = "bookmark") -> b.Message:
    """One page (0-based) of a reading list, newest first, `entries` being that page's (save, record)."""
    if total == 0:
        text = "Your reading list is empty."
        hint = (f"React with {b.emoji(emoji)} to a paper paperbot posted (or to a message with an arXiv link), "
                "or press *Save* on a search result.")
        return b.message(text, [b.section(f"{note}\n{text} {hint}" if note else f"{text} {hint}")])
    pages = max(1, -(-total // SAVED_PAGE_SIZE))
    count = f"{total} paper" + ("" if total == 1 else "s")
    header = f"*Your reading list* — {count}, newest first"
    if pages > 1:
        header += f" (page {page + 1} of {pages})"
    blocks: list[b.Block] = []
    if note:
        blocks.append(b.context(note))
    blocks.append(b.section(header))
    for save, record in entries:
        blocks.append(b.divider())
        blocks.append(saved_entry(save, record, page))
    nav = []
    if page > 0:
        nav.append(b.button("Previous", ACTION_SAVED_PREV, value=str(page - 1)))
    if page + 1 < pages:
        nav.append(b.button("Next", ACTION_SAVED_NEXT, value=str(page + 1)))
    if nav:
        blocks.append(b.actions(*nav, block_id="saved_nav"))
    blocks.append(b.context(f"Only you can see this. Export it as BibTeX with {b.code(command + ' export')}."))
    titles = "; ".join(paper_fallback(r) for _, r in entries)
    return b.message(f"Your reading list ({count}): {titles}", blocks)


# --- /papers top --------------------------------------------------------------------------------------------


def _savers(users: Sequence[str]) -> str:
    shown = [b.mention(u) for u in users[:SAVERS_SHOWN]]
    more = len(users) - len(shown)
    if more > 0:
        return ", ".join(shown) + f" and {more} other" + ("" if more == 1 else "s")
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0] if shown else "nobody"


def top_list(entries: Sequence[tuple[TopPaper, PaperLike]], window: str, command: str,
             emoji: str = "bookmark") -> b.Message:
    label = WINDOW_LABELS.get(window, "")
    if not entries:
        text = f"Nobody has saved a paper {label} yet."
        return b.note(f"{text} Save one with {b.emoji(emoji)} or a *Save* button; try {b.code(command + ' top all')}.")
    blocks: list[b.Block] = [b.section(f"*The team's most saved papers {label}*")]
    for rank, (top, record) in enumerate(entries, 1):
        times = f"{top.count} save" + ("" if top.count == 1 else "s")
        text = f"*{rank}.* {title_link(record)}\n{times} — {_savers(top.users)}"
        block = b.section(b.truncate_mrkdwn(text, b.SECTION_TEXT), block_id=f"top:{top.paper_id}")
        block["accessory"] = b.button("Save", ACTION_SAVE, value=top.paper_id)
        blocks.append(block)
    other = [w for w in WINDOW_LABELS if w != window]
    blocks.append(b.context("Also: " + ", ".join(b.code(f"{command} top {w}") for w in other)))
    titles = "; ".join(paper_fallback(r) for _, r in entries)
    return b.message(f"Most saved papers {label}: {titles}", blocks)


def top_usage(command: str, words: str = "") -> b.Message:
    text = f"Usage: {b.code(command + ' top [week|month|all]')} — the team's most saved papers."
    if words:  # `/papers top k sampling` was probably a search
        text += f" To search for those words instead: {b.code(command + ' search top ' + words, 200)}."
    return b.note(text)

