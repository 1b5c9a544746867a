"""The digest core with real stores, a fake clock, a scripted index and a fake Slack poster.

What a channel would notice: which papers it gets and in what order, that each goes out once (across
restarts, versions and retries), that a failing or vanished channel is handled, and when nothing is posted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.digest.due import IngestRequest, due_digests
from bot.digest.schedule import ScheduleChange, parse_schedule_args
from bot.digest.scheduler import DigestScheduler
from bot.digest.service import ChannelGone, DigestService, PostError, RateLimited
from bot.digest.settings import DigestOptions, SourcesError, parse_sources
from bot.papers import new_record
from bot.search.models import QueryError
from bot.store.files import DataDir
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.posts import PostLedger

DAY1 = date(2024, 5, 17)
NINE_BERLIN_DAY1 = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Hit:
    paper: dict[str, Any]
    score: float


class ScriptedIndex:
    """`scores[topic][paper id]`: what the search index would answer (restricted to `paper_ids`)."""

    def __init__(self, archive: Archive, scores: dict[str, dict[str, float]]) -> None:
        self.archive = archive
        self.scores = scores
        self.calls: list[tuple[str, int]] = []

    def match(self, query: str, paper_ids: Any = None) -> list[Hit]:
        self.calls.append((query, len(paper_ids or ())))
        wanted = self.scores.get(query, {})
        ids = [pid for pid in wanted if paper_ids is None or pid in paper_ids]
        records = self.archive.get_many(ids)
        return sorted((Hit(records[pid], wanted[pid]) for pid in ids if pid in records), key=lambda h: -h.score)


class Crash(BaseException):
    """A kill -9 at a chosen point: nothing after it runs (not an Exception, so nothing catches it)."""


class FakeSlack:
    """Messages per channel, as Slack would keep them; `script` injects one outcome per post call."""

    def __init__(self) -> None:
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.script: list[BaseException | str | None] = []  # exception to raise, "crash-after" or None
        self.post_calls = 0
        self._ts = 0

    def _post(self, cid: str, message: dict[str, Any], thread_ts: str | None) -> str:
        self.post_calls += 1
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        self._ts += 1
        ts = f"1716000000.{self._ts:06d}"
        self.messages.setdefault(cid, []).append({**message, "ts": ts, "thread_ts": thread_ts})
        if step == "crash-after":  # Slack has it, the bot never hears back
            raise Crash()
        return ts

    def header(self, channel: Any, day: date, items: Any) -> str:
        return self._post(channel.channel, {"kind": "header", "day": day, "papers": [r["id"] for r, _ in items]},
                          None)

    def paper(self, channel: Any, day: date, record: dict[str, Any], pick: Any, position: int, total: int,
              thread_ts: str) -> str:
        return self._post(channel.channel, {"kind": "paper", "paper": record["id"], "topic": pick.topic}, thread_ts)

    def find_header(self, channel_id: str, day: date) -> str | None:
        return next((m["ts"] for m in self.messages.get(channel_id, []) if m["kind"] == "header" and m["day"] == day),
                    None)

    def thread_papers(self, channel_id: str, thread_ts: str) -> dict[str, str]:
        return {m["paper"]: m["ts"] for m in self.messages.get(channel_id, []) if m.get("thread_ts") == thread_ts}

    def papers(self, cid: str) -> list[str]:
        return [m["paper"] for m in self.messages.get(cid, []) if m["kind"] == "paper"]

    def headers(self, cid: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(cid, []) if m["kind"] == "header"]


class World:
    """A data directory with the real stores, reopened like a restarted process by `restart()`."""

    def __init__(self, path: Path, clock: Clock, slack: FakeSlack, scores: dict[str, dict[str, float]],
                 **options: Any) -> None:
        self.path, self.clock, self.slack, self.scores = path, clock, slack, scores
        self.options = DigestOptions(default_tz="Europe/Berlin", post_interval=0.5, **options)
        self.sleeps: list[float] = []
        self._open()

    def _open(self) -> None:
        self.data_dir = DataDir(self.path)
        self.archive = Archive(self.data_dir.store("archive"))
        self.channels = Channels(self.data_dir.store("channels"))
        self.posts = PostLedger(self.data_dir.store("posts"))
        self.index = ScriptedIndex(self.archive, self.scores)
        self.service = DigestService(
            archive=self.archive, index=self.index,
            channels=Channels(self.data_dir.store("channels"), self.options),
            ledger=DigestLedger(self.data_dir.store("posts")), posts=self.posts, options=self.options,
            poster=self.slack, clock=self.clock, sleep=self.sleeps.append)

    def restart(self) -> None:
        self.data_dir.close()
        self._open()

    def close(self) -> None:
        self.data_dir.close()

    def add(self, pid: str, seen: str, *, source: str = "hf", upvotes: int | None = None, version: int = 1,
            published: str | None = None, categories: tuple[str, ...] = ()) -> None:
        self.archive.upsert([new_record(
            f"{pid}v{version}", source=source, seen_at=seen, title=f"Paper {pid}", abstract="...",
            published=published or seen, upvotes=upvotes, hf_date=seen[:10] if source == "hf" else None,
            categories=list(categories))])

    def watch(self, cid: str, *topics: str) -> None:
        for topic in topics:
            self.channels.watch(cid, topic, "U0ALICE")

    def run(self, cid: str, day: date = DAY1, **kwargs: Any) -> Any:
        return self.service.run(self.service.channel(cid), day, **kwargs)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock(NINE_BERLIN_DAY1)
    w = World(tmp_path / "data", clock, FakeSlack(), {})
    # The channel existed well before the first digest.
    w.watch("C1", "diffusion")
    w.service.channel_settings.change_schedule("C1", "U0ALICE", ScheduleChange(), NINE_BERLIN_DAY1 - timedelta(days=5))
    yield w
    w.close()


# --- selection and ranking ------------------------------------------------------------------------------------


def test_only_new_matching_papers_from_the_channels_sources_ranked_by_strength_upvotes_recency(world: World) -> None:
    w = world
    w.add("2405.00001", "2024-05-10T06:00:00Z")  # a week old: not new
    w.add("2405.00010", "2024-05-17T06:45:00Z", upvotes=1)  # the strongest match
    w.add("2405.00011", "2024-05-17T06:45:00Z", upvotes=5, published="2024-05-15T00:00:00Z")
    w.add("2405.00012", "2024-05-17T06:45:00Z", upvotes=50, published="2024-05-14T00:00:00Z")
    w.add("2405.00013", "2024-05-17T06:45:00Z", upvotes=5, published="2024-05-16T00:00:00Z")
    w.add("2405.00014", "2024-05-17T06:45:00Z", upvotes=500)  # matches nothing
    w.add("2405.00015", "2024-05-17T06:45:00Z", source="arxiv", categories=("cs.LG",))  # not a Daily Paper
    w.add("2405.00016", "2024-05-17T06:45:00Z")  # shared here by someone yesterday
    w.posts.record("C1", "1715000000.000001", "2405.00016", "share", user="U0BOB")
    w.scores["diffusion"] = {"2405.00001": 10, "2405.00010": 10, "2405.00011": 5.0, "2405.00012": 5.2,
                             "2405.00013": 5.0, "2405.00015": 9, "2405.00016": 9}
    plan, _ = w.service.preview(w.service.channel("C1"))
    # Same tier (within 10 % of each other): upvotes decide, then the newer paper.
    assert [p.paper_id for p in plan.picks] == ["2405.00010", "2405.00012", "2405.00013", "2405.00011"]
    assert plan.candidates == 5, "new Daily Papers not posted here yet, matching or not"

    w.service.channel_settings.set_sources("C1", "U0ALICE", ("cs.LG",), w.clock())
    plan, _ = w.service.preview(w.service.channel("C1"))
    assert [p.paper_id for p in plan.picks] == ["2405.00015"], "an arXiv-only channel gets only its category"


def test_the_maximum_caps_a_digest_and_what_did_not_fit_does_not_come_back_tomorrow(world: World) -> None:
    w = world
    w.service.channel_settings.change_schedule("C1", "U0ALICE", ScheduleChange(max_papers=2),
                                       NINE_BERLIN_DAY1 - timedelta(days=1))
    for i in range(4):
        w.add(f"2405.0002{i}", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {f"2405.0002{i}": 10 - i for i in range(4)}
    assert w.run("C1").status == "done"
    assert w.slack.papers("C1") == ["2405.00020", "2405.00021"]

    w.clock.advance(days=1)
    w.add("2405.00030", "2024-05-18T06:45:00Z")
    w.scores["diffusion"]["2405.00030"] = 1
    assert w.run("C1", date(2024, 5, 18)).status == "done"
    assert w.slack.papers("C1")[2:] == ["2405.00030"], "yesterday's overflow is not today's news"


def test_a_new_version_of_a_posted_paper_is_not_posted_again(world: World) -> None:
    w = world
    w.add("2405.00040", "2024-05-17T06:45:00Z", version=1)
    w.scores["diffusion"] = {"2405.00040": 8}
    w.run("C1")
    assert w.slack.papers("C1") == ["2405.00040"]
    # v2 the next day, listed on Daily Papers again and seen again: the same paper.
    w.clock.advance(days=1)
    w.add("2405.00040", "2024-05-18T06:45:00Z", version=2)
    assert w.archive.get("2405.00040")["version"] == 2
    result = w.run("C1", date(2024, 5, 18))
    assert result.status == "empty" and w.slack.papers("C1") == ["2405.00040"]


def test_topics_match_once_each_across_channels_and_bad_topics_are_skipped(world: World) -> None:
    w = world
    w.watch("C2", "Diffusion", "broken (")
    w.watch("C1", "broken (")
    w.add("2405.00050", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00050": 3}

    def refuse(query: str, paper_ids: Any = None) -> list[Hit]:
        if "(" in query:
            raise QueryError("unbalanced parenthesis")
        return ScriptedIndex.match(w.index, query, paper_ids)

    w.index.match = refuse  # type: ignore[method-assign]
    items = [(w.service.channel(c), DAY1) for c in ("C1", "C2")]
    plans = w.service.plan(items, w.clock())
    assert [p.paper_id for p in plans[("C1", DAY1)].picks] == ["2405.00050"]
    assert [p.paper_id for p in plans[("C2", DAY1)].picks] == ["2405.00050"]


def test_topic_counts_cover_the_last_seven_days_of_the_channels_sources(world: World) -> None:
    w = world
    w.watch("C1", "agents")
    w.add("2405.00060", "2024-05-16T06:45:00Z")
    w.add("2405.00061", "2024-05-12T06:45:00Z")
    w.add("2405.00062", "2024-05-01T06:45:00Z")  # too old
    w.add("2405.00063", "2024-05-16T06:45:00Z", source="arxiv", categories=("cs.CL",))  # another source
    w.scores["diffusion"] = {"2405.00060": 1, "2405.00061": 1, "2405.00062": 1, "2405.00063": 1}
    w.watch("C1", "however")

    def refuse_common(query: str, paper_ids: Any = None) -> list[Hit]:
        if query == "however":
            raise QueryError("'however' is too common to search for; add a more specific word.")
        return ScriptedIndex.match(w.index, query, paper_ids)

    w.index.match = refuse_common  # type: ignore[method-assign]
    counts = w.service.topic_counts(w.service.channel("C1"))
    assert [(c.topic, c.count, c.problem) for c in counts] == [
        ("diffusion", 2, None), ("agents", 0, None),
        ("however", 0, "'however' is too common to search for; add a more specific word.")]


# --- posting --------------------------------------------------------------------------------------------------


def test_a_header_then_one_reply_per_paper_each_recorded_and_only_once_a_day(world: World) -> None:
    w = world
    for i in range(3):
        w.add(f"2405.0007{i}", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {f"2405.0007{i}": 5 - i for i in range(3)}
    result = w.run("C1")
    assert (result.status, result.posted) == ("done", 3)
    messages = w.slack.messages["C1"]
    header = messages[0]
    assert header["kind"] == "header" and header["thread_ts"] is None and len(header["papers"]) == 3
    assert all(m["thread_ts"] == header["ts"] for m in messages[1:])
    for message in messages[1:]:
        assert w.posts.paper_for("C1", message["ts"]) == message["paper"]
    assert w.run("C1").status == "already"
    assert len(w.slack.messages["C1"]) == 4
    # Paced: a wait before every post after the first, of about the interval.
    assert len(w.sleeps) == 3 and all(0.4 < s <= 0.5 for s in w.sleeps)


def test_a_restart_mid_digest_resumes_without_duplicating_or_skipping(world: World) -> None:
    w = world
    ids = [f"2405.0008{i}" for i in range(5)]
    for pid in ids:
        w.add(pid, "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {pid: 10 - i for i, pid in enumerate(ids)}
    # The second paper reaches Slack, then the process dies before recording it.
    w.slack.script = [None, None, "crash-after"]
    with pytest.raises(Crash):
        w.run("C1")
    w.restart()
    # More papers arrive meanwhile; the resumed digest keeps its plan.
    w.add("2405.00099", "2024-05-17T07:30:00Z")
    w.scores["diffusion"]["2405.00099"] = 100
    w.clock.advance(minutes=30)
    due = due_digests(w.clock(), w.service.channels(), w.service.ledger)
    assert [(d.channel, d.resume) for d in due] == [("C1", True)]
    result = w.run("C1")
    assert result.status == "done"
    assert w.slack.papers("C1") == ids, "each planned paper exactly once, in order"
    assert len(w.slack.headers("C1")) == 1
    assert w.posts.papers_in("C1") == set(ids)


def test_a_crash_right_after_the_header_does_not_post_a_second_header(world: World) -> None:
    w = world
    w.add("2405.00100", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00100": 1}
    w.slack.script = ["crash-after"]
    with pytest.raises(Crash):
        w.run("C1")
    w.restart()
    assert w.run("C1").status == "done"
    assert len(w.slack.headers("C1")) == 1 and w.slack.papers("C1") == ["2405.00100"]


def test_rate_limits_are_waited_out_and_nothing_is_lost(world: World) -> None:
    w = world
    for i in range(3):
        w.add(f"2405.0011{i}", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {f"2405.0011{i}": 5 - i for i in range(3)}
    w.slack.script = [None, RateLimited(7), RateLimited(3), None, RateLimited(None)]
    result = w.run("C1")
    assert result.status == "done" and w.slack.papers("C1") == ["2405.00110", "2405.00111", "2405.00112"]
    assert 7 in w.sleeps and 3 in w.sleeps, "Retry-After honoured"
    assert 1 in w.sleeps, "no Retry-After: back off from a second"


def test_a_post_that_keeps_failing_leaves_the_digest_unfinished_and_it_is_retried_later(world: World) -> None:
    w = world
    for i in range(3):
        w.add(f"2405.0012{i}", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {f"2405.0012{i}": 5 - i for i in range(3)}
    w.slack.script = [None, None, PostError("internal_error")]
    result = w.run("C1")
    assert (result.status, result.error) == ("incomplete", "internal_error")
    assert w.slack.papers("C1") == ["2405.00120"]
    channels = w.service.channels()
    w.clock.advance(seconds=30)
    assert due_digests(w.clock(), channels, w.service.ledger) == [], "waits before retrying"
    w.clock.advance(minutes=1)
    assert [d.resume for d in due_digests(w.clock(), channels, w.service.ledger)] == [True]
    assert w.run("C1").status == "done"
    assert w.slack.papers("C1") == ["2405.00120", "2405.00121", "2405.00122"]


def test_a_channel_the_bot_left_is_paused_logged_once_and_resumed_by_a_schedule_command(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    w.add("2405.00130", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00130": 1}
    caplog.set_level(logging.INFO, logger="bot.digest")
    w.slack.script = [ChannelGone("not_in_channel"), ChannelGone("not_in_channel")]
    assert w.run("C1").status == "paused"
    assert w.run("C1").status == "paused"  # e.g. someone runs /papers digest there
    assert [r.getMessage() for r in caplog.records if "digest.paused" in r.getMessage()] == [
        "digest.paused channel=C1 reason=not_in_channel"]
    assert w.service.channel("C1").paused == "not_in_channel"
    w.clock.advance(hours=1)
    assert due_digests(w.clock(), w.service.channels(), w.service.ledger) == []
    w.service.channel_settings.change_schedule("C1", "U0ALICE", parse_schedule_args("09:00"), w.clock())
    assert w.service.channel("C1").paused is None
    assert [d.resume for d in due_digests(w.clock(), w.service.channels(), w.service.ledger)] == [True]
    assert w.run("C1").status == "done" and w.slack.papers("C1") == ["2405.00130"]


def test_a_day_with_nothing_new_posts_nothing_unless_the_channel_asks_for_it(world: World) -> None:
    w = world
    assert w.run("C1").status == "empty"
    assert w.slack.messages == {}
    assert w.service.ledger.get("C1", DAY1)["status"] == "done", "and is not retried"
    w.watch("C2", "diffusion")
    w.service.channel_settings.change_schedule("C2", "U0ALICE", parse_schedule_args("always"), NINE_BERLIN_DAY1)
    assert w.run("C2").status == "done"
    assert [m["kind"] for m in w.slack.messages["C2"]] == ["header"] and w.slack.headers("C2")[0]["papers"] == []


def test_a_broken_index_leaves_the_day_unplanned_instead_of_an_empty_digest(world: World,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    w.add("2405.00001", "2024-05-17T05:00:00Z")
    w.scores["diffusion"] = {"2405.00001": 1.0}

    def broken(query: str, paper_ids: Any = None) -> list[Any]:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(w.index, "match", broken)
    with pytest.raises(RuntimeError):
        w.run("C1")
    assert w.service.ledger.get("C1", DAY1) is None, "nothing recorded: the next tick plans the day again"
    monkeypatch.undo()
    assert w.run("C1").status == "done" and w.slack.papers("C1") == ["2405.00001"]


def test_a_preview_records_nothing(world: World) -> None:
    w = world
    w.add("2405.00140", "2024-05-17T06:45:00Z")
    w.scores["diffusion"] = {"2405.00140": 1}
    plan, next_digest = w.service.preview(w.service.channel("C1"))
    assert [p.paper_id for p in plan.picks] == ["2405.00140"] and not next_digest
    assert w.service.ledger.get("C1", DAY1) is None and len(w.posts) == 0 and w.slack.messages == {}
    w.run("C1")
    plan, next_digest = w.service.preview(w.service.channel("C1"))
    assert next_digest and plan.picks == [], "after today's digest, the preview is of the next one"


# --- settings -------------------------------------------------------------------------------------------------


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


# --- the scheduler's tick -------------------------------------------------------------------------------------


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
