"""ChannelRepository contract: topics (normalised, deduplicated, bounded) and digest settings per channel."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from contract_backends import Backend, Repositories
from threads import together

from bot.digest.schedule import WEEKDAYS, ScheduleChange
from bot.topics import MAX_TOPIC_CHARS, MAX_TOPICS, TopicError

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_watch_normalises_and_dedupes_per_channel(repos: Repositories) -> None:
    channels = repos.channels
    assert channels.topics("C1") == [] and channels.get("C1") is None
    assert channels.watch("C1", "  Diffusion \n  Models ", "U1") is True
    assert channels.watch("C1", '"DIFFUSION   models"', "U2") is False
    assert channels.watch("C1", "graph neural networks", "U2") is True
    assert channels.watch("C2", "diffusion models", "U2") is True
    assert channels.topics("C1") == ["Diffusion Models", "graph neural networks"]
    assert channels.topics("C2") == ["diffusion models"]
    doc = channels.get("C1")
    assert doc is not None and (doc["id"], doc.get("updated_by")) == ("C1", "U2")
    assert set(channels.all()) == {"C1", "C2"}


def test_unwatch_by_text_first_then_by_number(repos: Repositories) -> None:
    channels = repos.channels
    for topic in ("alpha", "1", "beta", "gamma"):
        channels.watch("C1", topic, "U1")
    assert channels.unwatch("C1", "1", "U1") == "1", "a topic that is a number is removed as text first"
    assert channels.unwatch("C1", "BETA", "U1") == "beta"
    assert channels.unwatch("C1", "2", "U1") == "gamma"
    assert channels.unwatch("C1", "5", "U1") is None and channels.unwatch("C1", "zzz", "U1") is None
    assert channels.unwatch("C9", "alpha", "U1") is None
    assert channels.topics("C1") == ["alpha"]


def test_topic_limits(repos: Repositories) -> None:
    channels = repos.channels
    with pytest.raises(TopicError) as info:
        channels.watch("C1", " \u200b\t", "U1")
    assert info.value.reason == "empty"
    with pytest.raises(TopicError) as info:
        channels.watch("C1", "x" * (MAX_TOPIC_CHARS + 1), "U1")
    assert (info.value.reason, info.value.limit) == ("too_long", MAX_TOPIC_CHARS)
    for i in range(MAX_TOPICS):
        assert channels.watch("C1", f"topic {i}", "U1")
    with pytest.raises(TopicError) as info:
        channels.watch("C1", "one too many", "U1")
    assert (info.value.reason, info.value.limit) == ("too_many", MAX_TOPICS)
    assert channels.watch("C1", "TOPIC 3", "U1") is False, "a duplicate is not 'too many'"
    with pytest.raises(TopicError):
        channels.unwatch("C1", "  ", "U1")
    assert len(channels.topics("C1")) == MAX_TOPICS


def test_returned_documents_are_the_callers_own(repos: Repositories) -> None:
    repos.channels.watch("C1", "alpha", "U1")
    repos.channels.change_schedule("C1", "U1", ScheduleChange(tz="Europe/Berlin"), NOW)
    doc = repos.channels.get("C1")
    assert doc is not None
    doc["topics"].append("mutated")
    doc.get("digest", {})["tz"] = "Asia/Tokyo"
    repos.channels.all()["C1"]["topics"].clear()
    assert repos.channels.topics("C1") == ["alpha"]
    assert repos.channels.digest("C1").schedule.tz == "Europe/Berlin"


def test_a_channel_never_configured_has_the_default_digest(repos: Repositories) -> None:
    digest = repos.channels.digest("C1")
    assert digest.channel == "C1" and digest.topics == () and digest.paused is None
    assert digest.schedule.enabled and digest.schedule.at == time(9, 0) and digest.schedule.tz == "UTC"
    assert repos.channels.all_digests() == []


def test_schedule_sources_and_pause(repos: Repositories) -> None:
    channels = repos.channels
    channels.watch("C1", "alpha", "U1")
    changed = channels.change_schedule("C1", "U2", ScheduleChange(at=time(7, 30), tz="Europe/Berlin",
                                                                  days=WEEKDAYS, max_papers=5), NOW)
    assert (changed.schedule.at, changed.schedule.tz, changed.schedule.days, changed.max_papers) == (
        time(7, 30), "Europe/Berlin", WEEKDAYS, 5)
    assert changed.topics == ("alpha",), "the topics stay"
    assert channels.set_sources("C1", "U2", ["hf", "cs.LG"], NOW).sources == ("hf", "cs.LG")
    assert channels.pause("C1", "channel_not_found", NOW) is True
    assert channels.pause("C1", "channel_not_found", NOW) is False, "paused once"
    assert channels.digest("C1").paused == "channel_not_found"
    assert not channels.digest("C1").active
    resumed = channels.change_schedule("C1", "U2", ScheduleChange(max_papers=6), NOW)
    assert resumed.paused is None and resumed.schedule.at == time(7, 30), "a change un-pauses, keeps the rest"
    channels.watch("C1", "beta", "U3")
    assert channels.digest("C1").max_papers == 6, "watching keeps the digest settings"
    assert channels.change_schedule("C1", "U2", ScheduleChange(off=True), NOW).schedule.enabled is False
    assert [d.channel for d in channels.all_digests()] == ["C1"]


def test_unknown_keys_are_kept_on_every_update(backend: Backend) -> None:
    backend.seed("channel", "C1", {"id": "C1", "topics": ["alpha"], "created_at": "2025-01-01T00:00:00Z",
                                   "schedule": "09:00", "digest": {"tz": "Europe/Berlin", "colour": "blue"}})
    channels = backend.open().channels
    channels.watch("C1", "beta", "U2")
    channels.unwatch("C1", "alpha", "U2")
    channels.change_schedule("C1", "U2", ScheduleChange(max_papers=3), NOW)
    channels.pause("C1", "not_in_channel", NOW)
    doc = channels.get("C1")
    assert doc is not None and doc["topics"] == ["beta"]
    assert doc.get("schedule") == "09:00"
    assert dict(doc.get("digest", {})).items() >= {"tz": "Europe/Berlin", "colour": "blue", "max_papers": 3}.items()
    assert doc["created_at"] == "2025-01-01T00:00:00Z"


def test_a_restart_sees_the_same_settings(backend: Backend, repos: Repositories) -> None:
    repos.channels.watch("C1", "alpha", "U1")
    repos.channels.watch("C2", "beta", "U1")
    repos.channels.change_schedule("C1", "U1", ScheduleChange(tz="America/New_York"), NOW)
    reopened = backend.reopen().channels
    assert reopened.topics("C1") == ["alpha"] and reopened.topics("C2") == ["beta"]
    assert reopened.digest("C1").schedule.tz == "America/New_York"


def test_concurrent_changes_to_one_channel_lose_nothing(backend: Backend, repos: Repositories) -> None:
    def change(n: int) -> None:
        repos.channels.watch("C1", f"topic {n}", f"U{n}")
        if n % 4 == 0:
            repos.channels.set_sources("C1", f"U{n}", ["hf"], NOW)

    together(20, change)
    reopened = backend.reopen().channels
    assert sorted(reopened.topics("C1")) == sorted(f"topic {n}" for n in range(20))
    assert reopened.digest("C1").sources == ("hf",)
