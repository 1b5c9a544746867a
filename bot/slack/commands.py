"""Parse the text of `/papers …` into a subcommand and its arguments (pure: no Slack, no I/O).

- Empty text is `help`.
- A known first word selects that subcommand (`digest preview` is `digest` with args `preview`).
- A first word that looks like a typo of a subcommand (`wtach`, `serach`) is `unknown`, with a suggestion:
  the reply is help plus "did you mean", and the way to search for the words instead.
- Anything else is a search for the whole text (`/papers diffusion models`).

Telling a typo from a search word: same first letter, a small Damerau-Levenshtein distance, not an
inflection of the name (`topic`, `watching` are search words), and the remaining words fit what the
subcommand takes (`expert systems` is a search, since `export` takes no argument).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA

# name -> the most words it takes after the name (None: any number)
SUBCOMMANDS: dict[str, int | None] = {
    "help": 1,
    "search": None,
    "watch": None,
    "unwatch": None,
    "topics": 0,
    "digest": 1,
    "schedule": None,
    "sources": None,
    "saved": 1,
    "unsave": 1,
    "top": 1,
    "export": 0,  # takes more (`export topic diffusion`), but `expert systems` must stay a search
}
ALIASES = {"find": "search", "?": "help"}
# Subcommands that change channel settings: restricted to PAPERBOT_ADMINS when that is set.
CONFIG_SUBCOMMANDS = frozenset({"watch", "unwatch"})

_INFLECTIONS = ("s", "es", "ing", "ed", "er", "d")
_MAX_TYPO_WORD = 12
_LINK_RE = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # a SUBCOMMANDS key, or "unknown"
    args: str = ""  # the rest of the text, whitespace-normalised
    word: str = ""  # the first word as typed (for "unknown")
    suggestion: str | None = None  # the subcommand an unknown word probably meant
    implicit: bool = False  # a search without the word "search"


def from_slack(text: str | None) -> str:
    """Plain text from Slack's formatted text: links unwrapped, `&lt;` `&gt;` `&amp;` decoded.

    Slack escapes those three characters in the text it sends; decoding them gives what the user typed
    (rendering escapes again). Mentions such as `<@U1|bob>` or `<!channel>` stay as they are, literal text.
    """
    value = _LINK_RE.sub(r"\1", text or "")
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_inflection(word: str, name: str) -> bool:
    return any(word == name + end or name == word + end for end in _INFLECTIONS)


def suggest(word: str, rest_words: int = 0) -> str | None:
    """The subcommand `word` is probably a typo of, or None when it reads as a search word."""
    word = word.casefold()
    if not 3 <= len(word) <= _MAX_TYPO_WORD or word in SUBCOMMANDS or word in ALIASES:
        return None
    best: tuple[int, str] | None = None
    for name, max_words in SUBCOMMANDS.items():
        if word[0] != name[0] or _is_inflection(word, name):
            continue
        if max_words is not None and rest_words > max_words:
            continue
        allowed = 1 if len(name) <= 5 else 2
        distance = OSA.distance(word, name, score_cutoff=allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best else None


def parse(text: str | None) -> ParsedCommand:
    words = (text or "").split()
    if not words:
        return ParsedCommand("help")
    first, rest = words[0], " ".join(words[1:])
    key = first.casefold()
    key = ALIASES.get(key, key)
    if key in SUBCOMMANDS:
        return ParsedCommand(key, rest)
    suggestion = suggest(first, len(words) - 1)
    if suggestion is not None:
        return ParsedCommand("unknown", rest, word=first, suggestion=suggestion)
    return ParsedCommand("search", " ".join(words), implicit=True)
