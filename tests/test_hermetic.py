"""The suite is hermetic: no `.env` (the repository's, a parent folder's) and no settings variable of the outer
environment changes what a CLI run, a `python -m bot` process or a `paperbot run` process sees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bot_process import Bot, bot_env
from cli_runner import PaperbotCLI, run_process
from slack_emulator import SlackEmulator

from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir

# What a filled-in `.env` or a developer's shell could hold: every value would change or break the run.
HOSTILE = {
    "PAPERBOT_DATA_DIR": "/nonexistent/paperbot-data",
    "PAPERBOT_LOG_LEVEL": "LOUD",
    "PAPERBOT_TZ": "Mars/Olympus_Mons",
    "PAPERBOT_COMMAND": "/hostile",
    "PORT": "not-a-port",
    "SLACK_BOT_TOKEN": "xoxb-hostile",
    "SLACK_APP_TOKEN": "xapp-hostile",  # would switch `run` to Socket Mode
    "SLACK_SIGNING_SECRET": "hostile",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "HF_API_URL": "http://127.0.0.1:9/hf",
    "ARXIV_API_URL": "http://127.0.0.1:9/arxiv",
}
SCRUBBED = ("PAPERBOT_", "SLACK_", "HF_API_URL", "ARXIV_API_URL", "PORT")


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory under a folder whose `.env` holds bad values, in an environment that holds them too."""
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in HOSTILE.items()))
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    with DataDir(path) as data_dir:
        Archive(data_dir.store("archive")).upsert([new_record("2405.10001", source="hf", title="Hermetic Tests")])
    return path


def test_the_session_starts_with_no_settings_variable() -> None:
    assert [name for name in os.environ if name.startswith(SCRUBBED)] == []


def test_an_in_process_cli_run_sees_only_its_own_settings(paperbot: PaperbotCLI, hostile: Path, data: Path) -> None:
    result = paperbot("search", "hermetic", env={"PAPERBOT_DATA_DIR": str(data)}, cwd=hostile)
    assert result.returncode == 0, result.stderr
    assert "2405.10001" in result.stdout
    assert os.environ["PORT"] == "not-a-port", "the test's own environment is put back afterwards"


@pytest.mark.e2e
def test_a_cli_process_sees_only_its_own_settings(hostile: Path, data: Path) -> None:
    result = run_process("search", "hermetic", env={"PAPERBOT_DATA_DIR": str(data)}, cwd=hostile)
    assert result.returncode == 0, result.stderr
    assert "2405.10001" in result.stdout


@pytest.mark.e2e
def test_a_bot_process_sees_only_its_own_settings(hostile: Path, data: Path) -> None:
    with SlackEmulator() as slack:
        bot = Bot(bot_env(slack, data), "--port", "0", cwd=hostile)
        try:
            bot.wait_for(r"paperbot\.listening mode=http url=http://127\.0\.0\.1:\d+/slack/events")
            bot.wait_for(r"paperbot\.ready")
            assert len(slack.calls_to("auth.test")) == 1
        finally:
            bot.stop()
