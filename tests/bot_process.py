"""A real `paperbot run` process for the tests that need one (signals, kill -9): its settings, and its stderr
read line by line."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from cli_runner import process_env
from slack_driver import SIGNING_SECRET
from slack_emulator import SlackEmulator


def bot_env(slack: SlackEmulator, data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PAPERBOT_DATA_DIR": str(data_dir),
        "PAPERBOT_HTTP_TIMEOUT": "5",
        "PAPERBOT_LOG_LEVEL": "INFO",
        **overrides,
    }
    return {k: v for k, v in env.items() if v != ""}


class Bot:
    """A running `paperbot run` process whose stderr is read line by line on a thread."""

    def __init__(self, env: dict[str, str], *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run", *args], cwd=cwd,
                                        env=process_env(env, cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 15) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; stderr so far:\n{''.join(self.log)}") from None
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
