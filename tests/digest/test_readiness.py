"""Whether the day's papers are in (bot/digest/readiness.py): the rules an empty digest is recorded by."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.digest.due import IngestRequest
from bot.digest.readiness import IngestStatus
from bot.digest.schedule import EVERY_DAY, Schedule
from bot.digest.settings import ChannelDigest

DAY = date(2024, 5, 17)
HF_ONLY = IngestRequest((date(2024, 5, 16), DAY), (), None)
BOTH = IngestRequest((date(2024, 5, 16), DAY), ("cs.LG",), date(2024, 5, 14))


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, 17, hour, minute, tzinfo=UTC)


def berlin_nine(sources: tuple[str, ...] = ("hf",)) -> ChannelDigest:
    return ChannelDigest("C1", ("diffusion",), Schedule(time(9, 0), "Europe/Berlin", EVERY_DAY), sources=sources)


def test_only_an_ingest_shortly_before_the_scheduled_time_makes_nothing_new_true() -> None:
    status, channel = IngestStatus(), berlin_nine()
    assert status.readiness(channel, DAY, utc(5)).reason == "not_in_yet", "never ingested"
    status.record(HF_ONLY, utc(5))
    early = status.readiness(channel, DAY, utc(5))
    assert early.reason == "not_in_yet" and early.scheduled_at == utc(7), "09:00 Berlin is still to come"
    status.record(HF_ONLY, utc(6, 45))
    assert status.readiness(channel, DAY, utc(7)).ready


def test_a_failed_source_is_down_until_it_is_ingested_again() -> None:
    status, channel = IngestStatus(), berlin_nine(("hf", "cs.LG"))
    status.record(BOTH, utc(6, 45), [("arxiv cs.LG", "HTTP 503")])
    before = status.version
    down = status.readiness(channel, DAY, utc(7))
    assert (down.reason, down.down) == ("down", (("cs.LG", "HTTP 503"),))
    status.record(BOTH, utc(9, 45))
    assert status.readiness(channel, DAY, utc(10)).ready and status.version > before


def test_an_ingest_that_raises_fails_every_source_it_asked_for() -> None:
    status = IngestStatus()

    def broken(request: IngestRequest) -> None:
        raise OSError("disk full")

    error = status.run(broken, BOTH, utc(7))
    assert isinstance(error, OSError)
    assert status.state("hf").error == "disk full" and status.state("cs.LG").error == "disk full"
    assert status.attempted_since(berlin_nine(("hf", "cs.LG")), utc(7))
