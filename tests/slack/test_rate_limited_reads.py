"""Slack reads done on a listener worker (the message a save reaction points at, a channel's members for the
Home tab), over real HTTP: a 429 on them is not slept out on the worker. The reaction is read again after
Retry-After (without counting as a failed attempt); the Home tab is published at once without that channel's
member list (then a channel counts if the user saved from it), and the next open asks again.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_driver import SlackStack, wait_until

from bot.papers import new_record
from bot.slack.app import wait_for_listeners

pytestmark = pytest.mark.e2e



@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    papers = [new_record("2405.10003", source="arxiv", title="Sparse autoencoders find interpretable features",
                         abstract="Dictionary learning.", authors=["Chris Olah"], published="2024-05-14T00:00:00Z")]
    return slack_stack_factory(papers)


def test_a_429_reading_a_reacted_message_frees_the_worker_and_is_read_again_after_retry_after(
        stack: SlackStack) -> None:
    ts = stack.slack.add_message("C0GENERAL", "https://arxiv.org/abs/2405.10003", user="U0CAROL")
    stack.slack.rate_limit("conversations.history", times=1, retry_after=2)
    event = {"type": "reaction_added", "user": "U0BOB", "reaction": "bookmark", "item_user": "U0CAROL",
             "item": {"type": "message", "channel": "C0GENERAL", "ts": ts}, "event_ts": f"{time.time():.6f}"}
    assert stack.driver.event(event).response.status_code == 200
    [refused] = stack.slack.wait_for_calls("conversations.history")
    assert wait_for_listeners(stack.app, 1.0), "the worker does not sleep out the Retry-After"
    wait_until(lambda: [s.paper_id for s in stack.services.saves.saved("U0BOB")] == ["2405.10003"])
    read = stack.slack.calls_to("conversations.history")[1]
    assert read.at - refused.at >= 1.95, "read again once Slack allows"
    assert stack.services.saves.pending() == []


def test_a_429_on_a_channels_members_publishes_the_home_tab_at_once_and_asks_again_next_time(
        stack: SlackStack) -> None:
    stack.services.channels.watch("C0GENERAL", "interpretability", "U0ADMIN")
    stack.slack.members.update({"C0GENERAL": ["U0BOB"]})
    stack.slack.rate_limit("conversations.members", times=1, retry_after=30)

    def open_home() -> None:
        event = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        assert stack.driver.event(event).response.status_code == 200

    open_home()
    wait_until(lambda: "U0BOB" in stack.slack.views, timeout=2.0)
    assert "interpretability" not in json.dumps(stack.slack.views["U0BOB"]), "members unknown, nothing saved there"
    stack.settle()
    open_home()
    wait_until(lambda: "interpretability" in json.dumps(stack.slack.views["U0BOB"]))
