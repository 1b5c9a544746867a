"""Block Kit for what saving a paper tells the user: saved, already saved, removed, kept, and why not.

Shared by the save reactions (reactions.py) and the Save / Unsave buttons and commands (reading_list.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack import blocks as b
from bot.slack.paper_card import PaperLike, title_link
from bot.store.models import Save


def _list_hint(command: str) -> str:
    return f"{b.code(command + ' saved')} to see your list"


def _titles(records: Sequence[PaperLike], limit: int = 5) -> str:
    shown = "; ".join(title_link(r) for r in records[:limit])
    more = len(records) - limit
    return shown + (f" and {more} more" if more > 0 else "")



def saved(records: Sequence[PaperLike], command: str, *, missing: Sequence[str] = (),
          left_out: int = 0, limit: int = 0) -> b.Message:
    """"Saved *Title* — `/papers saved` to see your list" (one or several papers); `left_out` papers of the
    message were beyond the per-message `limit`."""
    if len(records) == 1:
        text = f"Saved {title_link(records[0])} — {_list_hint(command)}"
    else:
        text = f"Saved {len(records)} papers: {_titles(records)} — {_list_hint(command)}"
    if missing:
        text += "\n" + _missing_sentence(missing)
    if left_out:
        text += "\n" + left_out_sentence(left_out, limit)
    return b.note(text)


def missing_papers(missing: Sequence[str], *, left_out: int = 0, limit: int = 0) -> b.Message:
    """Nothing saved: every paper the message links is unknown to both sources."""
    return b.note(_missing_sentence(missing) + ("\n" + left_out_sentence(left_out, limit) if left_out else ""))


def lookup_failed(paper_id: str) -> b.Message:
    """A Save button for a paper the archive lacks, and the sources could not be asked about it."""
    return b.note(f"I couldn't check {b.code(paper_id, 40)} on arXiv or Hugging Face just now, so I didn't save "
                  f"it. Please try again later.")


def left_out_sentence(left_out: int, limit: int) -> str:
    """Some papers of a message were beyond the per-message `limit`: say how many."""
    return (f"I only take the first {limit} paper links of a message; "
            f"{left_out:,} more {'was' if left_out == 1 else 'were'} left out.")


def left_out(count: int, limit: int) -> b.Message:
    return b.note(left_out_sentence(count, limit))


def _missing_sentence(missing: Sequence[str]) -> str:
    ids = ", ".join(b.code(i, 40) for i in missing[:5]) + (" …" if len(missing) > 5 else "")
    return f"I couldn't find {ids} on arXiv or Hugging Face, so I didn't save {'it' if len(missing) == 1 else 'them'}."


def already_saved(record: PaperLike, command: str) -> b.Message:
    return b.note(f"{title_link(record)} is already in your reading list — {_list_hint(command)}")


def unsaved(record: PaperLike) -> b.Message:
    return b.note(f"Removed {title_link(record)} from your reading list. Save it again any time.")


def kept(record: PaperLike, save: Save) -> b.Message:
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

