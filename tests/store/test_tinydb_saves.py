"""The TinyDB reading lists (bot/store/tinydb/saves.py): idempotent saves, what unsaving means, pending
reactions, top papers; memory always equals the file, and a repeat does not rewrite it."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from bot.store.tinydb.files import DataDir, StoreError
from bot.store.tinydb.saves import Saves


@pytest.fixture
def data_dir(tmp_path: Path):
    with DataDir(tmp_path) as data:
        yield data


@pytest.fixture
def saves(data_dir: DataDir) -> Saves:
    return Saves(data_dir.store("saves"))


def reopen(path: Path) -> Saves:
    return Saves(DataDir(path, read_only=True).store("saves"))


def test_a_save_records_who_what_where_when_and_survives_a_restart(tmp_path: Path, saves: Saves) -> None:
    outcome = saves.save("U1", "https://arxiv.org/abs/2405.12345v2", via="reaction", channel="C1",
                         ts="1716200000.000100", reaction="bookmark", at="2026-11-24T10:00:00Z")
    assert outcome.new
    save = reopen(tmp_path).get("U1", "2405.12345")
    assert save is not None
    assert (save.user, save.paper_id, save.channel, save.ts, save.saved_at, save.via) == (
        "U1", "2405.12345", "C1", "1716200000.000100", "2026-11-24T10:00:00.000000Z", "reaction")
    stored = orjson.loads((tmp_path / "saves.json").read_bytes())["saves"]
    assert list(stored) == ["U1:2405.12345"], "one document per (user, paper)"


def test_saving_again_is_harmless_and_keeps_the_first_place_and_time(tmp_path: Path, saves: Saves) -> None:
    store = saves._store
    saves.save("U1", "2405.12345", via="button", channel="C1", ts="1.1", at="2026-11-24T10:00:00Z")
    writes = store.writes
    again = saves.save("U1", "2405.12345", via="button", channel="C2", ts="2.2", at="2026-11-25T10:00:00Z")
    assert not again.new
    assert store.writes == writes, "a repeated save (Slack retry, double click) does not even rewrite the file"
    assert (again.save.channel, again.save.saved_at[:10]) == ("C1", "2026-11-24")
    assert len(reopen(tmp_path)) == 1


def test_reading_list_is_newest_first_and_per_user(saves: Saves) -> None:
    saves.save("U1", "2405.00001", via="button", at="2026-11-01T00:00:00Z")
    saves.save("U1", "2405.00003", via="command", at="2026-11-03T00:00:00Z")
    saves.save("U1", "2405.00002", via="button", at="2026-11-02T00:00:00Z")
    saves.save("U2", "2405.00009", via="button")
    assert [s.paper_id for s in saves.saved("U1")] == ["2405.00003", "2405.00002", "2405.00001"]
    assert saves.saved_ids("U2") == {"2405.00009"}
    assert saves.saved("U3") == [] and saves.saved_ids("U3") == set()
    # Saves made within the same second still keep their order.
    saves.save("U4", "2405.00001", via="button")
    saves.save("U4", "2405.00002", via="button")
    assert [s.paper_id for s in saves.saved("U4")] == ["2405.00002", "2405.00001"]


def test_removing_one_of_two_save_reactions_keeps_the_paper(tmp_path: Path, saves: Saves) -> None:
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.save("U1", "2405.12345", via="reaction", channel="C2", ts="2.2", reaction="bookmark")
    first = saves.remove_reaction("U1", "C1", "1.1", "bookmark")
    assert first.unsaved == () and first.kept == ("2405.12345",)
    assert saves.saved_ids("U1") == {"2405.12345"}
    last = saves.remove_reaction("U1", "C2", "2.2", "bookmark")
    assert last.unsaved == ("2405.12345",)
    assert saves.saved_ids("U1") == set() and len(reopen(tmp_path)) == 0


def test_two_save_emojis_on_one_message_are_two_reasons(saves: Saves) -> None:
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="star::skin-tone-2")
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").kept == ("2405.12345",)
    assert saves.remove_reaction("U1", "C1", "1.1", "star").unsaved == ("2405.12345",)


def test_a_button_save_outlives_the_reaction_but_not_an_explicit_unsave(saves: Saves) -> None:
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.save("U1", "2405.12345", via="button", channel="C1")
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").kept == ("2405.12345",)
    assert saves.saved_ids("U1") == {"2405.12345"}
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    removed = saves.unsave("U1", "2405.12345")
    assert removed is not None and removed.paper_id == "2405.12345"
    assert saves.saved_ids("U1") == set(), "an explicit unsave wins over reactions still on messages"
    assert saves.unsave("U1", "2405.12345") is None
    # The reaction that is still on the message no longer holds anything: removing it changes nothing.
    assert saves.remove_reaction("U1", "C1", "1.1", "bookmark").unsaved == ()


def test_removing_a_reaction_of_another_user_or_message_changes_nothing(saves: Saves) -> None:
    saves.save("U1", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    saves.remove_reaction("U2", "C1", "1.1", "bookmark")
    saves.remove_reaction("U1", "C1", "9.9", "bookmark")
    assert saves.saved_ids("U1") == {"2405.12345"}


def test_pending_reactions_complete_once_and_a_removal_cancels_them(tmp_path: Path, saves: Saves) -> None:
    pending = saves.add_pending("U1", "C1", "5.5", "bookmark")
    assert saves.add_pending("U1", "C1", "5.5", "bookmark") == pending, "a retried event records it once"
    assert [p.key for p in reopen(tmp_path).pending()] == [pending.key], "durable before the ack"
    outcomes = saves.complete_pending(pending.key, ["2405.00001", "2405.00002"])
    assert outcomes is not None and [o.new for o in outcomes] == [True, True]
    assert saves.pending() == []
    assert saves.complete_pending(pending.key, ["2405.00003"]) is None, "a second worker saves nothing"
    assert saves.saved_ids("U1") == {"2405.00001", "2405.00002"}
    # Both papers of the person's message go when the reaction does.
    assert set(saves.remove_reaction("U1", "C1", "5.5", "bookmark").unsaved) == {"2405.00001", "2405.00002"}

    cancelled = saves.add_pending("U1", "C1", "6.6", "bookmark")
    assert saves.remove_reaction("U1", "C1", "6.6", "bookmark").cancelled_pending
    assert saves.complete_pending(cancelled.key, ["2405.00004"]) is None
    assert saves.saved_ids("U1") == set()
    assert reopen(tmp_path).pending() == []


def test_failed_attempts_are_counted(saves: Saves) -> None:
    pending = saves.add_pending("U1", "C1", "5.5", "bookmark")
    assert saves.retry_pending(pending.key) == 1
    assert saves.retry_pending(pending.key) == 2
    assert saves.pending()[0].attempts == 2
    assert saves.drop_pending(pending.key) and saves.pending() == []
    assert saves.retry_pending(pending.key) is None


def test_top_counts_savers_within_the_window(saves: Saves) -> None:
    saves.save("U1", "2405.00001", via="button", at="2026-10-01T00:00:00Z")
    saves.save("U2", "2405.00001", via="button", at="2026-10-02T00:00:00Z")
    saves.save("U3", "2405.00001", via="button", at="2026-11-20T00:00:00Z")
    saves.save("U1", "2405.00002", via="button", at="2026-11-21T00:00:00Z")
    saves.save("U2", "2405.00002", via="button", at="2026-11-22T00:00:00Z")
    saves.save("U3", "2405.00003", via="button", at="2026-11-23T00:00:00Z")
    everything = saves.top()
    assert [(t.paper_id, t.users) for t in everything] == [
        ("2405.00001", ("U1", "U2", "U3")), ("2405.00002", ("U1", "U2")), ("2405.00003", ("U3",))]
    recent = saves.top(since="2026-11-15T00:00:00Z", limit=2)
    assert [(t.paper_id, t.count) for t in recent] == [("2405.00002", 2), ("2405.00003", 1)], \
        "ties go to the most recently saved"
    saves.unsave("U1", "2405.00002")
    assert saves.top(since="2026-11-15T00:00:00Z")[0].paper_id == "2405.00003", "unsaved papers stop counting"


def test_bad_ids_and_kinds_are_refused(saves: Saves) -> None:
    with pytest.raises(ValueError):
        saves.save("U1", "not a paper", via="button")
    with pytest.raises(ValueError):
        saves.save("U1", "2405.12345", via="carrier pigeon")
    with pytest.raises(ValueError):
        saves.save("U1", "2405.12345", via="reaction")  # a reaction save needs its message
    assert len(saves) == 0


def test_a_failed_write_saves_nothing_anywhere(tmp_path: Path, saves: Saves, monkeypatch: pytest.MonkeyPatch) -> None:
    saves.save("U1", "2405.00001", via="button")

    def disk_full(path: Path, payload: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.store.tinydb.files.atomic_write_bytes", disk_full)
    with pytest.raises(StoreError, match="No space left on device; the previous version is intact"):
        saves.save("U1", "2405.00002", via="button")
    assert saves.saved_ids("U1") == {"2405.00001"}, "memory still equals the file"
    monkeypatch.undo()
    saves.save("U1", "2405.00003", via="button")
    assert reopen(tmp_path).saved_ids("U1") == {"2405.00001", "2405.00003"}


def test_concurrent_saves_from_many_users_all_land(tmp_path: Path, saves: Saves) -> None:
    barrier = threading.Barrier(20)

    def user(n: int) -> None:
        barrier.wait()
        saves.save(f"U{n:03d}", "2405.12345", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
        saves.save(f"U{n:03d}", f"2405.{n:05d}", via="button")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert saves.savers("2405.12345") == {f"U{n:03d}" for n in range(20)}
    assert len(reopen(tmp_path)) == 40


def test_removals_are_remembered_for_a_week_then_forgotten(saves: Saves, data_dir: DataDir) -> None:
    saves.remove_reaction("U1", "C1", "1.1", "bookmark", event_ts="1716200000.000100")
    saves.remove_reaction("U1", "C1", "2.2", "bookmark", event_ts="1716200000.000200")
    assert len(data_dir.store("saves").raw_table("unreacted")) == 2
    saves.remove_reaction("U2", "C1", "3.3", "bookmark", event_ts=f"{1716200000 + 8 * 24 * 3600}.000000")
    assert list(data_dir.store("saves").raw_table("unreacted")) == ["U2:C1:3.3:bookmark"], "Slack retried long ago"
    assert saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                               event_ts="1716200000.000000") is not None


def test_the_latest_reaction_event_is_stored_with_its_kind_and_old_removal_records_still_count(
        tmp_path: Path) -> None:
    old = {"user": "U1", "channel": "C1", "ts": "1.1", "reaction": "bookmark", "event_ts": "1716200000.000200"}
    (tmp_path / "saves.json").write_bytes(orjson.dumps({"saves": {}, "pending": {},
                                                        "unreacted": {"U1:C1:1.1:bookmark": old}}))
    with DataDir(tmp_path) as data_dir:
        saves = Saves(data_dir.store("saves"))
        assert saves.save_reaction("U1", "2405.12345", channel="C1", ts="1.1", reaction="bookmark",
                                   event_ts="1716200000.000100") is None, "a record without kind is a removal"
        assert saves.save_reaction("U1", "2405.12345", channel="C2", ts="2.2", reaction="bookmark",
                                   event_ts="1716200000.000300") is not None
        saves.remove_reaction("U1", "C1", "1.1", "bookmark", event_ts="1716200000.000400")
    stored = orjson.loads((tmp_path / "saves.json").read_bytes())["unreacted"]
    assert stored["U1:C2:2.2:bookmark"] == {"user": "U1", "channel": "C2", "ts": "2.2", "reaction": "bookmark",
                                            "event_ts": "1716200000.000300", "kind": "added"}
    assert stored["U1:C1:1.1:bookmark"]["kind"] == "removed"
