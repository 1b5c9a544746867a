"""One paper in a message: linked title, authors · date · upvotes, links, abstract, and its Save / Share buttons.

Search results, shared papers, digests and reading lists all show papers this way. A record may be a full
`PaperRecord` or a stub with just an `id` (a paper the archive no longer has): every field is optional here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.papers import abs_url, clean_text, pdf_url
from bot.slack.blocks import (
    SECTION_TEXT,
    Block,
    actions,
    button,
    escape_mrkdwn,
    link,
    section,
    truncate_mrkdwn,
    truncate_plain,
    truncate_words,
)
from bot.store.protocols import ArchiveRepository

TITLE_CHARS = 250
AUTHOR_CHARS = 60
AUTHORS_SHOWN = 3
RESULT_ABSTRACT_CHARS = 280

ACTION_SAVE = "paper_save"
ACTION_SHARE = "paper_share"

# A PaperRecord, or a stub with only the id: read with .get(), never indexed.
PaperLike = Mapping[str, Any]


def record_or_stub(archive: ArchiveRepository, paper_id: str) -> PaperLike:
    """The archive's record, or `{"id": …}` for a paper it lacks (saved before it could be fetched)."""
    return archive.get(paper_id) or {"id": paper_id}


def paper_title(record: PaperLike) -> str:
    return clean_text(record.get("title")) or f"arXiv:{record.get('id', '?')}"


def short_authors(authors: Iterable[Any] | None, shown: int = AUTHORS_SHOWN) -> str:
    """`A, B, C et al.` — the first `shown` names, each cut to a sane length."""
    names = [truncate_plain(clean_text(str(a)), AUTHOR_CHARS) for a in (authors or []) if clean_text(str(a))]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


def paper_date(record: PaperLike) -> str | None:
    published = record.get("published")
    if isinstance(published, str) and len(published) >= 10:
        return published[:10]
    hf_date = record.get("hf_date")
    return hf_date if isinstance(hf_date, str) and hf_date else None


def paper_links(record: PaperLike) -> dict[str, str]:
    """The paper's links by kind: abs and pdf always, hf / code / project when known."""
    raw = record.get("links")
    links: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    paper_id = str(record.get("id", ""))
    found = {"abs": links.get("abs") or abs_url(paper_id), "pdf": links.get("pdf") or pdf_url(paper_id)}
    for kind, key in (("hf", "hf"), ("code", "github"), ("project", "project")):
        if links.get(key):
            found[kind] = links[key]
    return found


def paper_text(record: PaperLike, *, abstract_chars: int = RESULT_ABSTRACT_CHARS) -> str:
    """The mrkdwn of one paper: linked title, authors · date · upvotes, links, trimmed abstract."""
    urls = paper_links(record)
    title = truncate_plain(paper_title(record), TITLE_CHARS)
    lines = [f"*{link(urls['abs'], title)}*"]
    meta = []
    authors = short_authors(record.get("authors"))
    if authors:
        meta.append(escape_mrkdwn(authors))
    date = paper_date(record)
    if date:
        meta.append(escape_mrkdwn(date))
    upvotes = record.get("upvotes")
    if isinstance(upvotes, int) and not isinstance(upvotes, bool):
        meta.append(f"{upvotes} upvote" + ("" if upvotes == 1 else "s"))
    if meta:
        lines.append(" · ".join(meta))
    labels = {"pdf": "PDF", "hf": "Hugging Face", "code": "Code", "project": "Project page"}
    lines.append(" · ".join(link(urls[kind], label) for kind, label in labels.items() if kind in urls))
    abstract = clean_text(record.get("abstract"))
    if abstract and abstract_chars > 0:
        lines.append(escape_mrkdwn(truncate_words(abstract, abstract_chars)))
    return truncate_mrkdwn("\n".join(lines), SECTION_TEXT)


def paper_fallback(record: PaperLike) -> str:
    return escape_mrkdwn(truncate_plain(paper_title(record), TITLE_CHARS))


def paper_blocks(
    record: PaperLike, *, abstract_chars: int = RESULT_ABSTRACT_CHARS, share: bool = True
) -> list[Block]:
    """A section for the paper and an actions block with Save (and Share to channel)."""
    paper_id = str(record.get("id", ""))
    buttons = [button("Save", ACTION_SAVE, value=paper_id)]
    if share:
        buttons.append(button("Share to channel", ACTION_SHARE, value=paper_id))
    return [
        section(paper_text(record, abstract_chars=abstract_chars), block_id=f"paper:{paper_id}"),
        actions(*buttons, block_id=f"paper_actions:{paper_id}"),
    ]



def title_link(record: PaperLike) -> str:
    """`*<abs url|Title>*`, escaped and cut to a sane length."""
    title = truncate_plain(paper_title(record), TITLE_CHARS)
    return f"*{link(paper_links(record)['abs'], title)}*"
