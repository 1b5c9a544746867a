"""`paperbot` itself (bot/cli.py): every expected failure is one line on stderr and an exit status."""

from __future__ import annotations

from pathlib import Path

from cli_runner import PaperbotCLI

from bot import __version__


def test_cli_prints_one_line_not_a_traceback(paperbot: PaperbotCLI, tmp_path: Path) -> None:
    result = paperbot("ingest", env={"PORT": "nope", "PAPERBOT_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    expected = "paperbot: configuration error: PORT must be an integer from 1 to 65535 (got 'nope')"
    assert result.stderr.strip() == expected


def test_version(paperbot: PaperbotCLI) -> None:
    result = paperbot("--version")
    assert (result.returncode, result.stdout) == (0, f"paperbot {__version__}\n")


def test_run_without_a_token_says_to_copy_env_example(paperbot: PaperbotCLI, tmp_path: Path) -> None:
    result = paperbot("run", env={"PAPERBOT_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("paperbot: configuration error: SLACK_BOT_TOKEN must be set")
    assert "copy .env.example to .env" in result.stderr
    assert not (tmp_path / "data").exists()
