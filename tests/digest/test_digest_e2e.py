"""Digests end to end: the real app, services, search index and Web API client against the Slack emulator,
with a controllable clock driving the scheduler's tick (and one real `paperbot run` process).

Each test asserts what people in the channels would see: which messages the emulator received, in which
channel and thread, when (on the fake clock), and that none was duplicated or lost.
"""

from __future__ import annotations

import itertools
import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_driver import SlackStack, start_stack
from slack_emulator import SlackEmulator

from bot.digest.due import IngestRequest
from bot.digest.scheduler import DigestScheduler
from bot.digest.service import DigestService
from bot.papers import new_record

pytestmark = pytest.mark.e2e

DAY1 = date(2024, 5, 17)
INTERVAL = 0.05  # seconds between posts to one channel (1 s in production)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def paper(pid: str, title: str, seen: datetime, *, abstract: str = "", upvotes: int = 0, version: int = 1,
          source: str = "hf", categories: tuple[str, ...] = ()) -> dict[str, Any]:
    stamp = seen.strftime("%Y-%m-%dT%H:%M:%SZ")
    return new_record(f"{pid}v{version}", source=source, seen_at=stamp, title=title,
                      abstract=abstract or f"We study {title.lower()} in depth.", upvotes=upvotes,
                      published=(seen - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      hf_date=stamp[:10] if source == "hf" else None, categories=list(categories),
                      authors=["Ada Lovelace"])


OLD = datetime(2024, 4, 2, 6, 0, tzinfo=UTC)


def archive_before() -> list[dict[str, Any]]:
    """What the archive held before the test days: matching papers, but not new."""
    return [paper("2404.00001", "Diffusion Models Beat GANs Again", OLD),
            paper("2404.00002", "Graph Neural Networks Revisited", OLD)]


def day_papers(day: date, seen: datetime) -> list[dict[str, Any]]:
    n = day.day
    return [
        paper(f"2405.{n:02d}001", f"Diffusion Transformers for Long Video Generation, day {n}", seen, upvotes=40),
        paper(f"2405.{n:02d}002", f"Consistency Distillation for Fast Diffusion Sampling, day {n}", seen, upvotes=3),
        paper(f"2405.{n:02d}003", f"Graph Neural Networks for Molecular Property Prediction, day {n}", seen),
        paper(f"2405.{n:02d}004", f"Message Passing Graph Neural Networks at Scale, day {n}", seen),
        paper(f"2405.{n:02d}005", f"A Survey of Reinforcement Learning from Human Feedback, day {n}", seen),
        paper(f"2405.{n:02d}006", "<!channel> Diffusion for everyone <@U0ATTACKER> & <https://evil.example|win>",
              seen, upvotes=1),
    ]


@dataclass
class Digests:
    stack: SlackStack
    clock: Clock
    service: DigestService
    scheduler: DigestScheduler
    ingests: list[tuple[datetime, IngestRequest]] = field(default_factory=list)

    @property
    def slack(self) -> SlackEmulator:
        return self.stack.slack

    def tick(self) -> None:
        self.scheduler.tick()
        assert self.scheduler.wait_idle(30)

    def run_until(self, end: datetime, step: timedelta = timedelta(minutes=10),
                  each: Callable[[datetime], None] | None = None) -> None:
        while self.clock.now <= end:
            self.tick()
            if each is not None:
                each(self.clock.now)
            self.clock.now += step

    def ask(self, text: str, channel: str, user: str = "U0ALICE") -> dict[str, Any]:
        return self.stack.driver.ask(text, channel_id=channel, user_id=user)

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """Messages the bot posted in `channel`, oldest first (header and thread replies)."""
        return [c.params | {"ts": c.response["ts"]} for c in self.slack.calls_to("chat.postMessage")
                if c.params.get("channel") == channel and c.response.get("ok")]

    def papers(self, channel: str) -> list[str]:
        return [b["block_id"].split(":", 1)[1] for m in self.posts(channel) for b in m.get("blocks", [])
                if b.get("block_id", "").startswith("paper:")]

    def headers(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.posts(channel) if not m.get("thread_ts")]


def attach(stack: SlackStack, clock: Clock, *, ingest: Callable[[IngestRequest], Any] | None = None) -> Digests:
    service: DigestService = stack.services.digests
    service.clock = clock
    service.options = replace(service.options, post_interval=INTERVAL)
    digests = Digests(stack, clock, service, None)  # type: ignore[arg-type]

    def recorded_ingest(request: IngestRequest) -> Any:
        digests.ingests.append((clock(), request))
        return ingest(request) if ingest else None

    digests.scheduler = DigestScheduler(service, ingest=recorded_ingest, clock=clock, workers=4)
    return digests


def daily_ingest(stack_ref: Callable[[], SlackStack], clock: Clock,
                 papers_of: Callable[[date, datetime], list[dict[str, Any]]] = day_papers) -> Callable[..., None]:
    """An ingest that finds each UTC day's papers (as Daily Papers would list them) when it runs."""

    def run(request: IngestRequest) -> None:
        stack_ref().services.archive.upsert(papers_of(clock().date(), clock()))

    return run


@pytest.fixture
def make(slack_stack_factory: Any) -> Iterator[Callable[..., Digests]]:
    made: list[Digests] = []

    def build(start: datetime, *, ingest: bool = True, env: dict[str, str] | None = None,
              papers: list[dict[str, Any]] | None = None) -> Digests:
        stack = slack_stack_factory(archive_before() if papers is None else papers, env=env)
        clock = Clock(start)
        digests = attach(stack, clock, ingest=daily_ingest(lambda: stack, clock) if ingest else None)
        made.append(digests)
        return digests

    yield build
    for digests in made:
        digests.scheduler.stop(5)


def setup_channel(d: Digests, channel: str, topic: str, schedule: str) -> None:
    assert d.ask(f"watch {topic}", channel)["response_type"] == "in_channel"
    reply = d.ask(f"schedule {schedule}", channel)
    assert reply["response_type"] == "in_channel", reply


# --- scheduling ---------------------------------------------------------------------------------------------


def test_two_channels_in_different_time_zones_get_their_own_papers_at_their_own_times(make: Any) -> None:
    d = make(datetime(2024, 5, 16, 20, 0, tzinfo=UTC))  # the evening before
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    setup_channel(d, "C0NYC", "graph neural networks", "09:00 America/New_York")
    first_post: dict[str, datetime] = {}

    def note(now: datetime) -> None:
        for channel in ("C0BERLIN", "C0NYC"):
            if d.posts(channel) and channel not in first_post:
                first_post[channel] = now

    d.run_until(datetime(2024, 5, 17, 16, 0, tzinfo=UTC), each=note)
    assert first_post == {"C0BERLIN": datetime(2024, 5, 17, 7, 0, tzinfo=UTC),  # 09:00 CEST
                          "C0NYC": datetime(2024, 5, 17, 13, 0, tzinfo=UTC)}  # 09:00 EDT
    assert d.ingests and d.ingests[0][0] == datetime(2024, 5, 17, 6, 50, tzinfo=UTC), "shortly before the first"
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002", "2405.17006"]
    assert d.papers("C0NYC") == ["2405.17003", "2405.17004"]
    for channel in ("C0BERLIN", "C0NYC"):
        header, *replies = d.posts(channel)
        assert "thread_ts" not in header or not header["thread_ts"]
        assert all(r["thread_ts"] == header["ts"] for r in replies), "papers go in the header's thread"
        for reply in replies:  # a reaction on any reply names exactly one paper
            assert d.service.posts.paper_for(channel, reply["ts"]) in d.papers(channel)
        times = [c.at for c in d.slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]
        assert min(b - a for a, b in itertools.pairwise(times)) >= INTERVAL * 0.9, "paced"
    assert d.slack.broadcast_mentions() == [], "the injected title reached Slack inert"

    # The next day: each channel once more, only that day's papers.
    d.run_until(datetime(2024, 5, 18, 14, 0, tzinfo=UTC), step=timedelta(minutes=30))
    assert len(d.headers("C0BERLIN")) == 2 and len(d.headers("C0NYC")) == 2
    assert d.papers("C0BERLIN")[3:] == ["2405.18001", "2405.18002", "2405.18006"]


def test_a_bot_that_was_down_at_nine_catches_up_when_it_starts(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    d.clock.now = datetime(2024, 5, 17, 11, 37, tzinfo=UTC)  # back at 13:37 Berlin time
    d.tick()
    assert [t for t, _ in d.ingests] == [datetime(2024, 5, 17, 11, 37, tzinfo=UTC)], "ingest first"
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002", "2405.17006"]
    d.tick()
    assert len(d.posts("C0BERLIN")) == 4, "once"


# --- restarts -----------------------------------------------------------------------------------------------


def _restart(d: Digests) -> Digests:
    """Stop the bot (not Slack) and start it again on the same data directory, like a process restart."""
    from bot.slack.app import shutdown_app

    d.scheduler.stop(10)
    old = d.stack
    old.driver.close()
    old.server.stop()
    shutdown_app(old.app, 10)
    old.services.close()
    new_stack = start_stack(old.settings.data_dir, slack=old.slack, env={"PAPERBOT_TZ": "UTC"})
    new = attach(new_stack, d.clock)
    new.ingests = d.ingests
    return new


def test_a_restart_mid_digest_resumes_without_duplicating_or_skipping(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC), papers=archive_before() + [
        paper(f"2405.260{i:02d}", f"Diffusion paper number {i}", datetime(2024, 5, 17, 5, 0, tzinfo=UTC))
        for i in range(8)], ingest=False)
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    d.service.options = replace(d.service.options, post_interval=0.3)
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.scheduler.tick()
    d.slack.wait_for_calls("chat.postMessage", 4, timeout=10)  # header + 3 papers, then the bot stops
    restarted = _restart(d)
    try:
        stopped_after = len(restarted.posts("C0BERLIN"))
        assert 4 <= stopped_after < 9, "stopped mid-digest"
        restarted.clock.now += timedelta(minutes=1)
        restarted.tick()
        planned = [p["id"] for p in restarted.service.ledger.get("C0BERLIN", DAY1)["picks"]]
        assert sorted(planned) == [f"2405.260{i:02d}" for i in range(8)]
        assert restarted.papers("C0BERLIN") == planned, "each once, in the planned order"
        assert len(restarted.headers("C0BERLIN")) == 1
    finally:
        restarted.scheduler.stop(5)
        restarted.stack.stop()


def test_a_post_that_reached_slack_just_before_a_crash_is_not_posted_again(make: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack.digest_poster import SlackPoster

    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    real_paper = SlackPoster.paper
    calls: list[int] = []

    class Killed(BaseException):
        pass

    def dies_after_second(self: SlackPoster, *args: Any, **kwargs: Any) -> str:
        ts = real_paper(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise Killed()  # Slack has the message; the bot never records it
        return ts

    monkeypatch.setattr(SlackPoster, "paper", dies_after_second)
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.scheduler.tick()
    d.scheduler.wait_idle(10)
    assert len(d.papers("C0BERLIN")) == 2
    monkeypatch.setattr(SlackPoster, "paper", real_paper)
    restarted = _restart(d)
    try:
        restarted.clock.now += timedelta(minutes=1)
        restarted.tick()
        assert restarted.papers("C0BERLIN") == ["2405.17001", "2405.17002", "2405.17006"]
        assert restarted.slack.calls_to("conversations.replies"), "the thread was checked before resuming"
        second = restarted.posts("C0BERLIN")[2]
        assert restarted.service.posts.paper_for("C0BERLIN", second["ts"]) == "2405.17002", "and recorded"
    finally:
        restarted.scheduler.stop(5)
        restarted.stack.stop()


# --- Slack trouble ------------------------------------------------------------------------------------------


def test_a_429_storm_is_waited_out_and_every_paper_arrives_once(make: Any, caplog: pytest.LogCaptureFixture) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    caplog.set_level(logging.INFO, logger="bot.digest")
    # The client's handler retries a 429 three times; the storm outlasts that, then the digest waits again.
    d.slack.rate_limit("chat.postMessage", times=6, retry_after=0)
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.tick()
    statuses = [c.status for c in d.slack.calls_to("chat.postMessage")]
    assert statuses[:6] == [429] * 6 and set(statuses[6:]) == {200}
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002", "2405.17006"] and len(d.headers("C0BERLIN")) == 1
    assert any("digest.ratelimited channel=C0BERLIN" in r.getMessage() for r in caplog.records)
    assert d.service.ledger.get("C0BERLIN", DAY1)["status"] == "done"


def test_server_errors_leave_the_digest_unfinished_and_a_later_tick_finishes_it(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    d.slack.fail("chat.postMessage", times=1, status=500)
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.tick()
    assert d.posts("C0BERLIN") == [] and d.service.ledger.get("C0BERLIN", DAY1)["status"] == "planned"
    # Not resent by the client: Slack may have posted it before failing; the next attempt reads the channel.
    assert len(d.slack.calls_to("chat.postMessage")) == 1
    d.clock.now += timedelta(seconds=30)
    d.tick()
    assert d.posts("C0BERLIN") == [], "it waits a minute before retrying"
    d.clock.now += timedelta(minutes=1)
    d.tick()
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002", "2405.17006"]


def test_a_post_that_went_through_but_answered_504_is_not_posted_twice(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    d.slack.fail("chat.postMessage", times=2, status=504, after_doing=True)  # the header and the first paper
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.tick()
    assert d.service.ledger.get("C0BERLIN", DAY1)["status"] == "planned"
    for _ in range(2):  # the second failure (the first paper) needs one more attempt
        d.clock.now += timedelta(minutes=2)
        d.tick()
    in_channel = d.slack.messages["C0BERLIN"]  # what Slack holds, whatever the answers said
    papers = [b["block_id"].split(":", 1)[1] for m in in_channel for b in m["blocks"]
              if b.get("block_id", "").startswith("paper:")]
    assert papers == ["2405.17001", "2405.17002", "2405.17006"], "each paper exactly once"
    assert len(in_channel) == 4, "one header, three papers"
    assert d.service.ledger.get("C0BERLIN", DAY1)["status"] == "done"


def test_a_channel_the_bot_was_removed_from_is_paused_once_and_resumed_by_schedule(
        make: Any, caplog: pytest.LogCaptureFixture) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0GONE", "diffusion", "09:00 Europe/Berlin")
    setup_channel(d, "C0STAY", "diffusion", "09:00 Europe/Berlin")
    d.slack.channel_errors["C0GONE"] = "not_in_channel"
    caplog.set_level(logging.INFO, logger="bot.digest")
    d.run_until(datetime(2024, 5, 17, 9, 0, tzinfo=UTC))
    assert d.papers("C0STAY") == ["2405.17001", "2405.17002", "2405.17006"], "other channels are unaffected"
    gone_calls = [c for c in d.slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0GONE"]
    assert len(gone_calls) == 1, "tried once, then paused"
    assert [r.getMessage() for r in caplog.records if "digest.paused" in r.getMessage()] == [
        "digest.paused channel=C0GONE reason=not_in_channel"]
    status = d.ask("schedule", "C0GONE")
    assert "Paused" in str(status) and "/invite @paperbot" in str(status)

    del d.slack.channel_errors["C0GONE"]  # invited back
    assert d.ask("schedule 09:00", "C0GONE")["response_type"] == "in_channel"
    d.clock.now += timedelta(minutes=5)
    d.tick()
    assert d.papers("C0GONE") == ["2405.17001", "2405.17002", "2405.17006"], "today's digest resumes"


# --- what is new --------------------------------------------------------------------------------------------


def test_a_day_with_no_new_papers_posts_nothing(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC), ingest=False)
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    d.run_until(datetime(2024, 5, 17, 12, 0, tzinfo=UTC))
    assert d.slack.calls_to("chat.postMessage") == [], "the old matching papers are not news"
    assert d.service.ledger.get("C0BERLIN", DAY1)["status"] == "done"


def test_the_same_paper_as_v1_and_then_v2_is_posted_once(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC), ingest=False)
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    archive = d.stack.services.archive
    archive.upsert([paper("2405.99001", "Diffusion Policies for Robots", datetime(2024, 5, 17, 6, 30, tzinfo=UTC))])
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.tick()
    assert d.papers("C0BERLIN") == ["2405.99001"]
    # v2 appears the next day (new arXiv version, listed again), next to a genuinely new paper.
    seen = datetime(2024, 5, 18, 6, 30, tzinfo=UTC)
    archive.upsert([paper("2405.99001", "Diffusion Policies for Robots (v2)", seen, version=2),
                    paper("2405.99002", "Latent Diffusion for Audio", seen)])
    d.clock.now = datetime(2024, 5, 18, 7, 0, tzinfo=UTC)
    d.tick()
    assert d.papers("C0BERLIN") == ["2405.99001", "2405.99002"]


# --- slash commands -----------------------------------------------------------------------------------------


def test_digest_preview_schedule_sources_and_topics_from_slack(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 55, tzinfo=UTC))
    d.tick()  # nothing to do yet: no channel has topics
    d.stack.services.archive.upsert(day_papers(DAY1, datetime(2024, 5, 17, 6, 50, tzinfo=UTC)))
    assert d.ask("watch diffusion", "C0LAB")["response_type"] == "in_channel"

    preview = d.ask("digest preview", "C0LAB")
    assert preview["response_type"] == "ephemeral"
    assert "Today's digest would post 3 papers" in str(preview) and "&lt;!channel&gt;" in str(preview)
    assert d.slack.calls_to("chat.postMessage") == [] and d.service.ledger.get("C0LAB", DAY1) is None

    topics = d.ask("topics", "C0LAB")
    assert "1. diffusion — 3 papers" in str(topics), "today's three; the April one is older than 7 days"

    changed = d.ask("schedule 8:30 europe/berlin weekdays max 2", "C0LAB")
    assert changed["response_type"] == "in_channel"
    assert "08:30 Europe/Berlin, weekdays, at most 2 papers" in str(changed)
    assert "Did you mean Europe/Berlin?" in str(d.ask("schedule 09:00 Europe/Berln", "C0LAB"))
    assert "neither “hf”" in str(d.ask("sources arxiv", "C0LAB"))
    assert d.ask("sources hf cs.lg", "C0LAB")["response_type"] == "in_channel"
    assert "Hugging Face Daily Papers, arXiv cs.LG" in str(d.ask("sources", "C0LAB"))

    posting = d.stack.driver.command("digest", channel_id="C0LAB")
    replies = d.slack.wait_for_responses(posting.response_url, 2, timeout=10)
    assert "Posting today's digest now: 2 papers" in str(replies[0])
    assert d.papers("C0LAB") == ["2405.17001", "2405.17002"]
    again = d.ask("digest", "C0LAB")
    assert "already posted (2 papers" in str(again)
    d.clock.now = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
    d.tick()
    assert len(d.posts("C0LAB")) == 3, "the scheduled digest does not repeat today's"
    assert "The next digest would post nothing so far" in str(d.ask("digest preview", "C0LAB"))


# --- a digest before the day's papers are in -----------------------------------------------------------------


def with_real_sources(make: Any, fake_sources: Any, start: datetime) -> Digests:
    """A stack whose ingest (the scheduler's and `/papers digest`'s) is the real one, against the fake sources."""
    env = {k: v for k, v in fake_sources.env(Path("unused")).items() if k != "PAPERBOT_DATA_DIR"}
    d = make(start, ingest=False, env={**env, "PAPERBOT_HTTP_BACKOFF": "0"})
    real = d.stack.services.scheduler.ingest
    assert real is not None

    def recorded(request: IngestRequest) -> Any:
        d.ingests.append((d.clock(), request))
        return real(request)

    d.scheduler.ingest = recorded
    d.service.ingest = recorded
    return d


def hf_day(fake_sources: Any, day: date) -> None:
    from fake_sources import hf_item

    fake_sources.add_hf_day(day.isoformat(), [
        hf_item("2405.17001", "Diffusion Transformers for Long Video Generation", day=day.isoformat(), upvotes=40,
                abstract="Diffusion for video."),
        hf_item("2405.17002", "Consistency Distillation for Fast Diffusion Sampling", day=day.isoformat(),
                abstract="Faster diffusion sampling."),
        hf_item("2405.17003", "Graph Neural Networks for Molecules", day=day.isoformat(), abstract="Graphs."),
    ])


def test_an_early_digest_while_the_sources_are_down_records_nothing_and_the_day_still_gets_its_digest(
        make: Any, fake_sources: Any) -> None:
    from local_http import Reply

    d = with_real_sources(make, fake_sources, datetime(2024, 5, 17, 5, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    fake_sources.fail("daily_papers", Reply(503, b"down"), times=None)

    early = d.ask("digest", "C0BERLIN")
    assert early["response_type"] == "ephemeral"
    assert "sources are down" in str(early) and "Hugging Face" in str(early), early
    assert "Nothing new matched" not in str(early)
    assert d.ingests, "an early digest looks for the day's papers first"
    assert d.service.ledger.get("C0BERLIN", DAY1) is None, "nothing recorded"
    assert d.posts("C0BERLIN") == []

    fake_sources.clear_faults()
    hf_day(fake_sources, DAY1)
    d.run_until(datetime(2024, 5, 17, 7, 30, tzinfo=UTC))
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002"], "the scheduled digest posts what matched"
    again = d.ask("digest", "C0BERLIN")
    assert "already posted (2 papers" in str(again)
    assert not any("already posted (0 papers" in str(p.payload) for p in d.slack.response_posts)


def test_an_early_digest_before_the_papers_are_in_says_when_the_digest_comes(make: Any, fake_sources: Any) -> None:
    d = with_real_sources(make, fake_sources, datetime(2024, 5, 17, 5, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")

    early = d.ask("digest", "C0BERLIN")  # the sources answer, but list nothing for today yet
    assert "not in yet" in str(early) and "09:00" in str(early), early
    assert "already posted" not in str(early) and "Nothing new matched" not in str(early)
    assert d.service.ledger.get("C0BERLIN", DAY1) is None

    hf_day(fake_sources, DAY1)
    d.run_until(datetime(2024, 5, 17, 6, 55, tzinfo=UTC))  # the scheduler's ingest, shortly before 09:00 Berlin
    assert "Today's digest would post 2 papers" in str(d.ask("digest preview", "C0BERLIN"))
    d.run_until(datetime(2024, 5, 17, 7, 30, tzinfo=UTC))
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002"]


def test_a_scheduled_digest_while_the_sources_are_down_waits_for_them(make: Any, fake_sources: Any,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    from local_http import Reply

    d = with_real_sources(make, fake_sources, datetime(2024, 5, 17, 6, 0, tzinfo=UTC))
    setup_channel(d, "C0BERLIN", "diffusion", "09:00 Europe/Berlin")
    caplog.set_level(logging.INFO, logger="bot.digest")
    fake_sources.fail("daily_papers", Reply(503, b"down"), times=None)
    d.run_until(datetime(2024, 5, 17, 8, 0, tzinfo=UTC))
    assert d.posts("C0BERLIN") == [] and d.service.ledger.get("C0BERLIN", DAY1) is None
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("digest.waiting")]
    assert len(waits) == 1 and "channel=C0BERLIN" in waits[0] and "reason=down" in waits[0], waits

    fake_sources.clear_faults()
    hf_day(fake_sources, DAY1)
    d.run_until(datetime(2024, 5, 17, 10, 30, tzinfo=UTC))  # the next ingest comes at most 3 hours later
    assert d.papers("C0BERLIN") == ["2405.17001", "2405.17002"]
    assert d.service.ledger.get("C0BERLIN", DAY1)["status"] == "done"


def test_admins_alone_change_digest_settings_or_post_early(make: Any) -> None:
    d = make(datetime(2024, 5, 17, 6, 0, tzinfo=UTC), env={"PAPERBOT_ADMINS": "U0ADMIN"})
    assert d.ask("watch diffusion", "C0LAB", user="U0ADMIN")["response_type"] == "in_channel"
    for text in ("schedule 10:00", "sources cs.LG", "digest"):
        refused = d.ask(text, "C0LAB", user="U0ALICE")
        assert refused["response_type"] == "ephemeral" and "only paperbot admins" in str(refused), text
    assert "Digest:" in str(d.ask("schedule", "C0LAB", user="U0ALICE")), "anyone may look"
    assert d.slack.calls_to("chat.postMessage") == []


# --- the real process ---------------------------------------------------------------------------------------


def test_paperbot_run_ingests_and_posts_an_overdue_digest_at_start_up_and_the_cli_respects_it(
        tmp_path: Path, fake_sources: Any) -> None:
    from cli_runner import process_env
    from fake_sources import hf_item
    from slack_driver import SIGNING_SECRET

    from bot.digest.schedule import parse_schedule_args
    from bot.digest.settings import DigestOptions
    from bot.store.tinydb.channels import Channels
    from bot.store.tinydb.files import DataDir

    today = datetime.now(UTC).date().isoformat()
    fake_sources.add_hf_day(today, [
        hf_item("2405.77001", "Diffusion Models for Weather Forecasting", day=today, upvotes=12,
                abstract="A diffusion model forecasts weather."),
        hf_item("2405.77002", "Tokenizer-free Language Models", day=today, abstract="Bytes, not tokens."),
    ])
    data = tmp_path / "data"
    with DataDir(data) as data_dir:
        Channels(data_dir.store("channels")).watch("C0LAB", "diffusion", "U0ALICE")
        # 00:00 UTC every day, set long ago: today's digest is overdue whenever the test runs.
        Channels(data_dir.store("channels"), DigestOptions()).change_schedule(
            "C0LAB", "U0ALICE", parse_schedule_args("00:00 UTC"), datetime(2020, 1, 1, tzinfo=UTC))
    with SlackEmulator() as slack:
        # Hermetic: only these settings, in a folder whose (empty) .env hides the repository's.
        env = process_env({**fake_sources.env(data), "SLACK_BOT_TOKEN": slack.bot_token,
                           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
                           "PAPERBOT_LOG_LEVEL": "INFO"}, tmp_path)
        bot = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", "0"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            calls = slack.wait_for_calls("chat.postMessage", 2, timeout=20)
            assert [c.params.get("thread_ts") is None for c in calls] == [True, False]
            assert any(b.get("block_id") == "paper:2405.77001" for b in calls[1].params["blocks"])
            busy = subprocess.run([sys.executable, "-m", "bot", "digest", "--channel", "C0LAB"], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=30)
            assert busy.returncode == 1 and "in use by another paperbot process" in busy.stderr
            dry = subprocess.run([sys.executable, "-m", "bot", "digest", "--dry-run"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=30)
            assert dry.returncode == 0 and "C0LAB next digest" in dry.stdout, dry.stdout + dry.stderr
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(20) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait(5)
        log = bot.stderr.read() if bot.stderr else ""
        assert "scheduler.ingest " in log and "digest.done channel=C0LAB" in log, log
        assert log.index("scheduler.ingest ") < log.index("digest.planned channel=C0LAB"), "ingest first"
        again = subprocess.run([sys.executable, "-m", "bot", "digest"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=30)
        assert again.returncode == 0 and "C0LAB" in again.stdout and ": already" in again.stdout, again.stdout
        assert len(slack.calls_to("chat.postMessage")) == 2, "exactly once"


def test_reconciling_after_a_crash_waits_out_a_rate_limit_rather_than_posting_twice() -> None:
    from slack_sdk import WebClient

    from bot.digest.service import RateLimited
    from bot.slack.digest_poster import SlackPoster

    with SlackEmulator() as slack:
        poster = SlackPoster(WebClient(token=slack.bot_token, base_url=slack.api_url))
        slack.rate_limit("conversations.history", times=1)
        with pytest.raises(RateLimited):
            poster.find_header("C0LAB", DAY1)
        slack.rate_limit("conversations.replies", times=1)
        with pytest.raises(RateLimited):
            poster.thread_papers("C0LAB", "1700000000.000001")
        slack.channel_errors["C0NOSCOPE"] = "missing_scope"  # no history scope: posting again beats nothing
        assert poster.find_header("C0NOSCOPE", DAY1) is None
