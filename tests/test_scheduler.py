"""Digest scheduling with a fake clock: local times across DST, catch-up, weekdays, resume, ingest timing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.digest.due import due_digests, ingest_due, ingest_request
from bot.digest.schedule import EVERY_DAY, WEEKDAYS, Schedule, ScheduleError, parse_schedule_args, parse_time
from bot.digest.settings import ChannelDigest
from bot.timeutil import local_to_utc

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeLedger:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, date], dict[str, Any]] = {}

    def get(self, channel: str, day: date) -> dict[str, Any] | None:
        return self.docs.get((channel, day))

    def unfinished(self) -> list[dict[str, Any]]:
        return [d for d in self.docs.values() if d["status"] != "done"]

    def done(self, channel: str, day: date) -> None:
        self.docs[(channel, day)] = {"channel": channel, "date": day.isoformat(), "status": "done"}


def channel(cid: str, at: str = "09:00", tz: str = "Europe/Berlin", *, days: frozenset[int] = EVERY_DAY,
            enabled: bool = True, paused: str | None = None, topics: tuple[str, ...] = ("diffusion",),
            effective_from: datetime | None = None, sources: tuple[str, ...] = ("hf",)) -> ChannelDigest:
    return ChannelDigest(cid, topics, Schedule(time.fromisoformat(at), tz, days, enabled), sources=sources,
                         paused=paused, effective_from=effective_from or utc(2020, 1, 1))


# --- local times ------------------------------------------------------------------------------------------


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


def test_a_digest_runs_exactly_once_a_day_at_local_time_through_a_dst_week() -> None:
    """Tick every 30 minutes for a week across the spring change; record what runs when."""
    ledger = FakeLedger()
    channels = [channel("CBER", "09:00", "Europe/Berlin"), channel("CNYC", "09:00", "America/New_York")]
    now = utc(2024, 3, 27, 5, 0)  # 06:00 in Berlin, 01:00 in New York
    ran: list[tuple[str, date, str]] = []
    while now < utc(2024, 4, 3):
        for due in due_digests(now, channels, ledger):
            zone = BERLIN if due.channel == "CBER" else NEW_YORK
            ran.append((due.channel, due.day, now.astimezone(zone).strftime("%H:%M")))
            ledger.done(due.channel, due.day)
        now += timedelta(minutes=30)
    berlin = [r for r in ran if r[0] == "CBER"]
    new_york = [r for r in ran if r[0] == "CNYC"]
    assert [r[1] for r in berlin] == [date(2024, 3, 27) + timedelta(days=i) for i in range(7)]
    assert {r[2] for r in berlin} == {"09:00"} and {r[2] for r in new_york} == {"09:00"}
    assert len(new_york) == 7


# --- what is due --------------------------------------------------------------------------------------------


def test_two_time_zones_are_due_at_their_own_times() -> None:
    ledger = FakeLedger()
    channels = [channel("CBER", "09:00", "Europe/Berlin"), channel("CNYC", "09:00", "America/New_York")]
    assert due_digests(utc(2024, 5, 17, 6, 59), channels, ledger) == []
    assert [d.channel for d in due_digests(utc(2024, 5, 17, 7, 0), channels, ledger)] == ["CBER"]
    ledger.done("CBER", date(2024, 5, 17))
    assert due_digests(utc(2024, 5, 17, 12, 59), channels, ledger) == []
    due = due_digests(utc(2024, 5, 17, 13, 0), channels, ledger)
    assert [(d.channel, d.day) for d in due] == [("CNYC", date(2024, 5, 17))]


def test_a_bot_that_was_down_at_nine_catches_up_the_same_day_but_not_the_next() -> None:
    ledger = FakeLedger()
    channels = [channel("C1", "09:00", "Europe/Berlin")]
    assert [d.day for d in due_digests(utc(2024, 5, 17, 15, 0), channels, ledger)] == [date(2024, 5, 17)]
    # Down all of the 17th: on the 18th only the 18th's digest is due (it covers the 17th's papers).
    assert [d.day for d in due_digests(utc(2024, 5, 18, 7, 30), channels, ledger)] == [date(2024, 5, 18)]
    assert due_digests(utc(2024, 5, 18, 6, 30), channels, ledger) == []


def test_weekdays_paused_off_and_topicless_channels_are_not_due() -> None:
    ledger = FakeLedger()
    saturday = utc(2024, 5, 18, 10, 0)
    assert due_digests(saturday, [channel("C1", days=WEEKDAYS)], ledger) == []
    assert due_digests(saturday + timedelta(days=2), [channel("C1", days=WEEKDAYS)], ledger) != []
    assert due_digests(saturday, [channel("C1", paused="not_in_channel")], ledger) == []
    assert due_digests(saturday, [channel("C1", enabled=False)], ledger) == []
    assert due_digests(saturday, [channel("C1", topics=())], ledger) == []


def test_a_schedule_set_after_todays_time_starts_tomorrow() -> None:
    ledger = FakeLedger()
    late = channel("C1", "09:00", effective_from=utc(2024, 5, 17, 12, 0))
    assert due_digests(utc(2024, 5, 17, 12, 30), [late], ledger) == []
    assert [d.day for d in due_digests(utc(2024, 5, 18, 7, 0), [late], ledger)] == [date(2024, 5, 18)]


def test_unfinished_digests_resume_after_their_retry_time_but_not_when_paused_or_stale() -> None:
    ledger = FakeLedger()
    ledger.docs[("C1", date(2024, 5, 17))] = {"channel": "C1", "date": "2024-05-17", "status": "planned",
                                               "planned_at": "2024-05-17T07:00:00Z",
                                               "next_try_at": "2024-05-17T07:10:00Z"}
    channels = [channel("C1")]
    assert due_digests(utc(2024, 5, 17, 7, 5), channels, ledger) == []
    due = due_digests(utc(2024, 5, 17, 7, 10), channels, ledger)
    assert [(d.day, d.resume) for d in due] == [(date(2024, 5, 17), True)]
    # Even with the schedule off (a manual digest was interrupted), but never in a paused channel.
    assert due_digests(utc(2024, 5, 17, 7, 10), [channel("C1", enabled=False)], ledger) != []
    assert due_digests(utc(2024, 5, 17, 7, 10), [channel("C1", paused="is_archived")], ledger) == []
    assert due_digests(utc(2024, 5, 21, 6, 0), channels, ledger) == [], "left alone after a few days"


def test_ingest_runs_shortly_before_the_earliest_digest_and_again_hours_later_for_later_zones() -> None:
    ledger = FakeLedger()
    channels = [channel("CBER", "09:00", "Europe/Berlin"), channel("CNYC", "09:00", "America/New_York")]
    assert not ingest_due(utc(2024, 5, 17, 6, 40), channels, ledger, None)
    assert ingest_due(utc(2024, 5, 17, 6, 45), channels, ledger, None)
    last = utc(2024, 5, 17, 6, 45)
    assert not ingest_due(utc(2024, 5, 17, 7, 0), channels, ledger, last)
    ledger.done("CBER", date(2024, 5, 17))
    assert not ingest_due(utc(2024, 5, 17, 12, 30), channels, ledger, last)
    assert ingest_due(utc(2024, 5, 17, 12, 45), channels, ledger, last), "before New York's 09:00"
    assert not ingest_due(utc(2024, 5, 17, 12, 45), [channel("C", enabled=False)], ledger, None)


def test_the_ingest_fetches_daily_papers_and_every_followed_category() -> None:
    channels = [channel("C1", sources=("hf", "cs.LG")), channel("C2", sources=("cs.CL",)),
                channel("C3", sources=("math.GT",), paused="is_archived")]
    request = ingest_request(utc(2024, 5, 17, 6, 45), channels)
    assert request.dates == (date(2024, 5, 16), date(2024, 5, 17))
    assert request.categories == ("cs.CL", "cs.LG")
    assert request.since == date(2024, 5, 14)
    assert ingest_request(utc(2024, 5, 17), [channel("C2", sources=("cs.CL",))]).dates == ()


# --- parsing --------------------------------------------------------------------------------------------------


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
