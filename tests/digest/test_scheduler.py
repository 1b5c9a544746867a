"""The scheduler's tick on a fake clock: ingest first, then each channel at its own local time, once; and the
APScheduler job's start-up catch-up and clean stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest_world import DAY1, NINE_BERLIN_DAY1, World

from bot.digest.due import IngestRequest
from bot.digest.readiness import IngestStatus
from bot.digest.schedule import parse_schedule_args
from bot.digest.scheduler import DigestScheduler


def test_the_tick_ingests_first_then_each_channel_posts_at_its_own_local_time(world: World) -> None:
    w = world
    w.watch("CNY", "agents")
    w.service.channel_settings.change_schedule("CNY", "U0BOB", parse_schedule_args("09:00 America/New_York"),
                                       NINE_BERLIN_DAY1 - timedelta(days=3))
    ingests: list[tuple[datetime, IngestRequest]] = []

    def ingest(request: IngestRequest) -> None:
        ingests.append((w.clock(), request))
        w.add("2405.00150", "2024-05-17T06:45:00Z")
        w.add("2405.00151", "2024-05-17T06:45:00Z")

    w.scores.update({"diffusion": {"2405.00150": 1}, "agents": {"2405.00151": 1}})
    scheduler = DigestScheduler(w.service, ingest=ingest, clock=w.clock, workers=0)
    w.clock.now = datetime(2024, 5, 17, 6, 0, tzinfo=UTC)
    posted_at: dict[str, datetime] = {}
    while w.clock.now < datetime(2024, 5, 18, 0, 0, tzinfo=UTC):
        scheduler.tick()
        for cid in ("C1", "CNY"):
            if w.slack.papers(cid) and cid not in posted_at:
                posted_at[cid] = w.clock.now
        w.clock.advance(minutes=5)
    assert ingests and ingests[0][0] == datetime(2024, 5, 17, 6, 45, tzinfo=UTC)
    assert posted_at == {"C1": datetime(2024, 5, 17, 7, 0, tzinfo=UTC),
                         "CNY": datetime(2024, 5, 17, 13, 0, tzinfo=UTC)}
    assert w.slack.papers("C1") == ["2405.00150"] and w.slack.papers("CNY") == ["2405.00151"]
    # A restarted scheduler the same day posts nothing again.
    DigestScheduler(w.service, clock=w.clock, workers=0).tick()
    assert len(w.slack.messages["C1"]) == 2 and len(w.slack.messages["CNY"]) == 2


def test_each_empty_digest_gets_an_ingest_before_its_own_time_and_none_loses_its_day(world: World) -> None:
    """09:00, 10:00, 23:00 and 23:50 Berlin, nothing to post: each empty digest is recorded at its own time
    (its ingest ran shortly before it, within the 3-hour max age of the previous one), once per due window."""
    w = world
    w.service.ingest_status = IngestStatus()
    for cid, at in (("C2", "10:00"), ("C3", "23:00"), ("C4", "23:50")):
        w.watch(cid, "diffusion")
        w.service.channel_settings.change_schedule(cid, "U0BOB", parse_schedule_args(f"{at} Europe/Berlin"),
                                                   NINE_BERLIN_DAY1 - timedelta(days=5))
    ingests: list[datetime] = []
    scheduler = DigestScheduler(w.service, ingest=lambda request: ingests.append(w.clock()), clock=w.clock,
                                workers=0)
    w.clock.now = datetime(2024, 5, 17, 5, 0, tzinfo=UTC)
    recorded: dict[str, datetime] = {}
    while w.clock.now < datetime(2024, 5, 18, 3, 0, tzinfo=UTC):
        scheduler.tick()
        for cid in ("C1", "C2", "C3", "C4"):
            if cid not in recorded and w.service.ledger.get(cid, DAY1) is not None:
                recorded[cid] = w.clock.now
        w.clock.advance(minutes=5)
    at = {cid: t.strftime("%H:%M") for cid, t in recorded.items()}
    assert at == {"C1": "07:00", "C2": "08:00", "C3": "21:00", "C4": "21:50"}
    assert [t.strftime("%H:%M") for t in ingests] == ["06:45", "07:45", "20:45", "21:35"]


def test_readiness_counts_from_the_schedulers_configured_lead(world: World) -> None:
    w = world
    w.service.ingest_status = IngestStatus()
    lead = timedelta(minutes=40)
    ingests: list[datetime] = []
    scheduler = DigestScheduler(w.service, ingest=lambda request: ingests.append(w.clock()), clock=w.clock,
                                workers=0, ingest_lead=lead)
    w.clock.now = datetime(2024, 5, 17, 6, 0, tzinfo=UTC)
    while w.service.ledger.get("C1", DAY1) is None and w.clock.now < datetime(2024, 5, 17, 12, 0, tzinfo=UTC):
        scheduler.tick()
        w.clock.advance(minutes=5)
    assert ingests == [datetime(2024, 5, 17, 6, 20, tzinfo=UTC)]
    assert w.clock.now == datetime(2024, 5, 17, 7, 5, tzinfo=UTC), "recorded at 07:00 on the 06:20 ingest"


def test_apscheduler_runs_a_catch_up_tick_at_start_up_and_stops_cleanly(world: World) -> None:
    w = world
    w.add("2405.00160", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00160": 1}
    w.clock.now = datetime(2024, 5, 17, 11, 0, tzinfo=UTC)  # 13:00 in Berlin: today's 09:00 was missed
    scheduler = DigestScheduler(w.service, clock=w.clock, interval=3600, workers=2)
    scheduler.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not w.slack.papers("C1") and datetime.now(UTC) < deadline:
            w.service.stop.wait(0.02)
        assert w.slack.papers("C1") == ["2405.00160"], "the start-up tick caught up without waiting an interval"
    finally:
        scheduler.stop(5)
    assert w.service.stop.is_set() and scheduler.tick() == [], "stopped: no more digests"
