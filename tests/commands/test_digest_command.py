"""`paperbot digest` in this process against the Slack emulator: posts every due channel's digest once, previews
with --dry-run without recording anything, and refuses bad arguments in one line. (The real-process runs,
alongside a running bot, are in tests/digest/test_digest_e2e.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_runner import PaperbotCLI
from slack_driver import SIGNING_SECRET
from slack_emulator import SlackEmulator

from bot.digest.schedule import parse_schedule_args
from bot.digest.settings import DigestOptions
from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.files import DataDir


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Two channels whose 00:00 UTC digest is due, one matching paper each."""
    path = tmp_path / "data"
    with DataDir(path) as data_dir:
        Archive(data_dir.store("archive")).upsert([
            new_record("2405.88001", source="hf", title="Diffusion models for proteins", abstract="Diffusion.",
                       hf_date=datetime.now(UTC).date().isoformat()),
            new_record("2405.88002", source="hf", title="Graph transformers at scale", abstract="Graphs.",
                       hf_date=datetime.now(UTC).date().isoformat())])
        channels, settings = Channels(data_dir.store("channels")), Channels(data_dir.store("channels"),
                                                                            DigestOptions())
        for channel, topic in (("C0BIO", "diffusion"), ("C0GRAPH", "graph transformers")):
            channels.watch(channel, topic, "U0ALICE")
            settings.change_schedule(channel, "U0ALICE", parse_schedule_args("00:00 UTC"), datetime(2020, 1, 1,
                                                                                                      tzinfo=UTC))
    return path


def digest_env(slack: SlackEmulator, data: Path) -> dict[str, str]:
    return {"PAPERBOT_DATA_DIR": str(data), "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url, "PAPERBOT_POST_INTERVAL": "0",
            "PAPERBOT_LOG_LEVEL": "WARNING"}


def test_paperbot_digest_posts_every_due_channel_once_from_the_cli(paperbot: PaperbotCLI, slack: SlackEmulator,
                                                                   data: Path) -> None:
    first = paperbot("digest", env=digest_env(slack, data))
    assert first.returncode == 0, first.stderr
    assert "C0BIO" in first.stdout and "C0GRAPH" in first.stdout and "1 posted of 1" in first.stdout
    papers = {c: [b["block_id"] for m in slack.messages[c] for b in m["blocks"]
                  if b.get("block_id", "").startswith("paper:")] for c in ("C0BIO", "C0GRAPH")}
    assert papers == {"C0BIO": ["paper:2405.88001"], "C0GRAPH": ["paper:2405.88002"]}
    again = paperbot("digest", env=digest_env(slack, data))
    assert again.returncode == 0 and "already" in again.stdout
    assert sum(len(v) for v in slack.messages.values()) == 4, "nothing posted twice"


def test_dry_run_prints_each_digest_and_records_nothing(paperbot: PaperbotCLI, slack: SlackEmulator,
                                                        data: Path) -> None:
    before = {p.name: p.read_bytes() for p in data.glob("*.json")}
    with DataDir(data):  # as a running bot: the preview needs no lock
        result = paperbot("digest", "--dry-run", env=digest_env(slack, data))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == ["C0BIO", "C0GRAPH"]
    assert "1 paper(s) of 2 new, 0 over the maximum of 10" in lines[0]
    assert lines[1].split()[:3] == ["1.", "2405.88001", "Diffusion"] and "[diffusion; " in lines[1]
    assert slack.calls == [], "a preview sends Slack nothing"
    assert {p.name: p.read_bytes() for p in data.glob("*.json")} == before


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--channel", "general"], {}, "paperbot: --channel must be a Slack channel id such as C0123ABCD (got 'general')"),
    (["--channel", "C0NONE"], {}, "paperbot: channel C0NONE watches no topics, so its digest would be empty"),
    ([], {"SLACK_BOT_TOKEN": ""}, "paperbot: posting digests needs SLACK_BOT_TOKEN (or use --dry-run)"),
])
def test_refusals_are_one_line(paperbot: PaperbotCLI, slack: SlackEmulator, data: Path, args: list[str],
                               env: dict[str, str], message: str) -> None:
    result = paperbot("digest", *args, env={**digest_env(slack, data), **env})
    assert (result.stdout, result.stderr.strip()) == ("", message)
    assert result.returncode == (1 if "watches no topics" in message else 2)
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(("token", "message"), [
    ("xoxb-your-bot-token", "paperbot: configuration error: SLACK_BOT_TOKEN is still the placeholder from "
                            ".env.example — replace it with the app's bot token (xoxb-...)"),
    ("xoxp-1234-5678", "paperbot: configuration error: SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' "
                       "(got 'xoxp-…')"),
])
def test_a_placeholder_or_malformed_token_is_refused_like_run_and_nothing_is_written(
        paperbot: PaperbotCLI, slack: SlackEmulator, data: Path, token: str, message: str) -> None:
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    result = paperbot("digest", env={**digest_env(slack, data), "SLACK_BOT_TOKEN": token})
    assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", message)
    assert slack.calls == [], "Slack was not called"
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing written"
