"""What is due at an instant, with a fake clock and ledger: local times across DST, catch-up, weekdays,
paused channels, resuming unfinished digests, and when (and what) to ingest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.due import due_digests, ingest_due, ingest_request
from bot.digest.schedule import EVERY_DAY, WEEKDAYS, Schedule
from bot.digest.settings import ChannelDigest

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


def test_a_later_digest_gets_its_own_ingest_within_the_max_age_once_per_due_window() -> None:
    ledger = FakeLedger()
    channels = [channel("C1", "09:00"), channel("C2", "10:00")]  # 07:00 and 08:00 UTC
    last = utc(2024, 5, 17, 6, 45)  # C1's ingest
    ledger.done("C1", date(2024, 5, 17))
    assert not ingest_due(utc(2024, 5, 17, 7, 40), channels, ledger, last)
    assert ingest_due(utc(2024, 5, 17, 7, 45), channels, ledger, last), "C2's ingest, 1 h after C1's"
    last = utc(2024, 5, 17, 7, 45)
    for minutes in (50, 55, 60, 90):  # C2 still waiting (nothing recorded): no ingest every tick
        assert not ingest_due(utc(2024, 5, 17, 7, 0) + timedelta(minutes=minutes), channels, ledger, last)
    assert ingest_due(utc(2024, 5, 17, 10, 45), channels, ledger, last), "retried after max_age"
    # The configured lead, not the constant.
    lead = timedelta(minutes=40)
    assert ingest_due(utc(2024, 5, 17, 7, 20), channels, ledger, utc(2024, 5, 17, 6, 20), lead=lead)
    assert not ingest_due(utc(2024, 5, 17, 7, 25), channels, ledger, utc(2024, 5, 17, 7, 20), lead=lead)


def test_the_ingest_fetches_daily_papers_and_every_followed_category() -> None:
    channels = [channel("C1", sources=("hf", "cs.LG")), channel("C2", sources=("cs.CL",)),
                channel("C3", sources=("math.GT",), paused="is_archived")]
    request = ingest_request(utc(2024, 5, 17, 6, 45), channels)
    assert request.dates == (date(2024, 5, 16), date(2024, 5, 17))
    assert request.categories == ("cs.CL", "cs.LG")
    assert request.since == date(2024, 5, 14)
    assert ingest_request(utc(2024, 5, 17), [channel("C2", sources=("cs.CL",))]).dates == ()
