"""Words as topic matching compares them: folded (bot/search/text.py), split, and stemmed with the Snowball
English stemmer (PyStemmer), so "superconductivity", "superconducting" and "superconductor" meet.

Stems are cached per distinct word: a day's abstracts repeat a small vocabulary, so stemming costs one
dictionary lookup per word after the first time.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import Stemmer

from bot.search.text import STOP_WORDS, fold

# LaTeX commands and inline maths are notation, not words ("\cite{…}", "$L^2$").
LATEX = _LATEX = re.compile(r"\\(?:cite[pt]?|ref|eqref|label|url|href)\{[^}]{0,200}\}|\\[a-zA-Z]+|\$[^$]{0,200}\$")
# A LaTeX accent on a letter (Schr\\"odinger, {\\'e}) is that letter: arXiv writes names this way.
_LATEX_ACCENT = re.compile(r"\{?\\(?:[\"'`^~=.]\s*\{?([A-Za-z])\}?"
                           r"|[uvHck](?:\{([A-Za-z])\}|\s+([A-Za-z])(?![A-Za-z])))\}?")
_WORD = re.compile(r"[0-9a-z\u00c0-\U0010ffff]+")
_COMPOUND = re.compile(r"[0-9a-z\u00c0-\U0010ffff]+(?:-[0-9a-z\u00c0-\U0010ffff]+)+")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.!?](?=\s+[A-Z(])")
_VOWELS = frozenset("aeiouy")

_stemmer = Stemmer.Stemmer("english")
_stems: dict[str, str] = {}
_stems_lock = threading.Lock()  # PyStemmer objects are not thread-safe
_MAX_CACHED = 50_000  # words; the vocabulary of a day of abstracts fits, a full archive would not


def _finish(word: str, snowball: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        # Acronym plurals ("gnns", "llms") are the acronym; Snowball only drops an s after a vowel.
        return word[:-1] if len(word) == 4 and word.endswith("s") and not _VOWELS & set(word[:-1]) else word
    if word.endswith("s") and not _VOWELS & set(word[:-1]):
        return word[:-1]
    return snowball


def stem(word: str) -> str:
    found = _stems.get(word)
    if found is not None:
        return found
    with _stems_lock:
        value = _finish(word, _stemmer.stemWord(word))
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
                    _stems[word] = _finish(word, value)
    return [_stems.get(w) or stem(w) for w in words]


def folded_words(text: str) -> list[str]:
    """Folded words of `text`, LaTeX notation removed (accented letters kept); a hyphenated compound gives its
    parts."""
    if "\\" in text:
        text = _LATEX_ACCENT.sub(lambda m: m.group(1) or m.group(2) or m.group(3), text)
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

    # What scoring reads again for every topic, computed once per paper.
    @functools.cached_property
    def title_set(self) -> frozenset[str]:
        return frozenset(self.title) | frozenset(self.title_compounds)

    @functools.cached_property
    def whole_set(self) -> frozenset[str]:
        return self.title_set | frozenset(self.abstract) | frozenset(self.abstract_compounds)

    @functools.cached_property
    def lead_set(self) -> frozenset[str]:
        return frozenset(self.abstract[: self.lead])

    @functools.cached_property
    def _positions(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        title: dict[str, list[int]] = {}
        abstract: dict[str, list[int]] = {}
        for i, stem in enumerate(self.title):
            title.setdefault(stem, []).append(i)
        for i, stem in enumerate(self.abstract):
            abstract.setdefault(stem, []).append(i)
        return title, abstract

    def phrase_in(self, part: str, phrase: Sequence[str]) -> int:
        """How often `phrase` occurs as consecutive stems in the "title", the "abstract" or its "lead" sentence."""
        if not phrase or any(stem not in self.whole_set for stem in phrase):
            return 0
        words = self.title if part == "title" else self.abstract
        starts = self._positions[0 if part == "title" else 1].get(phrase[0], ())
        limit = self.lead if part == "lead" else len(words)
        n = len(phrase)
        wanted = tuple(phrase)
        return sum(1 for i in starts if i + n <= limit and words[i:i + n] == wanted)

    @functools.cached_property
    def counts(self) -> Counter[str]:
        return Counter((*self.title, *self.abstract, *self.title_compounds, *self.abstract_compounds))

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


class StemFamilies:
    """Stems seen in the archive's titles, to find a long stem's family: "superconduct" (superconductivity,
    superconducting) and "superconductor" share their first letters. Only stems of at least FAMILY_PREFIX
    letters have families; shorter ones are too often different words ("graph", "graphit…")."""

    FAMILY_PREFIX = 8
    MAX_MEMBERS = 8

    def __init__(self) -> None:
        self._stems: set[str] = set()
        self._sorted: list[str] | None = None
        self._lock = threading.Lock()

    def add(self, texts: Iterable[str]) -> None:
        found = {s for text in texts for s in content_stems(text) if len(s) >= self.FAMILY_PREFIX}
        with self._lock:
            if not found <= self._stems:
                self._stems |= found
                self._sorted = None

    def family(self, stem: str) -> list[str]:
        """Other stems of the same family: longer ones starting with `stem`, and long prefixes of it."""
        if len(stem) < self.FAMILY_PREFIX:
            return []
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(self._stems)
            ordered = self._sorted
            known = self._stems
        members = [stem[:k] for k in range(self.FAMILY_PREFIX, len(stem)) if stem[:k] in known]
        start = bisect.bisect_right(ordered, stem)
        for other in ordered[start:start + 200]:
            if not other.startswith(stem) or len(members) >= self.MAX_MEMBERS:
                break
            members.append(other)
        return members

    def __len__(self) -> int:
        return len(self._stems)
