"""Saving papers over the repositories (bot/saves.py): what a save reaction does before Slack gets its 200."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.saves import ReactionSaver
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves


@pytest.fixture
def data_dir(tmp_path: Path):
    with DataDir(tmp_path) as data:
        yield data


@pytest.fixture
def saves(data_dir: DataDir) -> Saves:
    return Saves(data_dir.store("saves"))


def test_reaction_saver_saves_bot_posts_at_once_and_queues_the_rest(data_dir: DataDir, saves: Saves) -> None:
    posts = PostLedger(data_dir.store("posts"))
    posts.record("C1", "1.1", "2405.12345", "digest")
    saver = ReactionSaver(saves, posts, ("bookmark", ":star:"))
    on_post = saver.added("U1", "C1", "1.1", "bookmark")
    assert on_post.kind == "saved" and on_post.outcome is not None and on_post.outcome.save.paper_id == "2405.12345"
    on_person = saver.added("U1", "C1", "2.2", "star")
    assert on_person.kind == "pending" and saves.pending()[0].ts == "2.2"
    assert saver.added("U1", "C1", "1.1", "thumbsup::skin-tone-3").kind == "ignored"
    assert saver.removed("U1", "C1", "1.1", "thumbsup") is None
    removed = saver.removed("U1", "C1", "1.1", "bookmark")
    assert removed is not None and removed.unsaved == ("2405.12345",)


def test_the_work_queue_handles_an_item_queued_twice_once() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from bot.slack.work import Drain

    started, release, handled = threading.Event(), threading.Event(), []

    def handle(item: str) -> None:
        started.set()
        release.wait(5)
        handled.append(item)

    with ThreadPoolExecutor(4) as pool:
        drain = Drain("test", lambda: pool, handle, limit=2)
        drain.put("key")
        assert started.wait(5)
        drain.put("key")  # put while the first is being handled: one more run after it (a redelivered
        drain.put("key")  # reaction never gets here: the store ignores it, see test_saves_contract.py)
        drain.put("other")
        release.set()
        assert drain.wait_idle(5)
    assert sorted(handled) == ["key", "key", "other"]



def test_the_work_queue_runs_an_item_again_when_it_is_put_while_being_handled() -> None:
    # A reaction added again while its first entry is still being handled (its notice being sent): the new
    # entry must be handled after that run, not only at the next restart.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from bot.slack.work import Drain

    in_handle, release, runs = threading.Event(), threading.Event(), []
    running, overlapped = [0], []

    def handle(item: str) -> None:
        running[0] += 1
        overlapped.append(running[0] > 1)
        runs.append(item)
        if len(runs) == 1:
            in_handle.set()
            release.wait(5)
        running[0] -= 1

    with ThreadPoolExecutor(4) as pool:
        drain = Drain("test", lambda: pool, handle, limit=2)
        drain.put("key")
        assert in_handle.wait(5)
        drain.put("key")
        drain.put("key")  # twice while it runs: one more run is enough
        release.set()
        assert drain.wait_idle(5)
    assert runs == ["key", "key"]
    assert not any(overlapped), "an item never runs alongside itself"
