"""The composition root: every long-lived object of a process, built from the settings, in one place.

- `Services.open(settings, poster=…)` is the writer (`paperbot run`, `paperbot digest`): complete at
  construction. It takes the data directory's writer lock, loads every store, builds the search index and
  subscribes it to archive changes (so ingest updates it incrementally), and builds the save-reaction saver,
  the event de-duplication, the source clients, the digest service and the digest scheduler (not started).
- `IngestServices.open(settings)` is the writer `paperbot ingest` needs: the lock, the archive and the source
  clients, without the index or the digest machinery it would build for nothing.
- `ReadOnlyServices.open(settings)` is what the read-only CLI commands (`search`, `export`, `digest --dry-run`,
  `doctor`) use alongside a running bot: no lock, no writes, and each store loaded on first use so a command
  reads only the files it needs (`load_all()` loads them all, as `paperbot run` would at start-up).

`Repositories` is the one place a repository is built from its store file. Nothing else constructs these
objects; `close()` releases everything once the workers that use it are done.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.digest.due import IngestFn, IngestRequest
from bot.digest.readiness import IngestStatus
from bot.digest.scheduler import DigestScheduler
from bot.digest.service import DigestService, Poster
from bot.digest.settings import DigestOptions
from bot.ingest import ingest
from bot.papers import PaperRecord
from bot.relevance import open_relevance
from bot.relevance.channel_models import ChannelModels
from bot.relevance.engine import Relevance
from bot.relevance.feedback import ChannelFeedback
from bot.relevance.keeper import RelevanceKeeper
from bot.relevance.matcher import TopicMatcher
from bot.saves import ReactionSaver
from bot.sources import Sources, build_sources
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.events import RecentEvents
from bot.store.tinydb.feedback import FeedbackStore
from bot.store.tinydb.files import DataDir
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves
from bot.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from types import TracebackType

    from slack_sdk import WebClient

    from bot.search import SearchIndex

log = logging.getLogger("bot.services")
scheduler_log = logging.getLogger("bot.scheduler")


class Repositories:
    """The repositories of one data directory (writer or read-only, as `data_dir` was opened), each built on
    first use. Building one loads its file, so a file that does not load raises `StoreError` right there."""

    def __init__(self, data_dir: DataDir, options: DigestOptions) -> None:
        self.data_dir = data_dir
        self.options = options

    @functools.cached_property
    def archive(self) -> Archive:
        return Archive(self.data_dir.store("archive"))

    @functools.cached_property
    def channels(self) -> Channels:
        return Channels(self.data_dir.store("channels"), self.options)

    @functools.cached_property
    def posts(self) -> PostLedger:
        return PostLedger(self.data_dir.store("posts"))

    @functools.cached_property
    def digest_ledger(self) -> DigestLedger:
        return DigestLedger(self.data_dir.store("posts"))

    @functools.cached_property
    def saves(self) -> Saves:
        return Saves(self.data_dir.store("saves"))

    @functools.cached_property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.data_dir.store("feedback"))

    @functools.cached_property
    def channel_feedback(self) -> ChannelFeedback:
        """Each channel's "not relevant" marks and labelled examples, over posts, saves and feedback."""
        return ChannelFeedback(self.posts, self.saves, self.feedback)

    def load_all(self) -> None:
        """Build every repository now: what `paperbot run` loads at start-up, in the same order."""
        for name in ("archive", "channels", "posts", "digest_ledger", "saves", "feedback"):
            getattr(self, name)

    def close(self) -> None:
        self.data_dir.close()

    def __enter__(self) -> Repositories:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


@dataclass
class Services:
    settings: Settings
    data_dir: DataDir
    archive: Archive
    index: SearchIndex
    channels: Channels
    posts: PostLedger
    digest_ledger: DigestLedger
    saves: Saves
    feedback: FeedbackStore
    channel_feedback: ChannelFeedback
    reaction_saver: ReactionSaver
    events: RecentEvents
    sources: Sources
    digests: DigestService
    scheduler: DigestScheduler
    relevance: Relevance
    keeper: RelevanceKeeper

    @classmethod
    def open(cls, settings: Settings, *, poster: Poster | None = None, clock: Clock = utc_now,
             options: DigestOptions | None = None, background: bool = True) -> Services:
        """`background=False`: the relevance keeper (learning acronyms, embedding papers without vectors,
        preparing the channels' topics) waits for `start_background()`, so it does not slow the start-up
        (`paperbot run` calls it once it is serving)."""
        from bot.search import SearchIndex

        started = time.monotonic()
        data_dir = DataDir(settings.data_dir)
        try:
            stores = Repositories(data_dir, options or DigestOptions.from_settings(settings))
            stores.load_all()
            archive = stores.archive
            index = SearchIndex.from_archive(archive)
            relevance = open_relevance(settings.embeddings, settings.data_dir)
            index.semantic = relevance
            keeper = RelevanceKeeper(relevance)
            archive.subscribe(keeper.changed)
            matcher = TopicMatcher(index, relevance)
            channels = stores.channels
            keeper.prepare_start(archive.snapshot, warm=lambda: matcher.prepare(
                list(dict.fromkeys(t for c in channels.all_digests() for t in c.topics))))
            if background:
                keeper.start()
            sources = build_sources(settings)
            ingest_fn = make_ingest(sources, archive)
            # One ingest status for the scheduler and `/papers digest`: an empty digest waits for the papers.
            digests = DigestService(archive=archive, index=index, channels=stores.channels,
                                    ledger=stores.digest_ledger, posts=stores.posts, options=stores.options,
                                    poster=poster, ingest_status=IngestStatus(), ingest=ingest_fn,
                                    matcher=matcher, channel_models=channel_models(stores, matcher, relevance),
                                    clock=clock)
            services = cls(
                settings=settings, data_dir=data_dir, archive=archive, index=index, channels=stores.channels,
                posts=stores.posts, digest_ledger=stores.digest_ledger, saves=stores.saves,
                feedback=stores.feedback, channel_feedback=stores.channel_feedback,
                reaction_saver=ReactionSaver(stores.saves, stores.posts, settings.save_emojis), events=RecentEvents(),
                sources=sources, digests=digests,
                scheduler=DigestScheduler(digests, ingest=ingest_fn, clock=clock),
                relevance=relevance, keeper=keeper,
            )
        except BaseException:
            if "keeper" in locals():
                keeper.stop()
            data_dir.close()
            raise
        log.info("services.open path=%s papers=%d ms=%d", settings.data_dir, len(archive),
                 (time.monotonic() - started) * 1000)
        return services

    @classmethod
    def open_for_slack(cls, settings: Settings, client: WebClient | None = None, **kwargs: Any) -> Services:
        """The writer, with digests posted to Slack through `client` (by default one built from the settings)."""
        from bot.slack.app import create_web_client
        from bot.slack.digest_poster import SlackPoster

        client = client or create_web_client(settings)
        return cls.open(settings, poster=SlackPoster(client, command=settings.command), **kwargs)

    def start_background(self) -> None:
        """Start the relevance keeper if `open(background=False)` held it back (harmless if it runs)."""
        self.keeper.start()

    def close(self) -> None:
        self.keeper.stop()
        self.data_dir.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


@dataclass
class IngestServices:
    """The writer lock, the archive and the source clients: all `paperbot ingest` uses."""

    settings: Settings
    data_dir: DataDir
    archive: Archive
    sources: Sources

    @classmethod
    def open(cls, settings: Settings) -> IngestServices:
        data_dir = DataDir(settings.data_dir)
        try:
            archive = Repositories(data_dir, DigestOptions.from_settings(settings)).archive
            return cls(settings=settings, data_dir=data_dir, archive=archive, sources=build_sources(settings))
        except BaseException:
            data_dir.close()
            raise

    def close(self) -> None:
        self.data_dir.close()

    def __enter__(self) -> IngestServices:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


class ReadOnlyServices(Repositories):
    """The stores of a data directory that another process may be writing, opened without its lock, plus the
    search index and a digest service that can only preview, each built on first use."""

    def __init__(self, settings: Settings, data_dir: DataDir, options: DigestOptions) -> None:
        super().__init__(data_dir, options)
        self.settings = settings

    @classmethod
    def open(cls, settings: Settings, *, options: DigestOptions | None = None) -> ReadOnlyServices:
        """Raises `StoreError` if the data directory does not exist."""
        return cls(settings, DataDir(settings.data_dir, read_only=True),
                   options or DigestOptions.from_settings(settings))

    @functools.cached_property
    def index(self) -> SearchIndex:
        from bot.search import SearchIndex

        index = SearchIndex.build(self.archive.snapshot())
        index.semantic = self.relevance
        return index

    @functools.cached_property
    def relevance(self) -> Relevance:
        """The running bot's stored vectors (read, never written); `digests` teaches it the archive's acronyms."""
        return open_relevance(self.settings.embeddings, self.settings.data_dir, read_only=True)

    @functools.cached_property
    def digests(self) -> DigestService:
        """A digest service that can plan and preview, never post (it has no poster)."""
        self.relevance.learn(self.archive.snapshot())  # acronyms and word families: topics need them, search not
        return DigestService(archive=self.archive, index=self.index, channels=self.channels,
                             ledger=self.digest_ledger, posts=self.posts, options=self.options,
                             matcher=(matcher := TopicMatcher(self.index, self.relevance)),
                             channel_models=channel_models(self, matcher, self.relevance))

    def __enter__(self) -> ReadOnlyServices:
        return self


def channel_models(stores: Repositories, matcher: TopicMatcher, relevance: Relevance) -> ChannelModels:
    """Each channel's preferences, fit on its feedback with the matcher's topic logits as base."""

    def topic_logits(topic: str, records: Mapping[str, PaperRecord]) -> dict[str, float]:
        return {pid: m.logit for pid, m in matcher.match(topic, records, floor=0.0).items()}

    return ChannelModels(stores.channel_feedback, relevance, stores.archive.get_many, topic_logits)


def make_ingest(sources: Sources, archive: Archive) -> IngestFn:
    """The scheduler's ingest: the configured sources into the archive (the index follows the archive)."""

    def run(request: IngestRequest) -> Any:
        chosen = Sources(hf=sources.hf if request.dates else None,
                         arxiv=sources.arxiv if request.categories else None)
        report = ingest(archive, chosen, dates=list(request.dates), categories=list(request.categories),
                        since=request.since, until=request.dates[-1] if request.dates else None)
        scheduler_log.info("scheduler.ingest.done new=%d updated=%d failed=%d", len(report.new), len(report.updated),
                 len(report.failed))
        return report

    return run
