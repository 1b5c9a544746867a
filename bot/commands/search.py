"""`paperbot search QUERY [--limit N] [--offset N] [--json]`: search the archive from the shell.

Opens the data directory read-only (no writer lock), so it works while the bot runs; it reads the
archive file as last written and builds the same in-memory index the bot uses. The query language is
the one `/papers search` takes (see bot/search/query.py). Words starting with `-` are exclusions, not
options: `paperbot search sparse autoencoders -vision --limit 5` works.

Text output: one line per paper (rank, id, year, score, title) and its link, then the count and any
notes. `--json`: a JSON array of {id, title, score, year, link, authors, published} on stdout, notes on
stderr. A query the search refuses is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.commands import CommandError, words_and_trailing_options
from bot.config import Settings
from bot.papers import PaperRecord, clean_text

MAX_LIMIT = 100


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "search", help="search the paper archive (works while the bot runs)",
        description="Search the paper archive: words, \"phrases\", -exclusions, author:, since:, year:, "
                    "has:code, cat:. Example: paperbot search chinchilla scaling since:2022 --limit 5")
    parser.add_argument("--limit", type=int, default=10, help=f"results to show (1–{MAX_LIMIT}, default 10)")
    parser.add_argument("--offset", type=int, default=0, help="results to skip (for paging)")
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of text")
    # REMAINDER: `-word` exclusions must not be taken for options.
    parser.add_argument("query", nargs=argparse.REMAINDER, help="the search")
    parser.set_defaults(handler=handle)


def _options_after_query(args: argparse.Namespace) -> list[str]:
    """Pull --limit/--offset/--json typed after the query out of it."""
    words, flags, values = words_and_trailing_options(args.query, ("--json",), ("--limit", "--offset"))
    args.json = args.json or "--json" in flags
    for name, value in values.items():
        try:
            setattr(args, name[2:], int(value or ""))
        except ValueError:
            raise CommandError(f"{name} needs a whole number, got {value or ''!r}") from None
    return words


def _year(paper: PaperRecord) -> str:
    value = paper.get("published") or paper.get("hf_date") or ""
    return clean_text(value[:4]) if len(value) >= 4 else "----"


def _link(paper: PaperRecord) -> str:
    links = paper.get("links") or {}
    return clean_text(links.get("abs") or links.get("hf") or f"https://arxiv.org/abs/{paper.get('id', '')}")


# Stored text is outside text (a record may predate the ingest-time stripping): never let it drive the terminal.
def _title(paper: PaperRecord) -> str:
    return clean_text(paper.get("title"))


def handle(args: argparse.Namespace, settings: Settings) -> int:
    from bot.search import QueryError
    from bot.services import ReadOnlyServices

    query = " ".join(_options_after_query(args)).strip()
    if not 1 <= args.limit <= MAX_LIMIT:
        raise CommandError(f"--limit must be from 1 to {MAX_LIMIT}")
    if args.offset < 0:
        raise CommandError("--offset must be 0 or more")
    if not query:
        raise CommandError("give a search, e.g. `paperbot search sparse autoencoders since:2024`")

    started = time.monotonic()
    with ReadOnlyServices.open(settings) as services:
        if not len(services.archive):
            raise CommandError(f"the archive in {settings.data_dir} is empty: nothing to search yet "
                               f"(papers arrive with `paperbot ingest` or the running bot)")
        index = services.index
        try:
            page = index.search(query, limit=args.limit, offset=args.offset)
        except QueryError as exc:
            raise CommandError(str(exc)) from None
    elapsed = time.monotonic() - started

    if args.json:
        rows = [{"id": clean_text(h.paper.get("id")), "title": _title(h.paper), "score": h.score,
                 "year": _year(h.paper), "link": _link(h.paper),
                 "authors": [clean_text(a) for a in h.paper.get("authors") or []],
                 "published": h.paper.get("published")} for h in page.hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        for note in page.notes:
            print(f"note: {note}", file=sys.stderr)
        return 0

    width = len(str(page.offset + len(page.hits)))
    for rank, hit in enumerate(page.hits, start=page.offset + 1):
        paper = hit.paper
        print(f"{rank:>{width}}. {clean_text(paper.get('id'))}  {_year(paper)}  {hit.score:7.2f}  {_title(paper)}")
        print(f"{'':>{width}}  {_link(paper)}")
    if page.hits:
        shown = f"{page.offset + 1}–{page.offset + len(page.hits)}"
        print(f"\n{shown} of {page.total:,} results for {query!r} ({len(index):,} papers, {elapsed:.1f} s)")
    elif page.total:
        print(f"no results on this page: there are {page.total:,} for {query!r}")
    else:
        print(f"no results for {query!r} in {len(index):,} papers")
    for note in page.notes:
        print(f"note: {note}")
    return 0


