"""Daily digests: which new papers each channel gets, in what order, and posting them exactly once.

Pieces (Slack-free; posting goes through a `Poster`, see bot/slack/digest_poster.py):

- `DigestSettings`: per-channel digest settings, kept in the channel's document ("channels" store) under
  the key "digest", holding only what people set (the rest follows the configured defaults).
- `DigestLedger`: one document per (channel, local date) in the "posts" store, table "digests": the
  planned papers (stored before anything is posted), the header message ts, attempts, and done.
- Selection (`DigestService.plan`): the candidate pool is computed once per run for all channels: papers
  that arrived since the earliest channel's previous digest (archive `first_seen`, or a Daily Papers
  listing date). Per channel, a paper is a candidate when it arrived since *that* channel's previous digest
  (36 h for a first digest, at most 7 days), comes from one of its sources (Daily Papers: the record's
  sources include "hf"; arXiv categories: overlap), and was neither posted there (any kind, any version:
  ids are version-less) nor considered by an earlier digest. Each distinct topic is matched once against
  the pool with the search index (`index.match(topic, paper_ids=pool)`); a paper's strength for a channel
  is its best topic score. Ranking: strength in tiers of 10 % of the channel's best (so near-equal
  matches are ordered by what people think of them), then Hugging Face upvotes, then recency.
- `DigestService.run`: plan → ledger (durable) → header → one message per paper → done. Each paper post is
  recorded in the `PostLedger` right after Slack returns its ts; a restart resumes from the stored plan,
  skipping papers already posted, after reconciling with what Slack shows (a post that went out just
  before a crash is found in the thread, not posted twice). Posts to one channel are paced; 429s wait
  for Retry-After; other failures leave the digest unfinished and it is retried later, never dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time as _time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from bot.archive import Archive
from bot.channels import TABLE as CHANNELS_TABLE
from bot.channels import topic_key
from bot.posts import PostLedger
from bot.scheduler import EVERY_DAY, WEEKDAYS, Clock, Schedule, ScheduleChange, parse_iso, utc_now
from bot.search.models import Hit, QueryError
from bot.sources.arxiv import is_category
from bot.storage import Store

log = logging.getLogger("bot.digest")

DIGESTS_TABLE = "digests"
DEFAULT_TIME = time(9, 0)
DEFAULT_MAX_PAPERS = 10
HF = "hf"
DEFAULT_SOURCES: tuple[str, ...] = (HF,)
MAX_SOURCES = 20
GONE_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
TOPIC_COUNT_DAYS = 7


@dataclass(frozen=True)
class DigestOptions:
    """Operator-level defaults and tuning (see `from_settings` for the environment variables)."""

    default_time: time = DEFAULT_TIME
    default_tz: str = "UTC"
    default_max: int = DEFAULT_MAX_PAPERS
    post_empty: bool = False  # default for channels: a digest with nothing to say posts nothing
    post_interval: float = 1.0  # seconds between two posts to one channel (Slack: ~1 message/s/channel)
    rate_limit_retries: int = 5  # our own retries of a 429, after the Web API client's
    first_lookback: timedelta = timedelta(hours=36)
    max_lookback: timedelta = timedelta(days=7)
    keep_days: int = 30  # digest ledger documents older than this are pruned

    @classmethod
    def from_settings(cls, settings: Any) -> DigestOptions:
        """From `Settings` (PAPERBOT_DIGEST_TIME, PAPERBOT_TZ, PAPERBOT_DIGEST_MAX, PAPERBOT_DIGEST_POST_EMPTY,
        PAPERBOT_POST_INTERVAL)."""
        return cls(
            default_time=settings.digest_time,
            default_tz=settings.tz,
            default_max=settings.digest_max_papers,
            post_empty=settings.digest_post_empty,
            post_interval=settings.post_interval,
        )


# --- errors a Poster raises ---------------------------------------------------------------------------


class PostError(Exception):
    """A post failed; `error` is Slack's error code (or a short reason)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class ChannelGone(PostError):
    """The bot cannot post in the channel any more (removed, channel deleted or archived)."""


class RateLimited(PostError):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


class Stopped(Exception):
    """The process is shutting down; the digest resumes at the next start."""


# --- per-channel settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelDigest:
    """A channel's digest settings with defaults resolved."""

    channel: str
    topics: tuple[str, ...]
    schedule: Schedule
    max_papers: int = DEFAULT_MAX_PAPERS
    sources: tuple[str, ...] = DEFAULT_SOURCES
    post_empty: bool = False
    paused: str | None = None  # why posting stopped (a Slack error), until the next `/papers schedule …`
    effective_from: datetime | None = None  # scheduled digests due before this instant are not run

    @property
    def active(self) -> bool:
        """Scheduled digests run: the schedule is on, the channel is not paused and watches something."""
        return self.schedule.enabled and self.paused is None and bool(self.topics)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(s for s in self.sources if s != HF)


# arXiv archives that are categories on their own (the others, cs, math, stat, …, need a subject class).
_WHOLE_ARCHIVES = frozenset({"astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
                             "nucl-ex", "nucl-th", "quant-ph", "nlin", "physics"})


def canonical_category(text: str) -> str | None:
    """`cs.lg` → `cs.LG`, `physics.optics` stays: two-letter subject classes are upper case on arXiv.
    None for what is not a category (`arxiv`, `cs` alone, `cs.LG/x`)."""
    text = text.strip()
    if "." in text:
        archive, subject = text.split(".", 1)
        text = f"{archive.lower()}.{subject.upper() if len(subject) <= 2 else subject.lower()}"
    else:
        text = text.lower()
        if text not in _WHOLE_ARCHIVES:
            return None
    return text if is_category(text) else None


class SourcesError(ValueError):
    pass


_HF_WORDS = frozenset({"hf", "huggingface", "hugging-face", "daily", "dailypapers", "daily-papers"})


def parse_sources(text: str) -> tuple[str, ...]:
    """`hf cs.LG cs.CL` → ("hf", "cs.LG", "cs.CL"); raises SourcesError with a friendly sentence."""
    found: dict[str, None] = {}
    for word in text.replace(",", " ").split():
        if word.casefold() in _HF_WORDS:
            found[HF] = None
            continue
        category = canonical_category(word)
        if category is None:
            raise SourcesError(f"“{word}” is neither “hf” (Hugging Face Daily Papers) nor an arXiv category "
                               f"such as cs.LG.")
        found[category] = None
    if not found:
        raise SourcesError("Name at least one source: “hf” for Hugging Face Daily Papers, and/or arXiv "
                           "categories such as cs.LG cs.CL.")
    if len(found) > MAX_SOURCES:
        raise SourcesError(f"A channel can follow at most {MAX_SOURCES} sources.")
    return tuple(found)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DigestSettings:
    """Reads and writes the "digest" part of channel documents; keeps every other key as it is."""

    def __init__(self, store: Store, options: DigestOptions) -> None:
        self._store = store
        self.options = options

    def resolve(self, channel_id: str, doc: dict[str, Any] | None) -> ChannelDigest:
        doc = doc or {}
        raw = doc.get("digest") if isinstance(doc.get("digest"), dict) else {}
        opts = self.options
        at = opts.default_time
        if isinstance(raw.get("time"), str):
            with contextlib.suppress(ValueError):
                at = time.fromisoformat(raw["time"])
        days = WEEKDAYS if raw.get("days") == "weekdays" else EVERY_DAY
        schedule = Schedule(at=at, tz=raw.get("tz") or opts.default_tz, days=days,
                            enabled=raw.get("enabled", True) is not False)
        paused = raw.get("paused")
        return ChannelDigest(
            channel=channel_id,
            topics=tuple(doc.get("topics") or ()),
            schedule=schedule,
            max_papers=int(raw.get("max_papers") or opts.default_max),
            sources=tuple(raw.get("sources") or DEFAULT_SOURCES),
            post_empty=bool(raw["post_empty"]) if isinstance(raw.get("post_empty"), bool) else opts.post_empty,
            paused=str(paused.get("reason") or "unknown") if isinstance(paused, dict) else None,
            effective_from=parse_iso(raw.get("effective_from")) or parse_iso(doc.get("created_at")),
        )

    def get(self, channel_id: str) -> ChannelDigest:
        with self._store.lock:
            return self.resolve(channel_id, self._store.raw_table(CHANNELS_TABLE).get(channel_id))

    def all(self) -> list[ChannelDigest]:
        with self._store.lock:
            return [self.resolve(cid, doc) for cid, doc in self._store.raw_table(CHANNELS_TABLE).items()]

    def _write(self, channel_id: str, user_id: str, change: Callable[[dict[str, Any]], None],
               now: datetime) -> ChannelDigest:
        with self._store.transaction():
            doc = self._store.raw_table(CHANNELS_TABLE).get(channel_id)
            digest = dict(doc.get("digest") or {}) if doc else {}
            change(digest)
            stamp = _iso(now)
            old = doc or {"id": channel_id, "topics": [], "created_at": stamp}
            self._store.change(CHANNELS_TABLE, {channel_id: {**old, "digest": digest, "updated_at": stamp,
                                                             "updated_by": user_id}})
            return self.resolve(channel_id, self._store.raw_table(CHANNELS_TABLE).get(channel_id))

    def change_schedule(self, channel_id: str, user_id: str, change: ScheduleChange,
                        now: datetime) -> ChannelDigest:
        """Apply `/papers schedule …`: set what was given, keep the rest; any change also un-pauses."""

        def apply(digest: dict[str, Any]) -> None:
            if change.off:
                digest["enabled"] = False
            else:
                if change.at is not None or change.tz is not None or change.days is not None:
                    digest["enabled"] = True
                if change.at is not None:
                    digest["time"] = change.at.strftime("%H:%M")
                if change.tz is not None:
                    digest["tz"] = change.tz
                if change.days is not None:
                    digest["days"] = "weekdays" if change.days == WEEKDAYS else "daily"
                if change.max_papers is not None:
                    digest["max_papers"] = change.max_papers
                if change.post_empty is not None:
                    digest["post_empty"] = change.post_empty
            digest.pop("paused", None)
            # A new time that has already passed today starts tomorrow; it does not post right away.
            digest["effective_from"] = _iso(now)

        return self._write(channel_id, user_id, apply, now)

    def set_sources(self, channel_id: str, user_id: str, sources: Sequence[str], now: datetime) -> ChannelDigest:
        def apply(digest: dict[str, Any]) -> None:
            digest["sources"] = list(sources)

        return self._write(channel_id, user_id, apply, now)

    def pause(self, channel_id: str, reason: str, now: datetime) -> bool:
        """Pause the channel's digests; False if it was paused already (so the caller logs only once)."""
        with self._store.lock:
            doc = self._store.raw_table(CHANNELS_TABLE).get(channel_id) or {}
            if isinstance((doc.get("digest") or {}).get("paused"), dict):
                return False

            def apply(digest: dict[str, Any]) -> None:
                digest["paused"] = {"reason": reason, "at": _iso(now)}

            self._write(channel_id, "paperbot", apply, now)
            return True


# --- the ledger -----------------------------------------------------------------------------------------


class DigestLedger:
    """One document per (channel, local date): `{channel, date, trigger, status: planned|done, planned_at,
    since, picks: [{id, score, topic}], skipped: [ids], candidates, header_ts, attempts, next_try_at,
    last_error, done_at, posted}`. Stateless over the store, so several instances agree."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def key(channel: str, day: date) -> str:
        return f"{channel}:{day.isoformat()}"

    def get(self, channel: str, day: date) -> dict[str, Any] | None:
        with self._store.lock:
            doc = self._store.raw_table(DIGESTS_TABLE).get(self.key(channel, day))
            return _deep_copy(doc) if doc is not None else None

    def by_channel(self, since: date | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every channel's documents dated `since` or later, newest first (one pass, for planning many
        channels; the copies are shallow: read them, never mutate)."""
        floor = since.isoformat() if since else ""
        found: dict[str, list[dict[str, Any]]] = {}
        with self._store.lock:
            for doc in self._store.raw_table(DIGESTS_TABLE).values():
                if doc["date"] >= floor:
                    found.setdefault(doc["channel"], []).append(dict(doc))
        for docs in found.values():
            docs.sort(key=lambda d: d["date"], reverse=True)
        return found

    def unfinished(self) -> list[dict[str, Any]]:
        with self._store.lock:
            return [_deep_copy(d) for d in self._store.raw_table(DIGESTS_TABLE).values() if d["status"] != "done"]

    def create(self, plan: Plan, trigger: str, keep_days: int) -> dict[str, Any]:
        """Store the plan durably (before anything is posted); prune the channel's old documents."""
        doc = {
            "channel": plan.channel, "date": plan.day.isoformat(), "trigger": trigger, "status": "planned",
            "planned_at": _iso(plan.planned_at), "since": _iso(plan.since),
            "picks": [{"id": p.paper_id, "score": round(p.score, 4), "topic": p.topic} for p in plan.picks],
            "skipped": list(plan.skipped), "candidates": plan.candidates, "header_ts": None, "attempts": 0,
            "next_try_at": None, "last_error": None, "done_at": None, "posted": 0,
        }
        key = self.key(plan.channel, plan.day)
        cutoff = (plan.day - timedelta(days=keep_days)).isoformat()
        with self._store.transaction():
            table = self._store.raw_table(DIGESTS_TABLE)
            if key in table:
                return _deep_copy(table[key])  # planned by someone else meanwhile: theirs stands
            old = [k for k, d in table.items() if d["channel"] == plan.channel and d["date"] < cutoff]
            self._store.change(DIGESTS_TABLE, {key: doc}, deletes=old)
        return _deep_copy(doc)

    def update(self, channel: str, day: date, **fields: Any) -> None:
        key = self.key(channel, day)
        with self._store.transaction():
            self._store.change(DIGESTS_TABLE, {key: {**self._store.raw_table(DIGESTS_TABLE)[key], **fields}})

    def start_attempt(self, channel: str, day: date) -> int:
        """Count an attempt (durably); returns the number of earlier attempts (0: a fresh digest)."""
        with self._store.transaction():
            key = self.key(channel, day)
            doc = self._store.raw_table(DIGESTS_TABLE)[key]
            earlier = int(doc.get("attempts") or 0)
            self._store.change(DIGESTS_TABLE, {key: {**doc, "attempts": earlier + 1}})
        return earlier


def _deep_copy(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: [dict(i) if isinstance(i, dict) else i for i in v] if isinstance(v, list) else v
            for k, v in doc.items()}


# --- selection ------------------------------------------------------------------------------------------


class MatchIndex(Protocol):
    def match(self, query: str, paper_ids: Collection[str] | None = None) -> list[Hit]: ...


@dataclass(frozen=True)
class Pick:
    paper_id: str
    score: float
    topic: str


@dataclass(frozen=True)
class TopicCount:
    topic: str
    count: int  # papers of the last days the topic matches
    problem: str | None = None  # why the search core refuses the topic


@dataclass
class Plan:
    channel: str
    day: date
    since: datetime
    planned_at: datetime
    picks: list[Pick] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # matched, but over the channel's maximum
    candidates: int = 0  # new papers from the channel's sources, before topic matching


class CandidatePool:
    """Papers that arrived since the earliest `since` of a planning run, with what selection needs."""

    def __init__(self, records: Iterable[dict[str, Any]], since: datetime) -> None:
        since_iso, since_day = _iso(since), since.astimezone(UTC).date().isoformat()
        # Arrived: first ingested, or listed on Daily Papers, at/after `since`.
        self.records: dict[str, dict[str, Any]] = {
            r["id"]: r for r in records
            if (r.get("first_seen") or "") >= since_iso or (r.get("hf_date") or "") >= since_day
        }
        # (id, first_seen, hf_date, listed on Daily Papers, categories): what per-channel filtering reads.
        self._facts = [(pid, r.get("first_seen") or "", r.get("hf_date") or "", HF in (r.get("sources") or ()),
                        tuple(r.get("categories") or ())) for pid, r in self.records.items()]

    def for_channel(self, channel: ChannelDigest, since: datetime, exclude: Collection[str],
                    posted: Collection[str]) -> set[str]:
        since_iso, since_day = _iso(since), since.astimezone(UTC).date().isoformat()
        hf, categories = HF in channel.sources, channel.categories
        return {pid for pid, first_seen, hf_date, listed, cats in self._facts
                if (first_seen >= since_iso or (hf_date and hf_date >= since_day))
                and ((hf and listed) or (categories and any(c in categories for c in cats)))
                and pid not in exclude and pid not in posted}


def _recency(record: dict[str, Any]) -> float:
    """The paper's date as a timestamp: arXiv v1, else its Daily Papers day, else when we first saw it."""
    hf_date = record.get("hf_date")
    for value in (record.get("published"), f"{hf_date}T00:00:00Z" if hf_date else None, record.get("first_seen")):
        moment = parse_iso(value)
        if moment is not None:
            return moment.timestamp()
    return 0.0


def rank(best: dict[str, tuple[float, str]], records: dict[str, dict[str, Any]]) -> list[Pick]:
    """Order matches: strength tier (10 % steps of the best score), then upvotes, then recency, then id."""
    if not best:
        return []
    top = max(score for score, _ in best.values()) or 1.0

    def key(pid: str) -> tuple[Any, ...]:
        score, _ = best[pid]
        record = records.get(pid, {})
        upvotes = record.get("upvotes")
        tier = min(10, int(10 * score / top + 1e-9))
        return (-tier, -(upvotes if isinstance(upvotes, int) else 0), -_recency(record), -score, pid)

    return [Pick(pid, best[pid][0], best[pid][1]) for pid in sorted(best, key=key)]


# --- the service ----------------------------------------------------------------------------------------


class Poster(Protocol):
    """Posts digest messages; raises ChannelGone, RateLimited or PostError. Returns message ts."""

    def header(self, channel: ChannelDigest, day: date, items: Sequence[tuple[dict[str, Any], Pick]]) -> str: ...

    def paper(self, channel: ChannelDigest, day: date, record: dict[str, Any], pick: Pick, position: int,
              total: int, thread_ts: str) -> str: ...

    def find_header(self, channel_id: str, day: date) -> str | None: ...

    def thread_papers(self, channel_id: str, thread_ts: str) -> dict[str, str]: ...


@dataclass
class RunResult:
    status: str  # done | empty | already | incomplete | paused | stopped | failed
    channel: str
    day: date
    posted: int = 0  # paper messages posted by this run
    planned: int = 0
    error: str | None = None
    doc: dict[str, Any] | None = None


def retry_delay(attempts: int) -> timedelta:
    """How long an unfinished digest waits before the next try: 1, 2, 4 … minutes, at most 30."""
    return timedelta(minutes=min(30, 2 ** max(0, attempts - 1)))


class DigestService:
    """Plans and posts digests. One per process (it holds the per-channel run locks and the pacing state)."""

    def __init__(self, *, archive: Archive, index: MatchIndex, settings: DigestSettings, ledger: DigestLedger,
                 posts: PostLedger, options: DigestOptions | None = None, poster: Poster | None = None,
                 clock: Clock = utc_now, sleep: Callable[[float], None] | None = None) -> None:
        self.archive = archive
        self.index = index
        self.settings = settings
        self.ledger = ledger
        self.posts = posts
        self.options = options or settings.options
        self.poster = poster
        self.clock = clock
        self.stop = threading.Event()
        self._sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._last_post: dict[str, float] = {}

    @classmethod
    def from_stores(cls, *, archive: Archive, index: MatchIndex, channels_store: Store, posts_store: Store,
                    posts: PostLedger, options: DigestOptions, **kwargs: Any) -> DigestService:
        return cls(archive=archive, index=index, settings=DigestSettings(channels_store, options),
                   ledger=DigestLedger(posts_store), posts=posts, options=options, **kwargs)

    def channels(self) -> list[ChannelDigest]:
        return self.settings.all()

    def channel(self, channel_id: str) -> ChannelDigest:
        return self.settings.get(channel_id)

    def today(self, channel: ChannelDigest, now: datetime | None = None) -> date:
        return channel.schedule.local_date(now or self.clock())

    # --- planning ---

    def _since(self, docs: list[dict[str, Any]], day: date, now: datetime) -> datetime:
        previous = next((parse_iso(d.get("planned_at")) for d in docs if d["date"] <= day.isoformat()), None)
        if previous is None:
            return now - self.options.first_lookback
        return min(now, max(previous, now - self.options.max_lookback))

    def plan(self, items: Sequence[tuple[ChannelDigest, date]], now: datetime,
             *, exclude_day: bool = False) -> dict[tuple[str, date], Plan]:
        """Plans for many channels at once: one candidate pool, each distinct topic matched once.

        `exclude_day`: a preview of the next digest after today's (today's document counts as previous).
        """
        if not items:
            return {}
        started = _time.perf_counter()
        docs = self.ledger.by_channel((now - self.options.max_lookback).date() - timedelta(days=3))
        plans: dict[tuple[str, date], Plan] = {}
        sinces: dict[str, datetime] = {}
        excludes: dict[str, set[str]] = {}
        for channel, day in items:
            mine = [d for d in docs.get(channel.channel, []) if exclude_day or d["date"] != day.isoformat()]
            since = self._since(mine, day, now)
            sinces[channel.channel] = since
            # Papers an earlier digest already weighed (posted or over its maximum) are not new again.
            horizon = (since - timedelta(days=2)).date().isoformat()
            excludes[channel.channel] = {pid for d in mine if d["date"] >= horizon
                                         for pid in [*(p["id"] for p in d.get("picks", [])), *d.get("skipped", [])]}
        pool = CandidatePool(self.archive.snapshot(), min(sinces.values()))
        candidates = {channel.channel: pool.for_channel(channel, sinces[channel.channel], excludes[channel.channel],
                                                        self.posts.papers_in(channel.channel))
                      for channel, _ in items}
        union = frozenset().union(*candidates.values())  # a frozenset: the index caches its slots across topics
        hits: dict[str, dict[str, float]] = {}
        for channel, _ in items:
            for topic in channel.topics:
                if topic_key(topic) not in hits:
                    hits[topic_key(topic)] = self._match(topic, union)
        for channel, day in items:
            mine = candidates[channel.channel]
            best: dict[str, tuple[float, str]] = {}
            for topic in channel.topics:
                for pid, score in hits[topic_key(topic)].items():
                    if pid in mine and (pid not in best or score > best[pid][0]):
                        best[pid] = (score, topic)
            ranked = rank(best, pool.records)
            plans[(channel.channel, day)] = Plan(
                channel=channel.channel, day=day, since=sinces[channel.channel], planned_at=now,
                picks=ranked[:channel.max_papers], skipped=[p.paper_id for p in ranked[channel.max_papers:]],
                candidates=len(mine))
        log.info("digest.plan channels=%d pool=%d topics=%d ms=%d", len(items), len(pool.records), len(hits),
                 (_time.perf_counter() - started) * 1000)
        return plans

    def _match(self, topic: str, paper_ids: Collection[str], *, quiet: bool = True) -> dict[str, float]:
        if not paper_ids:
            return {}
        try:
            found = self.index.match(topic, paper_ids=paper_ids)
        except QueryError as exc:  # a topic the query parser refuses must not stop every other channel
            if not quiet:
                raise
            log.warning('digest.topic_error topic="%s" error=%r', topic.replace('"', "'"), exc)
            return {}
        scores: dict[str, float] = {}
        for hit in found:
            pid = hit.paper["id"]
            scores[pid] = max(hit.score, scores.get(pid, 0.0))
        return scores

    def preview(self, channel: ChannelDigest, now: datetime | None = None) -> tuple[Plan, bool]:
        """What `/papers digest` would post now; (plan, True) if today's digest is done and this is the next."""
        now = now or self.clock()
        day = self.today(channel, now)
        doc = self.ledger.get(channel.channel, day)
        done = doc is not None and doc["status"] == "done"
        return self.plan([(channel, day)], now, exclude_day=done)[(channel.channel, day)], done

    def topic_counts(self, channel: ChannelDigest, now: datetime | None = None,
                     days: int = TOPIC_COUNT_DAYS) -> list[TopicCount]:
        """How many of the last `days` days' papers (from the channel's sources) each topic matches, or why
        the search core refuses the topic (then it never matches anything)."""
        now = now or self.clock()
        since = now - timedelta(days=days)
        # A frozenset: the index caches its slots across the channel's topics.
        ids = frozenset(CandidatePool(self.archive.snapshot(), since).for_channel(channel, since, (), ()))
        counts = []
        for topic in channel.topics:
            try:
                counts.append(TopicCount(topic, len(self._match(topic, ids, quiet=False))))
            except QueryError as exc:  # a friendly sentence
                counts.append(TopicCount(topic, 0, str(exc)))
        return counts

    # --- running ---

    def _lock_for(self, channel_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(channel_id, threading.Lock())

    def run(self, channel: ChannelDigest, day: date, clock: Clock | None = None, *, plan: Plan | None = None,
            trigger: str = "schedule", on_plan: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
        """Plan (unless already planned) and post the channel's digest for `day`; resumable, idempotent."""
        clock = clock or self.clock
        if self.poster is None:
            raise RuntimeError("DigestService has no poster")
        with self._lock_for(channel.channel):
            if self.stop.is_set():
                return RunResult("stopped", channel.channel, day)
            doc = self.ledger.get(channel.channel, day)
            if doc is not None and doc["status"] == "done":
                return RunResult("already", channel.channel, day, planned=len(doc["picks"]), doc=doc)
            now = clock()
            if doc is None:
                plan = plan or self.plan([(channel, day)], now)[(channel.channel, day)]
                doc = self.ledger.create(plan, trigger, self.options.keep_days)
                log.info("digest.planned channel=%s date=%s trigger=%s papers=%d skipped=%d candidates=%d since=%s",
                         channel.channel, doc["date"], trigger, len(doc["picks"]), len(doc["skipped"]),
                         doc["candidates"], doc["since"])
            if on_plan is not None:
                on_plan(doc)
            if not doc["picks"] and not channel.post_empty and doc.get("header_ts") is None:
                self.ledger.update(channel.channel, day, status="done", done_at=_iso(clock()))
                log.info("digest.empty channel=%s date=%s", channel.channel, doc["date"])
                return RunResult("empty", channel.channel, day, doc=doc)
            earlier = self.ledger.start_attempt(channel.channel, day)
            posted = 0
            try:
                posted = self._post(channel, day, doc, resume=earlier > 0)
            except ChannelGone as exc:
                self.ledger.update(channel.channel, day, last_error=exc.error)
                if self.settings.pause(channel.channel, exc.error, clock()):
                    log.warning("digest.paused channel=%s reason=%s", channel.channel, exc.error)
                return RunResult("paused", channel.channel, day, error=exc.error, planned=len(doc["picks"]))
            except Stopped:
                log.info("digest.interrupted channel=%s date=%s", channel.channel, doc["date"])
                return RunResult("stopped", channel.channel, day, planned=len(doc["picks"]))
            except PostError as exc:
                retry_at = clock() + retry_delay(earlier + 1)
                self.ledger.update(channel.channel, day, last_error=exc.error, next_try_at=_iso(retry_at))
                log.warning("digest.incomplete channel=%s date=%s error=%s retry_at=%s", channel.channel,
                            doc["date"], exc.error, _iso(retry_at))
                return RunResult("incomplete", channel.channel, day, error=exc.error, planned=len(doc["picks"]))
            total = sum(1 for p in doc["picks"] if self.posts.was_posted(channel.channel, p["id"]))
            self.ledger.update(channel.channel, day, status="done", done_at=_iso(clock()), posted=total,
                               next_try_at=None, last_error=None)
            log.info("digest.done channel=%s date=%s posted=%d planned=%d attempts=%d", channel.channel, doc["date"],
                     posted, len(doc["picks"]), earlier + 1)
            return RunResult("done", channel.channel, day, posted=posted, planned=len(doc["picks"]), doc=doc)

    def _post(self, channel: ChannelDigest, day: date, doc: dict[str, Any], *, resume: bool) -> int:
        assert self.poster is not None
        cid = channel.channel
        picks = [Pick(p["id"], p["score"], p["topic"]) for p in doc["picks"]]
        records = self.archive.get_many(p.paper_id for p in picks)
        header_ts = doc.get("header_ts")
        if header_ts is None and resume:
            # The header may have gone out just before a crash, before its ts was stored.
            header_ts = self.poster.find_header(cid, day)
            if header_ts is not None:
                log.info("digest.reconciled channel=%s date=%s header_ts=%s", cid, doc["date"], header_ts)
        if header_ts is None:
            items = [(records[p.paper_id], p) for p in picks if p.paper_id in records]
            header_ts = self._send(cid, lambda: self.poster.header(channel, day, items))  # type: ignore[union-attr]
            log.info("digest.header channel=%s date=%s ts=%s papers=%d", cid, doc["date"], header_ts, len(items))
        if header_ts != doc.get("header_ts"):
            self.ledger.update(cid, day, header_ts=header_ts)
        if resume and picks:
            planned = {p.paper_id for p in picks}
            for pid, ts in self.poster.thread_papers(cid, header_ts).items():
                if pid in planned and not self.posts.was_posted(cid, pid):
                    self.posts.record(cid, ts, pid, "digest", digest_date=doc["date"], thread_ts=header_ts)
                    log.info("digest.reconciled channel=%s paper=%s ts=%s", cid, pid, ts)
        posted = 0
        for position, pick in enumerate(picks, 1):
            if self.posts.was_posted(cid, pick.paper_id):
                continue
            record = records.get(pick.paper_id)
            if record is None:
                log.warning("digest.missing channel=%s paper=%s", cid, pick.paper_id)
                continue
            ts = self._send(cid, lambda r=record, p=pick, n=position: self.poster.paper(  # type: ignore[union-attr]
                channel, day, r, p, n, len(picks), header_ts))
            self.posts.record(cid, ts, pick.paper_id, "digest", digest_date=doc["date"], thread_ts=header_ts)
            posted += 1
            log.info("digest.post channel=%s paper=%s ts=%s position=%d/%d", cid, pick.paper_id, ts, position,
                     len(picks))
        return posted

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep is not None:
            self._sleep(seconds)
            if self.stop.is_set():
                raise Stopped()
        elif self.stop.wait(seconds):
            raise Stopped()

    def _send(self, channel_id: str, call: Callable[[], str]) -> str:
        """One post, paced (≥ post_interval after the previous post to this channel), 429s waited out."""
        for attempt in range(self.options.rate_limit_retries + 1):
            if self.stop.is_set():
                raise Stopped()
            last = self._last_post.get(channel_id)
            if last is not None:
                self._wait(last + self.options.post_interval - _time.monotonic())
            try:
                return call()
            except RateLimited as exc:
                if attempt == self.options.rate_limit_retries:
                    raise
                # Honour Retry-After; without one, back off exponentially.
                wait = exc.retry_after if exc.retry_after is not None else float(min(30, 2 ** attempt))
                wait = max(wait, self.options.post_interval)
                log.info("digest.ratelimited channel=%s retry_after=%s wait_s=%.1f", channel_id, exc.retry_after, wait)
                self._wait(wait)
            finally:
                self._last_post[channel_id] = _time.monotonic()
        raise RateLimited(None)  # unreachable: the loop returns or raises


def open_digest_service(services: Any, settings: Any, *, poster: Poster | None = None, clock: Clock = utc_now,
                        options: DigestOptions | None = None) -> DigestService:
    """A DigestService over the stores of a `Services` (the composition root)."""
    options = options or DigestOptions.from_settings(settings)
    return DigestService.from_stores(archive=services.archive, index=services.index,
                                     channels_store=services.data_dir.store("channels"),
                                     posts_store=services.data_dir.store("posts"), posts=services.posts,
                                     options=options, poster=poster, clock=clock)

