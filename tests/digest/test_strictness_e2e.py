"""A channel's digest strictness end to end: `/papers schedule strict` over real HTTP (signed slash commands)
against the Slack emulator, with the real app and stores; what people in the channel see, and that it is still
there after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_driver import SlackStack, start_stack

from bot.digest.strictness import STRICTNESS

pytestmark = pytest.mark.e2e

STRICT = f"*Strictness:* strict (only papers scored {STRICTNESS['strict']:.2f} or more; a quiet day posts fewer)"


def text_of(message: dict[str, Any]) -> str:
    """The message's mrkdwn as people read it (its section blocks)."""
    return "\n".join(block["text"]["text"] for block in message.get("blocks", []) if block.get("type") == "section")


class Stacks:
    """Starts stacks on a data directory; each is stopped once (by `stop` or at the end of the test)."""

    def __init__(self) -> None:
        self.running: list[SlackStack] = []
        self.problems: list[Any] = []

    def start(self, data_dir: Path, env: dict[str, str] | None = None) -> SlackStack:
        self.running.append(start_stack(data_dir, env=env))
        return self.running[-1]

    def stop(self, stack: SlackStack) -> None:
        self.running.remove(stack)
        self.problems += stack.slack.problems
        stack.stop()


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stacks]:
    monkeypatch.setattr("bot.slack.retry.BACKOFF_FACTOR", 0.01)
    monkeypatch.setattr("bot.slack.retry.JITTER_SECONDS", 0.01)
    started = Stacks()
    yield started
    for stack in list(started.running):
        started.stop(stack)
    assert started.problems == [], "the bot sent Slack something it would reject"


def test_schedule_strict_is_stored_announced_and_shown(stacks: Stacks, tmp_path: Path) -> None:
    first = stacks.start(tmp_path / "data")
    ask = first.driver.ask
    assert ask("watch diffusion", channel_id="C0LAB")["response_type"] == "in_channel"
    before = ask("schedule", channel_id="C0LAB")
    normal = f"*Strictness:* normal (only papers scored {STRICTNESS['normal']:.2f} or more"
    assert normal in text_of(before), "the default is shown"

    announced = ask("schedule strict", channel_id="C0LAB")
    assert announced["response_type"] == "in_channel", "a settings change is announced to the channel"
    assert "<@U0ALICE> changed this channel's digest settings." in text_of(announced)
    assert STRICT in text_of(announced)

    refused = ask("schedule min 60", channel_id="C0LAB", user_id="U0BOB")
    assert refused["response_type"] == "ephemeral"
    assert "for a percentage write “min 60%”" in str(refused) and "`/papers schedule strict`" in str(refused)
    shown = ask("schedule", channel_id="C0LAB", user_id="U0BOB")
    assert shown["response_type"] == "ephemeral" and STRICT in text_of(shown), "the refused change changed nothing"
    stacks.stop(first)

    # After a restart, with an operator default of broad: the channel keeps its own choice, others get broad.
    again = stacks.start(tmp_path / "data", env={"PAPERBOT_DIGEST_STRICTNESS": "broad"})
    assert STRICT in text_of(again.driver.ask("schedule", channel_id="C0LAB"))
    broad = f"*Strictness:* broad (only papers scored {STRICTNESS['broad']:.2f}"
    assert broad in text_of(again.driver.ask("schedule", channel_id="C0NEW"))
    custom = again.driver.ask("schedule 8:30 weekdays min 62%", channel_id="C0LAB")
    assert "08:30 UTC, weekdays" in text_of(custom)
    assert "*Strictness:* custom 0.62 (only papers scored 0.62 or more; a quiet day posts fewer)" in text_of(custom)
