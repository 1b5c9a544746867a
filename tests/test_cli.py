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
