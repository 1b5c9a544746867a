"""The help text (pure, fast): every registered subcommand is in it; a typo gets "did you mean"."""

from __future__ import annotations

import json

from block_checks import INJECTION, assert_inert, assert_valid

from bot.slack.help import help_message, unknown_subcommand
from bot.slack.registry import REGISTRY


def test_help_lists_every_subcommand() -> None:
    text = json.dumps(help_message("/papers"))
    for usage in ("/papers watch &lt;topic&gt;", "/papers topics", "/papers search &lt;words&gt;"):
        assert usage in text
    for name in REGISTRY.names():
        assert f"/papers {name}" in text, name
    assert "coming soon" not in text


def test_unknown_subcommand_suggests_and_offers_the_search() -> None:
    text = unknown_subcommand("/papers", "wtach", "watch", "diffusion models")["text"]
    assert "Did you mean `/papers watch diffusion models`?" in text
    assert "`/papers search wtach diffusion models`" in text


def test_every_help_reply_is_valid_and_inert() -> None:
    cmd = "/papers"
    messages = [help_message(cmd), help_message(cmd, admins=frozenset({"U0ADMIN"})),
                unknown_subcommand(cmd, "wtach", "watch", INJECTION)]
    for message in messages:
        assert_valid(message)
        assert_inert(message)
