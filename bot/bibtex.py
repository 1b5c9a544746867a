"""BibTeX for archive records, in arXiv's own style (pure: no I/O).

    @misc{lovelace2024diffusion,
      title={Diffusion Transformers for Long Video},
      author={Ada Lovelace and Alan Turing},
      year={2024},
      eprint={2405.12345},
      archivePrefix={arXiv},
      primaryClass={cs.LG},
      url={https://arxiv.org/abs/2405.12345},
    }

- Text is escaped for LaTeX. Braces and backslashes become `\\textbraceleft{}` etc. rather than `\\{`:
  BibTeX counts braces even after a backslash, so `\\{` would unbalance the field and swallow the rest of
  the file. Every field this module writes therefore has balanced braces, whatever the title says.
- Non-ASCII text stays UTF-8 (biber, and BibTeX with `inputenc`, read it).
- Keys are `{first author's surname}{year}{first significant title word}`, ASCII, lowercase (Google
  Scholar's and arXiv's scheme). Papers that would share a key are told apart by arXiv id order: the
  lowest id keeps the plain key, the next get `b`, `c`, … — so a set of papers gets the same keys in any
  order, and a paper's key only depends on the papers it collides with.
- A record is a `bot.papers.PaperRecord`, or just `{"id": …}` for a saved paper the archive lacks
  (bot.saves.records_for), hence `Mapping[str, Any]` and a `.get` for every field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from bot.papers import abs_url, clean_text

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_LATEX_RE = re.compile("|".join(re.escape(ch) for ch in _LATEX_SPECIALS))
_STOP_WORDS = frozenset({
    "a", "an", "the", "on", "of", "for", "in", "to", "and", "or", "with", "from", "by", "at", "via", "towards",
    "toward", "is", "are", "do", "does", "can", "when", "what", "why", "how", "we", "our", "your", "its", "it",
    "this", "that", "these", "those", "into", "beyond",
})
KEY_PART_CHARS = 24  # a 2,000-letter "word" in a title must not make a 2,000-letter key
_NEW_STYLE_YEAR = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_YEAR = re.compile(r"/(\d{2})\d{5}$")


def escape_latex(text: object) -> str:
    """Escape LaTeX's special characters; control characters and runs of whitespace become one space."""
    value = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(text or ""))
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIALS[m.group(0)], clean_text(value))


def ascii_word(text: str) -> str:
    """Lowercase ASCII letters and digits of `text` (accents dropped: `Müller` -> `muller`)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def paper_year(record: Mapping[str, Any]) -> str | None:
    """The year of first publication: the v1 date, else the Daily Papers day, else the id's YYMM."""
    for key in ("published", "hf_date"):
        value = record.get(key)
        if isinstance(value, str) and re.match(r"^\d{4}", value):
            return value[:4]
    paper_id = str(record.get("id", ""))
    match = _NEW_STYLE_YEAR.match(paper_id) or _OLD_STYLE_YEAR.search(paper_id)
    if match:
        yy = int(match.group(1))
        return f"{2000 + yy if yy < 91 else 1900 + yy}"  # arXiv started in 1991
    return None


def _surname(author: str) -> str:
    name = clean_text(author)
    if "," in name:  # "Last, First"
        return name.split(",", 1)[0]
    parts = name.split()
    return parts[-1] if parts else ""


def base_key(record: Mapping[str, Any]) -> str:
    authors = [a for a in record.get("authors") or [] if clean_text(str(a))]
    surname = ascii_word(_surname(str(authors[0]))) if authors else ""
    year = paper_year(record) or ""
    words = [ascii_word(w) for w in clean_text(record.get("title")).split()]
    word = next((w for w in words if w and w not in _STOP_WORDS), "")
    key = f"{(surname or 'anon')[:KEY_PART_CHARS]}{year}{word[:KEY_PART_CHARS]}"
    if not (year or word):  # nothing to tell it apart: the id does
        key += ascii_word(str(record.get("id", "")))
    return key


def make_keys(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Paper id -> citation key, unique within `records` and independent of their order."""
    by_base: dict[str, list[str]] = {}
    for record in records:
        paper_id = str(record.get("id", ""))
        by_base.setdefault(base_key(record), []).append(paper_id)
    keys: dict[str, str] = {}
    taken = set(by_base)
    for base, ids in sorted(by_base.items()):
        for position, paper_id in enumerate(sorted(dict.fromkeys(ids), key=_id_order)):
            if position == 0:
                keys[paper_id] = base
                continue
            suffix = position + 1  # 2 -> "b"
            key = base + _letters(suffix)
            while key in taken:  # `smith2024fooa` can be another paper's plain key
                suffix += 1
                key = base + _letters(suffix)
            taken.add(key)
            keys[paper_id] = key
    return keys


def _id_order(paper_id: str) -> tuple[int, str]:
    """Old-style ids (pre-2007) before new-style; otherwise by the id text, which is chronological."""
    return (0 if "/" in paper_id else 1, paper_id)


def _letters(n: int) -> str:
    """1 -> a, 2 -> b, … 26 -> z, 27 -> aa."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(97 + rest) + out
    return out


def _author(name: str) -> str:
    escaped = escape_latex(name)
    # " and " separates authors and a comma splits surname from first names: protect such names whole.
    if re.search(r"\band\b", escaped, re.IGNORECASE) or "," in escaped:
        return "{" + escaped + "}"
    return escaped


def entry(record: Mapping[str, Any], key: str) -> str:
    """One `@misc` entry. Only fields we know are written (a paper saved before it could be fetched has just
    its id and URL)."""
    paper_id = str(record.get("id", ""))
    fields: list[tuple[str, str]] = []
    title = clean_text(record.get("title"))
    if title:
        fields.append(("title", escape_latex(title)))
    authors = [a for a in (clean_text(str(a)) for a in record.get("authors") or []) if a]
    if authors:
        fields.append(("author", " and ".join(_author(a) for a in authors)))
    year = paper_year(record)
    if year:
        fields.append(("year", year))
    fields += [("eprint", escape_latex(paper_id)), ("archivePrefix", "arXiv")]
    categories = record.get("categories") or []
    primary = record.get("primary_category") or (categories[0] if categories else None)
    if primary:
        fields.append(("primaryClass", escape_latex(primary)))
    doi = str(record.get("doi") or "").split()  # arXiv may list several, separated by spaces: keep the first
    if doi:
        fields.append(("doi", _url(doi[0])))  # read verbatim like `url`: `10.1000/a_b` must keep its `_`
    fields.append(("url", _url(abs_url(paper_id))))
    body = "".join(f"  {name}={{{value}}},\n" for name, value in fields)
    return f"@misc{{{key},\n{body}}}\n"


def _url(url: str) -> str:
    # `url` and `doi` fields are read verbatim (the url package); only a brace could break the entry.
    return url.replace("{", "%7B").replace("}", "%7D")


def to_bibtex(records: Iterable[Mapping[str, Any]]) -> str:
    """Entries for `records` (in the given order), separated by blank lines; empty string for none."""
    records = list(records)
    keys = make_keys(records)
    seen: set[str] = set()
    entries = []
    for record in records:
        paper_id = str(record.get("id", ""))
        if paper_id in seen:
            continue
        seen.add(paper_id)
        entries.append(entry(record, keys[paper_id]))
    return "\n".join(entries)
