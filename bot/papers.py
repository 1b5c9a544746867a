"""The paper record: one per paper, keyed by its bare arXiv id, whatever source or version it came from.

Records are plain JSON-able dicts (they are stored in TinyDB as they are). `new_record` builds one from
what a source saw; `merge_records` folds a newer sighting into a stored record without losing anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict, cast

# New-style ids (0704.0001 onwards): YYMM.NNNN or YYMM.NNNNN, optional version.
_NEW_ID = r"\d{4}\.\d{4,5}"
# Old-style ids: archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
_VERSION = r"(?:v(?P<version>\d+))?"

_BARE_ID_RE = re.compile(rf"^(?:arxiv:)?(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}(?:\.pdf)?$", re.IGNORECASE)
# Ids inside URLs and free text: arxiv.org/abs|pdf/ID, huggingface.co/papers/ID, arXiv:ID, oai:arXiv.org:ID.
_LINK_ID_RE = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|hf\.co/papers/|arxiv:|oai:arxiv\.org:)"
    rf"(?P<id>{_NEW_ID}|{_OLD_ID}){_VERSION}",
    re.IGNORECASE,
)


class Links(TypedDict, total=False):
    abs: str
    pdf: str
    hf: str
    github: str
    project: str


class PaperRecord(TypedDict):
    id: str
    title: str
    abstract: str
    authors: list[str]
    published: str | None  # ISO 8601 UTC, the v1 date
    updated: str | None  # ISO 8601 UTC, the newest version seen
    categories: list[str]
    primary_category: str | None
    links: Links
    upvotes: int | None
    github_stars: NotRequired[int | None]
    keywords: list[str]
    sources: list[str]  # "hf", "arxiv", "slack"
    version: int | None  # newest arXiv version seen
    hf_date: str | None  # the Daily Papers day it was listed on (YYYY-MM-DD)
    comment: NotRequired[str | None]
    journal_ref: NotRequired[str | None]
    doi: NotRequired[str | None]
    first_seen: str  # ISO 8601 UTC
    last_seen: str


def _canonical_case(arxiv_id: str) -> str:
    if "/" not in arxiv_id:
        return arxiv_id
    archive, number = arxiv_id.split("/", 1)
    if "." in archive:
        name, subject = archive.split(".", 1)
        return f"{name.lower()}.{subject.upper()}/{number}"
    return f"{archive.lower()}/{number}"


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return (bare id, version or None) for an id, `arXiv:` id or arXiv/HF URL; None if it is not one."""
    candidate = text.strip().strip("<>").split("|", 1)[0].strip()
    match = _BARE_ID_RE.match(candidate)
    if match is None:
        match = _LINK_ID_RE.search(candidate)
        if match is None:
            return None
        # A URL must hold nothing after the id but a version, `.pdf`, a query or a fragment.
        rest = candidate[match.end():]
        if rest and not re.match(r"^(?:\.pdf)?/?(?:[?#].*)?$", rest, re.IGNORECASE):
            return None
    version = match.group("version")
    return _canonical_case(match.group("id")), int(version) if version else None


def normalize_arxiv_id(text: str) -> str | None:
    """The bare arXiv id for any accepted spelling (`2405.12345v2`, an abs/pdf/HF URL, `arXiv:…`)."""
    parsed = parse_arxiv_id(text)
    return parsed[0] if parsed else None


def find_arxiv_ids(text: str) -> list[str]:
    """Bare ids of every arXiv / Hugging Face paper link or `arXiv:` mention in free text, in order, once."""
    seen: dict[str, None] = {}
    for match in _LINK_ID_RE.finditer(text or ""):
        seen.setdefault(_canonical_case(match.group("id")), None)
    return list(seen)


# Caps on outside text at ingest (README "Limits"): generous for real papers, small enough that one
# sighting cannot bloat the archive, a Slack message or the search index.
MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 10_000
MAX_AUTHORS = 500  # large collaborations list thousands; the first 500 are kept
MAX_NAME_CHARS = 200  # an author name, a category, a DOI
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 100
MAX_CATEGORIES = 20
MAX_NOTE_CHARS = 1_000  # comment, journal reference

# Terminal escape sequences (CSI, OSC such as a hyperlink or window title, and two-character ones), then any
# other control character (C0 but tab and newline, DEL, C1) and the bidirectional controls that reorder what
# a reader sees (a right-to-left override makes `gpj.exe` read `exe.jpg`).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]?")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without control characters, terminal escapes or direction overrides; lines and tabs stay."""
    if _UNSAFE.search(text) is None:  # the common case: one C scan, no copy
        return text
    return _UNSAFE.sub("", _ESCAPES.sub("", text))


def clean_text(text: str | None, limit: int | None = None) -> str:
    """Printable, with runs of whitespace collapsed (arXiv titles carry line breaks and indentation); cut to
    `limit` characters, the last one `…`, if longer."""
    cleaned = " ".join(printable(text or "").split())
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit - 1].rstrip() + "…"
    return cleaned


def iso_utc(value: str | datetime | None) -> str | None:
    """Normalise an ISO 8601 timestamp (with `Z` or an offset, or a naive UTC one) to `YYYY-MM-DDTHH:MM:SSZ`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        parsed = value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def hf_url(arxiv_id: str) -> str:
    return f"https://huggingface.co/papers/{arxiv_id}"


def new_record(
    arxiv_id: str,
    *,
    source: str,
    seen_at: str | None = None,
    title: str | None = None,
    abstract: str | None = None,
    authors: list[str] | None = None,
    published: str | None = None,
    updated: str | None = None,
    categories: list[str] | None = None,
    primary_category: str | None = None,
    links: Links | None = None,
    upvotes: int | None = None,
    github_stars: int | None = None,
    keywords: list[str] | None = None,
    version: int | None = None,
    hf_date: str | None = None,
    comment: str | None = None,
    journal_ref: str | None = None,
    doi: str | None = None,
) -> PaperRecord:
    """Build a record from one sighting; text is whitespace-normalised, abs/pdf links always present."""
    parsed = parse_arxiv_id(arxiv_id)
    if parsed is None:
        raise ValueError(f"not an arXiv id: {arxiv_id!r}")
    bare, id_version = parsed
    seen = seen_at or now_iso()
    all_links: Links = {"abs": abs_url(bare), "pdf": pdf_url(bare)}
    for key, value in (links or {}).items():
        if value and (url := clean_text(str(value), MAX_NOTE_CHARS)):
            all_links[key] = url  # type: ignore[literal-required]
    names = (clean_text(a, MAX_NAME_CHARS) for a in (authors or [])[:MAX_AUTHORS * 2])
    return {
        "id": bare,
        "title": clean_text(title, MAX_TITLE_CHARS),
        "abstract": clean_text(abstract, MAX_ABSTRACT_CHARS),
        "authors": [a for a in names if a][:MAX_AUTHORS],
        "published": iso_utc(published),
        "updated": iso_utc(updated),
        "categories": _unique(clean_text(c, MAX_NAME_CHARS) for c in (categories or []))[:MAX_CATEGORIES],
        "primary_category": clean_text(primary_category, MAX_NAME_CHARS) or None,
        "links": all_links,
        "upvotes": upvotes,
        "github_stars": github_stars,
        "keywords": _unique(clean_text(k, MAX_KEYWORD_CHARS) for k in (keywords or [])[:MAX_KEYWORDS * 4])[
            :MAX_KEYWORDS],
        "sources": [source],
        "version": version if version is not None else id_version,
        "hf_date": hf_date,
        "comment": clean_text(comment, MAX_NOTE_CHARS) or None,
        "journal_ref": clean_text(journal_ref, MAX_NOTE_CHARS) or None,
        "doi": clean_text(doi, MAX_NAME_CHARS) or None,
        "first_seen": seen,
        "last_seen": seen,
    }


_STR_FIELDS = ("title", "abstract", "first_seen", "last_seen")
_OPT_STR_FIELDS = ("published", "updated", "primary_category", "hf_date", "comment", "journal_ref", "doi")
_STR_LIST_FIELDS = ("authors", "categories", "keywords", "sources")
_OPT_INT_FIELDS = ("upvotes", "github_stars", "version")
_STR_OR_NONE = {str, type(None)}
_INT_OR_NONE = {int, type(None)}


def record_problem(record: Any) -> str | None:
    """None if `record` has the shape the code reads (a missing field is fine: earlier versions wrote fewer),
    else what is wrong, briefly. It runs over every record when the archive loads: one unrolled test for the
    good case (~1 µs), the field-by-field search only for a bad record."""
    try:
        get = record.get
        authors, categories, keywords, sources = (get("authors", []), get("categories", []), get("keywords", []),
                                                  get("sources", []))
        links = get("links", {})
        if (type(record) is dict and type(get("id")) is str and type(get("title", "")) is str
                and type(get("abstract", "")) is str and type(get("first_seen", "")) is str
                and type(get("last_seen", "")) is str and type(get("published")) in _STR_OR_NONE
                and type(get("updated")) in _STR_OR_NONE and type(get("primary_category")) in _STR_OR_NONE
                and type(get("hf_date")) in _STR_OR_NONE and type(get("comment")) in _STR_OR_NONE
                and type(get("journal_ref")) in _STR_OR_NONE and type(get("doi")) in _STR_OR_NONE
                and type(get("upvotes")) in _INT_OR_NONE and type(get("github_stars")) in _INT_OR_NONE
                and type(get("version")) in _INT_OR_NONE and type(authors) is list and type(categories) is list
                and type(keywords) is list and type(sources) is list and type(links) is dict):
            "".join(authors + categories + keywords + sources + list(links.values()))  # TypeError: not all str
            return None
    except (AttributeError, TypeError):
        pass
    return _record_problem_slow(record)


def _record_problem_slow(record: Any) -> str:
    if type(record) is not dict:
        return "null" if record is None else f"a {type(record).__name__}, not an object"
    if type(record.get("id")) is not str:
        return "no string 'id'"
    for name in _STR_FIELDS:
        if type(record.get(name, "")) is not str:
            return f"{name!r} is not a string"
    for name in _OPT_STR_FIELDS:
        if type(record.get(name)) not in _STR_OR_NONE:
            return f"{name!r} is not a string or null"
    for name in _STR_LIST_FIELDS:
        if not _is_str_list(record.get(name, [])):
            return f"{name!r} is not a list of strings"
    for name in _OPT_INT_FIELDS:
        if type(record.get(name)) not in _INT_OR_NONE:
            return f"{name!r} is not a whole number or null"
    return "'links' is not an object of strings"


def _is_str_list(value: Any) -> bool:
    if type(value) is not list:
        return False
    try:
        "".join(value)  # a C loop over the items
    except TypeError:
        return False
    return True


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _min_present(a: str | None, b: str | None) -> str | None:
    present = [x for x in (a, b) if x]
    return min(present) if present else None


def _max_present(a: Any, b: Any) -> Any:
    present = [x for x in (a, b) if x is not None]
    return max(present) if present else None


def merge_records(stored: Mapping[str, Any], seen: Mapping[str, Any]) -> PaperRecord:
    """Fold a newer sighting `seen` into `stored`; return the merged record (inputs are not modified).

    Newer non-empty values win, except that arXiv is the authority for the bibliographic fields (title,
    abstract, authors): once arXiv has been seen, another source only fills them if they are empty, so
    alternating HF and arXiv sightings do not flip the record back and forth. Lists (sources, categories,
    keywords) are unions; dates keep what is known (first_seen and published the earliest, updated and
    version the newest). A field the sighting lacks never erases what is stored.
    """
    merged: dict[str, Any] = dict(stored)
    authoritative = "arxiv" in seen.get("sources", ()) or "arxiv" not in stored.get("sources", ())
    for key in ("title", "abstract", "authors"):
        if seen.get(key) and (authoritative or not stored.get(key)):
            merged[key] = list(seen[key]) if key == "authors" else seen[key]
    for key in ("primary_category", "comment", "journal_ref", "doi", "hf_date"):
        if seen.get(key):
            merged[key] = seen[key]
    for key in ("upvotes", "github_stars"):
        if seen.get(key) is not None:
            merged[key] = seen[key]
    for key, cap in (("categories", MAX_CATEGORIES), ("keywords", MAX_KEYWORDS), ("sources", None)):
        merged[key] = _unique([*stored.get(key, []), *seen.get(key, [])])[:cap]  # many sightings stay capped
    merged["links"] = {**stored.get("links", {}), **{k: v for k, v in seen.get("links", {}).items() if v}}
    merged["published"] = _min_present(stored.get("published"), seen.get("published"))
    merged["updated"] = _max_present(stored.get("updated"), seen.get("updated"))
    merged["version"] = _max_present(stored.get("version"), seen.get("version"))
    merged["first_seen"] = _min_present(stored.get("first_seen"), seen.get("first_seen")) or now_iso()
    merged["last_seen"] = _max_present(stored.get("last_seen"), seen.get("last_seen")) or merged["first_seen"]
    return cast(PaperRecord, merged)
