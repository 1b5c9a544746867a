"""Shared pytest fixtures. Keep each block self-contained: several areas of the suite add fixtures here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

import bot  # noqa: F401  (first: it limits BLAS to one thread before any test imports numpy)

if TYPE_CHECKING:
    from cli_runner import PaperbotCLI


# --- hermetic: no settings variable of the outer environment reaches any test (tests/test_hermetic.py) ---------
@pytest.fixture(scope="session", autouse=True)
def _no_outside_settings() -> Iterator[None]:
    """A developer's shell (or a `.env` loaded into it) must not change a result: every variable bot/config.py
    reads is removed for the session, and put back after."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("PAPERBOT_", "SLACK_")) or name in ("HF_API_URL", "ARXIV_API_URL", "PORT"):
                patch.delenv(name)
        yield


# --- paper sources: a local Hugging Face + arXiv API (tests/fake_sources.py) ---------------------------
@pytest.fixture
def fake_sources() -> Iterator[object]:
    from fake_sources import FakeSources

    with FakeSources() as server:
        yield server


# --- Slack: the Web API emulator alone (tests/slack_emulator.py) ------------------------------------------------
@pytest.fixture
def slack() -> Iterator[object]:
    from slack_emulator import SlackEmulator

    with SlackEmulator() as emulator:
        yield emulator


# --- Slack: the Web API emulator plus the real app behind waitress (tests/slack_emulator.py, slack_driver.py) ---
@pytest.fixture
def slack_stack_factory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """`make(papers, env=None)` starts a stack; every stack is stopped afterwards, and the test fails if the
    bot sent Slack anything it would reject (invalid blocks, no text fallback, a 6th post to a response URL).
    Retries to the emulator wait milliseconds instead of slack_sdk's half-second backoff and 1 s jitter."""
    from slack_driver import start_stack

    monkeypatch.setattr("bot.slack.retry.BACKOFF_FACTOR", 0.01)
    monkeypatch.setattr("bot.slack.retry.JITTER_SECONDS", 0.01)

    stacks = []

    def make(papers: list[dict] = (), env: dict[str, str] | None = None) -> object:
        stack = start_stack(tmp_path_factory.mktemp("slack-data"), list(papers), env=env)
        stacks.append(stack)
        return stack

    yield make
    problems = [p for stack in stacks for p in stack.slack.problems]
    for stack in stacks:
        stack.stop()
    assert problems == [], f"the bot sent Slack something it would reject: {problems}"


# --- CLI: `paperbot …` in this process, with only the settings a test gives (tests/cli_runner.py) --------------
@pytest.fixture
def paperbot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             tmp_path_factory: pytest.TempPathFactory) -> PaperbotCLI:
    from cli_runner import PaperbotCLI

    return PaperbotCLI(monkeypatch, capsys, tmp_path_factory.mktemp("cwd"))
