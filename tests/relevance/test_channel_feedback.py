"""A channel's feedback over the real TinyDB repositories (bot/relevance/feedback.py): which papers count as
saved, not relevant or ignored for which channel, and recording / taking back "not relevant"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.relevance.feedback import IGNORED_WEIGHT, ChannelFeedback
from bot.store.tinydb.feedback import FeedbackStore
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import POSTS_TABLE, PostLedger
from bot.store.tinydb.saves import Saves

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class World:
    posts: PostLedger
    saves: Saves
    feedback: FeedbackStore
    channel: ChannelFeedback


def open_world(path: Path, posted: list[tuple[str, str, str, str, float]]) -> tuple[DataDir, World]:
    """`posted`: (channel, ts, paper id, kind, days ago) written as the post ledger holds them."""
    data = DataDir(path)
    data.store("posts").change(POSTS_TABLE, {
        f"{channel}:{ts}": {"channel": channel, "ts": ts, "paper_id": paper, "kind": kind, "posted_at": stamp(ago)}
        for channel, ts, paper, kind, ago in posted})
    posts, saves = PostLedger(data.store("posts")), Saves(data.store("saves"))
    feedback = FeedbackStore(data.store("feedback"))
    return data, World(posts, saves, feedback, ChannelFeedback(posts, saves, feedback))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    data, opened = open_world(tmp_path, [
        ("C1", "1.1", "2405.00001", "digest", 10), ("C1", "1.2", "2405.00002", "digest", 10),
        ("C1", "1.3", "2405.00003", "digest", 9), ("C1", "1.4", "2405.00004", "digest", 2),
        ("C1", "1.5", "2405.00005", "digest", 8), ("C1", "1.6", "2405.00006", "digest", 8.5),
        ("C1", "1.7", "2405.00007", "digest", 12), ("C2", "2.7", "2405.00007", "digest", 12),
        ("C1", "1.8", "2405.00008", "digest", 11), ("C1", "1.9", "2405.00009", "share", 20),
        ("C2", "2.1", "2405.00010", "digest", 9),
    ])
    yield opened
    data.close()


def labels(world: World, channel: str = "C1") -> dict[str, tuple[float, float, str]]:
    return {e.paper_id: (e.label, e.weight, e.reason) for e in world.channel.examples(channel, now=NOW)}


def test_saves_marks_and_papers_left_alone_become_the_channels_examples(world: World) -> None:
    saves, feedback = world.saves, world.feedback
    saves.save("U1", "2405.00001", via="reaction", channel="C1", ts="1.1", reaction="bookmark")
    feedback.mark("C1", "2405.00002", "U2", via="button")
    feedback.mark("C1", "2405.00005", "U2", via="button", at=stamp(3))
    saves.save("U3", "2405.00005", via="button", channel="C1", at=stamp(1))  # saved after the mark: wins
    saves.save("U3", "2405.00006", via="button", channel="C1", at=stamp(4))
    feedback.mark("C1", "2405.00006", "U2", via="reaction", reaction="-1", ts="1.6", at=stamp(2))  # marked after
    saves.save("U4", "2405.00007", via="button", channel="C2")  # speaks for C2, where it was posted too
    saves.save("U5", "2405.00008", via="button")  # from the Home tab: neutral, speaks for every channel
    saves.save("U6", "2405.00009", via="button", channel="C1")  # a shared paper counts too
    feedback.mark("C1", "2405.00010", "U2", via="button")  # never posted in C1: says nothing about it
    assert labels(world) == {
        "2405.00001": (1.0, 1.0, "saved"),
        "2405.00002": (0.0, 1.0, "not_relevant"),
        "2405.00003": (0.0, IGNORED_WEIGHT, "ignored"),  # 9 days, nobody touched it
        "2405.00005": (1.0, 1.0, "saved"),
        "2405.00006": (0.0, 1.0, "not_relevant"),
        "2405.00007": (0.0, IGNORED_WEIGHT, "ignored"),
        "2405.00008": (1.0, 1.0, "saved"),
        "2405.00009": (1.0, 1.0, "saved"),
    }, "2405.00004 is 2 days old: not an example yet"
    assert labels(world, "C2") == {"2405.00007": (1.0, 1.0, "saved"), "2405.00010": (0.0, IGNORED_WEIGHT, "ignored")}


def test_a_save_reaction_in_this_channel_counts_even_if_the_first_save_was_elsewhere(world: World) -> None:
    world.saves.save("U4", "2405.00007", via="button", channel="C2")
    world.saves.save("U4", "2405.00007", via="reaction", channel="C1", ts="1.7", reaction="bookmark")
    assert labels(world)["2405.00007"] == (1.0, 1.0, "saved")


def test_a_shared_paper_left_alone_is_not_an_ignored_digest_paper(world: World) -> None:
    assert "2405.00009" not in labels(world)


def test_examples_are_the_newest_posts_first(world: World) -> None:
    newest = world.channel.examples("C1", now=NOW, limit=3)
    assert [e.paper_id for e in newest] == ["2405.00005", "2405.00006", "2405.00003"]
    assert world.channel.examples("C9", now=NOW) == []


def test_the_button_marks_only_papers_posted_in_the_channel_and_undo_takes_it_back(world: World) -> None:
    channel = world.channel
    assert channel.not_relevant("C1", "2405.00010", "U1") is None, "posted in C2 only"
    assert channel.not_relevant("C1", "not a paper", "U1") is None
    first = channel.not_relevant("C1", "https://arxiv.org/abs/2405.00003v2", "U1", ts="1.3")
    again = channel.not_relevant("C1", "2405.00003", "U1", ts="1.3")
    assert first is not None and first.new and first.paper_id == "2405.00003"
    assert again is not None and not again.new
    assert labels(world)["2405.00003"] == (0.0, 1.0, "not_relevant")
    undone = channel.undo("C1", "2405.00003", "U1")
    assert undone.removed and undone.still == ()
    assert labels(world)["2405.00003"] == (0.0, IGNORED_WEIGHT, "ignored")
    assert not channel.undo("C1", "2405.00003", "U1").removed


def test_undoing_the_button_leaves_the_users_reaction_counting(world: World) -> None:
    channel = world.channel
    channel.not_relevant("C1", "2405.00003", "U1", ts="1.3")
    assert channel.reaction_added("U1", "C1", "1.3", "-1", "1716200000.000100") is not None
    undone = channel.undo("C1", "2405.00003", "U1")
    assert undone.removed and undone.still == ("reaction",)
    assert labels(world)["2405.00003"][2] == "not_relevant"


def test_reactions_mark_the_bot_posts_paper_and_redeliveries_change_nothing(world: World) -> None:
    channel = world.channel
    assert channel.reaction_added("U1", "C1", "9.9", "-1", "1716200000.000100") is None, "not a bot post"
    added = channel.reaction_added("U1", "C1", "1.8", "-1::skin-tone-2", "1716200000.000100")
    assert added is not None and added.new and added.paper_id == "2405.00008"
    assert channel.reaction_added("U1", "C1", "1.8", "-1", "1716200000.000100") is None, "the same event again"
    removed = channel.reaction_removed("U1", "C1", "1.8", "-1", "1716200000.000200")
    assert removed is not None and removed.removed and removed.still == ()
    assert channel.reaction_added("U1", "C1", "1.8", "-1", "1716200000.000100") is None, "the add, redelivered"
    assert channel.reaction_removed("U1", "C1", "1.8", "-1", "1716200000.000200") is None
    assert labels(world)["2405.00008"] == (0.0, IGNORED_WEIGHT, "ignored")
