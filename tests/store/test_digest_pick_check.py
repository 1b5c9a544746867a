"""A digest's picks are checked as the digest service reads them: a pick without its `topic` (every version
wrote one; posting a digest reads it) is refused at load in one line, not a KeyError mid-digest."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.files import CorruptStoreError, DataDir

DIGEST = {"channel": "C1", "date": "2026-01-01", "trigger": "schedule", "status": "planned",
          "planned_at": "2026-01-01T00:00:00Z", "since": "2025-12-31T00:00:00Z",
          "picks": [{"id": "2405.00001", "score": 1.0, "topic": "diffusion"}], "skipped": [], "candidates": 1,
          "header_ts": None, "attempts": 0, "next_try_at": None, "last_error": None, "done_at": None, "posted": 0}


def test_a_digest_pick_without_its_topic_is_refused_in_one_line_at_load(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    doc = {**DIGEST, "picks": [{"id": "2405.00001", "score": 1.0}]}
    path.write_bytes(orjson.dumps({"posts": {}, "digests": {"C1:2026-01-01": doc}}))
    before = path.read_bytes()
    with DataDir(tmp_path) as data_dir, pytest.raises(CorruptStoreError) as refused:
        DigestLedger(data_dir.store("posts"))
    message = str(refused.value)
    assert str(path) in message and "'C1:2026-01-01'" in message and "topic" in message, message
    assert "\n" not in message and path.read_bytes() == before


def test_a_digest_whose_picks_have_their_topic_loads(tmp_path: Path) -> None:
    (tmp_path / "posts.json").write_bytes(orjson.dumps({"posts": {}, "digests": {"C1:2026-01-01": DIGEST}}))
    with DataDir(tmp_path) as data_dir:
        doc = DigestLedger(data_dir.store("posts")).unfinished()
    assert [p["topic"] for d in doc for p in d["picks"]] == ["diffusion"]
