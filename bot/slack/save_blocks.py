"""Block Kit for reading lists: save confirmations, `/papers saved`, `top`, `export`, the Home tab's saves.

Same rules as bot/slack/blocks.py, whose helpers this uses: outside text is escaped exactly once, and every
message goes through `blocks.message()` / `blocks.note()` for Slack's limits and a text fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.papers import normalize_arxiv_id
from bot.slack import blocks as b
from bot.slack.ids import is_channel_id
from bot.store.models import Save, TopPaper

ACTION_UNSAVE = "paper_unsave"
ACTION_SAVED_PREV = "saved_page_prev"
ACTION_SAVED_NEXT = "saved_page_next"

SAVED_PAGE_SIZE = 10
TOP_SIZE = 10
SAVERS_SHOWN = 5
HOME_SAVES = 10
HOME_CHANNELS = 15
# Export fallback: code blocks of at most this many characters (section text is 3,000 incl. the fences),
# at most this many sections per message and messages per export (a response URL takes 5 posts).
CODE_CHUNK = 2900
SECTIONS_PER_MESSAGE = 10
EXPORT_MESSAGES = 4

WINDOW_LABELS = {"week": "this week", "month": "this month", "all": "of all time"}


def title_link(record: Mapping[str, Any]) -> str:
    """`*<abs url|Title>*`, escaped and cut to a sane length."""
    title = b.truncate_plain(b.paper_title(record), b.TITLE_CHARS)
    return f"*{b.link(b.paper_links(record)['abs'], title)}*"


def channel_ref(channel_id: str | None) -> str:
    """`<#C…>` for a well-formed channel id (renders as the channel's name), escaped text otherwise."""
    if channel_id and is_channel_id(channel_id) and not channel_id.startswith("D"):
        return f"<#{channel_id}>"
    return "a direct message" if channel_id and channel_id.startswith("D") else "Slack"


def _emoji(name: str) -> str:
    """`:name:` for an emoji name from the configuration (PAPERBOT_SAVE_EMOJI), which is trusted but escaped."""
    return f":{b.escape_mrkdwn(name)}:"


def _list_hint(command: str) -> str:
    return f"{b.code(command + ' saved')} to see your list"


def _titles(records: Sequence[Mapping[str, Any]], limit: int = 5) -> str:
    shown = "; ".join(title_link(r) for r in records[:limit])
    more = len(records) - limit
    return shown + (f" and {more} more" if more > 0 else "")


# --- confirmations ------------------------------------------------------------------------------------------


def saved(records: Sequence[Mapping[str, Any]], command: str, *, missing: Sequence[str] = ()) -> b.Message:
    """"Saved *Title* — `/papers saved` to see your list" (one or several papers)."""
    if len(records) == 1:
        text = f"Saved {title_link(records[0])} — {_list_hint(command)}"
    else:
        text = f"Saved {len(records)} papers: {_titles(records)} — {_list_hint(command)}"
    if missing:
        text += "\n" + _missing_sentence(missing)
    return b.note(text)


def missing_papers(missing: Sequence[str]) -> b.Message:
    """Nothing saved: every paper the message links is unknown to both sources."""
    return b.note(_missing_sentence(missing))


def _missing_sentence(missing: Sequence[str]) -> str:
    ids = ", ".join(b.code(i, 40) for i in missing[:5]) + (" …" if len(missing) > 5 else "")
    return f"I couldn't find {ids} on arXiv or Hugging Face, so I didn't save {'it' if len(missing) == 1 else 'them'}."


def already_saved(record: Mapping[str, Any], command: str) -> b.Message:
    return b.note(f"{title_link(record)} is already in your reading list — {_list_hint(command)}")


def unsaved(record: Mapping[str, Any]) -> b.Message:
    return b.note(f"Removed {title_link(record)} from your reading list. Save it again any time.")


def kept(record: Mapping[str, Any], save: Save) -> b.Message:
    """A save reaction came off, but the paper stays: say why, since the user expected it to go."""
    why = "you saved it with a button or command" if save.kept else "your save reaction is still on another message"
    return b.note(f"{title_link(record)} stays in your reading list: {why}. "
                  f"Remove it with the *Unsave* button in your list.")


def not_saved(paper_id: str, command: str) -> b.Message:
    return b.note(f"{b.code(paper_id, 60)} isn't in your reading list — {_list_hint(command)}")


def unsave_usage(command: str) -> b.Message:
    return b.note(f"Tell me which paper to remove, for example {b.code(command + ' unsave 2405.12345')} "
                  f"(an arXiv id or link from {b.code(command + ' saved')}).")


def no_papers_in_message() -> b.Message:
    return b.note("I didn't find any arXiv or Hugging Face paper links in that message, so there was nothing "
                  "to save.")


# Slack errors reading a message that will not pass by themselves (others are retried), and what to say.
READ_PROBLEMS = {
    "not_in_channel": "I'm not a member of that channel. Invite me with `/invite @paperbot` and react again.",
    "channel_not_found": "I can't see that conversation. Invite me with `/invite @paperbot` and react again.",
    "missing_scope": "I'm not allowed to read messages there (the app lacks a `*:history` permission): ask "
                     "whoever runs paperbot to add it.",
    "message_not_found": "That message seems to be gone.",
    "thread_not_found": "That message seems to be gone.",
}


def cannot_read(error: str) -> b.Message:
    reason = READ_PROBLEMS.get(error, "Slack didn't let me read it. Please try again later.")
    return b.note(f"I couldn't save the papers in that message: {reason}")


def save_failed(ref: str) -> b.Message:
    return b.note(f"Sorry, I couldn't save that (ref {b.escape_mrkdwn(ref)}). Please try again.")


# --- /papers saved ------------------------------------------------------------------------------------------


def _saved_line(save: Save) -> str:
    when = _day(save.saved_at)
    where = f" from {channel_ref(save.channel)}" if save.channel else ""
    return f"_Saved {when}{where}_"


def _day(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%-d %b %Y")
    except ValueError:
        return b.escape_mrkdwn(stamp[:10])


def saved_entry(save: Save, record: Mapping[str, Any], page: int = 0) -> b.Block:
    """One paper of a reading list: title, authors, links, when it was saved, and an Unsave button (whose
    value also carries the page, so the list can be shown again where the user was)."""
    text = b.paper_text(record, abstract_chars=0) + "\n" + _saved_line(save)
    block = b.section(b.truncate_mrkdwn(text, b.SECTION_TEXT), block_id=f"saved:{save.paper_id}")
    block["accessory"] = b.button("Unsave", ACTION_UNSAVE, value=f"{save.paper_id} {page}")
    return block


def parse_unsave_value(value: str) -> tuple[str | None, int]:
    """(paper id or None, page) from an Unsave button's value."""
    parts = value.split()
    paper_id = normalize_arxiv_id(parts[0]) if parts else None
    page = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return paper_id, page


def reading_list(entries: Sequence[tuple[Save, Mapping[str, Any]]], *, page: int, total: int, command: str,
                 note: str | None = None, emoji: str = "bookmark") -> b.Message:
    """One page (0-based) of a reading list, newest first, `entries` being that page's (save, record)."""
    if total == 0:
        text = "Your reading list is empty."
        hint = (f"React with {_emoji(emoji)} to a paper paperbot posted (or to a message with an arXiv link), "
                "or press *Save* on a search result.")
        blocks = [b.section(f"{note}\n{text} {hint}" if note else f"{text} {hint}")]
        return b.message(text, blocks)
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
    titles = "; ".join(b.paper_fallback(r) for _, r in entries)
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


def top_list(entries: Sequence[tuple[TopPaper, Mapping[str, Any]]], window: str, command: str,
             emoji: str = "bookmark") -> b.Message:
    label = WINDOW_LABELS.get(window, "")
    if not entries:
        text = f"Nobody has saved a paper {label} yet."
        return b.note(f"{text} Save one with {_emoji(emoji)} or a *Save* button; try {b.code(command + ' top all')}.")
    blocks: list[b.Block] = [b.section(f"*The team's most saved papers {label}*")]
    for rank, (top, record) in enumerate(entries, 1):
        times = f"{top.count} save" + ("" if top.count == 1 else "s")
        text = f"*{rank}.* {title_link(record)}\n{times} — {_savers(top.users)}"
        block = b.section(b.truncate_mrkdwn(text, b.SECTION_TEXT), block_id=f"top:{top.paper_id}")
        block["accessory"] = b.button("Save", b.ACTION_SAVE, value=top.paper_id)
        blocks.append(block)
    other = [w for w in WINDOW_LABELS if w != window]
    blocks.append(b.context("Also: " + ", ".join(b.code(f"{command} top {w}") for w in other)))
    titles = "; ".join(b.paper_fallback(r) for _, r in entries)
    return b.message(f"Most saved papers {label}: {titles}", blocks)


def top_usage(command: str, words: str = "") -> b.Message:
    text = f"Usage: {b.code(command + ' top [week|month|all]')} — the team's most saved papers."
    if words:  # `/papers top k sampling` was probably a search
        text += f" To search for those words instead: {b.code(command + ' search top ' + words, 200)}."
    return b.note(text)


# --- /papers export -----------------------------------------------------------------------------------------


def export_usage(command: str) -> b.Message:
    return b.note(
        f"Usage: {b.code(command + ' export [bibtex] [saved | topic <topic> | channel]')}\n"
        f"• {b.code(command + ' export')} — your reading list\n"
        f"• {b.code(command + ' export topic diffusion models')} — papers in the archive about a topic\n"
        f"• {b.code(command + ' export channel')} — the papers paperbot posted in this channel")


def export_empty(what: str) -> b.Message:
    return b.note(f"There is nothing to export: {what}.")


def export_sent(count: int, filename: str) -> b.Message:
    papers = f"{count} paper" + ("" if count == 1 else "s")
    return b.note(f"I sent you {b.code(filename, 80)} ({papers}, BibTeX) in a direct message.")


def export_comment(count: int, what: str) -> str:
    """The text posted with the uploaded file (plain words, escaped: `what` may hold a topic)."""
    papers = f"{count} paper" + ("" if count == 1 else "s")
    return f"BibTeX for {b.escape_mrkdwn(what)} ({papers})."


def _code_block(raw: str) -> str:
    # A run of three backticks in a title would end the code block early.
    inner = b.escape_mrkdwn(raw).replace("```", "`\u200b`\u200b`")
    return f"```{inner}```"


def _pieces(bib: str, size: int) -> list[str]:
    """Split BibTeX into pieces whose escaped code block fits `size`, at entry boundaries when possible,
    else at line boundaries, else anywhere (a 3,000-author collaboration)."""
    def fits(text: str) -> bool:
        return b.slack_len(_code_block(text)) <= size

    units: list[str] = []
    for entry in re.split(r"(?<=\n)(?=@)", bib):
        if fits(entry):
            units.append(entry)
            continue
        for line in entry.splitlines(keepends=True):
            while not fits(line):
                cut = len(line)
                while cut > 1 and not fits(line[:cut]):
                    cut = max(1, cut * 3 // 4)
                units.append(line[:cut])
                line = line[cut:]
            if line:
                units.append(line)
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and not fits(current + unit):
            pieces.append(current)
            current = ""
        current += unit
    if current:
        pieces.append(current)
    return pieces


def export_fallback(bib: str, count: int, problem: str) -> list[b.Message]:
    """The BibTeX as ephemeral code blocks, when the file could not be uploaded (at most EXPORT_MESSAGES
    messages; what does not fit is left out, with a note saying so)."""
    pieces = _pieces(bib, CODE_CHUNK)
    room = SECTIONS_PER_MESSAGE * EXPORT_MESSAGES
    shown, dropped = pieces[:room], pieces[room:]
    papers = f"{count} paper" + ("" if count == 1 else "s")
    intro = f"I couldn't send you a file ({b.escape_mrkdwn(problem)}), so here is the BibTeX for {papers} to copy:"
    if dropped:
        left_out = sum(piece.count("\n@") + piece.startswith("@") for piece in dropped)
        intro += (f"\n_Too long for messages: about {left_out} entries are left out. Ask whoever runs paperbot "
                  f"to allow file uploads (`files:write`), or to run `paperbot export`._")
    messages = []
    for start in range(0, len(shown), SECTIONS_PER_MESSAGE):
        chunk = shown[start:start + SECTIONS_PER_MESSAGE]
        blocks = [b.section(_code_block(piece)) for piece in chunk]
        if start == 0:
            blocks.insert(0, b.section(intro))
        part = f" (part {start // SECTIONS_PER_MESSAGE + 1})" if len(shown) > SECTIONS_PER_MESSAGE else ""
        messages.append(b.message(f"BibTeX for {papers}{part}", blocks))
    return messages


# --- the Home tab -------------------------------------------------------------------------------------------


def home_saves(entries: Sequence[tuple[Save, Mapping[str, Any]]], total: int, command: str,
               emoji: str = "bookmark") -> list[b.Block]:
    if not entries:
        return [b.section(f"*Your reading list* is empty. React with {_emoji(emoji)} to a paper paperbot posts, "
                          "or to a message with an arXiv or Hugging Face link, to save it here.")]
    count = f"{total} paper" + ("" if total == 1 else "s")
    more = f" — the {len(entries)} newest" if total > len(entries) else ""
    blocks: list[b.Block] = [b.section(f"*Your reading list* ({count}{more}). All of it: "
                                       f"{b.code(command + ' saved')} · BibTeX: {b.code(command + ' export')}")]
    for save, record in entries:
        blocks.append(saved_entry(save, record))
    return blocks


def home_topics(topics_by_channel: Mapping[str, Sequence[str]], command: str) -> list[b.Block]:
    if not topics_by_channel:
        return [b.section(f"*Topics in your channels*: none yet. In a channel, {b.code(command + ' watch <topic>')} "
                          f"adds one to its digest.")]
    lines = []
    for channel, topics in list(topics_by_channel.items())[:HOME_CHANNELS]:
        shown = "; ".join(b.escape_mrkdwn(b.truncate_plain(t, 60)) for t in topics[:10])
        lines.append(f"• {channel_ref(channel)}: {shown}" + (" …" if len(topics) > 10 else ""))
    return [b.section(b.truncate_mrkdwn("*Topics in your channels*\n" + "\n".join(lines), b.SECTION_TEXT))]
