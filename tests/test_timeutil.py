"""Local wall-clock times to UTC: the same local time across DST changes, gaps and repeated hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.timeutil import local_to_utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_nine_oclock_berlin_stays_nine_oclock_local_across_the_dst_change() -> None:
    at = time(9, 0)
    assert local_to_utc(date(2024, 3, 30), at, BERLIN) == utc(2024, 3, 30, 8, 0)  # CET, UTC+1
    assert local_to_utc(date(2024, 3, 31), at, BERLIN) == utc(2024, 3, 31, 7, 0)  # CEST, UTC+2
    assert local_to_utc(date(2024, 10, 27), at, BERLIN) == utc(2024, 10, 27, 8, 0)  # back to CET


def test_a_time_that_does_not_exist_runs_at_the_end_of_the_gap_and_an_ambiguous_one_once() -> None:
    # 02:30 does not exist on 31 March 2024 in Berlin (02:00 -> 03:00): it runs at 03:00 CEST.
    gap = local_to_utc(date(2024, 3, 31), time(2, 30), BERLIN)
    assert gap == utc(2024, 3, 31, 1, 0) and gap.astimezone(BERLIN).strftime("%H:%M") == "03:00"
    assert local_to_utc(date(2024, 3, 10), time(2, 30), NEW_YORK) == utc(2024, 3, 10, 7, 0)
    # 02:30 happens twice on 27 October 2024 in Berlin: the first one (still CEST) counts.
    assert local_to_utc(date(2024, 10, 27), time(2, 30), BERLIN) == utc(2024, 10, 27, 0, 30)
