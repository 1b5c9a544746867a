"""A wrong-shaped record in the "unreacted" table of saves.json (the latest add or removal of each save
reaction): it only guards Slack's redelivery window, so it is skipped with one warning and kept on disk,
never a traceback and never a reason to refuse the reading lists."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from cli_runner import PaperbotCLI

from bot.store.tinydb.files import DataDir
from bot.store.tinydb.saves import Saves

GOOD_SAVE = {"user": "U0123ABCD", "paper_id": "2405.00001", "channel": None, "ts": None,
             "saved_at": "2026-01-01T00:00:00.000000Z", "via": "button", "reactions": [], "kept": True}
GOOD_TOMBSTONE = {"user": "U1", "channel": "C1", "ts": "1.1", "reaction": "bookmark", "event_ts": "1716200000.000200"}


@pytest.mark.parametrize("bad", [[], None, "x", {"user": "U1"}, {**GOOD_TOMBSTONE, "event_ts": 1716200000.2},
                                 {**GOOD_TOMBSTONE, "kind": 3}])
def test_a_bad_reaction_event_record_is_skipped_with_one_warning_and_kept_on_disk(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: object) -> None:
    (tmp_path / "saves.json").write_bytes(orjson.dumps({
        "saves": {"U0123ABCD:2405.00001": GOOD_SAVE}, "pending": {},
        "unreacted": {"k": bad, "U1:C1:1.1:bookmark": GOOD_TOMBSTONE}}))
    caplog.set_level(logging.WARNING)
    with DataDir(tmp_path) as data_dir:
        saves = Saves(data_dir.store("saves"))
        assert saves.saved_ids("U0123ABCD") == {"2405.00001"}
        assert saves.save_reaction("U1", "2405.00002", channel="C1", ts="1.1", reaction="bookmark",
                                   event_ts="1716200000.000100") is None, "the good record still counts"
        saves.save("U2", "2405.00003", via="button")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("store.record_skipped ") and "key=k" in warnings[0], warnings
    assert "table=unreacted" in warnings[0] and "\n" not in warnings[0]
    assert orjson.loads((tmp_path / "saves.json").read_bytes())["unreacted"]["k"] == bad


def test_paperbot_export_reads_a_reading_list_next_to_a_bad_reaction_event_record(
        paperbot: PaperbotCLI, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "saves.json").write_bytes(orjson.dumps({"saves": {"U0123ABCD:2405.00001": GOOD_SAVE}, "pending": {},
                                                    "unreacted": {"k": []}}))
    result = paperbot("export", "--user", "U0123ABCD", env={"PAPERBOT_DATA_DIR": str(data)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "2405.00001" in result.stdout
