"""A channel's schedule: what people type for it (`/papers schedule …`), its next digest and description."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.digest.schedule import EVERY_DAY, WEEKDAYS, Schedule, ScheduleError, parse_schedule_args, parse_time
from bot.digest.strictness import STRICTNESS


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


@pytest.mark.parametrize(("text", "strictness"), [
    ("strict", "strict"), ("Normal", "normal"), ("BROAD", "broad"),
    ("min 0.6", 0.6), ("min .6", 0.6), ("min 60%", 0.6), ("min 60 %", 0.6), ("min=0.62", 0.62),
    ("minimum 62.5%", 0.625), ("min 0,6", 0.6), ("min 0", 0.0), ("min 1", 1.0), ("strictness broad", "broad"),
    ("strictness 0.4", 0.4),
])
def test_strictness_words_and_minimum_scores(text: str, strictness: str | float) -> None:
    change = parse_schedule_args(text)
    assert change.strictness == strictness
    assert not change.empty
    assert (change.at, change.tz, change.days, change.max_papers, change.post_empty) == (None,) * 5, \
        "strictness alone changes nothing else"


def test_strictness_combines_with_the_other_schedule_words() -> None:
    change = parse_schedule_args("8:30 strict Europe/Berlin weekdays max 5")
    assert (change.at, change.tz, change.days, change.max_papers, change.strictness) == (
        time(8, 30), "Europe/Berlin", WEEKDAYS, 5, "strict")
    change = parse_schedule_args("min 0,6 weekdays")  # a decimal comma is not a word separator here
    assert (change.strictness, change.days, change.at) == (0.6, WEEKDAYS, None)
    assert parse_schedule_args("max 5 min 70%").strictness == 0.7
    assert parse_schedule_args("max 5").strictness is None, "not given: kept as it is"


@pytest.mark.parametrize(("text", "says"), [
    ("min 1.5", "(got “1.5”)"),
    ("min -0.1", "(got “-0.1”)"),
    ("min 60", "for a percentage write “min 60%”"),
    ("min 150%", "(got “150%”)"),
    ("min high", "(got “high”)"),
    ("min nan", "(got “nan”)"),
    ("min", "a minimum score from 0 to 1"),
    ("strictness loose", "(got “loose”)"),
])
def test_a_bad_minimum_lists_the_valid_forms_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_schedule_args(text)
    message = str(refused.value)
    assert says in message and "\n" not in message
    levels = [f"“{name}” ({score:.2f})" for name, score in STRICTNESS.items()]
    for form in (*levels, "“min 0.6”", "“min 60%”"):
        assert form in message
    assert refused.value.example == "strict", "the reply's example is a strictness that works"


def test_strictness_given_twice_or_misspelt_is_refused() -> None:
    with pytest.raises(ScheduleError, match="“broad” repeats the strictness"):
        parse_schedule_args("strict broad")
    with pytest.raises(ScheduleError, match="“min” repeats the strictness"):
        parse_schedule_args("strict min 0.6")
    with pytest.raises(ScheduleError) as refused:
        parse_schedule_args("stricter")
    assert "don't understand “stricter”" in str(refused.value)
    assert "“strict”, “normal”, “broad” or “min 0.6”" in str(refused.value), "the strictness forms are named"
    with pytest.raises(ScheduleError, match="“off” on its own"):
        parse_schedule_args("strict off")


def test_next_due_and_description() -> None:
    schedule = Schedule(time(9, 0), "Europe/Berlin", WEEKDAYS)
    friday_noon = utc(2024, 5, 17, 10, 0)
    assert schedule.next_due(friday_noon) == utc(2024, 5, 20, 7, 0), "Monday, not the weekend"
    assert schedule.describe() == "09:00 Europe/Berlin, weekdays"
    assert Schedule(time(9, 0), "UTC", enabled=False).next_due(friday_noon) is None
