"""Sends requests to paperbot's HTTP endpoint exactly as Slack does, signed with the v0 scheme.

Slash commands are form posts with Slack's fields; button clicks are form posts with one `payload` field
holding block_actions JSON; events are JSON. Every request is signed (`X-Slack-Signature: v0=HMAC-SHA256(
secret, "v0:{ts}:{body}")`, `X-Slack-Request-Timestamp`) unless a test asks for a bad one. Response URLs
point at the Slack emulator, so tests read what the user would see there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from cli_runner import TEST_DEFAULTS
from slack_emulator import SlackEmulator


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    """What the driver sent and what the bot answered (the HTTP response is the ack)."""

    response: requests.Response
    response_url: str | None
    elapsed: float  # seconds from sending to the complete HTTP response


class SlackDriver:
    def __init__(self, base_url: str, signing_secret: str, slack: SlackEmulator, *, command: str = "/papers",
                 path: str = "/slack/events", timeout: float = 10.0) -> None:
        self.endpoint = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.slack = slack
        self.command_name = command
        self.timeout = timeout  # seconds to wait for the bot's HTTP response (the ack)
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    # --- raw ------------------------------------------------------------------------------------------

    def post(self, body: bytes, content_type: str, *, signed: bool = True, timestamp: int | None = None,
             secret: str | None = None, headers: dict[str, str] | None = None) -> tuple[requests.Response, float]:
        ts = int(time.time()) if timestamp is None else timestamp
        sent_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if signed:
            sent_headers["X-Slack-Request-Timestamp"] = str(ts)
            sent_headers["X-Slack-Signature"] = sign(secret or self.signing_secret, ts, body)
        sent_headers.update(headers or {})
        started = time.perf_counter()
        response = self.http.post(self.endpoint, data=body, headers=sent_headers, timeout=self.timeout)
        return response, time.perf_counter() - started

    # --- slash commands -------------------------------------------------------------------------------

    def command_body(self, text: str, *, user_id: str = "U0ALICE", channel_id: str = "C0GENERAL",
                     response_url: str | None = None, command: str | None = None) -> tuple[bytes, str]:
        response_url = response_url or self.slack.new_response_url()
        fields = {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",  # the deprecated verification token: sent, never trusted
            "team_id": self.slack.team_id,
            "team_domain": "emulated",
            "channel_id": channel_id,
            "channel_name": "general" if channel_id == "C0GENERAL" else channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command or self.command_name,
            "text": text,
            "api_app_id": "A0PAPERBOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}",
        }
        return urlencode(fields).encode(), response_url

    def command(self, text: str, *, user_id: str = "U0ALICE", channel_id: str = "C0GENERAL",
                signed: bool = True, timestamp: int | None = None, secret: str | None = None,
                command: str | None = None) -> Sent:
        body, response_url = self.command_body(text, user_id=user_id, channel_id=channel_id, command=command)
        response, elapsed = self.post(body, "application/x-www-form-urlencoded", signed=signed,
                                      timestamp=timestamp, secret=secret)
        return Sent(response, response_url, elapsed)

    def ask(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Run a command and return the first reply the user gets through the response URL."""
        sent = self.command(text, **kwargs)
        assert sent.response.status_code == 200, sent.response.text
        assert sent.response_url is not None
        return self.slack.wait_for_responses(sent.response_url)[0]

    # --- buttons --------------------------------------------------------------------------------------

    def click(self, button: dict[str, Any], *, user_id: str = "U0ALICE", channel_id: str = "C0GENERAL",
              block_id: str = "", ephemeral: bool = True, message: dict[str, Any] | None = None,
              signed: bool = True) -> Sent:
        """Click a button element (as rendered by the bot) in a message in `channel_id`."""
        response_url = self.slack.new_response_url()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(),
                     "team_id": self.slack.team_id},
            "api_app_id": "A0PAPERBOT",
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel_id,
                          "is_ephemeral": ephemeral},
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex}",
            "team": {"id": self.slack.team_id, "domain": "emulated"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [{
                "action_id": button["action_id"],
                "block_id": block_id or "blk",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }],
        }
        if message is not None and not ephemeral:
            payload["message"] = message
        body = urlencode({"payload": json.dumps(payload)}).encode()
        response, elapsed = self.post(body, "application/x-www-form-urlencoded", signed=signed)
        return Sent(response, response_url, elapsed)

    # --- events ---------------------------------------------------------------------------------------

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
              signed: bool = True, timestamp: int | None = None) -> Sent:
        envelope = {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": self.slack.team_id,
            "api_app_id": "A0PAPERBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": self.slack.team_id,
                                "user_id": self.slack.bot_user_id, "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        response, elapsed = self.post(json.dumps(envelope).encode(), "application/json", signed=signed,
                                      timestamp=timestamp, headers=headers)
        return Sent(response, None, elapsed)

    def url_verification(self, challenge: str) -> requests.Response:
        body = json.dumps({"token": "gIkuvaNzQIHg97ATvDxqgjtO", "challenge": challenge,
                           "type": "url_verification"}).encode()
        return self.post(body, "application/json")[0]


def buttons(message: dict[str, Any], action_id: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) for every button in a message, optionally only those with `action_id`."""
    found = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button" and (action_id is None or element.get("action_id") == action_id):
                found.append((block.get("block_id", ""), element))
    return found


# --- the whole stack: emulator + services + Bolt app + waitress, for e2e tests and the ack benchmark -------

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the format of Slack's docs example


@dataclass
class SlackStack:
    slack: SlackEmulator
    settings: Any
    services: Any
    app: Any
    server: Any
    driver: SlackDriver

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has handled everything sent so far (its listener pool is idle, and no reply
        waits out a 429 in the outbox): for asserting that something did not happen, without sleeping."""
        from bot.slack.app import wait_for_listeners
        from bot.slack.replies import outbox

        assert wait_for_listeners(self.app, timeout), "the bot's work did not finish"
        assert outbox().wait_idle(timeout), "a reply still waits for Slack to allow it"

    def stop(self) -> None:
        from bot.slack.app import shutdown_app

        self.driver.close()
        self.server.stop()
        shutdown_app(self.app, 10)
        self.services.close()
        self.slack.stop()


def start_stack(data_dir: Any, papers: list[dict[str, Any]] = (), *, env: dict[str, str] | None = None,
                slack: SlackEmulator | None = None) -> SlackStack:
    """Seed the archive with `papers`, open the services, and serve the real app on 127.0.0.1:0."""
    from bot.config import load_settings
    from bot.services import Services
    from bot.slack.app import create_app, create_web_client
    from bot.slack.server import start_server
    from bot.store.tinydb.archive import Archive
    from bot.store.tinydb.files import DataDir

    slack = slack or SlackEmulator().start()
    settings = load_settings({
        **TEST_DEFAULTS,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PAPERBOT_DATA_DIR": str(data_dir),
        "PAPERBOT_HTTP_TIMEOUT": "5",
        **(env or {}),
    })
    if papers:
        with DataDir(settings.data_dir) as seed:
            Archive(seed.store("archive")).upsert(papers)
    client = create_web_client(settings)
    services = Services.open_for_slack(settings, client)
    app = create_app(settings, services, client)
    server = start_server(app, "127.0.0.1", 0, signing_secret=SIGNING_SECRET)
    driver = SlackDriver(server.url, SIGNING_SECRET, slack, command=settings.command)
    return SlackStack(slack, settings, services, app, server, driver)


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `check` until it returns something truthy (returned), for something that must happen; fails after
    `timeout` s. (For something that must NOT happen, use `SlackStack.settle()`.)"""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return value
