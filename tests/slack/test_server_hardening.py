"""The HTTP edge under attack: what anyone on the network can send to POST /slack/events.

The signature and timestamp are checked before anything parses the body, so a forged or malformed request
gets 401 (a signed body that cannot be parsed, 400) and one short log line, never a traceback or an answer;
idle connections cannot starve Slack's requests; and no Web API call sits between a request and its ack.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests
from slack_driver import SIGNING_SECRET, SlackDriver, SlackStack, sign
from slack_emulator import SlackEmulator

pytestmark = pytest.mark.e2e

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HOME_EVENT = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}


@pytest.fixture
def stack(slack_stack_factory: Any) -> SlackStack:
    return slack_stack_factory()


def post_raw(stack: SlackStack, body: bytes, content_type: str, headers: dict[str, Any]) -> requests.Response:
    return requests.post(stack.driver.endpoint, data=body, timeout=5, headers={"Content-Type": content_type, **headers})


def server_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server side logged about requests (the test's own HTTP client logs nothing at INFO; waitress's
    "threads busy" line is about load, at most one per 10 s: test_busy_threads_log_one_line_per_interval)."""
    return [r for r in caplog.records
            if not r.name.startswith("urllib3") and not r.getMessage().startswith("http.queue.busy")]


def assert_one_clean_line(caplog: pytest.LogCaptureFixture, prefix: str) -> None:
    lines = server_lines(caplog)
    assert [r.getMessage().split(" ", 2)[:2] for r in lines] == [prefix.split(" ", 2)[:2]], \
        [r.getMessage()[:300] for r in lines]
    [line] = lines
    message = line.getMessage()
    assert message.startswith(prefix), message
    assert line.exc_info is None and "Traceback" not in caplog.text
    assert len(message) < 200 and message.isascii() and "\n" not in message, message


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    # Everything at INFO, Bolt included (bot.logs would raise Bolt to WARNING; this is stricter).
    with caplog.at_level(logging.INFO), caplog.at_level(logging.INFO, logger="slack_bolt"):
        yield caplog


# --- 1. forged and malformed requests ----------------------------------------------------------------------

def unsigned_cases() -> list[tuple[str, bytes, str, dict[str, Any]]]:
    now = str(int(time.time()))
    valid_form = b"command=%2Fpapers&text=help&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fx"
    good = sign(SIGNING_SECRET, now, valid_form)
    return [
        ("not JSON", b"{not json", JSON, {}),
        ("payload not JSON", b"payload=%7Bnot+json", FORM, {}),
        ("payload not JSON, wrong signature", b"payload=%7Bnot+json", FORM,
         {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64}),
        ("timestamp abc", valid_form, FORM, {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": good}),
        ("timestamp of 5000 digits", valid_form, FORM,
         {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": good}),
        ("timestamp in Arabic-Indic digits", valid_form, FORM,
         {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠".encode(), "X-Slack-Signature": good}),
        ("negative timestamp", valid_form, FORM, {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": good}),
        ("non-ASCII signature", valid_form, FORM,
         {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": ("v0=" + "é" * 64).encode()}),
        ("signature not hex", valid_form, FORM,
         {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "z" * 64}),
        ("signature without v0=", valid_form, FORM, {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": good[3:]}),
        ("signature of 5000 characters", valid_form, FORM,
         {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "a" * 5000}),
        ("timestamp missing", valid_form, FORM, {"X-Slack-Signature": good}),
        ("signature missing", valid_form, FORM, {"X-Slack-Request-Timestamp": now}),
    ]


@pytest.mark.parametrize(("body", "content_type", "headers"),
                         [pytest.param(*case[1:], id=case[0]) for case in unsigned_cases()])
def test_forged_requests_get_401_and_one_short_log_line(stack: SlackStack, logs: pytest.LogCaptureFixture,
                                                        body: bytes, content_type: str,
                                                        headers: dict[str, Any]) -> None:
    response = post_raw(stack, body, content_type, headers)
    assert response.status_code == 401, response.text
    assert "Traceback" not in response.text and "sorry" not in response.text.lower()
    assert_one_clean_line(logs, "slack.request.rejected status=401")
    stack.settle()
    assert stack.slack.response_posts == [] and not stack.slack.calls_to("views.publish")


def signed_malformed_cases() -> list[tuple[str, bytes, str]]:
    return [
        ("not JSON", b"{not json", JSON),
        ("JSON but not an object", b"[1, 2, 3]", JSON),
        ("JSON string", b'"event_callback"', JSON),
        ("payload not JSON", b"payload=%7Bnot+json", FORM),
        ("payload JSON but not an object", b"payload=%5B1%2C2%5D", FORM),
        ("not UTF-8", b"text=\xff\xfe&command=%2Fpapers", FORM),
        ("JSON not UTF-8", b'{"type": "\xff"}', JSON),
    ]


@pytest.mark.parametrize(("body", "content_type"),
                         [pytest.param(*case[1:], id=case[0]) for case in signed_malformed_cases()])
def test_signed_bodies_that_cannot_be_parsed_get_400_and_one_short_log_line(
        stack: SlackStack, logs: pytest.LogCaptureFixture, body: bytes, content_type: str) -> None:
    now = int(time.time())
    response = post_raw(stack, body, content_type, {"X-Slack-Request-Timestamp": str(now),
                                                    "X-Slack-Signature": sign(SIGNING_SECRET, now, body)})
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
    assert_one_clean_line(logs, "slack.request.malformed status=400")
    stack.settle()
    assert stack.slack.response_posts == []


def test_valid_requests_still_pass_and_log_no_rejection(stack: SlackStack, logs: pytest.LogCaptureFixture) -> None:
    assert stack.driver.command("help").response.status_code == 200
    assert stack.driver.event(HOME_EVENT).response.status_code == 200
    assert stack.driver.url_verification("abc123").json() == {"challenge": "abc123"}
    stack.settle()
    assert not [r for r in logs.records if "rejected" in r.getMessage() or "malformed" in r.getMessage()]


def test_a_flood_of_forged_requests_logs_one_line_each_at_most(stack: SlackStack,
                                                                logs: pytest.LogCaptureFixture) -> None:
    with requests.Session() as http:
        for _ in range(50):
            assert http.post(stack.driver.endpoint, data=b"{not json", timeout=5,
                             headers={"Content-Type": JSON, "X-Slack-Request-Timestamp": "x" * 4000}
                             ).status_code == 401
    lines = server_lines(logs)
    assert len(lines) <= 50 and all(len(r.getMessage()) < 200 and r.exc_info is None for r in lines)


def test_busy_threads_log_one_line_per_interval(stack: SlackStack, logs: pytest.LogCaptureFixture) -> None:
    # What waitress logs for each request that arrives while all its threads are busy.
    queue_log = logging.getLogger("waitress.queue")
    for depth in range(1, 51):
        queue_log.warning("Task queue depth is %d", depth)
    lines = [r.getMessage() for r in logs.records if r.name == "waitress.queue"]
    assert len(lines) <= 1, lines[:3]
    assert all(line.startswith("http.queue.busy depth=") for line in lines), lines


# --- 2. idle connections ----------------------------------------------------------------------------------

def test_200_idle_connections_do_not_starve_a_signed_command(stack: SlackStack) -> None:
    with ExitStack() as idle:
        for _ in range(200):
            sock = idle.enter_context(socket.create_connection(("127.0.0.1", stack.server.port), timeout=5))
            assert sock  # connected, and never sends a byte
        driver = SlackDriver(stack.server.url, SIGNING_SECRET, stack.slack, timeout=3)
        try:
            sent = driver.command("help")
        finally:
            driver.close()
        assert sent.response.status_code == 200
        assert sent.elapsed < 1.0, f"ack took {sent.elapsed:.2f} s"


# --- 3. no Web API call before the ack ------------------------------------------------------------------------

def start_unverified_stack(tmp_path: Any, slack: SlackEmulator, identity: dict[str, Any] | None) -> SlackStack:
    """The stack as `paperbot run` builds it: the token was checked before, so create_app does not."""
    from bot.config import load_settings
    from bot.services import Services
    from bot.slack.app import create_app, create_web_client
    from bot.slack.server import start_server

    settings = load_settings({"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                              "SLACK_API_URL": slack.api_url, "PAPERBOT_DATA_DIR": str(tmp_path),
                              "PAPERBOT_HTTP_TIMEOUT": "5"})
    client = create_web_client(settings)
    services = Services.open_for_slack(settings, client)
    kwargs = {} if identity is None else {"identity": identity}
    app = create_app(settings, services, client, verify_token=False, **kwargs)
    server = start_server(app, "127.0.0.1", 0, signing_secret=SIGNING_SECRET)
    driver = SlackDriver(server.url, SIGNING_SECRET, slack, timeout=3)
    return SlackStack(slack, settings, services, app, server, driver)


@pytest.mark.parametrize("identity", [None, {"team_id": "T0EMULATE", "user_id": "U0PAPERBOT", "bot_id": "B0PAPERBOT"}],
                         ids=["no identity", "identity from start-up"])
@pytest.mark.parametrize("fault", ["slow", "429"])
def test_acks_never_wait_on_auth_test(tmp_path: Any, slack: SlackEmulator, identity: dict[str, Any] | None,
                                      fault: str) -> None:
    if fault == "slow":
        slack.slow("auth.test", 5.0)
    else:
        slack.rate_limit("auth.test", times=1000, retry_after=30)
    stack = start_unverified_stack(tmp_path, slack, identity)
    try:
        sent = [stack.driver.command("help"), stack.driver.event(HOME_EVENT)]
        assert [s.response.status_code for s in sent] == [200, 200]
        assert max(s.elapsed for s in sent) < 1.0
        assert stack.slack.wait_for_responses(sent[0].response_url or "")
        stack.slack.wait_for_calls("views.publish")
        stack.settle()
        assert not slack.calls_to("auth.test"), "no request calls auth.test"
    finally:
        stack.stop()


def test_the_bot_ignores_its_own_messages_with_the_identity_from_start_up(
        tmp_path: Any, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr("bot.slack.links.Links.message",
                        lambda self, body: seen.append(body["event"].get("user", "")))
    identity = {"team_id": slack.team_id, "user_id": slack.bot_user_id, "bot_id": slack.bot_id}
    stack = start_unverified_stack(tmp_path, slack, identity)
    try:
        message = {"type": "message", "channel": "C0GENERAL", "text": "https://arxiv.org/abs/2405.10001",
                   "ts": "1700000001.000001"}
        own = {**message, "user": slack.bot_user_id, "bot_id": slack.bot_id}
        for event in (own, {**message, "user": "U0ALICE"}):
            assert stack.driver.event(event).response.status_code == 200
        stack.settle()
        assert seen == ["U0ALICE"], "the bot's own message is ignored"
    finally:
        stack.stop()
