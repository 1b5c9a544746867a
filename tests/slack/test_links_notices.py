"""The "papers left out" notice for a message with too many paper links, over real HTTP: it is sent once per
message (not again for Slack's unfurl or the author's edits), and a 429 on it waits in the outbox, never on a
listener worker.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fake_sources import FakeSources
from slack_driver import SlackStack

from bot.papers import new_record
from bot.slack.app import WORKERS

pytestmark = pytest.mark.e2e

LINKS = " ".join(f"https://arxiv.org/abs/2407.{n:05d}" for n in range(1, 26))  # 25: five over the limit


@pytest.fixture
def stack(slack_stack_factory: Any, fake_sources: FakeSources, monkeypatch: pytest.MonkeyPatch) -> SlackStack:
    monkeypatch.setattr("bot.slack.links.LINK_BATCH_SECONDS", 0.05)  # the batching wait, not what is tested
    env = {"HF_API_URL": fake_sources.hf_api_url, "ARXIV_API_URL": fake_sources.arxiv_api_url,
           "PAPERBOT_ARXIV_DELAY": "0", "PAPERBOT_HTTP_RETRIES": "0", "PAPERBOT_HTTP_TIMEOUT": "2"}
    papers = [new_record("2405.30000", source="arxiv", title="Rate limits", abstract="Waiting.", authors=["Ada"],
                         published="2024-05-01T00:00:00Z")]
    return slack_stack_factory(papers, env=env)


def share(stack: SlackStack, user: str, ts: str, text: str = LINKS) -> None:
    event = {"type": "message", "channel": "C0GENERAL", "user": user, "ts": ts, "text": text,
             "channel_type": "channel"}
    assert stack.driver.event(event).response.status_code == 200


def changed(stack: SlackStack, user: str, ts: str, text: str, **extra: Any) -> None:
    """A `message_changed` event for the message at `ts`: Slack's unfurl of its links, or an edit."""
    event = {"type": "message", "subtype": "message_changed", "channel": "C0GENERAL", "hidden": True,
             "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", "channel_type": "channel",
             "message": {"type": "message", "user": user, "text": text, "ts": ts, **extra},
             "previous_message": {"type": "message", "user": user, "text": LINKS, "ts": ts}}
    assert stack.driver.event(event).response.status_code == 200


def left_out_notices(stack: SlackStack, user: str) -> list[dict[str, Any]]:
    return [e for e in stack.slack.ephemerals if e["user"] == user and "left out" in e.get("text", "")]


def test_a_message_with_too_many_links_is_noted_once_not_again_for_its_unfurl_and_edits(stack: SlackStack) -> None:
    ts = f"{time.time():.6f}"
    share(stack, "U0CAROL", ts)
    stack.settle()
    unfurl = [{"from_url": "https://arxiv.org/abs/2407.00001", "title": "Flood paper 1"}]
    changed(stack, "U0CAROL", ts, LINKS, attachments=unfurl)  # Slack unfurled the links
    changed(stack, "U0CAROL", ts, LINKS + " (typo fixed)", attachments=unfurl)  # the author edited it
    stack.settle()
    assert len(left_out_notices(stack, "U0CAROL")) == 1
    share(stack, "U0CAROL", f"{time.time():.6f}1")  # another message: its own notice
    stack.settle()
    assert len(left_out_notices(stack, "U0CAROL")) == 2


def test_the_left_out_notice_waits_out_a_429_in_the_outbox_not_on_a_listener_worker(stack: SlackStack) -> None:
    stack.slack.rate_limit("chat.postEphemeral", times=WORKERS, retry_after=2)
    for i in range(WORKERS):
        share(stack, f"U0SHARER{i}", f"{time.time():.6f}{i}")
    stack.slack.wait_for_calls("chat.postEphemeral", WORKERS)
    started = time.monotonic()
    sent = stack.driver.command("help", user_id="U0HELP")
    assert sent.response_url is not None
    [answer] = stack.slack.wait_for_responses(sent.response_url, timeout=1.0)
    assert "/papers" in answer["text"] and time.monotonic() - started < 1.0
    stack.settle()
    assert [len(left_out_notices(stack, f"U0SHARER{i}")) for i in range(WORKERS)] == [1] * WORKERS
