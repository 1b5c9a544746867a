"""Planning and posting digests exactly once.

`DigestService.run`: plan → ledger (durable) → header → one message per paper → done. Each paper post is
recorded in the post ledger right after Slack returns its ts; a restart resumes from the stored plan,
skipping papers already posted, after reconciling with what Slack shows (a post that went out just before
a crash is found in the thread, not posted twice). Posts to one channel are paced; 429s wait for
Retry-After; other failures leave the digest unfinished and it is retried later, never dropped. Posting
goes through a `Poster` (bot/slack/digest_poster.py), so this module knows nothing of Slack.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Protocol

from bot.digest.due import IngestFn, ingest_request
from bot.digest.readiness import RECENT_ATTEMPT, IngestStatus, Readiness
from bot.digest.selection import TOPIC_COUNT_DAYS, CandidatePool, MatchIndex, Pick, Plan, TopicCount, rank
from bot.digest.settings import ChannelDigest, DigestOptions
from bot.digest.strictness import min_score
from bot.digest.trial import Trial, TrialMatch, topic_words, words_found
from bot.papers import PaperRecord
from bot.relevance.channel_models import ChannelModels
from bot.relevance.matcher import TopicMatcher
from bot.search.models import QueryError
from bot.search.query import parse_query
from bot.store.documents import DigestDoc
from bot.store.protocols import ArchiveRepository, ChannelRepository, DigestLedgerRepository, PostLedgerRepository
from bot.timeutil import Clock, iso_utc, parse_iso, utc_now
from bot.topics import topic_key

log = logging.getLogger("bot.digest")

GONE_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


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


class Poster(Protocol):
    """Posts digest messages; raises ChannelGone, RateLimited or PostError. Returns message ts."""

    def header(self, channel: ChannelDigest, day: date, items: Sequence[tuple[PaperRecord, Pick]]) -> str: ...

    def paper(self, channel: ChannelDigest, day: date, record: PaperRecord, pick: Pick, position: int,
              total: int, thread_ts: str) -> str: ...

    def find_header(self, channel_id: str, day: date) -> str | None: ...

    def thread_papers(self, channel_id: str, thread_ts: str) -> dict[str, str]: ...


@dataclass
class RunResult:
    status: str  # done | empty | waiting | already | incomplete | paused | stopped | failed
    channel: str
    day: date
    posted: int = 0  # paper messages posted by this run
    planned: int = 0
    error: str | None = None
    doc: DigestDoc | None = None
    readiness: Readiness | None = None  # why a "waiting" digest recorded nothing


def retry_delay(attempts: int) -> timedelta:
    """How long an unfinished digest waits before the next try: 1, 2, 4 … minutes, at most 30."""
    return timedelta(minutes=min(30, 2 ** max(0, attempts - 1)))


class DigestService:
    """Plans and posts digests. One per process (it holds the per-channel run locks and the pacing state)."""

    def __init__(self, *, archive: ArchiveRepository, index: MatchIndex, channels: ChannelRepository,
                 ledger: DigestLedgerRepository, posts: PostLedgerRepository, options: DigestOptions,
                 poster: Poster | None = None, ingest_status: IngestStatus | None = None,
                 ingest: IngestFn | None = None, matcher: TopicMatcher | None = None,
                 channel_models: ChannelModels | None = None,
                 clock: Clock = utc_now, sleep: Callable[[float], None] | None = None) -> None:
        self.archive = archive
        self.index = index
        # Topic relevance (stems, acronyms, meaning) with strictness; without it, the search index's match.
        self.matcher = matcher
        self.channel_models = channel_models  # what each channel's feedback taught it (needs the matcher)
        self.channel_settings = channels
        self.ledger = ledger
        self.posts = posts
        self.options = options
        self.poster = poster
        # Without a status (previews, tests of planning alone) an empty digest is recorded as before.
        self.ingest_status = ingest_status
        self.ingest = ingest  # what a digest asked for ahead of its schedule runs first
        self.clock = clock
        self.stop = threading.Event()
        self._sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._last_post: dict[str, float] = {}

    def channels(self) -> list[ChannelDigest]:
        return self.channel_settings.all_digests()

    def channel(self, channel_id: str) -> ChannelDigest:
        return self.channel_settings.digest(channel_id)

    def today(self, channel: ChannelDigest, now: datetime | None = None) -> date:
        return channel.schedule.local_date(now or self.clock())

    # --- planning ---

    def _since(self, docs: list[DigestDoc], day: date, now: datetime) -> datetime:
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
            history = [d for d in docs.get(channel.channel, []) if exclude_day or d["date"] != day.isoformat()]
            since = self._since(history, day, now)
            sinces[channel.channel] = since
            # Papers an earlier digest already weighed (posted or over its maximum) are not new again.
            horizon = (since - timedelta(days=2)).date().isoformat()
            excludes[channel.channel] = {pid for d in history if d["date"] >= horizon
                                         for pid in [*(p["id"] for p in d.get("picks", [])), *d.get("skipped", [])]}
        earliest = min(sinces.values())
        pool = CandidatePool(self.archive.arrived_since(earliest), earliest)
        candidates = {channel.channel: pool.for_channel(channel, sinces[channel.channel], excludes[channel.channel],
                                                        self.posts.papers_in(channel.channel))
                      for channel, _ in items}
        union = frozenset().union(*candidates.values())  # a frozenset: the index caches its slots across topics
        hits: dict[str, dict[str, tuple[float, str]]] = {}
        if self.matcher is not None:  # every topic not yet prepared, in one encoder batch
            self.matcher.prepare(list(dict.fromkeys(t for channel, _ in items for t in channel.topics)))
        union_records = {pid: pool.records[pid] for pid in union}  # one mapping: the topics share its stems
        for channel, _ in items:
            for topic in channel.topics:
                if topic_key(topic) not in hits:
                    hits[topic_key(topic)] = self._match(topic, union, union_records)
        for channel, day in items:
            new = candidates[channel.channel]
            minimum = self._minimum(channel)
            scored: dict[str, tuple[float, str, str]] = {}
            for topic in channel.topics:
                for pid, (score, why) in hits[topic_key(topic)].items():
                    if pid in new and (pid not in scored or score > scored[pid][0]):
                        scored[pid] = (score, topic, why)
            best = {pid: v for pid, v in self._personalised(channel, scored, now).items() if v[0] >= minimum}
            ranked = rank(best, pool.records)
            plans[(channel.channel, day)] = Plan(
                channel=channel.channel, day=day, since=sinces[channel.channel], planned_at=now,
                picks=ranked[:channel.max_papers], skipped=[p.paper_id for p in ranked[channel.max_papers:]],
                candidates=len(new))
        log.info("digest.plan channels=%d pool=%d topics=%d ms=%d", len(items), len(pool.records), len(hits),
                 (_time.perf_counter() - started) * 1000)
        return plans

    def _personalised(self, channel: ChannelDigest, scored: dict[str, tuple[float, str, str]],
                      now: datetime) -> dict[str, tuple[float, str, str]]:
        """Scores moved by what the channel's feedback taught it (unchanged without feedback or vectors)."""
        if self.channel_models is None or self.matcher is None or not scored:
            return scored
        try:
            model = self.channel_models.model(channel.channel, channel.topics, now)
        except Exception:  # a broken model must not stop the digest: the topic scores stand
            log.exception("digest.channel_model_failed channel=%s", channel.channel)
            return scored
        if model is None:
            return scored
        adjusted = self.channel_models.adjust(model, {pid: v[0] for pid, v in scored.items()})
        return {pid: (round(adjusted[pid].probability, 4), topic,
                      f"{why} · similar to papers this channel saved" if adjusted[pid].similar_to_saved else why)
                for pid, (_, topic, why) in scored.items()}

    def _minimum(self, channel: ChannelDigest) -> float:
        """The channel's strictness; the search index's own match has its bar built in."""
        return channel.min_score if self.matcher is not None else 0.0

    def _match(self, topic: str, paper_ids: Collection[str], records: Mapping[str, PaperRecord], *,
               quiet: bool = True) -> dict[str, tuple[float, str]]:
        """Papers of `paper_ids` the topic may match: (score, why) each. With the relevance matcher the score
        is the probability that the paper is about the topic (strictness is applied by the caller)."""
        if not paper_ids:
            return {}
        try:
            if self.matcher is not None:
                chosen = records if len(records) == len(paper_ids) else {
                    pid: records[pid] for pid in paper_ids if pid in records}
                found = self.matcher.match(topic, chosen)
                return {pid: (round(m.probability, 4), m.why(topic)) for pid, m in found.items()}
            hits = self.index.match(topic, paper_ids=paper_ids)
        except QueryError as exc:  # a topic the query parser refuses must not stop every other channel
            if not quiet:
                raise
            log.warning('digest.topic_error topic="%s" error=%r', topic.replace('"', "'"), exc)
            return {}
        scores: dict[str, tuple[float, str]] = {}
        for hit in hits:
            pid = hit.paper["id"]
            if hit.score > scores.get(pid, (0.0, ""))[0]:
                scores[pid] = (hit.score, "")
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
        pool = CandidatePool(self.archive.arrived_since(since), since)
        ids = frozenset(pool.for_channel(channel, since, (), ()))
        minimum = self._minimum(channel)
        counts = []
        for topic in channel.topics:
            try:
                found = self._match(topic, ids, pool.records, quiet=False)
                counts.append(TopicCount(topic, sum(1 for score, _ in found.values() if score >= minimum)))
            except QueryError as exc:  # a friendly sentence
                counts.append(TopicCount(topic, 0, str(exc)))
        return counts

    def trial(self, topic: str, since: datetime, channel: ChannelDigest | None = None) -> Trial:
        """Every paper that arrived since `since` which `topic` matches exactly as a digest would match it:
        the same `index.match` over the same candidates (`archive.arrived_since`, and with a channel only
        papers from its sources), ranked by `selection.rank`, without the daily cap and without leaving out
        papers already posted or weighed by an earlier digest. Reads only; raises `QueryError` (a friendly
        sentence) for a topic the query parser refuses.

        With a channel its strictness applies, otherwise the operator's default strictness.
        """
        parsed = parse_query(topic, today=date.today())  # refuses a bad topic even when nothing is a candidate
        pool = CandidatePool(self.archive.arrived_since(since), since)
        ids = frozenset(pool.records if channel is None else pool.for_channel(channel, since, (), ()))
        scores = self._match(topic, ids, pool.records, quiet=False)
        minimum = self._minimum(channel) if channel is not None else (
            min_score(self.options.default_strictness) if self.matcher is not None else 0.0)
        scored = {pid: (score, topic, why) for pid, (score, why) in scores.items()}
        if channel is not None:
            scored = self._personalised(channel, scored, self.clock())
        ranked = rank({pid: v for pid, v in scored.items() if v[0] >= minimum}, pool.records)
        words = topic_words(parsed)
        matches = [TrialMatch(pick, pool.records[pick.paper_id], words_found(words, pool.records[pick.paper_id]))
                   for pick in ranked]
        return Trial(topic=topic, since=since, channel=channel.channel if channel else None, candidates=len(ids),
                     matches=matches)

    # --- running ---

    def _lock_for(self, channel_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(channel_id, threading.Lock())

    def run(self, channel: ChannelDigest, day: date, clock: Clock | None = None, *, plan: Plan | None = None,
            trigger: str = "schedule", on_plan: Callable[[DigestDoc], None] | None = None) -> RunResult:
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
                if not plan.picks and self.ingest_status is not None:
                    plan, readiness = self._check_empty(channel, day, plan, trigger, clock)
                    if readiness is not None:
                        log.info("digest.waiting channel=%s date=%s trigger=%s reason=%s", channel.channel,
                                 day.isoformat(), trigger, readiness.reason)
                        return RunResult("waiting", channel.channel, day, error=readiness.describe(),
                                         readiness=readiness)
                doc = self.ledger.create(plan, trigger, self.options.keep_days)
                log.info("digest.planned channel=%s date=%s trigger=%s papers=%d skipped=%d candidates=%d since=%s",
                         channel.channel, doc["date"], trigger, len(doc["picks"]), len(doc["skipped"]),
                         doc["candidates"], doc["since"])
            if on_plan is not None:
                on_plan(doc)
            if not doc["picks"] and not channel.post_empty and doc.get("header_ts") is None:
                self.ledger.update(channel.channel, day, status="done", done_at=iso_utc(clock()))
                log.info("digest.empty channel=%s date=%s", channel.channel, doc["date"])
                return RunResult("empty", channel.channel, day, doc=doc)
            earlier = self.ledger.start_attempt(channel.channel, day)
            posted = 0
            try:
                posted = self._post(channel, day, doc, resume=earlier > 0)
            except ChannelGone as exc:
                self.ledger.update(channel.channel, day, last_error=exc.error)
                if self.channel_settings.pause(channel.channel, exc.error, clock()):
                    log.warning("digest.paused channel=%s reason=%s", channel.channel, exc.error)
                return RunResult("paused", channel.channel, day, error=exc.error, planned=len(doc["picks"]))
            except Stopped:
                log.info("digest.interrupted channel=%s date=%s", channel.channel, doc["date"])
                return RunResult("stopped", channel.channel, day, planned=len(doc["picks"]))
            except PostError as exc:
                retry_at = clock() + retry_delay(earlier + 1)
                self.ledger.update(channel.channel, day, last_error=exc.error, next_try_at=iso_utc(retry_at))
                log.warning("digest.incomplete channel=%s date=%s error=%s retry_at=%s", channel.channel,
                            doc["date"], exc.error, iso_utc(retry_at))
                return RunResult("incomplete", channel.channel, day, error=exc.error, planned=len(doc["picks"]))
            total = sum(1 for p in doc["picks"] if self.posts.was_posted(channel.channel, p["id"]))
            self.ledger.update(channel.channel, day, status="done", done_at=iso_utc(clock()), posted=total,
                               next_try_at=None, last_error=None)
            log.info("digest.done channel=%s date=%s posted=%d planned=%d attempts=%d", channel.channel, doc["date"],
                     posted, len(doc["picks"]), earlier + 1)
            return RunResult("done", channel.channel, day, posted=posted, planned=len(doc["picks"]), doc=doc)

    def _check_empty(self, channel: ChannelDigest, day: date, plan: Plan, trigger: str,
                     clock: Clock) -> tuple[Plan, Readiness | None]:
        """An empty plan may be recorded only when the day's papers are in: (plan, None) if so, or
        (plan, why not). A digest asked for (not the scheduler's) looks for the papers first, unless the
        channel's sources were tried moments ago."""
        status = self.ingest_status
        assert status is not None
        now = clock()
        readiness = status.readiness(channel, day, now)
        if readiness.ready:
            return plan, None
        if trigger != "schedule" and self.ingest is not None and not status.attempted_since(
                channel, now - RECENT_ATTEMPT):
            request = ingest_request(now, [channel], active_only=False)
            log.info("digest.ingest channel=%s dates=%s categories=%s", channel.channel,
                     ",".join(d.isoformat() for d in request.dates), ",".join(request.categories) or "-")
            error = status.run(self.ingest, request, now)
            if error is not None:
                log.error("digest.ingest.error channel=%s", channel.channel, exc_info=error)
            now = clock()
            plan = self.plan([(channel, day)], now)[(channel.channel, day)]
            if plan.picks:
                return plan, None
            readiness = status.readiness(channel, day, now)
        return plan, None if readiness.ready else readiness

    def _post(self, channel: ChannelDigest, day: date, doc: DigestDoc, *, resume: bool) -> int:
        poster = self.poster
        assert poster is not None
        cid = channel.channel
        picks = [Pick(p["id"], p["score"], p["topic"]) for p in doc["picks"]]
        records = self.archive.get_many(p.paper_id for p in picks)
        header_ts: str | None = doc.get("header_ts")
        if header_ts is None and resume:
            # The header may have gone out just before a crash, before its ts was stored.
            header_ts = poster.find_header(cid, day)
            if header_ts is not None:
                log.info("digest.reconciled channel=%s date=%s header_ts=%s", cid, doc["date"], header_ts)
        if header_ts is None:
            items = [(records[p.paper_id], p) for p in picks if p.paper_id in records]
            header_ts = self._send(cid, lambda: poster.header(channel, day, items))
            log.info("digest.header channel=%s date=%s ts=%s papers=%d", cid, doc["date"], header_ts, len(items))
        if header_ts != doc.get("header_ts"):
            self.ledger.update(cid, day, header_ts=header_ts)
        if resume and picks:
            planned = {p.paper_id for p in picks}
            for pid, ts in poster.thread_papers(cid, header_ts).items():
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
            ts = self._send(cid, partial(poster.paper, channel, day, record, pick, position, len(picks), header_ts))
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
