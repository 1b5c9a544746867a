"""Block Kit for `/papers export`: usage, the confirmation, the file's comment, and the BibTeX as code blocks
when the upload fails."""

from __future__ import annotations

import re

from bot.slack import blocks as b

# Export fallback: code blocks of at most this many characters (section text is 3,000 incl. the fences),
# at most this many sections per message and messages per export (a response URL takes 5 posts).
CODE_CHUNK = 2900
SECTIONS_PER_MESSAGE = 10
EXPORT_MESSAGES = 4


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

