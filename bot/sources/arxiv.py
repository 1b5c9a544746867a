"""The arXiv API (Atom): newest papers of a category, and papers by id.

Every request goes through the client's `HttpClient`, whose rate limiter enforces arXiv's courtesy rule
(one request every `arxiv_delay` seconds, never two at once). Feeds are parsed with feedparser, which
exposes `opensearch:totalResults` as `feed.opensearch_totalresults`, `arxiv:primary_category` as
`entry.arxiv_primary_category["term"]`, `arxiv:comment|journal_ref|doi` as `entry.arxiv_comment` etc., and
the PDF link as the `link` whose `title` is "pdf". A feed that does not parse cleanly (feedparser's `bozo`)
is refused whole: feedparser happily returns the entries before a truncation point.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import feedparser

from bot.papers import PaperRecord, new_record, parse_arxiv_id
from bot.sources.http import HttpClient, HTTPStatusError, SourceError

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # arXiv allows up to 2,000 per request but recommends small pages
# A since-date this many entries deep into a category is a mistake (and arXiv stops paging at 30,000).
MAX_ENTRIES = 10_000
IDS_PER_REQUEST = 100
# arXiv sometimes answers a page inside totalResults with no entries; asking again usually works.
EMPTY_PAGE_RETRIES = 2
ERROR_ID_PREFIX = "http://arxiv.org/api/errors"
CATEGORY_RE = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")


def is_category(text: str) -> bool:
    """True for arXiv category names such as cs.LG, stat.ML, hep-th, astro-ph.CO."""
    return bool(CATEGORY_RE.match(text))


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


@dataclass
class Feed:
    total: int
    entries: int  # entries in the feed, including any that could not become records
    records: list[PaperRecord] = field(default_factory=list)


@dataclass
class ArxivPage:
    """One page of a category listing; `records` holds only the papers inside the requested dates."""

    category: str
    start: int
    total: int
    entries: int
    records: list[PaperRecord]


class ArxivClient:
    name = "arxiv"

    def __init__(self, api_url: str, http: HttpClient, *, page_size: int = PAGE_SIZE,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.api_url = api_url
        self.http = http
        self.page_size = page_size
        self.max_entries = max_entries

    def category_pages(self, category: str, since: date, until: date | None = None) -> Iterator[ArxivPage]:
        """Pages of `category`, newest submissions first, until entries are older than `since`.

        Each yielded page is complete and parsed; a failure raises `SourceError` before anything of the
        failing page is yielded. Papers first submitted after `until` (UTC dates) are left out.
        """
        if not is_category(category):
            raise ValueError(f"not an arXiv category: {category!r}")
        start = 0
        while True:
            what = f"arXiv cat:{category} start={start}"
            params = {"search_query": f"cat:{category}", "sortBy": "submittedDate", "sortOrder": "descending",
                      "start": start, "max_results": self.page_size}
            feed = self._query(params, what)
            for _ in range(EMPTY_PAGE_RETRIES):
                if feed.entries or start >= feed.total:
                    break
                log.warning("arxiv.empty_page category=%s start=%d total=%d", category, start, feed.total)
                feed = self._query(params, what)
            if not feed.entries and start < feed.total:
                raise SourceError(f"{what}: empty page although totalResults is {feed.total} "
                                  f"(an arXiv API hiccup; try again later)")
            oldest = min((_day(r["published"]) for r in feed.records if r["published"]), default=None)
            records = [r for r in feed.records if _within(r, since, until)]
            yield ArxivPage(category, start, feed.total, feed.entries, records)
            start += feed.entries
            if not feed.entries or start >= feed.total or (oldest is not None and oldest < since):
                return
            if start >= self.max_entries:
                raise SourceError(f"arXiv cat:{category}: {since.isoformat()} is more than {self.max_entries} "
                                  f"entries back; stopped there (ask for a later date)")

    def by_ids(self, ids: Sequence[str]) -> list[PaperRecord]:
        """The newest version of each paper in `ids` that arXiv knows (unknown ids are simply absent)."""
        records: list[PaperRecord] = []
        for offset in range(0, len(ids), IDS_PER_REQUEST):
            chunk = list(ids[offset:offset + IDS_PER_REQUEST])
            what = f"arXiv id_list={','.join(chunk[:3])}{',…' if len(chunk) > 3 else ''}"
            feed = self._query({"id_list": ",".join(chunk), "max_results": len(chunk)}, what)
            records += feed.records
        return records

    def _query(self, params: dict[str, Any], what: str) -> Feed:
        try:
            body = self.http.get(self.api_url, params, what=what)
        except HTTPStatusError as exc:
            # arXiv explains a bad query (HTTP 400) in an Atom error entry: show that instead of the status.
            explanation = _error_summary(exc.body)
            if explanation:
                raise SourceError(f"{what}: arXiv says: {explanation}") from None
            raise
        return parse_feed(body, what)


def parse_feed(body: bytes, what: str) -> Feed:
    """Records from an arXiv API Atom feed; `SourceError` if it is not a complete, well-formed one."""
    parsed = feedparser.parse(body)
    if parsed.get("bozo"):
        raise SourceError(f"{what}: response is not well-formed XML ({parsed.get('bozo_exception')}; "
                          f"{len(body)} bytes)")
    if not str(parsed.get("version", "")).startswith("atom"):
        raise SourceError(f"{what}: response is not an Atom feed ({_preview(body)})")
    total = _int(parsed.feed.get("opensearch_totalresults"))
    if total is None:
        raise SourceError(f"{what}: feed has no opensearch:totalResults (not an arXiv API answer?)")
    error = _error_in(parsed.entries)
    if error:
        raise SourceError(f"{what}: arXiv says: {error}")
    records: list[PaperRecord] = []
    for entry in parsed.entries:
        record = record_from_entry(entry)
        if record is None:
            log.warning("arxiv.skip what=%r id=%r reason=no-arxiv-id-or-title", what, entry.get("id"))
            continue
        records.append(record)
    return Feed(total=total, entries=len(parsed.entries), records=records)


def record_from_entry(entry: Any) -> PaperRecord | None:
    parsed_id = parse_arxiv_id(entry.get("id") or "")
    title = (entry.get("title") or "").strip()
    if parsed_id is None or not title:
        return None
    arxiv_id, version = parsed_id
    primary = entry.get("arxiv_primary_category")
    return new_record(
        arxiv_id,
        source="arxiv",
        title=title,
        abstract=entry.get("summary"),
        authors=[a.get("name", "") for a in entry.get("authors", []) if isinstance(a, dict)],
        published=entry.get("published"),
        updated=entry.get("updated"),
        categories=[t.get("term") for t in entry.get("tags", []) if t.get("term")],
        primary_category=primary.get("term") if isinstance(primary, dict) else None,
        version=version,
        comment=entry.get("arxiv_comment"),
        journal_ref=entry.get("arxiv_journal_ref"),
        doi=entry.get("arxiv_doi"),
    )


def _error_in(entries: list[Any]) -> str | None:
    for entry in entries:
        if str(entry.get("id", "")).startswith(ERROR_ID_PREFIX):
            return " ".join(str(entry.get("summary") or entry.get("title") or "unknown error").split())
    return None


def _error_summary(body: bytes) -> str | None:
    if not body:
        return None
    parsed = feedparser.parse(body)
    return None if parsed.get("bozo") else _error_in(parsed.entries)


def _within(record: PaperRecord, since: date, until: date | None) -> bool:
    if not record["published"]:
        return True
    day = _day(record["published"])
    return day >= since and (until is None or day <= until)


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _preview(body: bytes) -> str:
    text = " ".join(body[:80].decode("utf-8", "replace").split())
    return f"starts {text!r}" if text else "empty body"
