"""Words as topic matching compares them: folded (bot/search/text.py), split, and stemmed with the Snowball
English stemmer (PyStemmer), so "superconductivity", "superconducting" and "superconductor" meet.

Stems are cached per distinct word: a day's abstracts repeat a small vocabulary, so stemming costs one
dictionary lookup per word after the first time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import Stemmer

from bot.search.text import STOP_WORDS, fold

# LaTeX commands and inline maths are notation, not words ("\cite{…}", "$L^2$").
_LATEX = re.compile(r"\\[a-zA-Z]+|\$[^$]{0,200}\$")
_WORD = re.compile(r"[0-9a-z\u00c0-\U0010ffff]+")
_COMPOUND = re.compile(r"[0-9a-z\u00c0-\U0010ffff]+(?:-[0-9a-z\u00c0-\U0010ffff]+)+")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.!?](?=\s+[A-Z(])")

_stemmer = Stemmer.Stemmer("english")
_stems: dict[str, str] = {}
_stems_lock = threading.Lock()
_MAX_CACHED = 500_000


def stem(word: str) -> str:
    found = _stems.get(word)
    if found is not None:
        return found
    value = _stemmer.stemWord(word) if len(word) > 3 and word.isalpha() else word
    with _stems_lock:  # PyStemmer objects are not thread-safe
        if len(_stems) < _MAX_CACHED:
            _stems[word] = value
    return value


def stems_of(words: Iterable[str]) -> list[str]:
    """Stems of folded words; a word already seen is a cache hit."""
    missing = [w for w in set(words) if w not in _stems]
    if missing:
        with _stems_lock:
            for word, value in zip(missing, _stemmer.stemWords(missing), strict=True):
                if len(_stems) < _MAX_CACHED:
                    _stems[word] = value if len(word) > 3 and word.isalpha() else word
    return [_stems.get(w) or stem(w) for w in words]


def folded_words(text: str) -> list[str]:
    """Folded words of `text`, LaTeX notation removed; a hyphenated compound gives its parts."""
    return _WORD.findall(fold(_LATEX.sub(" ", text)))


def content_stems(text: str) -> list[str]:
    """Stems of the words of `text` in order, stop words left out."""
    return stems_of([w for w in folded_words(text) if w not in STOP_WORDS])


def compound_stems(text: str) -> list[str]:
    """Stems of the hyphenated compounds of `text` written as one word ("auto-encoders" -> "autoencod")."""
    return stems_of([m.replace("-", "") for m in _COMPOUND.findall(fold(_LATEX.sub(" ", text)))])


def first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text, maxsplit=1)
    return parts[0] if parts else text


@dataclass(frozen=True)
class StemmedText:
    """A paper's title and abstract as stem sequences, for counting and adjacency."""

    title: tuple[str, ...]
    abstract: tuple[str, ...]
    lead: int  # how many of `abstract`'s stems belong to its first sentence
    title_compounds: tuple[str, ...] = ()  # hyphenated compounds as one word, so "auto-encoder" meets "autoencoder"
    abstract_compounds: tuple[str, ...] = ()

    @classmethod
    def of(cls, title: str, abstract: str) -> StemmedText:
        lead = len(content_stems(first_sentence(abstract))) if abstract else 0
        return cls(tuple(content_stems(title)), tuple(content_stems(abstract)), lead,
                   tuple(compound_stems(title)) if "-" in title else (),
                   tuple(compound_stems(abstract)) if "-" in abstract else ())


def phrase_count(words: Sequence[str], phrase: Sequence[str]) -> int:
    """How often `phrase` occurs in `words` as consecutive stems."""
    n = len(phrase)
    if n == 0 or n > len(words):
        return 0
    first = phrase[0]
    return sum(1 for i, w in enumerate(words) if w == first and tuple(words[i:i + n]) == tuple(phrase))
