"""Records, saves and a validity check shared by the saving renderers' tests."""

from __future__ import annotations

from slack_emulator import BROADCAST_RE, all_strings, validate_message

from bot.papers import new_record
from bot.store.models import Save

INJECTED = "<!channel> Free GPUs <@U0ATTACKER> & <https://evil.example|click> ```"


def record(i: int = 1, **overrides: object) -> dict:
    fields: dict = {"title": f"Paper {i}", "authors": ["Ada Lovelace"], "published": "2024-05-02T00:00:00Z"}
    fields.update(overrides)
    return dict(new_record(f"2405.{i:05d}", source="arxiv", **fields))


def save(i: int = 1, **overrides: object) -> Save:
    fields: dict = {"user": "U0ALICE", "paper_id": f"2405.{i:05d}", "channel": "C0GENERAL", "ts": "1.1",
                    "saved_at": "2026-11-24T10:00:00.000000Z", "via": "button", "reactions": (), "kept": True}
    fields.update(overrides)
    return Save(**fields)


def inert(message: dict) -> None:
    assert validate_message(message) == []
    for text in all_strings(message):
        assert not BROADCAST_RE.search(text) and "<@U0ATTACKER>" not in text and "<https://evil" not in text, text
