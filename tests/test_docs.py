"""The README and the examples stay true: every setting, subcommand and CLI command is documented, and the
digest picture is what the code renders today."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bot.commands import COMMAND_MODULES
from bot.slack.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def settings_read_by_the_code() -> set[str]:
    source = (ROOT / "bot" / "config.py").read_text()
    return set(re.findall(r'"((?:SLACK|HF|ARXIV|PAPERBOT)_[A-Z_]+|PORT)"', source))


def test_every_setting_is_in_the_configuration_table_and_the_env_example() -> None:
    names = settings_read_by_the_code()
    assert len(names) >= 20
    table = {m for m in re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.M)}
    assert names <= table, f"missing from the README table: {sorted(names - table)}"
    assert table <= names, f"documented but not read: {sorted(table - names)}"
    example = (ROOT / ".env.example").read_text()
    assert {n for n in names if not re.search(rf"^{n}=", example, flags=re.M)} == set()


def test_every_slack_subcommand_and_cli_command_is_documented() -> None:
    for name in REGISTRY.names():
        assert f"`/papers {name}" in README or (name == "search" and "/papers search" in README), name
    for name in COMMAND_MODULES:
        assert f"`paperbot {name}" in README, name


def test_the_digest_example_is_what_the_code_renders() -> None:
    rendered = subprocess.run([sys.executable, str(ROOT / "docs" / "digest_example.py")], capture_output=True,
                              text=True, check=True).stdout
    committed = (ROOT / "docs" / "digest-example.json").read_text()
    assert json.loads(rendered) == json.loads(committed), \
        "regenerate: python docs/digest_example.py > docs/digest-example.json"
    assert "&lt;!channel&gt;" in committed
