"""What every rendered Slack message must be: accepted by Slack (limits) and inert (no live mention or link
from outside text). Shared by the renderer tests, with a paper-shaped record to render."""

from __future__ import annotations

from typing import Any

from slack_emulator import BROADCAST_RE, all_strings, validate_message

from bot.papers import new_record
from bot.slack.blocks import MAX_MESSAGE_BLOCKS

INJECTION = "<!channel> <!here|here> <!everyone> <@U0ATTACKER> <https://evil.example|click me> & co"


def assert_valid(message: dict[str, Any], max_blocks: int = MAX_MESSAGE_BLOCKS) -> None:
    assert validate_message(message, max_blocks) == []


def assert_inert(message: dict[str, Any]) -> None:
    for text in all_strings(message):
        assert not BROADCAST_RE.search(text), text
        assert "<@U0ATTACKER>" not in text and "<https://evil.example" not in text, text


def paper(i: int = 1, **overrides: Any) -> dict[str, Any]:
    record = dict(new_record(
        f"2405.{i:05d}", source="hf", title=f"Paper {i}: diffusion", abstract="We study things. " * 30,
        authors=["Ada Lovelace", "Alan Turing"], published="2024-05-02T17:59:59Z", upvotes=42,
        links={"hf": f"https://huggingface.co/papers/2405.{i:05d}", "github": "https://github.com/o/r"},
    ))
    record.update(overrides)
    return record
