"""A channel's digest settings: defaults from the operator's configuration, changes kept across restarts, its
strictness (stored, validated at load, defaulted for old documents), and parsing `/papers sources …`."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import orjson
import pytest
from digest_world import World

from bot.config import ConfigError, load_settings
from bot.digest.schedule import Schedule, parse_schedule_args
from bot.digest.settings import STRICTNESS, ChannelDigest, DigestOptions, SourcesError, parse_sources
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.files import CorruptStoreError, DataDir


def test_settings_keep_topics_and_default_to_the_configured_zone(world: World) -> None:
    w = world
    c = w.service.channel("C3")
    assert (c.schedule.at, c.schedule.tz, c.max_papers, c.sources, c.active) == (
        time(9, 0), "Europe/Berlin", 10, ("hf",), False)
    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("8:15 weekdays"), w.clock())
    w.watch("C3", "agents")
    c = w.service.channel("C3")
    assert (c.schedule.describe(), c.topics, c.active) == ("08:15 Europe/Berlin, weekdays", ("agents",), True)
    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("off"), w.clock())
    assert not w.service.channel("C3").active and w.channels.topics("C3") == ["agents"]
    w.restart()
    assert w.service.channel("C3").schedule.describe() == "08:15 Europe/Berlin, weekdays"


def test_sources_parsing() -> None:
    assert parse_sources("HF cs.lg, cs.CL physics.optics") == ("hf", "cs.LG", "cs.CL", "physics.optics")
    assert parse_sources("hep-th quant-ph") == ("hep-th", "quant-ph")
    for bad in ("hf arxiv:cs.LG", "arxiv", "cs", "cs.LG/x"):
        with pytest.raises(SourcesError, match="neither"):
            parse_sources(bad)
    with pytest.raises(SourcesError, match="at least one"):
        parse_sources("")


# --- strictness ---------------------------------------------------------------------------------------------

NOW = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)


def test_strictness_is_kept_across_restarts_next_to_the_other_settings(world: World) -> None:
    w = world
    c = w.service.channel("C3")
    label = f"normal ({STRICTNESS['normal']:.2f})"
    assert (c.strictness, c.min_score, c.strictness_label) == ("normal", STRICTNESS["normal"], label)
    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("8:15 weekdays max 5"), w.clock())
    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("strict"), w.clock())
    w.restart()
    c = w.service.channel("C3")
    assert (c.strictness, c.min_score, c.schedule.describe(), c.max_papers) == (
        "strict", STRICTNESS["strict"], "08:15 Europe/Berlin, weekdays", 5), "the other settings are kept"
    assert c.describe_strictness() == (f"strict (only papers scored {STRICTNESS['strict']:.2f} or more; "
                                       "a quiet day posts fewer)")

    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("min 62%"), w.clock())
    w.restart()
    c = w.service.channel("C3")
    assert (c.strictness, c.min_score, c.strictness_label) == (0.62, 0.62, "custom 0.62")
    assert c.describe_strictness() == "custom 0.62 (only papers scored 0.62 or more; a quiet day posts fewer)"
    doc = w.channels.get("C3")
    assert doc is not None and doc["digest"]["strictness"] == 0.62

    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("max 3"), w.clock())
    assert w.service.channel("C3").strictness == 0.62, "changing the maximum keeps the strictness"
    w.service.channel_settings.change_schedule("C3", "U0BOB", parse_schedule_args("broad"), w.clock())
    assert (w.service.channel("C3").min_score, w.service.channel("C3").max_papers) == (STRICTNESS["broad"], 3)


def test_a_minimum_of_zero_says_every_match_is_posted() -> None:
    channel = ChannelDigest("C1", ("x",), Schedule(time(9, 0), "UTC"), strictness=0.0)
    assert channel.describe_strictness() == "custom 0.00 (every matching paper, up to the maximum)"
    assert ChannelDigest("C1", (), Schedule(time(9, 0), "UTC"), strictness=0.625).strictness_label == "custom 0.625"


def _channels_file(path: Path, digest: dict[str, object]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "channels.json").write_bytes(orjson.dumps({"channels": {"C1": {
        "id": "C1", "topics": ["diffusion"], "created_at": "2024-01-01T00:00:00Z", "digest": digest}}}))


def test_a_channel_stored_before_strictness_existed_follows_the_operator_default(tmp_path: Path) -> None:
    _channels_file(tmp_path, {"time": "08:00", "tz": "UTC", "max_papers": 4})
    with DataDir(tmp_path) as data_dir:
        assert Channels(data_dir.store("channels")).digest("C1").strictness == "normal"
    operator = DigestOptions.from_settings(load_settings({"PAPERBOT_DIGEST_STRICTNESS": "Strict"}))
    with DataDir(tmp_path) as data_dir:
        channels = Channels(data_dir.store("channels"), operator)
        assert (channels.digest("C1").strictness, channels.digest("C1").max_papers) == ("strict", 4)
        channels.change_schedule("C1", "U0BOB", parse_schedule_args("max 6"), NOW)
        assert channels.digest("C1").min_score == STRICTNESS["strict"]
        channels.change_schedule("C1", "U0BOB", parse_schedule_args("broad"), NOW)
    custom = DigestOptions.from_settings(load_settings({"PAPERBOT_DIGEST_STRICTNESS": "60%"}))
    with DataDir(tmp_path) as data_dir:
        channels = Channels(data_dir.store("channels"), custom)
        assert channels.digest("C1").strictness == "broad", "a channel's own choice beats the operator's default"
        assert channels.digest("C2").strictness == 0.6, "a channel never configured gets the default"


@pytest.mark.parametrize("bad", [1.5, -0.1, "very strict", True, None, [0.5]])
def test_a_stored_strictness_that_is_not_a_level_or_a_score_is_refused_at_load(tmp_path: Path, bad: object) -> None:
    _channels_file(tmp_path, {"time": "08:00", "strictness": bad})
    before = (tmp_path / "channels.json").read_bytes()
    with DataDir(tmp_path) as data_dir, pytest.raises(CorruptStoreError) as refused:
        Channels(data_dir.store("channels"))
    message = str(refused.value)
    assert "'C1'" in message and "strictness" in message and "\n" not in message, message
    assert (tmp_path / "channels.json").read_bytes() == before


@pytest.mark.parametrize("good", ["strict", "broad", 0, 1, 0.62])
def test_a_stored_level_or_score_loads(tmp_path: Path, good: object) -> None:
    _channels_file(tmp_path, {"strictness": good})
    with DataDir(tmp_path) as data_dir:
        assert Channels(data_dir.store("channels")).digest("C1").strictness == good


@pytest.mark.parametrize(("raw", "expected"), [(None, "normal"), ("broad", "broad"), ("0.65", 0.65), ("65%", 0.65),
                                               ("min 0.65", 0.65)])
def test_the_operator_default_from_the_environment(raw: str | None, expected: str | float) -> None:
    settings = load_settings({} if raw is None else {"PAPERBOT_DIGEST_STRICTNESS": raw})
    assert settings.digest_strictness == expected


@pytest.mark.parametrize("raw", ["loose", "1.5", "65", "-1"])
def test_a_bad_operator_default_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"PAPERBOT_DIGEST_STRICTNESS": raw})
    assert refused.value.variable == "PAPERBOT_DIGEST_STRICTNESS"
    assert str(refused.value).startswith("PAPERBOT_DIGEST_STRICTNESS must be strict, normal, broad or a minimum")
