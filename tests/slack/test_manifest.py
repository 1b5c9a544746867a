"""deploy/manifest.yml (Socket Mode) and deploy/manifest.http.yml (HTTP) against what the code really does.

What the code listens to comes from the real Bolt app (`create_app`, as `paperbot run` builds it). Bolt keeps
its listeners in `app._listeners`; each one's first matcher is the builtin matcher that `app.event(…)`,
`app.command(…)` or `app.action(…)` made: a `BuiltinListenerMatcher` whose `func` is a closure named
`event.<locals>.func` (or `command.…`, `action.…`) over the event type / command / action id it was given.
`registered()` reads that closure (`inspect.getclosurevars`) and then proves the reading right by feeding
the matcher a synthetic request for what it read: it must match. The other direction (every declared
event is handled) is checked by probing alone: a synthetic `event_callback` for each declared event must be
matched by some listener. A Bolt upgrade that changes these internals fails here loudly, not silently.

Scopes: the manifests must declare exactly `bot.slack.scopes.REQUIRED_SCOPES`, and that must be exactly
what the Web API methods the code calls (found by scanning bot/ for `client.chat_postMessage(` /
`self.client.…(` calls), the declared events and the slash command need (METHOD_SCOPES / EVENT_SCOPES below).
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App, BoltRequest, BoltResponse
from slack_driver import SIGNING_SECRET

from bot.config import Settings, load_settings
from bot.slack.registry import REGISTRY
from bot.slack.scopes import REQUIRED_SCOPES
from bot.slack.server import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
SOCKET_MANIFEST = ROOT / "deploy" / "manifest.yml"
HTTP_MANIFEST = ROOT / "deploy" / "manifest.http.yml"
HTTP_URL = "https://YOUR-HOST" + EVENTS_PATH

# Subscription name -> (event type, channel_type) as Slack delivers it.
MESSAGE_SUBSCRIPTIONS = {"message.channels": "channel", "message.groups": "group", "message.im": "im",
                         "message.mpim": "mpim"}
# What the `message` listener is for: links shared in public and private channels (not DMs).
MESSAGE_EVENTS = {"message.channels", "message.groups"}

# Bot scopes each Web API method needs (https://api.slack.com/methods). A method missing here fails
# test_scopes_are_exactly_what_the_code_needs: add it, with its scopes, to this map, REQUIRED_SCOPES and
# both manifests.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "apps_connections_open": set(),  # the app-level token's connections:write, not a bot scope
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_getPermalink": set(),
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_open": {"im:write"},
    "files_upload_v2": {"files:write"},
    "views_publish": set(),
    "users_info": {"users:read"},
}
EVENT_SCOPES: dict[str, set[str]] = {
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "app_home_opened": set(),
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
}
_API_PREFIXES = ("admin", "api", "apps", "assistant", "auth", "bookmarks", "bots", "calls", "canvases", "chat",
                 "conversations", "dialog", "dnd", "emoji", "files", "functions", "migration", "oauth", "openid",
                 "pins", "reactions", "reminders", "rtm", "search", "stars", "team", "usergroups", "users", "views",
                 "workflows")
_API_CALL_RE = re.compile(rf"\bclient\.((?:{'|'.join(_API_PREFIXES)})_[A-Za-z0-9_]+)\(")  # client.x / self.client.x


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=[SOCKET_MANIFEST, HTTP_MANIFEST], ids=["socket", "http"])
def manifest(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


@dataclass
class Registered:
    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    actions: list[Any] = field(default_factory=list)  # action ids: str or re.Pattern


@dataclass
class BuiltApp:
    settings: Settings
    app: App
    registered: Registered


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltApp]:
    """The real app, as `paperbot run` builds it (no token check, no network: nothing is sent)."""
    from bot.services import Services
    from bot.slack.app import create_app, shutdown_app

    data_dir = tmp_path_factory.mktemp("manifest-data")
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-manifest-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                              "SLACK_API_URL": "http://127.0.0.1:9/api/", "PAPERBOT_DATA_DIR": str(data_dir)})
    services = Services.open(settings)
    try:
        app = create_app(settings, services, verify_token=False)
        try:
            yield BuiltApp(settings, app, registered(app))
        finally:
            shutdown_app(app, 5)
    finally:
        services.close()


# --- reading Bolt's listeners -------------------------------------------------------------------------------


def _matches(matcher: Any, body: dict[str, Any]) -> bool:
    return bool(matcher.matches(BoltRequest(body=body, mode="socket_mode"), BoltResponse(status=200)))


def event_body(subscription: str) -> dict[str, Any]:
    """A minimal event_callback for a manifest subscription name (message.channels -> a channel message)."""
    if subscription in MESSAGE_SUBSCRIPTIONS:
        event = {"type": "message", "channel_type": MESSAGE_SUBSCRIPTIONS[subscription], "channel": "C0TEST",
                 "user": "U0TEST", "text": "hi", "ts": "1700000000.000100"}
    else:
        event = {"type": subscription, "user": "U0TEST"}
    return {"type": "event_callback", "team_id": "T0TEST", "api_app_id": "A0TEST", "event": event,
            "event_id": "Ev0TEST", "event_time": 1700000000}


def command_body(command: str) -> dict[str, Any]:
    return {"command": command, "text": "", "user_id": "U0TEST", "channel_id": "C0TEST", "team_id": "T0TEST"}


def action_body(action_id: str) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": "U0TEST"}, "team": {"id": "T0TEST"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": "v"}]}


def registered(app: App) -> Registered:
    found = Registered()
    for listener in app._listeners:
        primary = listener.matchers[0]
        func = getattr(primary, "func", None)
        assert callable(func), f"listener {listener.ack_function} has no builtin primary matcher: update this test"
        kind = func.__qualname__.split(".")[0]
        names = inspect.getclosurevars(func).nonlocals
        if kind == "event":
            event_type = names.get("event_type", (names.get("constraints") or {}).get("type"))
            assert isinstance(event_type, str), \
                f"{listener.ack_function.__name__}: event listener on {event_type!r}; list event types one by one"
            assert _matches(primary, event_body(event_type)), f"misread the event listener for {event_type}"
            found.events.add(event_type)
        elif kind == "command":
            command = names["command"]
            assert isinstance(command, str) and _matches(primary, command_body(command)), command
            found.commands.add(command)
        elif kind == "action":
            action = names["constraints"]
            if isinstance(action, str):
                assert _matches(primary, action_body(action)), f"misread the action listener for {action}"
            found.actions.append(action)
        else:
            pytest.fail(f"listener {listener.ack_function.__name__} is a {kind!r} listener: teach this test (and "
                        f"the manifests) about it")
    return found


def handled(app: App, subscription: str) -> bool:
    body = event_body(subscription)
    return any(_matches(listener.matchers[0], body) for listener in app._listeners)


def declared_event_types(manifest: dict[str, Any]) -> set[str]:
    """The event types (as the code sees them) a manifest subscribes to: message.* subscriptions are `message`."""
    return {"message" if e in MESSAGE_SUBSCRIPTIONS else e for e in manifest["settings"]["event_subscriptions"]
            ["bot_events"]}


# --- the two manifests --------------------------------------------------------------------------------------


def test_the_manifests_differ_only_in_the_mode_and_the_urls() -> None:
    socket, http = load(SOCKET_MANIFEST), load(HTTP_MANIFEST)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"]["request_url"] == HTTP_URL
    assert http["settings"]["interactivity"]["request_url"] == HTTP_URL
    assert [c["url"] for c in http["features"]["slash_commands"]] == [HTTP_URL]

    def urls(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [k for k in node if k in ("url", "request_url")] + [u for v in node.values() for u in urls(v)]
        return [u for v in node for u in urls(v)] if isinstance(node, list) else []

    assert urls(socket) == [], "Socket Mode needs no URL"
    stripped = copy.deepcopy(http)
    stripped["settings"]["socket_mode_enabled"] = True
    del stripped["settings"]["event_subscriptions"]["request_url"]
    del stripped["settings"]["interactivity"]["request_url"]
    for command in stripped["features"]["slash_commands"]:
        del command["url"]
    assert stripped == socket


def test_the_fixed_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert manifest["features"]["bot_user"]["display_name"]
    assert manifest["display_information"]["name"]
    (command,) = manifest["features"]["slash_commands"]
    assert command["description"] == "Search, watch and save research papers"
    hinted = [part.split()[0] for part in command["usage_hint"].split("|")]
    assert [h for h in hinted if REGISTRY.resolve(h) is None] == [], "usage_hint names a subcommand"


def test_every_scope_is_explained_in_a_comment() -> None:
    for path in (SOCKET_MANIFEST, HTTP_MANIFEST):
        text = path.read_text(encoding="utf-8")
        for scope in REQUIRED_SCOPES:
            assert re.search(rf"^ *#.*\n *- {re.escape(scope)} *$", text, re.MULTILINE), \
                f"{path.name}: no comment line right above scope {scope}"


# --- manifests against the code ------------------------------------------------------------------------------


def test_every_event_the_code_handles_is_declared(built: BuiltApp, manifest: dict[str, Any]) -> None:
    assert built.registered.events == {"reaction_added", "reaction_removed", "app_home_opened", "message"}, \
        "the saving listeners (bot/slack/reactions.py, links.py, home.py) are not all wired into the app"
    assert built.registered.events <= declared_event_types(manifest)
    if "message" in built.registered.events:
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) & set(MESSAGE_SUBSCRIPTIONS) == \
            MESSAGE_EVENTS


def test_every_declared_event_is_handled(built: BuiltApp, manifest: dict[str, Any]) -> None:
    bot_events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert len(bot_events) == len(set(bot_events))
    assert [e for e in bot_events if not handled(built.app, e)] == []
    assert declared_event_types(manifest) <= built.registered.events


def test_the_slash_command_is_the_one_the_code_registers(built: BuiltApp, manifest: dict[str, Any]) -> None:
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [built.settings.command]
    assert built.registered.commands == {built.settings.command}


def test_interactivity_and_the_home_tab_follow_the_listeners(built: BuiltApp, manifest: dict[str, Any]) -> None:
    assert built.registered.actions, "no action listeners found: the introspection is broken"
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(built.registered.actions)
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is ("app_home_opened" in built.registered.events)
    # The export's .bib arrives in the DM with the bot, which needs the Messages tab; read-only, since no
    # message.im listener would answer there.
    assert app_home["messages_tab_enabled"] is True and app_home["messages_tab_read_only_enabled"] is True
    assert "message.im" not in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_scopes_are_exactly_what_the_code_needs(manifest: dict[str, Any]) -> None:
    declared = manifest["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(REQUIRED_SCOPES)
    assert manifest["oauth_config"]["scopes"].keys() == {"bot"}, "paperbot needs no user token"

    used = {m.group(1) for path in (ROOT / "bot").rglob("*.py") for m in _API_CALL_RE.finditer(path.read_text())}
    assert {"chat_postMessage", "conversations_history", "files_upload_v2"} <= used, "the scan found too little"
    assert sorted(used - METHOD_SCOPES.keys()) == [], "a Web API method whose scopes this test does not know"
    assert not any("api_call(" in p.read_text() for p in (ROOT / "bot").rglob("*.py")), \
        "a raw api_call(): teach this test which method it calls"
    needed = set().union(*(METHOD_SCOPES[m] for m in used))
    needed |= set().union(*(EVENT_SCOPES[e] for e in manifest["settings"]["event_subscriptions"]["bot_events"]))
    if manifest["features"]["slash_commands"]:
        needed.add("commands")
    assert needed == set(REQUIRED_SCOPES)
