"""The query language: plain words, "quoted phrases", -exclusions and filters.

    sparse autoencoders steering        words: a paper matching more of them ranks higher
    "attention is all you need"         a phrase: its words, adjacent, in this order
    -gan  -"style transfer"             exclude papers with the word / the phrase
    author:hinton  author:"yann lecun"  by author (all the name's words); -author:x excludes
    since:2025-01  until:2024  year:2024  year:2022..2024  since:30d (days, w, m, y ago)
    has:code (a GitHub repo is known)  has:project  has:hf   (-has:code: none known)
    cat:cs.LG                           arXiv category
    saved:me  channel:#name             need bot state (a SearchContext hook)
    2401.12345 / an arXiv or HF link    that paper

Parsing is purely syntactic (no index needed); `QueryError` says what to fix in one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.papers import normalize_arxiv_id
from bot.search.models import QueryError
from bot.search.text import STOP_STEMS, compounds, fold, stem, words

MAX_QUERY_CHARS = 500
MAX_WORDS = 24  # scoring cost grows with each word; a pasted paragraph is cut here (with a note)

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"', "‘": "'", "’": "'"})
_ITEM = re.compile(
    r"""\s*(?P<neg>-(?=[^\s-]))?(?:(?P<key>[A-Za-z]+):(?=\S))?(?:"(?P<quoted>[^"]*)(?:"|$)|(?P<bare>[^\s"]+))"""
)
_KEYS = {
    "author": "author", "authors": "author", "by": "author",
    "since": "since", "after": "since", "from": "since",
    "until": "until", "before": "until",
    "year": "year",
    "has": "has",
    "cat": "cat", "category": "cat",
    "saved": "saved",
    "channel": "channel", "in": "channel",
}
_EXAMPLES = {"author": "author:hinton", "since": "since:2024-06", "until": "until:2023", "year": "year:2024",
             "has": "has:code", "cat": "cat:cs.LG", "saved": "saved:me", "channel": "channel:#ml-papers"}
_HAS = {"code": "code", "github": "code", "repo": "code", "project": "project", "page": "project",
        "website": "project", "hf": "hf", "huggingface": "hf"}
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_RELATIVE = re.compile(r"(\d{1,4})([dwmy])")
_YEARS = re.compile(r"(\d{4})(?:\.\.|-|–)(\d{4})")
_USER = re.compile(r"<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]{2,})(?:\|([^>]*))?>")


@dataclass
class Word:
    """A plain word; a hyphenated one (`auto-encoder`) has several parts and a joined form."""

    text: str  # folded, as typed
    parts: list[str]
    exact: bool = False  # typed in quotes: no typo correction

    @property
    def joined(self) -> str:
        return "".join(self.parts)


@dataclass
class Phrase:
    text: str  # folded, as typed
    words: list[str]  # folded surface words in order, stop words included


@dataclass
class ParsedQuery:
    text: str
    words: list[Word] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    excluded_words: list[Word] = field(default_factory=list)
    excluded_phrases: list[Phrase] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    authors: list[tuple[list[str], bool]] = field(default_factory=list)  # (name words, negated)
    categories: list[tuple[str, bool]] = field(default_factory=list)  # (category key, negated)
    has: list[tuple[str, bool]] = field(default_factory=list)  # (code|project|hf, negated)
    date_from: int | None = None  # YYYYMMDD, inclusive
    date_to: int | None = None
    saved: list[tuple[str | None, bool]] = field(default_factory=list)  # (user id, None = "me"; negated)
    channels: list[tuple[str | None, bool]] = field(default_factory=list)  # (name or id, None = here; negated)
    ignored: list[str] = field(default_factory=list)  # common words left out
    sequence: list[str] = field(default_factory=list)  # the plain words in typed order, common ones included
    notes: list[str] = field(default_factory=list)

    @property
    def has_terms(self) -> bool:
        return bool(self.words or self.phrases or self.ids)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.has or self.saved or self.channels
                    or self.date_from is not None or self.date_to is not None)


def category_key(category: str) -> str:
    """`cs.LG` → `cslg`: one index word per category (the index does the same to the records')."""
    return re.sub(r"[^0-9a-z]", "", fold(category))


def parse_query(text: str, *, today: date | None = None) -> ParsedQuery:
    """Parse a query; raises QueryError for an empty, too long or meaningless one, or a bad filter."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"That search is {len(text):,} characters long; please keep it under {MAX_QUERY_CHARS} "
            f"(a few distinctive words work best)."
        )
    if not text.strip():
        raise QueryError("Type some words to search for, e.g. `sparse autoencoders` or `author:hinton since:2024`.")
    today = today or date.today()
    query = ParsedQuery(text=text.strip())
    for match in _ITEM.finditer(text.translate(_QUOTES)):
        negated = bool(match.group("neg"))
        key = (match.group("key") or "").lower()
        quoted, bare = match.group("quoted"), match.group("bare")
        value = quoted if quoted is not None else bare
        if key and key in _KEYS:
            _filter(query, _KEYS[key], value, negated, f"{key}:{value}", today)
            continue
        if not key and bare and bare.endswith(":") and bare[:-1].lower() in _KEYS:
            kind = _KEYS[bare[:-1].lower()]
            raise QueryError(f"`{bare}` needs a value right after the colon, e.g. `{_EXAMPLES[kind]}`.")
        if key:  # `foo:bar` that is no filter: plain text (e.g. `arXiv:2401.12345`, `note:`)
            if quoted is not None:
                _text(query, key, negated, quoted=False)
            else:
                value, quoted = f"{match.group('key')}:{bare}", None
        _text(query, value, negated, quoted=quoted is not None)
    _finish(query)
    return query


def _text(query: ParsedQuery, value: str, negated: bool, *, quoted: bool) -> None:
    arxiv_id = None if quoted else normalize_arxiv_id(value)
    if arxiv_id is not None:
        if not negated:
            query.ids.append(arxiv_id)
        return
    folded = fold(value)
    found = words(folded)
    if not found:
        return
    if quoted and len(found) > 1:
        phrase = Phrase(folded.strip(), found)
        (query.excluded_phrases if negated else query.phrases).append(phrase)
        return
    if not negated:
        query.sequence.extend(found)
    joined = set(compounds(folded))
    target = query.excluded_words if negated else query.words
    # A hyphenated compound stays one Word with its parts; other runs of words are separate Words.
    for piece in re.split(r"[^0-9a-z\u0080-\U0010ffff-]+", folded):
        parts = words(piece)
        if not parts:
            continue
        if len(parts) > 1 and "".join(parts) in joined:
            target.append(Word(piece.strip("-"), parts))
        else:
            target.extend(Word(p, [p], exact=quoted) for p in parts)


def _filter(query: ParsedQuery, kind: str, value: str, negated: bool, typed: str, today: date) -> None:
    value = value.strip()
    if kind == "author":
        name = words(fold(value))
        if not name:
            raise QueryError("`author:` needs a name, e.g. `author:hinton` or `author:\"yann lecun\"`.")
        query.authors.append((name, negated))
    elif kind == "cat":
        key = category_key(value)
        if not key:
            raise QueryError("`cat:` needs an arXiv category, e.g. `cat:cs.LG`.")
        query.categories.append((key, negated))
    elif kind == "has":
        what = _HAS.get(value.lower())
        if what is None:
            raise QueryError(f"`{typed}` isn't something I know: use `has:code`, `has:project` or `has:hf`.")
        query.has.append((what, negated))
    elif kind in ("since", "until", "year"):
        if negated:
            raise QueryError(f"`-{typed}` can't be negated; use `since:` and `until:` for a date range.")
        low, high = _date_range(kind, value, typed, today)
        if low is not None:
            query.date_from = low if query.date_from is None else max(query.date_from, low)
        if high is not None:
            query.date_to = high if query.date_to is None else min(query.date_to, high)
    elif kind == "saved":
        if value.lower() == "me":
            query.saved.append((None, negated))
        elif user := _USER.fullmatch(value):
            query.saved.append((user.group(1), negated))
        else:
            raise QueryError(f"`{typed}`: use `saved:me` (or `saved:@someone`).")
    elif kind == "channel":
        if value.lower() in ("here", "this"):
            query.channels.append((None, negated))
        elif mention := _CHANNEL.fullmatch(value):
            query.channels.append((mention.group(1), negated))
        elif channel := value.lstrip("#").strip():
            query.channels.append((channel.lower() if not re.fullmatch(r"[CGD][A-Z0-9]{6,}", channel) else channel,
                                   negated))
        else:
            raise QueryError("`channel:` needs a channel, e.g. `channel:#ml-papers` or `channel:here`.")


def _date_range(kind: str, value: str, typed: str, today: date) -> tuple[int | None, int | None]:
    if kind == "year":
        if years := _YEARS.fullmatch(value):
            first, last = sorted((int(years.group(1)), int(years.group(2))))
            return first * 10000 + 101, last * 10000 + 1231
        if re.fullmatch(r"\d{4}", value):
            return int(value) * 10000 + 101, int(value) * 10000 + 1231
        raise QueryError(f"`{typed}`: a year looks like `year:2024` or `year:2022..2024`.")
    if relative := _RELATIVE.fullmatch(value.lower()):
        amount, unit = int(relative.group(1)), relative.group(2)
        days = amount * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
        try:
            start = today - timedelta(days=days)
        except OverflowError:
            raise QueryError(f"`{typed}` reaches too far back.") from None
        stamp = start.year * 10000 + start.month * 100 + start.day
        return (stamp, None) if kind == "since" else (None, stamp)
    parsed = _DATE.fullmatch(value)
    if parsed is None:
        raise QueryError(f"`{typed}`: a date looks like `{kind}:2025-01`, `{kind}:2025-01-15` or `{kind}:30d`.")
    year = int(parsed.group(1))  # the pattern requires the year; month and day are optional
    month, day = (int(g) if g else None for g in parsed.groups()[1:])
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        raise QueryError(f"`{typed}` is not a real date.") from None
    low = year * 10000 + (month or 1) * 100 + (day or 1)
    high = year * 10000 + (month or 12) * 100 + (day or 31)
    return (low, None) if kind == "since" else (None, high)


def _finish(query: ParsedQuery) -> None:
    kept: list[Word] = []
    for word in query.words:
        if len(word.parts) == 1 and stem(word.parts[0]) in STOP_STEMS:
            query.ignored.append(word.text)
        else:
            kept.append(word)
    query.words = kept
    phrases: list[Phrase] = []
    for phrase in query.phrases:
        if any(stem(w) not in STOP_STEMS for w in phrase.words):
            phrases.append(phrase)
        else:
            query.ignored.append(phrase.text)
    query.phrases = phrases
    total = len(query.words) + sum(len(p.words) for p in query.phrases)
    if total > MAX_WORDS:
        query.notes.append(f"searched for the first {MAX_WORDS} words only")
        budget = MAX_WORDS
        phrases = []
        for phrase in query.phrases:
            if len(phrase.words) <= budget:
                phrases.append(phrase)
                budget -= len(phrase.words)
        query.phrases = phrases
        query.words = query.words[:budget]
    if query.has_terms or query.has_filters:
        return
    if query.ignored:
        shown = ", ".join(f"'{w}'" for w in query.ignored[:5])
        raise QueryError(f"{shown} {'is' if len(query.ignored) == 1 else 'are'} too common to search for; "
                         f"add a more specific word.")
    if query.excluded_words or query.excluded_phrases:
        raise QueryError("Add at least one word or filter to search for; `-word` only removes results.")
    raise QueryError("I couldn't find any words to search for in that; try a few distinctive words.")
