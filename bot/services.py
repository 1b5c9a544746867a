"""The composition root: every long-lived object of a process, built from the settings, complete at
construction.

`Services.open(settings, poster=…)` is the writer (`paperbot run`, `paperbot digest`, `paperbot ingest`): it
takes the data directory's writer lock, loads the archive, builds the search index and subscribes it to
archive changes (so ingest updates it incrementally), opens every repository, and builds the source clients,
the digest service and the digest scheduler (not started). `ReadOnlyServices.open(settings)` is what the
read-only CLI commands use alongside a running bot: no lock, no writes, the index built on first use.
Nothing else constructs these objects; `close()` releases everything once the workers that use it are done.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.digest.due import IngestFn, IngestRequest
from bot.digest.scheduler import DigestScheduler
from bot.digest.service import DigestService, Poster
from bot.digest.settings import DigestOptions
from bot.ingest import ingest
from bot.sources import Sources, build_sources
from bot.store.files import DataDir
from bot.store.tinydb.archive import Archive
from bot.store.tinydb.channels import Channels
from bot.store.tinydb.digests import DigestLedger
from bot.store.tinydb.events import RecentEvents
from bot.store.tinydb.posts import PostLedger
from bot.store.tinydb.saves import Saves
from bot.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.search import SearchIndex

log = logging.getLogger("bot.services")
scheduler_log = logging.getLogger("bot.scheduler")


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
    events: RecentEvents
    sources: Sources
    digests: DigestService
    scheduler: DigestScheduler

    @classmethod
    def open(cls, settings: Settings, *, poster: Poster | None = None, clock: Clock = utc_now,
             options: DigestOptions | None = None) -> Services:
        from bot.search import SearchIndex

        started = time.monotonic()
        data_dir = DataDir(settings.data_dir)
        try:
            options = options or DigestOptions.from_settings(settings)
            archive = Archive(data_dir.store("archive"))
            index = SearchIndex.from_archive(archive)
            channels = Channels(data_dir.store("channels"), options)
            posts = PostLedger(data_dir.store("posts"))
            digest_ledger = DigestLedger(data_dir.store("posts"))
            sources = build_sources(settings)
            digests = DigestService(archive=archive, index=index, channels=channels, ledger=digest_ledger,
                                    posts=posts, options=options, poster=poster, clock=clock)
            services = cls(
                settings=settings, data_dir=data_dir, archive=archive, index=index, channels=channels, posts=posts,
                digest_ledger=digest_ledger, saves=Saves(data_dir.store("saves")), events=RecentEvents(),
                sources=sources,
                digests=digests,
                scheduler=DigestScheduler(digests, ingest=make_ingest(sources, archive), clock=clock),
            )
        except BaseException:
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

    def close(self) -> None:
        self.data_dir.close()


@dataclass
class ReadOnlyServices:
    """The stores of a data directory that another process may be writing, opened without its lock."""

    settings: Settings
    data_dir: DataDir
    archive: Archive
    channels: Channels
    posts: PostLedger
    digest_ledger: DigestLedger
    saves: Saves

    @classmethod
    def open(cls, settings: Settings, *, options: DigestOptions | None = None) -> ReadOnlyServices:
        data_dir = DataDir(settings.data_dir, read_only=True)
        try:
            return cls(
                settings=settings, data_dir=data_dir, archive=Archive(data_dir.store("archive")),
                channels=Channels(data_dir.store("channels"), options or DigestOptions.from_settings(settings)),
                posts=PostLedger(data_dir.store("posts")), digest_ledger=DigestLedger(data_dir.store("posts")),
                saves=Saves(data_dir.store("saves")),
            )
        except BaseException:
            data_dir.close()
            raise

    @functools.cached_property
    def index(self) -> SearchIndex:
        from bot.search import SearchIndex

        return SearchIndex.build(self.archive.snapshot())

    @functools.cached_property
    def digests(self) -> DigestService:
        """A digest service that can plan and preview, never post (it has no poster)."""
        return DigestService(archive=self.archive, index=self.index, channels=self.channels,
                             ledger=self.digest_ledger, posts=self.posts, options=self.channels.options)

    def close(self) -> None:
        self.data_dir.close()

    def __enter__(self) -> ReadOnlyServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
