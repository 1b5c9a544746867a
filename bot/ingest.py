"""Ingestion: fetch from the paper sources, write to the archive in batches, report what happened.

A fetch unit is one Hugging Face day or one arXiv listing page. A unit that fails is reported (and logged
as `ingest.fail`) and the run goes on with the next one; nothing of a failed unit is written. An arXiv
category stops at its first failed page, keeping the complete pages before it. Archive errors are not
caught here: a disk that cannot be written ends the run.

Each `Archive.upsert` rewrites the archive file, so records are buffered and written at most
`batch_size` at a time, not paper by paper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TypeVar

from bot.papers import PaperRecord, parse_arxiv_id
from bot.sources import SourceError, SourceNotFound, Sources, is_category
from bot.store.models import UpsertResult
from bot.store.protocols import ArchiveRepository

log = logging.getLogger(__name__)

BATCH_SIZE = 500

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass
class IngestReport:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (unit, error sentence)
    fetched: int = 0  # records received from the sources, before merging

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"{len(self.new)} new, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.failed)} failed")


class _BatchWriter:
    """Buffers records and upserts them `batch_size` at a time; keeps per-paper outcomes across batches."""

    def __init__(self, archive: ArchiveRepository, batch_size: int) -> None:
        self.archive = archive
        self.batch_size = max(1, batch_size)
        self.buffer: list[PaperRecord] = []
        self.result = UpsertResult()

    def add(self, records: Iterable[PaperRecord]) -> None:
        self.buffer.extend(records)
        while len(self.buffer) >= self.batch_size:
            batch, self.buffer = self.buffer[:self.batch_size], self.buffer[self.batch_size:]
            self._write(batch)

    def flush(self) -> None:
        if self.buffer:
            batch, self.buffer = self.buffer, []
            self._write(batch)

    def _write(self, batch: list[PaperRecord]) -> None:
        started = time.monotonic()
        result = self.archive.upsert(batch)
        log.info("ingest.write records=%d new=%d updated=%d unchanged=%d seconds=%.2f", len(batch),
                 len(result.new), len(result.updated), len(result.unchanged), time.monotonic() - started)
        self.result.add(result)

    def outcomes(self) -> tuple[list[str], list[str], list[str]]:
        """(new, updated, unchanged) ids, each paper counted once: a paper new in one batch and merged
        again in a later one is new; updated beats unchanged."""
        new = list(dict.fromkeys(self.result.new))
        new_set = set(new)
        updated = [i for i in dict.fromkeys(self.result.updated) if i not in new_set]
        seen = new_set | set(updated)
        unchanged = [i for i in dict.fromkeys(self.result.unchanged) if i not in seen]
        return new, updated, unchanged


def ingest(
    archive: ArchiveRepository,
    sources: Sources,
    *,
    dates: Sequence[date] = (),
    categories: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch Hugging Face Daily Papers for each of `dates`, and arXiv `categories` submitted in
    [since, until] (default: the span of `dates`), into `archive`.
    """
    if categories and sources.arxiv is None:
        raise ValueError("arXiv categories given but no arXiv source")
    if dates and sources.hf is None:
        raise ValueError("dates given but no Hugging Face source")
    bad = [c for c in categories if not is_category(c)]
    if bad:
        raise ValueError(f"not arXiv categories: {', '.join(bad)}")
    if categories:
        since = since or (min(dates) if dates else None)
        until = until or (max(dates) if dates else None)
        if since is None:
            raise ValueError("arXiv categories need a since-date (or dates)")
    say = progress or (lambda _line: None)
    started = time.monotonic()
    report = IngestReport()
    writer = _BatchWriter(archive, batch_size)

    def fail(unit: str, fields: str, error: str, counter: str = "") -> None:
        log.warning('ingest.fail %s error="%s"', fields, error)
        say(f"{counter}{unit}: FAILED: {error}")
        report.failed.append((unit, error))

    if (hf := sources.hf) is not None:
        for position, day in enumerate(dates, 1):
            unit, counter = f"hf {day.isoformat()}", f"[{position}/{len(dates)}] "
            try:
                records = _fetch(partial(hf.daily, day))
            except SourceError as exc:
                fail(unit, f"source=hf date={day.isoformat()}", str(exc), counter)
                continue
            log.info("ingest.fetch source=hf date=%s papers=%d", day.isoformat(), len(records))
            say(f"{counter}{unit}: {len(records)} papers")
            report.fetched += len(records)
            writer.add(records)

    if sources.arxiv is not None and since is not None:
        for category in categories:
            pages = sources.arxiv.category_pages(category, since, until)
            while True:
                try:
                    page = _fetch(partial(next, pages, None))
                except SourceError as exc:
                    fail(f"arxiv {category}", f"source=arxiv category={category}", str(exc))
                    break
                if page is None:
                    break
                log.info("ingest.fetch source=arxiv category=%s start=%d entries=%d papers=%d total=%d",
                         category, page.start, page.entries, len(page.records), page.total)
                say(f"arxiv {category} start={page.start}: {len(page.records)} papers "
                    f"({page.start + page.entries} of {page.total} listed)")
                report.fetched += len(page.records)
                writer.add(page.records)

    writer.flush()
    report.new, report.updated, report.unchanged = writer.outcomes()
    log.info("ingest.done new=%d updated=%d unchanged=%d failed=%d fetched=%d seconds=%.1f", len(report.new),
             len(report.updated), len(report.unchanged), len(report.failed), report.fetched,
             time.monotonic() - started)
    return report


def _fetch(call: Callable[[], T]) -> T:
    """Run a source call; any unexpected exception (a parser bug, a library surprise) becomes a
    `SourceError`, so one odd response fails its unit instead of the whole process."""
    try:
        return call()
    except SourceError:
        raise
    except Exception as exc:
        log.exception("ingest.bug error=%r", exc)
        raise SourceError(f"unexpected error: {exc!r}") from exc


@dataclass
class FetchResult:
    records: dict[str, PaperRecord] = field(default_factory=dict)  # bare id -> the archived record
    missing: list[str] = field(default_factory=list)  # neither source knows these
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id or text, error sentence)
    upsert: UpsertResult = field(default_factory=UpsertResult)


def fetch_papers(archive: ArchiveRepository, sources: Sources, ids: Iterable[str], *, skip_known: bool = False,
                 batch_size: int = BATCH_SIZE, hf_limit: int | None = None) -> FetchResult:
    """Fetch specific papers (any id spelling or link) and archive them: Hugging Face `papers/{id}`
    first, then arXiv `id_list` requests (up to 100 ids each) for the ones Hugging Face does not have.

    With `skip_known`, papers already in the archive are returned as stored, without a request. Hugging Face
    has no batch endpoint, so `hf_limit` bounds how many papers it is asked about (one request each); the
    others go straight to arXiv's batches.
    """
    result = FetchResult()
    wanted: list[str] = []
    for text in ids:
        parsed = parse_arxiv_id(text)
        if parsed is None:
            result.failed.append((text, f"not an arXiv id or paper link: {text!r}"))
        elif parsed[0] not in wanted:
            wanted.append(parsed[0])
    to_fetch = [i for i in wanted if not (skip_known and i in archive)]

    found: dict[str, PaperRecord] = {}
    hf_errors: dict[str, str] = {}
    if (hf := sources.hf) is not None:
        hf_down: str | None = None
        for arxiv_id in to_fetch if hf_limit is None else to_fetch[:max(0, hf_limit)]:
            if hf_down is not None:  # it failed after its retries: arXiv, now, beats its retries once per paper
                hf_errors[arxiv_id] = f"Hugging Face not asked after: {hf_down}"
                continue
            try:
                found[arxiv_id] = _fetch(partial(hf.paper, arxiv_id))
            except SourceNotFound:
                pass
            except SourceError as exc:
                hf_errors[arxiv_id] = hf_down = str(exc)
    rest = [i for i in to_fetch if i not in found]
    if rest and (arxiv := sources.arxiv) is not None:
        try:
            for record in _fetch(partial(arxiv.by_ids, rest)):
                found.setdefault(record["id"], record)
        except SourceError as exc:
            for arxiv_id in rest:
                result.failed.append((arxiv_id, "; ".join(filter(None, [hf_errors.get(arxiv_id), str(exc)]))))
            rest = []
        else:
            rest = [i for i in rest if i not in found]
    for arxiv_id in rest:
        if arxiv_id in hf_errors and sources.arxiv is None:
            result.failed.append((arxiv_id, hf_errors[arxiv_id]))
        else:
            result.missing.append(arxiv_id)
    for arxiv_id, error in result.failed:
        log.warning('ingest.fail source=ids id=%s error="%s"', arxiv_id, error)

    writer = _BatchWriter(archive, batch_size)
    writer.add(found.values())
    writer.flush()
    result.upsert = writer.result
    result.records = archive.get_many(i for i in wanted if i in found or i not in to_fetch)
    log.info("ingest.ids wanted=%d fetched=%d missing=%d failed=%d", len(wanted), len(found), len(result.missing),
             len(result.failed))
    return result


def iter_days(first: date, last: date) -> Iterator[date]:
    """Every date from `first` to `last`, inclusive."""
    day = first
    while day <= last:
        yield day
        day = date.fromordinal(day.toordinal() + 1)
