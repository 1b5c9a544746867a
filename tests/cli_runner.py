"""Runs `paperbot …` for the CLI tests: in this process (`bot.cli.main(argv)`, the default) or as a real
`python -m bot` process (the one smoke test per command).

Either way a run sees exactly the settings its test gives: no SLACK_*/PAPERBOT_*/HF_*/ARXIV_*/PORT variable of
the outer environment, and no `.env` of the repository or a parent folder (the working directory gets an empty
`.env` unless the test wrote one, and python-dotenv stops at the first it finds). An in-process run also leaves
nothing behind: the environment, working directory, logging set-up and switch interval are restored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import NOISY_LOGGERS

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_PREFIXES = ("SLACK_", "PAPERBOT_", "HF_", "ARXIV_", "PORT")  # every variable bot/config.py reads
# Tests run without the embedding model unless they ask for it (PAPERBOT_EMBEDDINGS=auto): each bot would load
# it and embed its papers in the background, which costs seconds and makes a match depend on timing.
TEST_DEFAULTS = {"PAPERBOT_EMBEDDINGS": "off"}


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def _empty_dotenv(cwd: Path) -> None:
    dotenv = cwd / ".env"
    if not dotenv.exists():
        dotenv.write_text("")


@contextlib.contextmanager
def settings_environment(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    """Inside: the settings variables are exactly `env`, the working directory is `cwd` (its `.env` is read)."""
    _empty_dotenv(cwd)
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(SETTINGS_PREFIXES):
                patch.delenv(name)
        for name, value in {**TEST_DEFAULTS, **env}.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        before = set(os.environ)
        try:
            yield
        finally:
            for name in set(os.environ) - before:  # set from a .env by load_settings
                del os.environ[name]


@contextlib.contextmanager
def _restored_logging() -> Iterator[None]:
    """bot.logs.configure replaces the root handlers (pytest's among them) and sets levels; `run` tunes the
    switch interval. Put all of it back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    switch_interval = sys.getswitchinterval()
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
        sys.setswitchinterval(switch_interval)


class PaperbotCLI:
    """`paperbot(*argv, env={...}, cwd=path)` runs `bot.cli.main` here and returns what a process would have:
    exit status, stdout, stderr (log lines included: they go to stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        self._workdir = workdir

    def __call__(self, *argv: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Completed:
        with settings_environment(self._monkeypatch, env or {}, cwd or self._workdir), _restored_logging():
            self._capsys.readouterr()
            try:
                status = main(list(argv))
            except SystemExit as exc:  # argparse: usage errors, --help, --version
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            out, err = self._capsys.readouterr()
        return Completed(status, out, err)


def process_env(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The environment of a `python -m bot` process in `cwd` whose settings variables are exactly `env`."""
    _empty_dotenv(cwd)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return {**clean, "PYTHONPATH": str(ROOT), **TEST_DEFAULTS, **env}


def run_process(*argv: str, env: Mapping[str, str], cwd: Path, timeout: float = 60) -> Completed:
    """`python -m bot *argv` with the settings variables `env`, in `cwd`."""
    done = subprocess.run([sys.executable, "-m", "bot", *argv], env=process_env(env, cwd), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    return Completed(done.returncode, done.stdout, done.stderr)
