"""Block Kit rendering (pure, fast): escaping, Slack's limits, what a paper and a result list look like."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_emulator import BROADCAST_RE, all_strings, utf16_len, validate_blocks, validate_message

from bot.papers import new_record
from bot.slack import blocks as b

INJECTION = "<!channel> <!here|here> <!everyone> <@U0ATTACKER> <https://evil.example|click me> & co"


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


def paper(i: int = 1, **overrides: Any) -> dict[str, Any]:
    record = dict(new_record(
        f"2405.{i:05d}", source="hf", title=f"Paper {i}: diffusion", abstract="We study things. " * 30,
        authors=["Ada Lovelace", "Alan Turing"], published="2024-05-02T17:59:59Z", upvotes=42,
        links={"hf": f"https://huggingface.co/papers/2405.{i:05d}", "github": "https://github.com/o/r"},
    ))
    record.update(overrides)
    return record


def assert_valid(message: dict[str, Any], max_blocks: int = b.MAX_MESSAGE_BLOCKS) -> None:
    assert validate_message(message, max_blocks) == []


def assert_inert(message: dict[str, Any]) -> None:
    for text in all_strings(message):
        assert not BROADCAST_RE.search(text), text
        assert "<@U0ATTACKER>" not in text and "<https://evil.example" not in text, text


# --- escaping -----------------------------------------------------------------------------------------------


def test_escape_replaces_exactly_the_three_control_characters() -> None:
    assert b.escape_mrkdwn("<!channel> & <@U1> *bold* _it_ `code`") == \
        "&lt;!channel&gt; &amp; &lt;@U1&gt; *bold* _it_ `code`"
    assert b.escape_mrkdwn("&amp;") == "&amp;amp;"  # outside text is escaped once, as it is
    assert b.escape_mrkdwn(None) == ""


def test_link_escapes_the_label_and_refuses_non_http_urls() -> None:
    assert b.link("https://a.example/x?q=1&r=2", "A <b>") == "<https://a.example/x?q=1&amp;r=2|A &lt;b&gt;>"
    assert b.link("https://a.example/x|y>z", "t") == "<https://a.example/x%7Cy%3Ez|t>"
    assert b.link("javascript:alert(1)", "<!here>") == "&lt;!here&gt;"
    assert b.link("https://a.example/has space", "t") == "t"
    assert b.link(None, "t") == "t"


def test_mention_only_for_real_user_ids() -> None:
    assert b.mention("U0ALICE") == "<@U0ALICE>"
    assert b.mention("W123ABC") == "<@W123ABC>"
    assert b.mention("U1> <!channel") == "U1&gt; &lt;!channel"


# --- truncation ---------------------------------------------------------------------------------------------


def test_slack_len_counts_utf16_units() -> None:
    assert b.slack_len("abc") == 3
    assert b.slack_len("Müller") == 6
    assert b.slack_len("🚀") == 2
    assert b.slack_len("日本語🚀") == 5


def test_truncate_plain_respects_the_limit_in_utf16_units() -> None:
    text = "🚀" * 100
    cut = b.truncate_plain(text, 75)
    assert utf16_len(cut) <= 75
    assert cut.endswith("…") and set(cut[:-1]) == {"🚀"}
    assert b.truncate_plain("short", 75) == "short"


def test_truncate_mrkdwn_never_leaves_half_an_entity_or_half_a_link() -> None:
    escaped = b.escape_mrkdwn("a" * 8 + "&&&&")  # aaaaaaaa&amp;&amp;…
    for limit in range(5, len(escaped)):
        cut = b.truncate_mrkdwn(escaped, limit)
        assert utf16_len(cut) <= limit
        assert re.fullmatch(r"a*(&amp;)*…", cut), cut
    linked = "see " + b.link("https://arxiv.org/abs/2405.00001", "the paper") + " now"
    for limit in range(2, len(linked)):
        cut = b.truncate_mrkdwn(linked, limit)
        assert utf16_len(cut) <= limit
        assert cut.count("<") == cut.count(">"), cut


def test_truncate_words_stops_at_a_word_boundary() -> None:
    assert b.truncate_words("alpha beta gamma delta", 17) == "alpha beta gamma…"
    assert b.truncate_words("alpha", 10) == "alpha"


# --- limits -------------------------------------------------------------------------------------------------


def test_clamp_blocks_enforces_every_limit() -> None:
    huge = "x" * 5000
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": huge}, "block_id": "h" * 400},
        {"type": "section", "text": {"type": "mrkdwn", "text": huge},
         "fields": [{"type": "mrkdwn", "text": huge}] * 12,
         "accessory": {"type": "button", "text": {"type": "plain_text", "text": huge}, "action_id": "a" * 300,
                       "value": huge}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 12},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": huge},
                                          "action_id": f"act{i}", "value": huge, "url": "https://x/" + huge}
                                         for i in range(30)]},
    ] + [b.divider() for _ in range(60)]
    clamped = b.clamp_blocks(blocks)
    assert validate_blocks(clamped, 50) == []
    assert len(clamped) == 50
    assert clamped[-1]["type"] == "context" and "more block" in clamped[-1]["elements"][0]["text"]
    assert len(blocks[1]["fields"]) == 12, "the input is not modified"


def test_message_always_has_a_fallback_text_within_the_limit() -> None:
    assert b.message("", [b.section("x")])["text"] == "paperbot"
    assert utf16_len(b.message("y" * 50_000)["text"]) <= b.MESSAGE_TEXT


# --- papers -------------------------------------------------------------------------------------------------


def test_paper_text_has_linked_title_authors_date_upvotes_links_and_trimmed_abstract() -> None:
    record = paper(7, authors=["A", "B", "C", "D", "E"], abstract="word " * 500)
    text = b.paper_text(record)
    lines = text.split("\n")
    assert lines[0] == "*<https://arxiv.org/abs/2405.00007|Paper 7: diffusion>*"
    assert lines[1] == "A, B, C et al. · 2024-05-02 · 42 upvotes"
    assert lines[2] == ("<https://arxiv.org/pdf/2405.00007|PDF> · <https://huggingface.co/papers/2405.00007|"
                        "Hugging Face> · <https://github.com/o/r|Code>")
    assert lines[3].endswith("…") and utf16_len(lines[3]) <= b.RESULT_ABSTRACT_CHARS


def test_paper_text_with_only_an_id_and_title() -> None:
    record = {"id": "hep-th/9901001", "title": "Old paper"}
    assert b.paper_text(record) == ("*<https://arxiv.org/abs/hep-th/9901001|Old paper>*\n"
                                    "<https://arxiv.org/pdf/hep-th/9901001|PDF>")
    assert b.paper_text({"id": "2405.00001", "title": ""}).startswith("*<https://arxiv.org/abs/2405.00001|arXiv:2405")


def test_injected_paper_fields_reach_slack_inert() -> None:
    record = paper(1, title=INJECTION, abstract=INJECTION, authors=[INJECTION, "<!here>"],
                   links={"github": "https://github.com/o/r>|<!channel>"})
    for message in (b.shared_paper(record, "U0BOB"), b.search_results(Page("q", [Hit(record)], 1), command="/p")):
        assert_valid(message)
        assert_inert(message)
        assert "&lt;!channel&gt;" in json.dumps(message)


def test_huge_paper_fields_stay_within_limits() -> None:
    record = paper(1, title="T" * 5000, abstract="A " * 20000, authors=["N" * 3000] * 200)
    record["links"]["github"] = "https://github.com/" + "x" * 5000
    message = b.shared_paper(record, "U0BOB")
    assert_valid(message)
    assert utf16_len(message["blocks"][0]["text"]["text"]) <= b.SECTION_TEXT


# --- search results -----------------------------------------------------------------------------------------


def test_results_have_save_and_share_buttons_per_paper_and_navigation() -> None:
    hits = [Hit(paper(i)) for i in range(1, 6)]
    message = b.search_results(Page("diffusion", hits, total=12, offset=5), command="/papers")
    assert_valid(message)
    actions = [blk for blk in message["blocks"] if blk["type"] == "actions"]
    per_paper = [a for a in actions if a["block_id"].startswith("paper_actions:")]
    assert [[e["action_id"] for e in a["elements"]] for a in per_paper] == [["paper_save", "paper_share"]] * 5
    assert [e["value"] for a in per_paper for e in a["elements"]][::2] == [h.paper["id"] for h in hits]
    nav = next(a for a in actions if a["block_id"] == "search_nav")["elements"]
    assert [e["text"]["text"] for e in nav] == ["Previous", "Next 2"]
    assert [b.parse_page_value(e["value"]) for e in nav] == [("diffusion", 0), ("diffusion", 10)]
    assert "12 papers" in message["text"] and "showing 6–10" in message["blocks"][0]["text"]["text"]


def test_a_page_with_more_hits_than_fit_is_cut_to_50_blocks() -> None:
    hits = [Hit(paper(i)) for i in range(1, 41)]
    message = b.search_results(Page("q", hits, total=40, limit=40), command="/papers")
    assert_valid(message)
    assert len(message["blocks"]) <= 50
    assert sum(1 for blk in message["blocks"] if blk["type"] == "actions") >= 15


def test_no_results_and_notes_are_escaped() -> None:
    message = b.search_results(Page(INJECTION, [], 0, notes=[INJECTION]), command="/papers")
    assert_valid(message)
    assert_inert(message)
    assert message["text"].startswith("No papers match “&lt;!channel&gt;")


def test_a_long_query_is_shortened_for_display_and_gets_no_navigation_button() -> None:
    query = "graph " * 2000
    message = b.search_results(Page(query, [Hit(paper(i)) for i in range(5)], total=50), command="/papers")
    assert_valid(message)
    assert utf16_len(message["blocks"][0]["text"]["text"]) < 300
    assert not any(blk.get("block_id") == "search_nav" for blk in message["blocks"])


@pytest.mark.parametrize("value", ["", "{", '{"q": 1, "o": 0}', '{"q": "x", "o": -5}', '{"q": "x", "o": true}'])
def test_bad_navigation_values_are_refused(value: str) -> None:
    assert b.parse_page_value(value) is None


# --- every other message ------------------------------------------------------------------------------------


def test_every_reply_is_valid_and_inert() -> None:
    cmd = "/papers"
    admins = frozenset({"U0ADMIN"})
    topics = [INJECTION, "diffusion", "日本語 🚀"]
    messages = [
        b.help_message(cmd), b.help_message(cmd, admins=admins),
        b.unknown_subcommand(cmd, "wtach", "watch", INJECTION),
        b.search_usage(cmd), b.query_problem(INJECTION, cmd),
        b.topics_list([], cmd), b.topics_list(topics, cmd), b.topics_list(topics * 8, cmd, may_configure=False),
        b.topic_added("U0ALICE", INJECTION, topics), b.topic_already_watched(INJECTION),
        b.topic_removed("U0ALICE", INJECTION, []), b.topic_removed("U0ALICE", INJECTION, topics),
        b.topic_not_watched(INJECTION, topics, cmd), b.topic_not_watched(INJECTION, [], cmd),
        *(b.topic_problem(r, cmd, limit=25) for r in ("empty", "empty_unwatch", "too_long", "too_many", "?")),
        b.not_allowed(cmd, admins),
        *(b.share_failed(e) for e in ("not_in_channel", "channel_not_found", "is_archived", "other")),
        b.share_repeated(), b.paper_missing(), b.apology("abc12345"),
    ]
    for message in messages:
        assert_valid(message)
        assert_inert(message)


def test_help_lists_every_subcommand() -> None:
    from bot.slack.commands import SUBCOMMANDS

    text = json.dumps(b.help_message("/papers"))
    for usage in ("/papers watch &lt;topic&gt;", "/papers topics", "/papers search &lt;words&gt;"):
        assert usage in text
    for name in SUBCOMMANDS:
        assert f"/papers {name}" in text, name
    assert "coming soon" not in text


def test_unknown_subcommand_suggests_and_offers_the_search() -> None:
    text = b.unknown_subcommand("/papers", "wtach", "watch", "diffusion models")["text"]
    assert "Did you mean `/papers watch diffusion models`?" in text
    assert "`/papers search wtach diffusion models`" in text


def test_apology_carries_the_reference() -> None:
    assert "(ref abc12345)" in b.apology("abc12345")["text"]
