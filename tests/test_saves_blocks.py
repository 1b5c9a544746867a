"""Rendering of reading lists, team favourites and the export fallback (pure, fast)."""

from __future__ import annotations

import json
import re

from slack_emulator import BROADCAST_RE, all_strings, validate_message

from bot.bibtex import to_bibtex
from bot.papers import new_record
from bot.slack import save_blocks as sb
from bot.store.models import Save, TopPaper

INJECTED = "<!channel> Free GPUs <@U0ATTACKER> & <https://evil.example|click> ```"


def record(i: int = 1, **overrides: object) -> dict:
    fields: dict = {"title": f"Paper {i}", "authors": ["Ada Lovelace"], "published": "2024-05-02T00:00:00Z"}
    fields.update(overrides)
    return dict(new_record(f"2405.{i:05d}", source="arxiv", **fields))


def save(i: int = 1, **overrides: object) -> Save:
    fields: dict = {"user": "U0ALICE", "paper_id": f"2405.{i:05d}", "channel": "C0GENERAL", "ts": "1.1",
                    "saved_at": "2026-11-24T10:00:00.000000Z", "via": "button", "reactions": (), "kept": True}
    fields.update(overrides)
    return Save(**fields)


def inert(message: dict) -> None:
    assert validate_message(message) == []
    for text in all_strings(message):
        assert not BROADCAST_RE.search(text) and "<@U0ATTACKER>" not in text and "<https://evil" not in text, text


def test_confirmation_names_the_paper_and_the_list_command() -> None:
    message = sb.saved([record(title="Attention Sinks")], "/papers")
    assert message["text"] == ("Saved *<https://arxiv.org/abs/2405.00001|Attention Sinks>* — "
                               "`/papers saved` to see your list")
    several = sb.saved([record(1), record(2)], "/papers", missing=["2405.99999"])
    assert several["text"].startswith("Saved 2 papers: *<https://arxiv.org/abs/2405.00001|Paper 1>*; ")
    assert "I couldn't find `2405.99999` on arXiv or Hugging Face, so I didn't save it." in several["text"]


def test_outside_text_is_inert_everywhere() -> None:
    bad = record(title=INJECTED, authors=[INJECTED])
    for message in (sb.saved([bad], "/papers"), sb.already_saved(bad, "/papers"), sb.unsaved(bad),
                    sb.kept(bad, save()),
                    sb.reading_list([(save(), bad)], page=0, total=1, command="/papers"),
                    sb.top_list([(TopPaper("2405.00001", ("U0ALICE", "U0BOB"), "x"), bad)], "week", "/papers"),
                    *sb.export_fallback(to_bibtex([bad]), 1, "missing_scope")):
        inert(message)
    assert "&lt;!channel&gt; Free GPUs" in json.dumps(sb.saved([bad], "/papers"))


def test_reading_list_page_with_unsave_buttons_and_navigation() -> None:
    entries = [(save(i, saved_at=f"2026-11-{i:02d}T10:00:00.000000Z"), record(i)) for i in range(1, 11)]
    message = sb.reading_list(entries, page=1, total=25, command="/papers")
    assert validate_message(message) == []
    texts = json.dumps(message, ensure_ascii=False)
    assert "*Your reading list* — 25 papers, newest first (page 2 of 3)" in texts
    unsave = [b["accessory"] for b in message["blocks"] if b.get("accessory", {}).get("action_id") == "paper_unsave"]
    assert [u["value"] for u in unsave][:2] == ["2405.00001 1", "2405.00002 1"]
    assert sb.parse_unsave_value(unsave[0]["value"]) == ("2405.00001", 1)
    nav = next(b for b in message["blocks"] if b.get("block_id") == "saved_nav")
    assert [(e["text"]["text"], e["value"]) for e in nav["elements"]] == [("Previous", "0"), ("Next", "2")]
    assert "_Saved 1 Nov 2026 from <#C0GENERAL>_" in texts


def test_an_empty_list_says_how_to_save() -> None:
    message = sb.reading_list([], page=0, total=0, command="/papers")
    assert "Your reading list is empty." in message["text"] and ":bookmark:" in json.dumps(message, ensure_ascii=False)


def test_top_lists_who_saved() -> None:
    users = tuple(f"U0USER{i}" for i in range(7))
    message = sb.top_list([(TopPaper("2405.00001", users, "x"), record(1)),
                           (TopPaper("2405.00002", ("U0A", "U0B"), "x"), record(2))], "month", "/papers")
    texts = json.dumps(message, ensure_ascii=False)
    assert "The team's most saved papers this month" in texts
    assert "7 saves — <@U0USER0>, <@U0USER1>, <@U0USER2>, <@U0USER3>, <@U0USER4> and 2 others" in texts
    assert "2 saves — <@U0A> and <@U0B>" in texts
    assert validate_message(message) == []
    assert "Nobody has saved a paper this week yet." in sb.top_list([], "week", "/papers")["text"]


def test_export_fallback_chunks_fit_slacks_limits_and_lose_nothing() -> None:
    records = [record(i, title=f"Paper {i} & <friends> " + "x" * 150, authors=[f"Author {j}" for j in range(30)])
               for i in range(60)]
    records.append(record(99, authors=[f"Member {j} of a huge collaboration" for j in range(400)]))
    bib = to_bibtex(records)
    messages = sb.export_fallback(bib, len(records), "missing_scope")
    assert 1 < len(messages) <= sb.EXPORT_MESSAGES
    code = []
    for message in messages:
        assert validate_message(message) == []
        for block in message["blocks"]:
            text = block["text"]["text"]
            if text.startswith("```"):
                code.append(text[3:-3])
    shown = "".join(code).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown == bib, "the pieces put together are exactly the BibTeX"
    assert "couldn't send you a file (missing_scope)" in messages[0]["blocks"][0]["text"]["text"]


def test_export_fallback_says_what_it_left_out() -> None:
    bib = to_bibtex([record(i, title="t" * 2000) for i in range(100)])  # one message section each
    messages = sb.export_fallback(bib, 100, "missing_scope")
    assert len(messages) == sb.EXPORT_MESSAGES
    intro = messages[0]["blocks"][0]["text"]["text"]
    match = re.search(r"about (\d+) entries are left out", intro)
    assert match and int(match.group(1)) == 100 - sb.EXPORT_MESSAGES * sb.SECTIONS_PER_MESSAGE


def test_home_topics_and_saves() -> None:
    blocks = sb.home_topics({"C0GENERAL": ["diffusion", INJECTED], "G0PRIVATE": ["rl"]}, "/papers")
    text = blocks[0]["text"]["text"]
    assert "• <#C0GENERAL>: diffusion; &lt;!channel&gt; Free GPUs" in text and "• <#G0PRIVATE>: rl" in text
    assert "none yet" in sb.home_topics({}, "/papers")[0]["text"]["text"]
    assert "is empty" in sb.home_saves([], 0, "/papers")[0]["text"]["text"]
