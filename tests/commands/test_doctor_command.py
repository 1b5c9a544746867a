"""`paperbot doctor` against the Slack emulator and the fake paper sources (in this process, and once as a real
process): one line per check, the right exit status, every check run even when another fails, no traceback,
no token printed, nothing written and no lock taken."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from cli_runner import PaperbotCLI, run_process
from embedding_model import needs_model
from fake_sources import FakeSources
from slack_driver import SIGNING_SECRET
from slack_emulator import SlackEmulator

from bot.relevance.encoder import TextEncoder, bundled_model_dir
from bot.relevance.engine import VECTORS_FILE
from bot.relevance.vectors import PaperVectors
from bot.slack.scopes import REQUIRED_SCOPES
from bot.store.tinydb.files import DataDir


def doctor_env(slack: SlackEmulator, sources: FakeSources, data_dir: Path, **overrides: str) -> dict[str, str]:
    env = sources.env(data_dir)
    env.update({
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "",  # empty, not absent: a developer's .env must not fill it in
        "SLACK_API_URL": slack.api_url,
    })
    env.update(overrides)
    return env


class Doctor:
    def __init__(self, paperbot: PaperbotCLI) -> None:
        self.paperbot = paperbot

    def __call__(self, env: dict[str, str]) -> tuple[int, str, str]:
        done = self.paperbot("doctor", env=env)
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def run_doctor(paperbot: PaperbotCLI) -> Doctor:
    return Doctor(paperbot)


def line(report: str, name: str) -> str:
    """The line of check `name` (with its continuation lines), e.g. 'ok    Slack token: …'."""
    match = re.search(rf"^(\w+ +{re.escape(name)}: .*(?:\n {{6,}}- .*)*)$", report, re.MULTILINE)
    assert match, f"no line for {name!r} in:\n{report}"
    return match.group(1)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.e2e
def test_all_ok_while_the_bot_holds_the_data_directory(slack: SlackEmulator, fake_sources: FakeSources,
                                                       tmp_path: Path) -> None:
    data = tmp_path / "data"
    with DataDir(data):  # as if `paperbot run` were running: doctor must neither need nor take the lock
        before = sorted(p.name for p in data.iterdir())
        done = run_process("doctor", env=doctor_env(slack, fake_sources, data), cwd=tmp_path)
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        status, out, err = done.returncode, done.stdout, done.stderr
        assert sorted(p.name for p in data.iterdir()) == before
    assert status == 0, out + err
    assert line(out, "configuration").startswith("ok    configuration: HTTP mode")
    assert "set: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; not set: SLACK_APP_TOKEN" in line(out, "configuration")
    assert line(out, "data directory").startswith(f"ok    data directory: {data} (writable")
    assert line(out, "Slack token") == "ok    Slack token: bot @paperbot (U0PAPERBOT) in team Emulated Team (T0EMULATE)"
    assert line(out, "Slack scopes").startswith(f"ok    Slack scopes: all {len(REQUIRED_SCOPES)} required scopes")
    assert line(out, "Socket Mode").startswith("skip  Socket Mode: HTTP mode")
    assert line(out, "Hugging Face").startswith("ok    Hugging Face:")
    assert line(out, "arXiv").startswith("ok    arXiv:")
    assert line(out, "relevance").startswith("ok    relevance: PAPERBOT_EMBEDDINGS=off")
    assert out.rstrip().splitlines()[-1] == "doctor: all 7 checks ok — paperbot can run"
    assert slack.bot_token not in out + err
    assert [c.method for c in slack.calls] == ["auth.test"]
    assert [r.query.get("limit") for r in fake_sources.seen("/daily_papers")] == ["1"]
    assert [r.query.get("max_results") for r in fake_sources.seen("/api/query")] == ["1"]


def test_socket_mode_checks_the_app_token_without_connecting(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    env = doctor_env(slack, fake_sources, tmp_path / "data", SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET="")
    status, out, err = run_doctor(env)
    assert status == 0, out + err
    assert line(out, "configuration").startswith("ok    configuration: Socket Mode")
    assert line(out, "Socket Mode") == "ok    Socket Mode: SLACK_APP_TOKEN accepted (apps.connections.open)"
    assert "does not exist yet" in line(out, "data directory")
    assert not (tmp_path / "data").exists()
    assert len(slack.calls_to("apps.connections.open")) == 1
    assert slack.socket_mode._clients == []  # the websocket URL was not opened
    assert slack.app_token not in out + err


def test_a_rejected_bot_token_fails_and_the_other_checks_still_run(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    status, out, err = run_doctor(doctor_env(slack, fake_sources, tmp_path, SLACK_BOT_TOKEN="xoxb-not-the-right-one"))
    assert status == 1
    assert line(out, "Slack token").startswith("FAIL  Slack token: invalid_auth — check SLACK_BOT_TOKEN")
    assert line(out, "Slack scopes").startswith("skip  Slack scopes")
    assert line(out, "Hugging Face").startswith("ok ")
    assert line(out, "arXiv").startswith("ok ")
    assert out.rstrip().splitlines()[-1].startswith("doctor: 1 failed")
    assert "not-the-right-one" not in out + err


def test_a_missing_scope_is_named_with_its_reason(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    slack.scopes = ",".join(s for s in REQUIRED_SCOPES if s != "files:write") + ",users:read"
    status, out, _ = run_doctor(doctor_env(slack, fake_sources, tmp_path))
    assert status == 1
    scopes = line(out, "Slack scopes")
    assert scopes.startswith("FAIL  Slack scopes: missing files:write — add them under OAuth & Permissions")
    assert scopes.endswith(f"\n        - files:write: {REQUIRED_SCOPES['files:write']}")
    assert "chat:write" not in scopes
    assert line(out, "Slack token").startswith("ok ")


def test_no_scope_header_is_a_warning(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    slack.scopes = None
    status, out, _ = run_doctor(doctor_env(slack, fake_sources, tmp_path))
    assert status == 0
    assert line(out, "Slack scopes").startswith("WARN  Slack scopes: Slack did not say which scopes")
    assert out.rstrip().splitlines()[-1].startswith("doctor: no failures, 1 warning(s)")


def test_an_unreachable_paper_source_fails_its_line_only(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    env = doctor_env(slack, fake_sources, tmp_path, HF_API_URL=f"http://127.0.0.1:{closed_port()}/api")
    status, out, _ = run_doctor(env)
    assert status == 1
    assert re.match(r"FAIL  Hugging Face: http://127\.0\.0\.1:\d+/api/daily_papers: cannot connect .*HF_API_URL",
                    line(out, "Hugging Face"))
    assert line(out, "arXiv").startswith("ok ")
    assert line(out, "Slack token").startswith("ok ")


def test_arxiv_answering_garbage_fails(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    from local_http import Reply

    fake_sources.fail("/arxiv/", Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}), times=None)
    status, out, _ = run_doctor(doctor_env(slack, fake_sources, tmp_path))
    assert status == 1
    assert line(out, "arXiv").startswith("FAIL  arXiv: ")
    assert line(out, "Hugging Face").startswith("ok ")


def test_no_bot_token_at_all_is_one_clear_line(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    status, out, err = run_doctor(doctor_env(slack, fake_sources, tmp_path, SLACK_BOT_TOKEN=""))
    assert status == 1
    config = line(out, "configuration")
    assert config.startswith("FAIL  configuration: HTTP mode")
    assert "- SLACK_BOT_TOKEN must be set to the app's bot token (xoxb-...) — copy the Bot User OAuth Token" in config
    assert line(out, "Slack token").startswith("skip  Slack token")
    assert slack.calls == []
    assert err == "" or "error" not in err.lower(), err


def test_a_corrupt_store_fails_the_data_directory_line(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "archive.json").write_bytes(b'{"papers": {"2401.00001": {"id": "2401.0')  # cut short
    status, out, _ = run_doctor(doctor_env(slack, fake_sources, data))
    assert status == 1
    assert re.match(r"FAIL  data directory: .*archive\.json is not valid JSON .*Restore it from a backup",
                    line(out, "data directory"))
    assert (data / "archive.json").read_bytes().endswith(b'"2401.0'), "doctor changes nothing"


def test_the_placeholders_of_env_example_fail_and_say_to_replace_them(
        run_doctor: Doctor, slack: SlackEmulator, fake_sources: FakeSources, tmp_path: Path) -> None:
    status, out, _ = run_doctor(doctor_env(slack, fake_sources, tmp_path, SLACK_BOT_TOKEN="xoxb-your-bot-token",
                                           SLACK_SIGNING_SECRET="your-signing-secret"))
    assert status == 1
    config = line(out, "configuration")
    assert config.startswith("FAIL  configuration: HTTP mode")
    assert "set: none; not set: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN" in config
    assert "- SLACK_BOT_TOKEN is still the placeholder from .env.example — replace it" in config
    assert "- SLACK_SIGNING_SECRET is still the placeholder from .env.example — replace it" in config
    assert line(out, "Slack token").startswith("skip  Slack token")
    assert slack.calls == []


@needs_model
def test_the_relevance_line_names_the_model_and_counts_stored_vectors(paperbot: PaperbotCLI, slack: SlackEmulator,
                                                                      fake_sources: FakeSources,
                                                                      tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    encoder = TextEncoder(bundled_model_dir() or Path())
    PaperVectors(encoder.dimensions, encoder.name, data / VECTORS_FILE).add(
        ["2406.00001", "2406.00002"], encoder.encode(["one paper", "another paper"]))
    done = paperbot("doctor", env=doctor_env(slack, fake_sources, data, PAPERBOT_EMBEDDINGS="auto"))
    assert line(done.stdout, "relevance") == (f"ok    relevance: model {encoder.name} (384 dimensions) from "
                                               f"{bundled_model_dir()}; 2 paper vectors stored")


def test_a_model_folder_that_is_not_a_model_fails_the_relevance_line(paperbot: PaperbotCLI, slack: SlackEmulator,
                                                                     fake_sources: FakeSources,
                                                                     tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"not a model")
    (folder / "tokenizer.json").write_text("{}")
    done = paperbot("doctor", env=doctor_env(slack, fake_sources, tmp_path / "data", PAPERBOT_EMBEDDINGS=str(folder)))
    assert line(done.stdout, "relevance").startswith(f"FAIL  relevance: cannot load the embedding model from {folder}")
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1
