"""A channel's digest settings: defaults from the operator's configuration, changes kept across restarts, and
parsing `/papers sources …`."""

from __future__ import annotations

from datetime import time

import pytest
from digest_world import World

from bot.digest.schedule import parse_schedule_args
from bot.digest.settings import SourcesError, parse_sources


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
