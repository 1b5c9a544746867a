"""Hugging Face Daily Papers: `GET {api}/daily_papers?date=…&p=…&limit=…` and `GET {api}/papers/{id}`.

The payloads are loosely typed (any field but `paper.id` and a title may be missing or null, and
`ai_keywords`/`githubRepo`/`projectPage` sit at item level on some records and inside `paper` on others),
so every field is read defensively and type-checked; a payload of the wrong overall shape is a
`SourceError`, never a half-read day.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import orjson

from bot.papers import Links, PaperRecord, hf_url, new_record, parse_arxiv_id
from bot.sources.http import HttpClient, SourceError

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# A Daily Papers day has tens of papers; far more pages than this means the server ignores `p`.
MAX_PAGES = 20


class HFClient:
    name = "hf"

    def __init__(self, api_url: str, http: HttpClient, *, page_size: int = PAGE_SIZE) -> None:
        self.api_url = api_url.rstrip("/")
        self.http = http
        self.page_size = page_size

    def daily(self, day: date) -> list[PaperRecord]:
        """Every paper listed on Daily Papers for `day`, all pages, or SourceError (nothing partial)."""
        what = f"Hugging Face daily_papers for {day.isoformat()}"
        records: dict[str, PaperRecord] = {}
        for page in range(MAX_PAGES):
            payload = self._daily_page({"date": day.isoformat(), "p": page, "limit": self.page_size}, what)
            fresh = 0
            for record in records_from_daily(payload, day, what=f"{what} page {page}"):
                if record["id"] not in records:
                    fresh += 1
                records[record["id"]] = record
            log.debug("hf.page date=%s p=%d items=%d", day, page, len(payload))
            # A short page is the last one; a page with nothing new means the server ignores `p`.
            if len(payload) < self.page_size or fresh == 0:
                break
        else:
            raise SourceError(f"{what}: still more pages after {MAX_PAGES} pages of {self.page_size}")
        return list(records.values())

    def latest(self, limit: int = 1) -> list[PaperRecord]:
        """The newest Daily Papers items (no date): a cheap check that the API answers in its format."""
        what = f"{self.api_url}/daily_papers"
        return records_from_daily(self._daily_page({"limit": limit}, what), None, what=what)

    def _daily_page(self, params: dict[str, Any], what: str) -> list[Any]:
        payload = _json(self.http.get(f"{self.api_url}/daily_papers", params, what=what), what)
        if not isinstance(payload, list):
            raise SourceError(f"{what}: expected a JSON array, got {_kind(payload)}")
        return payload

    def paper(self, arxiv_id: str) -> PaperRecord:
        """One paper from `papers/{id}`; `SourceNotFound` if Hugging Face does not know it."""
        what = f"Hugging Face paper {arxiv_id}"
        payload = _json(self.http.get(f"{self.api_url}/papers/{arxiv_id}", what=what), what)
        if not isinstance(payload, dict):
            raise SourceError(f"{what}: expected a JSON object, got {_kind(payload)}")
        record = record_from_paper(payload, {})
        if record is None:
            raise SourceError(f"{what}: the answer has no usable arXiv id and title")
        return record


def records_from_daily(payload: list[Any], day: date | None, *, what: str) -> list[PaperRecord]:
    """Records for one page of Daily Papers items; odd single items are skipped, a wrong shape raises."""
    records: list[PaperRecord] = []
    for position, item in enumerate(payload):
        if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
            raise SourceError(f"{what}: item {position} is not an object with a 'paper' object")
        record = record_from_paper(item["paper"], item, day)
        if record is None:
            # One unusable item should not cost the whole day; say so, keep the rest.
            log.warning("hf.skip what=%r item=%d id=%r reason=no-arxiv-id-or-title",
                        what, position, item["paper"].get("id"))
            continue
        records.append(record)
    return records


def record_from_paper(paper: dict[str, Any], item: dict[str, Any], day: date | None = None) -> PaperRecord | None:
    """A record from a `paper` object and its Daily Papers item (`{}` for `papers/{id}`), or None."""
    raw_id = _str(paper.get("id"))
    parsed = parse_arxiv_id(raw_id) if raw_id else None
    # The item-level title is the cleaned one; `paper.title` keeps arXiv's line breaks.
    title = _str(item.get("title")) or _str(paper.get("title"))
    if parsed is None or not title:
        return None
    arxiv_id = parsed[0]
    authors = [_str(a.get("name")) for a in _list(paper.get("authors")) if isinstance(a, dict)]
    links: Links = {"hf": hf_url(arxiv_id)}
    if github := _url(paper.get("githubRepo")) or _url(item.get("githubRepo")):
        links["github"] = github
    if project := _url(paper.get("projectPage")) or _url(item.get("projectPage")):
        links["project"] = project
    keywords = [k for k in (*_list(paper.get("ai_keywords")), *_list(item.get("ai_keywords"))) if isinstance(k, str)]
    return new_record(
        arxiv_id,
        source="hf",
        title=title,
        abstract=_str(paper.get("summary")) or _str(item.get("summary")),
        authors=[a for a in authors if a],
        published=_str(paper.get("publishedAt")),
        links=links,
        upvotes=_int(paper.get("upvotes")),
        github_stars=_int(paper.get("githubStars")) if paper.get("githubStars") is not None
        else _int(item.get("githubStars")),
        keywords=keywords,
        version=parsed[1],
        hf_date=day.isoformat() if day else None,
    )


def _json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{what}: response is not valid JSON ({exc}; {len(body)} bytes)") from None


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return kinds.get(type(value), type(value).__name__)


def _str(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    # bool is an int subclass; a `true` upvote count is not a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _url(value: Any) -> str | None:
    text = _str(value)
    return text if text and text.startswith(("http://", "https://")) else None
