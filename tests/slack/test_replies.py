"""Replies under Slack's rate limits, over real HTTP: a 429 never parks a listener worker (the reply waits on
the outbox's one thread), every reply arrives once Slack allows, in order per response URL, and one that
cannot arrive within the bound is dropped with one `slack.reply.dropped` line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from slack_driver import SlackStack
from slack_emulator import SlackEmulator

from bot.papers import new_record

pytestmark = pytest.mark.e2e

WORKERS = 8  # bot.slack.app.WORKERS: a storm of at least this many replies used to park every worker


def corpus() -> list[dict[str, Any]]:
    return [new_record(f"2405.{30000 + i}", source="arxiv", title=f"Rate limits, part {i}",
                       abstract="Waiting without blocking.", authors=["Ada"], published="2024-05-01T00:00:00Z")
            for i in range(WORKERS + 1)]


@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    return slack_stack_factory(corpus())


def help_answered_within(stack: SlackStack, seconds: float) -> float:
    started = time.monotonic()
    sent = stack.driver.command("help", user_id="U0HELP")
    assert sent.response.status_code == 200 and sent.response_url is not None
    [answer] = stack.slack.wait_for_responses(sent.response_url, timeout=seconds)
    assert "/papers" in answer["text"]
    return time.monotonic() - started


def dropped_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("slack.reply.dropped")]


def test_help_is_answered_within_a_second_while_response_urls_are_rate_limited(stack: SlackStack) -> None:
    stack.slack.rate_limit_responses(times=WORKERS, retry_after=30)
    for i in range(WORKERS):
        assert stack.driver.command(f"search rate limits part {i}").response.status_code == 200
    stack.slack.wait_for_throttled(WORKERS)
    help_answered_within(stack, 1.0)


def test_help_is_answered_within_a_second_while_ephemeral_notices_are_rate_limited(stack: SlackStack) -> None:
    stack.slack.rate_limit("chat.postEphemeral", times=WORKERS, retry_after=30)
    for i in range(WORKERS):
        ts = f"{time.time():.6f}{i}"
        stack.services.posts.record("C0GENERAL", ts, f"2405.{30000 + i}", "digest")
        event = {"type": "reaction_added", "user": f"U0SAVER{i}", "reaction": "bookmark", "item_user": "U0SOMEONE",
                 "item": {"type": "message", "channel": "C0GENERAL", "ts": ts}, "event_ts": ts}
        assert stack.driver.event(event).response.status_code == 200
    stack.slack.wait_for_calls("chat.postEphemeral", WORKERS)
    help_answered_within(stack, 1.0)


def test_every_throttled_reply_arrives_once_after_retry_after(stack: SlackStack) -> None:
    stack.slack.rate_limit_responses(times=WORKERS + 1, retry_after=1)
    urls = []
    for _ in range(WORKERS + 1):
        sent = stack.driver.command("help")
        assert sent.response_url is not None
        urls.append(sent.response_url)
    throttled = stack.slack.wait_for_throttled(WORKERS + 1)
    help_answered_within(stack, 1.0)
    for url in urls:
        stack.slack.wait_for_responses(url, timeout=5)
    stack.settle()
    refused_at = {p.id: p.at for p in throttled}
    for post in stack.slack.response_posts:
        if post.id in refused_at:
            assert post.at - refused_at[post.id] >= 0.95, "Retry-After honoured"
    assert [len(stack.slack.responses(url)) for url in urls] == [1] * len(urls), "each reply exactly once"


def test_replies_to_one_response_url_keep_their_order_and_the_caller_never_waits(slack: SlackEmulator) -> None:
    from bot.slack.plumbing import Responder
    from bot.slack.replies import outbox

    url = slack.new_response_url()
    reply = Responder(url, timeout=5)
    slack.rate_limit_responses(times=1, retry_after=1)
    started = time.monotonic()
    for text in ("first", "second", "third"):
        reply({"text": text})
    assert time.monotonic() - started < 0.5, "the caller does not wait out the 429"
    answers = slack.wait_for_responses(url, count=3)
    assert [a["text"] for a in answers] == ["first", "second", "third"]
    assert outbox().wait_idle(5)
    assert len(slack.throttled) == 1 and len(slack.responses(url)) == 3


def test_a_reply_still_refused_after_the_attempt_bound_is_dropped_with_one_line(
        slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from bot.slack.plumbing import Responder
    from bot.slack.replies import outbox

    monkeypatch.setattr("bot.slack.replies.MAX_ATTEMPTS", 3)
    caplog.set_level(logging.INFO, logger="bot.slack")
    url = slack.new_response_url()
    slack.rate_limit_responses(times=10, retry_after=0)
    Responder(url, timeout=5)({"text": "never"})
    assert outbox().wait_idle(5)
    assert len(slack.throttled) == 3 and slack.responses(url) == []
    [line] = dropped_lines(caplog)
    assert "what=respond" in line and "reason=rate_limited" in line and "attempts=3" in line


def test_a_reply_whose_wait_would_pass_the_deadline_is_dropped_at_once(
        slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from bot.slack.plumbing import Responder
    from bot.slack.replies import outbox

    monkeypatch.setattr("bot.slack.replies.REPLY_DEADLINE_S", 5.0)
    caplog.set_level(logging.INFO, logger="bot.slack")
    url = slack.new_response_url()
    slack.rate_limit_responses(times=1, retry_after=30)
    Responder(url, timeout=5)({"text": "too late"})
    assert outbox().wait_idle(1)
    [line] = dropped_lines(caplog)
    assert "reason=deadline" in line and "attempts=1" in line
    assert slack.responses(url) == []


def test_shutdown_drops_replies_still_waiting_with_one_line_each(
        slack_stack_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    stack = slack_stack_factory(corpus())
    caplog.set_level(logging.INFO, logger="bot.slack")
    stack.slack.rate_limit_responses(times=2, retry_after=30)
    stack.driver.command("help")
    stack.driver.command("help")
    stack.slack.wait_for_throttled(2)
    from bot.slack.app import shutdown_app

    started = time.monotonic()
    shutdown_app(stack.app, 10)
    assert time.monotonic() - started < 5, "shutdown does not wait out a 30 s Retry-After"
    lines = dropped_lines(caplog)
    assert len(lines) == 2 and all("reason=shutdown" in line for line in lines)


def test_a_reply_sent_while_an_earlier_one_is_still_on_its_first_try_goes_out_once_and_behind_it(
        slack: SlackEmulator) -> None:
    import threading

    from bot.slack.plumbing import Responder
    from bot.slack.replies import outbox

    url = slack.new_response_url()
    reply = Responder(url, timeout=5)
    slack.slow_responses(0.4)  # the first reply's first try is slow ...
    slack.rate_limit_responses(times=2, retry_after=0)  # ... and then refused
    first = threading.Thread(target=reply, args=({"text": "first"},))
    first.start()
    time.sleep(0.1)  # the first reply is on its first try (0.4 s): the second is sent meanwhile
    started = time.monotonic()
    reply({"text": "second"})
    assert time.monotonic() - started < 0.2, "the second reply waits behind the first, not on its caller"
    first.join(5)
    assert outbox().wait_idle(10)
    assert [a["text"] for a in slack.responses(url)] == ["first", "second"], "each once, in the order sent"


def test_after_a_reply_is_dropped_the_next_one_with_its_key_still_waits_the_retry_after(
        slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from bot.slack.plumbing import Responder
    from bot.slack.replies import outbox

    monkeypatch.setattr("bot.slack.replies.MAX_ATTEMPTS", 1)
    caplog.set_level(logging.INFO, logger="bot.slack")
    url = slack.new_response_url()
    reply = Responder(url, timeout=5)
    slack.slow_responses(0.3)
    slack.rate_limit_responses(times=1, retry_after=1)
    first = threading.Thread(target=reply, args=({"text": "dropped"},))
    first.start()
    time.sleep(0.1)  # the first reply is on its first try: the second queues behind it
    reply({"text": "kept"})
    first.join(5)
    assert outbox().wait_idle(10)
    [refused] = slack.throttled
    [delivered] = [p for p in slack.response_posts if p.id == refused.id]
    assert delivered.payload["text"] == "kept"
    assert delivered.at - refused.at >= 0.95, "Slack asked to wait 1 s: the next reply waits it too"
    [line] = dropped_lines(caplog)
    assert "reason=rate_limited" in line
