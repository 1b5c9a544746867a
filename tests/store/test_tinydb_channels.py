"""The TinyDB channels repository: topics watched per channel, normalised, deduplicated, bounded, durable;
one file write per change; unknown keys kept in the stored document."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bot.store.tinydb.channels import Channels
from bot.store.tinydb.files import Store
from bot.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicError


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "channels.json")


def test_watch_normalises_and_dedupes_case_insensitively(store: Store) -> None:
    channels = Channels(store)
    assert channels.watch("C1", "  Diffusion \n  Models ", "U1") is True
    assert channels.watch("C1", "diffusion models", "U2") is False
    assert channels.watch("C1", '"DIFFUSION   models"', "U2") is False
    assert channels.watch("C1", "graph neural networks", "U2") is True
    assert channels.topics("C1") == ["Diffusion Models", "graph neural networks"]
    assert channels.topics("C2") == []


def test_topics_are_per_channel_and_survive_a_restart(store: Store, tmp_path: Path) -> None:
    channels = Channels(store)
    channels.watch("C1", "diffusion", "U1")
    channels.watch("C2", "robotics", "U1")
    reopened = Channels(Store(tmp_path / "channels.json"))
    assert reopened.topics("C1") == ["diffusion"]
    assert reopened.topics("C2") == ["robotics"]
    doc = reopened.get("C1")
    assert doc is not None and doc["updated_by"] == "U1" and doc["id"] == "C1"


def test_each_change_is_one_write(store: Store) -> None:
    channels = Channels(store)
    before = store.writes
    channels.watch("C1", "a", "U1")
    channels.watch("C1", "b", "U1")
    channels.unwatch("C1", "a", "U1")
    assert store.writes - before == 3
    channels.watch("C1", "B", "U1")  # already watched: nothing to write
    assert channels.unwatch("C1", "zzz", "U1") is None
    assert store.writes - before == 3


def test_unwatch_by_text_or_number(store: Store) -> None:
    channels = Channels(store)
    for topic in ("alpha", "beta", "gamma"):
        channels.watch("C1", topic, "U1")
    assert channels.unwatch("C1", "BETA", "U1") == "beta"
    assert channels.unwatch("C1", "2", "U1") == "gamma"
    assert channels.unwatch("C1", "5", "U1") is None
    assert channels.topics("C1") == ["alpha"]


def test_a_topic_that_is_a_number_is_removed_as_text_first(store: Store) -> None:
    channels = Channels(store)
    channels.watch("C1", "alpha", "U1")
    channels.watch("C1", "1", "U1")
    assert channels.unwatch("C1", "1", "U1") == "1"
    assert channels.topics("C1") == ["alpha"]


def test_limits(store: Store) -> None:
    channels = Channels(store)
    with pytest.raises(TopicError) as info:
        channels.watch("C1", " \u200b\t", "U1")
    assert info.value.reason == "empty"
    with pytest.raises(TopicError) as info:
        channels.watch("C1", "x" * (MAX_TOPIC_CHARS + 1), "U1")
    assert (info.value.reason, info.value.limit) == ("too_long", MAX_TOPIC_CHARS)
    assert channels.watch("C1", "x" * MAX_TOPIC_CHARS, "U1")
    for i in range(MAX_TOPICS - 1):
        assert channels.watch("C1", f"topic {i}", "U1")
    with pytest.raises(TopicError) as info:
        channels.watch("C1", "one too many", "U1")
    assert (info.value.reason, info.value.limit) == ("too_many", MAX_TOPICS)
    assert channels.watch("C1", "TOPIC 3", "U1") is False, "a duplicate is not 'too many'"
    assert len(channels.topics("C1")) == MAX_TOPICS
    with pytest.raises(TopicError):
        channels.unwatch("C1", "  ", "U1")


def test_unknown_settings_are_kept_on_update(store: Store, tmp_path: Path) -> None:
    channels = Channels(store)
    channels.watch("C1", "alpha", "U1")
    with store.transaction():
        store.table("channels").update({"schedule": "09:00", "tz": "Europe/Berlin"}, doc_ids=["C1"])
    channels.watch("C1", "beta", "U2")
    channels.unwatch("C1", "alpha", "U2")
    on_disk = orjson.loads((tmp_path / "channels.json").read_bytes())["channels"]["C1"]
    assert on_disk["topics"] == ["beta"]
    assert (on_disk["schedule"], on_disk["tz"]) == ("09:00", "Europe/Berlin")


def test_get_returns_a_copy(store: Store) -> None:
    channels = Channels(store)
    channels.watch("C1", "alpha", "U1")
    doc = channels.get("C1")
    assert doc is not None
    doc["topics"].append("mutated")
    assert channels.topics("C1") == ["alpha"]
    assert channels.get("C9") is None
    assert set(channels.all()) == {"C1"}
