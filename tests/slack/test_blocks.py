"""Block Kit basics (pure, fast): escaping, Slack's limits, messages and the generic replies."""

from __future__ import annotations

import re

from block_checks import assert_inert, assert_valid
from slack_emulator import utf16_len, validate_blocks

from bot.slack import blocks as b


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


def test_apology_carries_the_reference() -> None:
    assert "(ref abc12345)" in b.apology("abc12345")["text"]


def test_every_generic_reply_is_valid_and_inert() -> None:
    for message in (b.not_allowed("/papers", frozenset({"U0ADMIN"})), b.apology("abc12345"), b.button_expired()):
        assert_valid(message)
        assert_inert(message)
