"""The digest reply's Not relevant button and why line, and what marking a paper not relevant tells the person:
accepted by Slack, outside text inert."""

from __future__ import annotations

from typing import Any

from block_checks import INJECTION, assert_inert, assert_valid, paper

from bot.digest.selection import Pick
from bot.slack import digest_blocks
from bot.slack import feedback_blocks as fb


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for block in message["blocks"] if block["type"] == "actions" for e in block["elements"]]


def context_line(message: dict[str, Any]) -> str:
    return str(message["blocks"][-1]["elements"][0]["text"])


def test_a_digest_reply_has_save_and_not_relevant_buttons_for_its_paper() -> None:
    message = digest_blocks.digest_paper(paper(3, title=INJECTION), Pick("2405.00003", 0.8, "diffusion"), 2, 7)
    assert_valid(message)
    assert_inert(message)
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons(message)] == [
        ("paper_save", "2405.00003", "Save"), ("paper_not_relevant", "2405.00003", "Not relevant")]


def test_the_why_line_says_what_the_ranking_said_else_the_topic() -> None:
    plain = digest_blocks.digest_paper(paper(3), Pick("2405.00003", 0.8, "diffusion"), 2, 7)
    assert context_line(plain) == "2/7 · matches “diffusion”"
    why = digest_blocks.digest_paper(paper(3), Pick("2405.00003", 0.8, "diffusion",
                                                    why="similar to papers this channel saved"), 2, 7)
    assert context_line(why) == "2/7 · similar to papers this channel saved"
    hostile = digest_blocks.digest_paper(paper(3), Pick("2405.00003", 0.8, "diffusion", why=INJECTION * 20), 1, 1)
    assert_valid(hostile)
    assert_inert(hostile)
    assert context_line(hostile).endswith("…") and len(context_line(hostile)) < 700, "cut to a sane length"


def test_noted_has_an_undo_button_and_says_where() -> None:
    for new in (True, False):
        message = fb.noted(paper(3, title=INJECTION), "C0ML", new=new)
        assert_valid(message)
        assert_inert(message)
        assert [(b["action_id"], b["value"]) for b in buttons(message)] == [("paper_not_relevant_undo", "2405.00003")]
        assert "<#C0ML>" in message["text"]
        assert ("Noted: fewer papers like" in message["text"]) is new


def test_reaction_and_undo_notices_name_the_emoji_and_what_still_counts() -> None:
    record = paper(3, title=INJECTION)
    by_reaction = fb.noted_by_reaction(record, "C0ML", "-1")
    assert ":-1:" in by_reaction["text"] and "Remove your" in by_reaction["text"]
    plain = fb.undone(record, "C0ML", (), "-1")
    assert plain["text"].startswith("Undone:")
    assert "remove the reaction" in fb.undone(record, "C0ML", ("reaction",), "-1")["text"]
    assert "click *Not relevant* again" in fb.undone(record, "C0ML", ("button",), "-1")["text"]
    for message in (by_reaction, plain, fb.nothing_to_undo(record, "C0ML"), fb.not_offered(), fb.failed("<ab>")):
        assert_valid(message)
        assert_inert(message)
