"""The TinyDB feedback store (bot/store/tinydb/feedback.py): its own file, no rewrite for a repeat, old reaction
records dropped, a bad record refused by name."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bot.store.tinydb.feedback import FeedbackStore
from bot.store.tinydb.files import CorruptStoreError, DataDir


def test_feedback_lives_in_its_own_file_and_a_repeat_does_not_rewrite_it(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data:
        store = data.store("feedback")
        feedback = FeedbackStore(store)
        feedback.mark("C1", "2405.12345", "U1", via="button", ts="1.1")
        writes = store.writes
        feedback.mark("C1", "2405.12345", "U1", via="button", ts="1.1")
        assert store.writes == writes
    stored = orjson.loads((tmp_path / "feedback.json").read_bytes())["feedback"]
    assert list(stored) == ["C1:2405.12345:U1:not_relevant:button"]
    assert not (tmp_path / "saves.json").exists()


def test_taken_back_reactions_are_forgotten_a_week_later(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data:
        feedback = FeedbackStore(data.store("feedback"))
        feedback.mark("C1", "2405.00001", "U1", via="reaction", reaction="-1", ts="1.1", event_ts="1716200000.000100")
        feedback.unmark("C1", "2405.00001", "U1", via="reaction", reaction="-1", event_ts="1716200000.000200")
        feedback.mark("C1", "2405.00002", "U1", via="reaction", reaction="-1", ts="2.2", event_ts="1716900000.000100")
    stored = orjson.loads((tmp_path / "feedback.json").read_bytes())["feedback"]
    assert list(stored) == ["C1:2405.00002:U1:not_relevant:reaction:-1"], "the removal 8 days earlier is dropped"


def test_a_bad_record_stops_the_load_naming_the_file_and_the_record(tmp_path: Path) -> None:
    (tmp_path / "feedback.json").write_bytes(orjson.dumps({"feedback": {"C1:x": {"channel": "C1", "user": "U1"}}}))
    with DataDir(tmp_path) as data, pytest.raises(CorruptStoreError, match=r"feedback\.json.*'C1:x'.*paper_id"):
        data.store("feedback")


def test_a_process_killed_mid_write_leaves_every_acknowledged_mark(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with DataDir(tmp_path) as data:
        feedback = FeedbackStore(data.store("feedback"))
        feedback.mark("C1", "2405.00001", "U1", via="button")

        def killed(*args: object) -> None:
            raise SystemExit("killed")  # the process dies inside the rewrite: nothing after this line runs

        monkeypatch.setattr("os.replace", killed)
        with pytest.raises(SystemExit):
            feedback.mark("C1", "2405.00002", "U1", via="button")
        monkeypatch.undo()
        assert [f.paper_id for f in feedback.in_channel("C1")] == ["2405.00001"], "memory is what the file holds"
    with DataDir(tmp_path, read_only=True) as data:
        assert [f.paper_id for f in FeedbackStore(data.store("feedback")).in_channel("C1")] == ["2405.00001"]
