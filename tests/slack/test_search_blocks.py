"""Block Kit for search (pure, fast): result pages, navigation values, shared papers, refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from block_checks import INJECTION, assert_inert, assert_valid, paper
from slack_emulator import utf16_len

from bot.slack import search_blocks as sb
from bot.slack.blocks import SECTION_TEXT


@dataclass
class Hit:
    paper: dict[str, Any]
    score: float = 1.0


@dataclass
class Page:
    query: str
    hits: list[Hit]
    total: int
    offset: int = 0
    limit: int = 5
    notes: list[str] = field(default_factory=list)


def test_injected_paper_fields_reach_slack_inert() -> None:
    record = paper(1, title=INJECTION, abstract=INJECTION, authors=[INJECTION, "<!here>"],
                   links={"github": "https://githusb.com/o/r>|<!channel>"})
    for message in (sb.shared_paper(record, "U0BOB"), sb.search_results(Page("q", [Hit(record)], 1), command="/p")):
        assert_valid(message)
        assert_inert(message)
        assert "&lt;!channel&gt;" in json.dumps(message)


def test_huge_paper_fields_stay_within_limits() -> None:
    record = paper(1, title="T" * 5000, abstract="A " * 20000, authors=["N" * 3000] * 200)
    record["links"]["github"] = "https://githusb.com/" + "x" * 5000
    message = sb.shared_paper(record, "U0BOB")
    assert_valid(message)
    assert utf16_len(message["blocks"][0]["text"]["text"]) <= SECTION_TEXT


def test_results_have_save_and_share_buttons_per_paper_and_navigation() -> None:
    hits = [Hit(paper(i)) for i in range(1, 6)]
    message = sb.search_results(Page("diffusion", hits, total=12, offset=5), command="/papers")
    assert_valid(message)
    actions = [blk for blk in message["blocks"] if blk["type"] == "actions"]
    per_paper = [a for a in actions if a["block_id"].startswith("paper_actions:")]
    assert [[e["action_id"] for e in a["elements"]] for a in per_paper] == [["paper_save", "paper_share"]] * 5
    assert [e["value"] for a in per_paper for e in a["elements"]][::2] == [h.paper["id"] for h in hits]
    nav = next(a for a in actions if a["block_id"] == "search_nav")["elements"]
    assert [e["text"]["text"] for e in nav] == ["Previous", "Next 2"]
    assert [sb.parse_page_value(e["value"]) for e in nav] == [("diffusion", 0), ("diffusion", 10)]
    assert "12 papers" in message["text"] and "showing 6–10" in message["blocks"][0]["text"]["text"]


def test_a_page_with_more_hits_than_fit_is_cut_to_50_blocks() -> None:
    hits = [Hit(paper(i)) for i in range(1, 41)]
    message = sb.search_results(Page("q", hits, total=40, limit=40), command="/papers")
    assert_valid(message)
    assert len(message["blocks"]) <= 50
    assert sum(1 for blk in message["blocks"] if blk["type"] == "actions") >= 15


def test_no_results_and_notes_are_escaped() -> None:
    message = sb.search_results(Page(INJECTION, [], 0, notes=[INJECTION]), command="/papers")
    assert_valid(message)
    assert_inert(message)
    assert message["text"].startswith("No papers match “&lt;!channel&gt;")


def test_a_long_query_is_shortened_for_display_and_gets_no_navigation_button() -> None:
    query = "graph " * 2000
    message = sb.search_results(Page(query, [Hit(paper(i)) for i in range(5)], total=50), command="/papers")
    assert_valid(message)
    assert utf16_len(message["blocks"][0]["text"]["text"]) < 300
    assert not any(blk.get("block_id") == "search_nav" for blk in message["blocks"])


@pytest.mark.parametrize("value", ["", "{", '{"q": 1, "o": 0}', '{"q": "x", "o": -5}', '{"q": "x", "o": true}'])
def test_bad_navigation_values_are_refused(value: str) -> None:
    assert sb.parse_page_value(value) is None


def test_every_search_reply_is_valid_and_inert() -> None:
    cmd = "/papers"
    messages = [
        sb.search_usage(cmd), sb.query_problem(INJECTION, cmd),
        *(sb.share_failed(e) for e in ("not_in_channel", "channel_not_found", "is_archived", "other")),
        sb.share_repeated(), sb.paper_missing(),
    ]
    for message in messages:
        assert_valid(message)
        assert_inert(message)
