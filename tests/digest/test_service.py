"""Posting a digest exactly once (real stores, fake clock, fake Slack poster): a header then one reply per paper,
across restarts, crashes, rate limits and failures; a vanished channel; a day with nothing new; a preview."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from digest_world import DAY1, NINE_BERLIN_DAY1, Crash, World

from bot.digest.due import due_digests
from bot.digest.schedule import parse_schedule_args
from bot.digest.service import ChannelGone, PostError, RateLimited


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
