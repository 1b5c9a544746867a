"""A save reaction that Slack saw acknowledged is on disk, whatever happens next.

- 50 people react at the same moment (signed events through waitress and Bolt, in-process): 50 HTTP 200s,
  50 saves in memory and on disk; Slack's retries (same event_id, X-Slack-Retry-Num) and double deliveries
  (new event ids) change nothing, not even the recorded time.
- `paperbot run` in a subprocess is killed with SIGKILL right after Slack got its k-th 200, requests still in
  flight: on re-opening the data directory every acknowledged save (and every acknowledged removal) is there,
  and every store loads.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from bot_process import Bot, bot_env
from slack_driver import SIGNING_SECRET, SlackDriver, SlackStack, start_stack, wait_until
from slack_emulator import SlackEmulator
from threads import together

from bot.papers import new_record
from bot.store.models import Save, reaction_anchor
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves

pytestmark = pytest.mark.e2e

PAPERS = [f"2405.{10001 + n:05d}" for n in range(8)]
CHANNELS = ("C0GENERAL", "C0PAPERS")


def corpus() -> list[dict[str, Any]]:
    return [new_record(paper_id, source="hf", title=f"Paper number {n}", abstract=f"Abstract {n}.",
                       authors=["Ada Lovelace"], published="2024-05-16T00:00:00Z")
            for n, paper_id in enumerate(PAPERS)]


def reaction(user: str, channel: str, ts: str, *, removed: bool = False) -> dict[str, Any]:
    return {"type": "reaction_removed" if removed else "reaction_added", "user": user, "reaction": "bookmark",
            "item_user": "U0PAPERBOT", "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{time.time():.6f}"}


def in_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job on its own thread, all released at once; their results in order (exceptions re-raised)."""
    return together(len(jobs), lambda n: jobs[n]())



# --- 50 people at once, in-process ----------------------------------------------------------------------------


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[SlackStack]:
    stack = start_stack(tmp_path / "data", corpus())
    try:
        yield stack
    finally:
        stack.stop()
    assert stack.slack.problems == [], stack.slack.problems


def test_fifty_concurrent_reactions_save_fifty_times_and_redeliveries_change_nothing(stack: SlackStack) -> None:
    paper_id, channel = PAPERS[0], "C0GENERAL"
    ts = f"{time.time():.6f}"
    stack.services.posts.record(channel, ts, paper_id, "digest")
    users = [f"U0READER{n:03d}" for n in range(50)]
    events = {user: reaction(user, channel, ts) for user in users}

    def send(user: str, event_id: str, retry_num: int | None = None) -> int:
        driver = SlackDriver(stack.server.url, SIGNING_SECRET, stack.slack)  # one session per thread
        try:
            return driver.event(events[user], event_id=event_id, retry_num=retry_num).response.status_code
        finally:
            driver.close()

    statuses = in_threads([lambda u=user, n=n: send(u, f"Ev0FIRST{n:04d}") for n, user in enumerate(users)])
    assert statuses == [200] * 50
    # Durable before the 200: every save is there the moment its request returned.
    assert stack.services.saves.savers(paper_id) == set(users)
    first = {user: stack.services.saves.get(user, paper_id) for user in users}
    anchor = reaction_anchor(channel, ts, "bookmark")
    for user, save in first.items():
        assert save is not None
        assert (save.user, save.paper_id, save.channel, save.ts, save.via) == (user, paper_id, channel, ts,
                                                                                 "reaction")
        assert save.reactions == (anchor,) and not save.kept
    assert len({s.saved_at for s in first.values() if s}) > 1, "each save has its own time"
    told = wait_until(lambda: len(stack.slack.ephemerals) >= 50 and stack.slack.ephemerals)
    assert sorted(e["user"] for e in told) == sorted(users), "each reader told once"

    # Slack's retries (same event ids) and the same reactions delivered again under new ids, all at once.
    retries = [lambda u=user, n=n: send(u, f"Ev0FIRST{n:04d}", retry_num=1) for n, user in enumerate(users)]
    doubles = [lambda u=user, n=n: send(u, f"Ev0AGAIN{n:04d}") for n, user in enumerate(users)]
    assert in_threads(retries + doubles) == [200] * 100
    assert stack.services.saves.savers(paper_id) == set(users)
    assert {user: stack.services.saves.get(user, paper_id) for user in users} == first, "recorded once, unchanged"
    assert len(stack.services.saves) == 50
    stack.settle()
    assert len(stack.slack.ephemerals) == 50, "a redelivered reaction tells nobody again"

    data_dir = stack.settings.data_dir
    stack.stop()
    raw = orjson.loads((data_dir / "saves.json").read_bytes())["saves"]
    assert sorted(raw) == sorted(f"{user}:{paper_id}" for user in users)
    assert {key: Save.from_doc(doc) for key, doc in raw.items()} == {s.key: s for s in first.values() if s}
    with DataDir(data_dir, read_only=True) as reader:
        reopened = Saves(reader.store("saves"))
        assert reopened.savers(paper_id) == set(users) and len(reopened) == 50
        assert all(reopened.get(user, paper_id) == first[user] for user in users)


# --- kill -9 right after the 200: `paperbot run` in a subprocess --------------------------------------------


@dataclass(frozen=True)
class Post:
    channel: str
    ts: str
    paper_id: str


def seed(data_dir: Path, saved: list[tuple[str, Post]] = ()) -> list[Post]:
    """The archive, one bot post per paper (two channels) and, optionally, saves made by reactions on them."""
    posts = [Post(CHANNELS[n % 2], f"1716000000.{n:06d}", paper_id) for n, paper_id in enumerate(PAPERS)]
    with DataDir(data_dir) as writer:
        Archive(writer.store("archive")).upsert(corpus())
        ledger = PostLedger(writer.store("posts"))
        for post in posts:
            ledger.record(post.channel, post.ts, post.paper_id, "digest")
        saves = Saves(writer.store("saves"))
        for user, post in saved:
            saves.save(user, post.paper_id, via="reaction", channel=post.channel, ts=post.ts, reaction="bookmark")
    return posts


def start_bot(slack: SlackEmulator, data_dir: Path) -> tuple[Bot, str]:
    bot = Bot(bot_env(slack, data_dir, PAPERBOT_LOG_LEVEL="INFO"), "--port", "0", cwd=data_dir.parent)
    try:
        url = bot.wait_for(r"paperbot\.listening mode=http url=(http://127\.0\.0\.1:\d+)/slack/events").group(1)
        bot.wait_for(r"paperbot\.ready")
    except BaseException:
        bot.stop()
        raise
    return bot, url


def fire_and_kill(bot: Bot, url: str, slack: SlackEmulator, events: list[dict[str, Any]], kill_after: int,
                  senders: int = 4) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Send `events` from `senders` threads; SIGKILL the bot the moment the `kill_after`-th 200 arrives (the
    other senders' requests still in flight). (acknowledged events, events without a 200)."""
    acked: list[dict[str, Any]] = []
    unacked: list[dict[str, Any]] = []
    lock = threading.Lock()
    todo = iter(list(enumerate(events)))
    enough = threading.Event()

    def sender() -> None:
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        try:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None:
                    return
                n, event = item
                try:
                    status = driver.event(event, event_id=f"Ev0KILL{n:05d}").response.status_code
                except requests.RequestException:
                    status = None
                with lock:
                    (acked if status == 200 else unacked).append(event)
                    if len(acked) >= kill_after:
                        enough.set()
        finally:
            driver.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    assert enough.wait(15), f"only {len(acked)} of {kill_after} acknowledged; stderr:\n{''.join(bot.log)}"
    bot.process.send_signal(signal.SIGKILL)
    bot.process.wait(5)
    for thread in threads:
        thread.join(15)
    assert len(acked) + len(unacked) == len(events)
    return acked, unacked


def reopen(data_dir: Path) -> Saves:
    """What a restart does: take the writer lock (the killed process's is gone), load every store."""
    with DataDir(data_dir) as reader:  # also clears temp files a write cut short left behind
        assert len(Archive(reader.store("archive"))) == len(PAPERS)
        assert len(PostLedger(reader.store("posts"))) == len(PAPERS)
        saves = Saves(reader.store("saves"))
    assert not list(data_dir.glob("*.tmp-*"))
    return saves


def test_kill_9_after_the_200_keeps_every_acknowledged_save(slack: SlackEmulator, tmp_path: Path) -> None:
    """Rounds on one data directory, each killed at a different point, each restarting on what the last left."""
    data_dir = tmp_path / "data"
    posts = seed(data_dir)
    by_message = {(p.channel, p.ts): p.paper_id for p in posts}
    rng = random.Random(7)
    acked_so_far: list[dict[str, Any]] = []
    sent = 0
    for round_no, kill_after in enumerate([1, 9, 23, 37]):
        events = [reaction(f"U0R{round_no}READER{n:03d}", post.channel, post.ts)
                  for n in range(40) for post in [rng.choice(posts)]]
        sent += len(events)
        bot, url = start_bot(slack, data_dir)
        try:
            acked, _ = fire_and_kill(bot, url, slack, events, kill_after)
        finally:
            bot.stop()
        assert len(acked) >= kill_after
        acked_so_far += acked
        saves = reopen(data_dir)
        lost = []
        for event in acked_so_far:
            item = event["item"]
            save = saves.get(event["user"], by_message[(item["channel"], item["ts"])])
            if save is None:
                lost.append(event["user"])
            else:
                assert (save.channel, save.ts, save.via) == (item["channel"], item["ts"], "reaction")
        assert not lost, f"round {round_no}, killed after {kill_after} 200s: lost acknowledged saves {lost[:5]}"
        # Saves whose 200 never came may or may not be there (the kill can land after the write); nothing else is.
        assert len(acked_so_far) <= len(saves) <= sent


@pytest.mark.parametrize("kill_after", [1, 17])
def test_kill_9_after_the_200_keeps_every_acknowledged_removal(slack: SlackEmulator, tmp_path: Path,
                                                                kill_after: int) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(kill_after)
    posts = [Post(CHANNELS[n % 2], f"1716000000.{n:06d}", paper_id) for n, paper_id in enumerate(PAPERS)]
    saved = [(f"U0READER{n:03d}", rng.choice(posts)) for n in range(30)]
    seed(data_dir, saved)
    # Everyone takes their bookmark off; half of them also bookmark another post, in the same stream.
    events = []
    for n, (user, post) in enumerate(saved):
        events.append(reaction(user, post.channel, post.ts, removed=True))
        if n % 2:
            other = posts[(posts.index(post) + 1) % len(posts)]
            events.append(reaction(user, other.channel, other.ts))
    # The first request of every sender is a removal, so even the first 200 acknowledges one.
    head = [e for e in events if e["type"] == "reaction_removed"][:4]
    events = head + [e for e in events if all(e is not h for h in head)]
    bot, url = start_bot(slack, data_dir)
    try:
        acked, _ = fire_and_kill(bot, url, slack, events, kill_after)
    finally:
        bot.stop()
    by_message = {(p.channel, p.ts): p.paper_id for p in posts}
    saves = reopen(data_dir)
    for event in acked:
        item = event["item"]
        paper_id = by_message[(item["channel"], item["ts"])]
        if event["type"] == "reaction_removed":
            assert saves.get(event["user"], paper_id) is None, f"kill after {kill_after}: {event['user']} still " \
                                                               f"has {paper_id} after an acknowledged removal"
            assert paper_id not in saves.saved_ids(event["user"])
        else:
            assert saves.get(event["user"], paper_id) is not None, f"lost {event['user']}'s save of {paper_id}"
    assert any(e["type"] == "reaction_removed" for e in acked)
