"""The `world` fixture of the digest core tests (tests/digest/digest_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from digest_world import NINE_BERLIN_DAY1, Clock, FakeSlack, World

from bot.digest.schedule import ScheduleChange


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock(NINE_BERLIN_DAY1)
    w = World(tmp_path / "data", clock, FakeSlack(), {})
    # The channel existed well before the first digest.
    w.watch("C1", "diffusion")
    w.service.channel_settings.change_schedule("C1", "U0ALICE", ScheduleChange(), NINE_BERLIN_DAY1 - timedelta(days=5))
    yield w
    w.close()
