"""`paperbot run`: as a real process it serves, answers a signed command and stops cleanly on SIGTERM; in this
process, it fails at start-up with one clear line (no traceback) when the tokens or the environment are wrong."""

from __future__ import annotations

import re
import signal
import socket
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from bot_process import Bot, bot_env
from cli_runner import Completed, PaperbotCLI
from slack_driver import SIGNING_SECRET, SlackDriver
from slack_emulator import SlackEmulator

from bot import __version__
from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir


class RunBot:
    """`paperbot run` in this process, for the start-up failures (it returns before serving)."""

    def __init__(self, paperbot: PaperbotCLI) -> None:
        self.paperbot = paperbot

    def __call__(self, env: dict[str, str], *args: str) -> Completed:
        return self.paperbot("run", *args, env=env)


@pytest.fixture
def run_bot(paperbot: PaperbotCLI) -> RunBot:
    return RunBot(paperbot)


@pytest.mark.e2e
def test_run_serves_http_and_stops_cleanly_on_sigterm(slack: SlackEmulator, tmp_path: Path) -> None:
    with DataDir(tmp_path / "data") as data_dir:
        Archive(data_dir.store("archive")).upsert([new_record(
            "2405.10001", source="hf", title="Diffusion Transformers for Long Video", abstract="Diffusion video.")])
    bot = Bot(bot_env(slack, tmp_path / "data"), "--port", "0", cwd=tmp_path)
    try:
        url = bot.wait_for(r"paperbot\.listening mode=http url=(http://127\.0\.0\.1:\d+)/slack/events").group(1)
        bot.wait_for(r"paperbot\.ready")
        assert len(slack.calls_to("auth.test")) == 1, "the token is checked once at start-up"
        health = requests.get(url + "/healthz", timeout=5)
        assert health.status_code == 200 and health.json() == {"ok": True, "version": __version__, "mode": "http"}
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        sent = driver.command("diffusion video")
        assert sent.response.status_code == 200
        reply = slack.wait_for_responses(sent.response_url)[0]
        assert any(b.get("block_id") == "paper:2405.10001" for b in reply["blocks"])
        bot.wait_for(r"slack\.command user=U0ALICE channel=C0GENERAL sub=search .*ms=\d+")
        assert driver.command("help", secret="wrong").response.status_code == 401
        bot.wait_for(r"slack\.request\.rejected status=401")
        driver.close()

        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(15) == 0
        bot.wait_for(r"paperbot\.stopped")
        assert not any("Traceback" in line for line in bot.log), "".join(bot.log)
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/healthz", timeout=2)
        DataDir(tmp_path / "data").close()  # the writer lock was released
    finally:
        bot.stop()


@pytest.mark.e2e
def test_run_in_socket_mode_answers_commands_and_events(slack: SlackEmulator, tmp_path: Path) -> None:
    with DataDir(tmp_path / "data") as data_dir:
        Archive(data_dir.store("archive")).upsert([new_record(
            "2405.10001", source="hf", title="Diffusion Transformers for Long Video", abstract="Diffusion video.")])
    # Socket Mode needs no signing secret: the socket is authenticated by the app token.
    env = bot_env(slack, tmp_path / "data", SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET="")
    bot = Bot(env, cwd=tmp_path)
    try:
        bot.wait_for(r"paperbot\.listening mode=socket")
        slack.socket_mode.wait_connected()
        driver = SlackDriver("http://unused", SIGNING_SECRET, slack)
        body, response_url = driver.command_body("diffusion video")
        payload = dict(parse_qsl(body.decode()))
        envelope_id = slack.socket_mode.send("slash_commands", payload)
        assert slack.socket_mode.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
        reply = slack.wait_for_responses(response_url)[0]
        assert any(b.get("block_id") == "paper:2405.10001" for b in reply["blocks"])
        event = {"type": "event_callback", "team_id": slack.team_id, "api_app_id": "A0PAPERBOT",
                 "event": {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"},
                 "event_id": "Ev0SOCKET01", "event_time": int(time.time())}
        slack.socket_mode.wait_for_ack(slack.socket_mode.send("events_api", event))
        assert slack.wait_for_calls("views.publish")[0].params["user_id"] == "U0ALICE"

        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(15) == 0
        assert not any("Traceback" in line for line in bot.log), "".join(bot.log)
    finally:
        bot.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("fault", ["slow", "429"])
def test_run_never_calls_auth_test_between_a_request_and_its_ack(slack: SlackEmulator, tmp_path: Path,
                                                                   fault: str) -> None:
    bot = Bot(bot_env(slack, tmp_path / "data"), "--port", "0", cwd=tmp_path)
    try:
        url = bot.wait_for(r"paperbot\.listening mode=http url=(http://127\.0\.0\.1:\d+)/slack/events").group(1)
        bot.wait_for(r"paperbot\.ready")
        if fault == "slow":  # from here on, auth.test takes 5 s or is refused: the start-up check is done
            slack.slow("auth.test", 5.0)
        else:
            slack.rate_limit("auth.test", times=1000, retry_after=30)
        driver = SlackDriver(url, SIGNING_SECRET, slack, timeout=3)
        sent = [driver.command("help"), driver.command("help")]
        assert [s.response.status_code for s in sent] == [200, 200]
        assert max(s.elapsed for s in sent) < 1.0, [s.elapsed for s in sent]
        assert slack.wait_for_responses(sent[0].response_url or "")
        own = {"type": "message", "channel": "C0GENERAL", "user": slack.bot_user_id, "bot_id": slack.bot_id,
               "text": "hello", "ts": "1700000001.000001"}
        assert driver.event(own).response.status_code == 200
        driver.close()
        assert len(slack.calls_to("auth.test")) == 1, "only the start-up check"
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(15) == 0
        assert not any("Traceback" in line for line in bot.log), "".join(bot.log)
    finally:
        bot.stop()


@pytest.mark.e2e
def test_run_answers_forged_requests_401_with_one_line_each(slack: SlackEmulator, tmp_path: Path) -> None:
    bot = Bot(bot_env(slack, tmp_path / "data"), "--port", "0", cwd=tmp_path)
    try:
        url = bot.wait_for(r"paperbot\.listening mode=http url=(http://127\.0\.0\.1:\d+)/slack/events").group(1)
        bot.wait_for(r"paperbot\.ready")
        forged = [({"Content-Type": "application/json"}, b"{not json"),
                  ({"Content-Type": "application/x-www-form-urlencoded"}, b"payload=%7Bnot+json"),
                  ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}, b"text=help"),
                  ({"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=" + "0" * 64}, b"text=help"),
                  ({"X-Slack-Request-Timestamp": str(int(time.time())),
                    "X-Slack-Signature": ("v0=" + "\u00e9" * 64).encode()}, b"text=help")]
        for headers, body in forged:
            assert requests.post(url + "/slack/events", data=body, headers=headers, timeout=5).status_code == 401
        for _ in forged:
            bot.wait_for(r"slack\.request\.rejected status=401 reason=\w+ remote=127\.0\.0\.1 ts=(\d+|-)$")
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(15) == 0
        assert not any("Traceback" in line for line in bot.log), "".join(bot.log)
        assert [line for line in bot.log if "slack.request" in line or "sorry" in line.lower()] == \
            [line for line in bot.log if "slack.request.rejected" in line], "one line per request, nothing else"
        assert len([line for line in bot.log if "slack.request.rejected" in line]) == len(forged)
        assert all(len(line) < 250 for line in bot.log), "no line carries the sender's 5000 digits"
    finally:
        bot.stop()


def _one_line_failure(result: Completed, status: int, pattern: str) -> None:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(pattern, lines[0]), lines[0]


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"SLACK_BOT_TOKEN": ""}, r"paperbot: configuration error: SLACK_BOT_TOKEN must be set .*"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, r"paperbot: configuration error: SLACK_BOT_TOKEN must be a bot .*"),
        ({"SLACK_SIGNING_SECRET": ""}, r"paperbot: configuration error: SLACK_SIGNING_SECRET must be set .*"),
        ({"SLACK_SIGNING_SECRET": "short"}, r"paperbot: configuration error: SLACK_SIGNING_SECRET must be .*"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, r"paperbot: configuration error: SLACK_APP_TOKEN must be .*"),
    ],
)
def test_missing_or_malformed_credentials_fail_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path,
                                                           overrides: dict[str, str], pattern: str) -> None:
    _one_line_failure(run_bot(bot_env(slack, tmp_path / "data", **overrides)), 2, pattern)
    assert not slack.calls, "nothing is sent to Slack before the settings are valid"


def test_a_token_slack_rejects_fails_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path) -> None:
    result = run_bot(bot_env(slack, tmp_path / "data", SLACK_BOT_TOKEN="xoxb-revoked"))
    _one_line_failure(result, 2, r"paperbot: Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)")


def test_an_app_token_slack_rejects_fails_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path) -> None:
    result = run_bot(bot_env(slack, tmp_path / "data", SLACK_APP_TOKEN="xapp-revoked"))
    _one_line_failure(result, 2, r"paperbot: Slack rejected SLACK_APP_TOKEN \(invalid_auth\)")
    assert slack.calls_to("apps.connections.open"), "Socket Mode was tried, not HTTP"


def test_an_unreachable_slack_api_fails_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack import retry

    # The connection retries still happen, without their waits: this is about the message, not the wait.
    monkeypatch.setattr(retry, "BACKOFF_FACTOR", 0.0)
    monkeypatch.setattr(retry, "JITTER_SECONDS", 0.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    env = bot_env(slack, tmp_path / "data", SLACK_API_URL=f"http://127.0.0.1:{closed_port}/api/")
    result = run_bot(env)
    _one_line_failure(result, 1, rf"paperbot: cannot reach the Slack API at http://127\.0\.0\.1:{closed_port}/api/: .*")


def test_a_port_in_use_fails_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_bot(bot_env(slack, tmp_path / "data"), "--port", str(port))
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"paperbot: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in result.stderr


def test_a_busy_data_directory_fails_in_one_line(run_bot: RunBot, slack: SlackEmulator, tmp_path: Path) -> None:
    with DataDir(tmp_path / "data"):
        result = run_bot(bot_env(slack, tmp_path / "data"))
    assert result.returncode == 1
    assert re.fullmatch(r"paperbot: data directory .* is in use by another paperbot process .*",
                        result.stderr.strip().splitlines()[-1])
    assert "Traceback" not in result.stderr
