"""The digest core's test world: the real stores in a data directory, a fake clock, a scripted index and a
fake Slack poster. `World.restart()` reopens everything like a restarted process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.digest.service import DigestService
from bot.digest.settings import DigestOptions
from bot.papers import new_record
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.files import DataDir
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
