"""Reading lists and the team's most saved papers (pure, fast)."""

from __future__ import annotations

import json

from saved_papers import record, save
from slack_emulator import validate_message

from bot.slack import reading_list_blocks as rl
from bot.store.models import TopPaper


def test_reading_list_page_with_unsave_buttons_and_navigation() -> None:
    entries = [(save(i, saved_at=f"2026-11-{i:02d}T10:00:00.000000Z"), record(i)) for i in range(1, 11)]
    message = rl.reading_list(entries, page=1, total=25, command="/papers")
    assert validate_message(message) == []
    texts = json.dumps(message, ensure_ascii=False)
    assert "*Your reading list* — 25 papers, newest first (page 2 of 3)" in texts
    unsave = [b["accessory"] for b in message["blocks"] if b.get("accessory", {}).get("action_id") == "paper_unsave"]
    assert [u["value"] for u in unsave][:2] == ["2405.00001 1", "2405.00002 1"]
    assert rl.parse_unsave_value(unsave[0]["value"]) == ("2405.00001", 1)
    nav = next(b for b in message["blocks"] if b.get("block_id") == "saved_nav")
    assert [(e["text"]["text"], e["value"]) for e in nav["elements"]] == [("Previous", "0"), ("Next", "2")]
    assert "_Saved 1 Nov 2026 from <#C0GENERAL>_" in texts


def test_an_empty_list_says_how_to_save() -> None:
    message = rl.reading_list([], page=0, total=0, command="/papers")
    assert "Your reading list is empty." in message["text"] and ":bookmark:" in json.dumps(message, ensure_ascii=False)


def test_top_lists_who_saved() -> None:
    users = tuple(f"U0USER{i}" for i in range(7))
    message = rl.top_list([(TopPaper("2405.00001", users, "x"), record(1)),
                           (TopPaper("2405.00002", ("U0A", "U0B"), "x"), record(2))], "month", "/papers")
    texts = json.dumps(message, ensure_ascii=False)
    assert "The team's most saved papers this month" in texts
    assert "7 saves — <@U0USER0>, <@U0USER1>, <@U0USER2>, <@U0USER3>, <@U0USER4> and 2 others" in texts
    assert "2 saves — <@U0A> and <@U0B>" in texts
    assert validate_message(message) == []
    assert "Nobody has saved a paper this week yet." in rl.top_list([], "week", "/papers")["text"]
