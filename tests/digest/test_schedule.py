"""A channel's schedule: what people type for it (`/papers schedule …`), its next digest and description."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.digest.schedule import EVERY_DAY, WEEKDAYS, Schedule, ScheduleError, parse_schedule_args, parse_time


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("09:00", time(9, 0)), ("9:30", time(9, 30)), ("9", time(9, 0)), ("9am", time(9, 0)),
    ("9:30pm", time(21, 30)), ("12am", time(0, 0)), ("21.15", time(21, 15)), ("23:59", time(23, 59)),
    ("24:00", None), ("9:60", None), ("13pm", None), ("noon", None), ("-1", None),
])
def test_times_of_day(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


def test_schedule_arguments_in_any_order_and_case() -> None:
    change = parse_schedule_args("weekdays europe/berlin 8:30 max 5")
    assert (change.at, change.tz, change.days, change.max_papers) == (time(8, 30), "Europe/Berlin", WEEKDAYS, 5)
    assert parse_schedule_args("9 am").at == time(9, 0)
    assert parse_schedule_args("off").off
    assert parse_schedule_args("daily always").days == EVERY_DAY
    assert parse_schedule_args("quiet").post_empty is False
    assert parse_schedule_args("").empty


@pytest.mark.parametrize(("text", "says"), [
    ("25:00", "don't understand “25:00”"),
    ("09:00 Europe/Berln", "Did you mean Europe/Berlin?"),
    ("09:00 Mars/Olympus", "don't know the time zone"),
    ("max 0", "from 1 to 25"),
    ("max", "from 1 to 25"),
    ("09:00 10:00", "repeats"),
    ("09:00 off", "“off” on its own"),
])
def test_bad_schedule_arguments_get_a_friendly_sentence(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_schedule_args(text)


def test_next_due_and_description() -> None:
    schedule = Schedule(time(9, 0), "Europe/Berlin", WEEKDAYS)
    friday_noon = utc(2024, 5, 17, 10, 0)
    assert schedule.next_due(friday_noon) == utc(2024, 5, 20, 7, 0), "Monday, not the weekend"
    assert schedule.describe() == "09:00 Europe/Berlin, weekdays"
    assert Schedule(time(9, 0), "UTC", enabled=False).next_due(friday_noon) is None
