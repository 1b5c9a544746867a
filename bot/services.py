"""The composition root: the long-lived objects a running bot shares, opened from the settings.

`Services.open(path)` takes the data directory's writer lock, loads the archive, builds the search index
from it and subscribes the index to archive changes (so ingest updates it incrementally), and opens the
channel settings, the posted-message ledger and the reading lists. `close()` releases everything; call it
once the workers that use the services have finished.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.archive import Archive
from bot.channels import Channels
from bot.config import Settings
from bot.posts import PostLedger
from bot.saves import Saves
from bot.storage import DataDir

if TYPE_CHECKING:
    from bot.digest import DigestService
    from bot.search import SearchIndex

log = logging.getLogger(__name__)


@dataclass
class Services:
    data_dir: DataDir
    archive: Archive
    index: SearchIndex
    channels: Channels
    posts: PostLedger
    saves: Saves
    digests: DigestService | None = None  # created by the Slack app (bot/slack/digest_listeners.py)

    @classmethod
    def open(cls, path: Path) -> Services:
        from bot.search import SearchIndex

        started = time.monotonic()
        data_dir = DataDir(path)
        try:
            archive = Archive(data_dir.store("archive"))
            index = SearchIndex.from_archive(archive)
            services = cls(
                data_dir=data_dir,
                archive=archive,
                index=index,
                channels=Channels(data_dir.store("channels")),
                posts=PostLedger(data_dir.store("posts")),
                saves=Saves(data_dir.store("saves")),
            )
        except BaseException:
            data_dir.close()
            raise
        log.info("services.open path=%s papers=%d ms=%d", path, len(archive), (time.monotonic() - started) * 1000)
        return services

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls.open(settings.data_dir)

    def close(self) -> None:
        self.data_dir.close()
