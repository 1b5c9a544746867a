"""Acronyms and their long forms, learned from the archive's own text ("graph neural networks (GNNs)") with
the Schwartz-Hearst algorithm, plus a short table of abbreviations common across fields.

A topic or query that is an acronym also matches its long forms, and a long form also matches its acronym.
An acronym with several meanings in the archive ("DC": direct current, difference of convex, dependent
choice) keeps every long form that at least a fifth of its definitions use.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from bot.relevance.words import LATEX, content_stems

# "(GNNs)", "(KdV)", "(MCMC)", "(PINN)": two or more capitals, at most 10 characters, optional plural s.
_DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z0-9-]{0,8}[A-Z0-9]s?)\s*\)")
_BEFORE = 160  # characters before "(" searched for the long form
_HYPHENS = re.compile("[\u2010-\u2015]")  # en dashes join names as hyphens do: Navier–Stokes (NS)
_LATEX = LATEX
_MIN_SHARE = 0.2

# Abbreviations common across fields, for archives too young to have learned them.
COMMON: dict[str, tuple[str, ...]] = {
    "ai": ("artificial intelligence",),
    "cnn": ("convolutional neural network",),
    "dft": ("density functional theory",),
    "gan": ("generative adversarial network",),
    "gnn": ("graph neural network",),
    "gp": ("gaussian process",),
    "llm": ("large language model",),
    "mcmc": ("markov chain monte carlo",),
    "ml": ("machine learning",),
    "nlp": ("natural language processing",),
    "ode": ("ordinary differential equation",),
    "pde": ("partial differential equation",),
    "qft": ("quantum field theory",),
    "rl": ("reinforcement learning",),
    "rnn": ("recurrent neural network",),
    "sde": ("stochastic differential equation",),
    "sgd": ("stochastic gradient descent",),
    "vae": ("variational autoencoder",),
    "vlm": ("vision language model",),
    "mech interp": ("mechanistic interpretability",),
}


def _key(short: str) -> str:
    """'GNNs' -> 'gnn'; 'KdV' -> 'kdv'."""
    if len(short) > 2 and short.endswith("s") and short[-2].isupper():
        short = short[:-1]
    return short.lower()


def long_form(short: str, before: str) -> str | None:
    """The long form of `short` at the end of `before` (Schwartz & Hearst 2003), or None."""
    letters = [c.lower() for c in _key(short) if c.isalnum()]
    words = before.split()
    if not letters or not words:
        return None
    words = words[-min(len(letters) + 5, 2 * len(letters)):]
    text = " ".join(words).lower()
    s, l_ = len(letters) - 1, len(text) - 1
    while s >= 0:
        c = letters[s]
        # The first letter of the short form must start a word; the others may sit anywhere.
        while l_ >= 0 and (text[l_] != c or (s == 0 and l_ > 0 and text[l_ - 1].isalnum())):
            l_ -= 1
        if l_ < 0:
            return None
        l_ -= 1
        s -= 1
    start = text.rfind(" ", 0, l_ + 1) + 1
    found = text[start:].strip(" ,;:")
    if len(found.split()) < 2 and "-" not in found:
        return None  # one word "spelling" an acronym is usually coincidence
    return found


class AcronymTable:
    """Acronym keys <-> long forms (as stem tuples), learned incrementally; thread-safe."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
        self._spelled: dict[tuple[str, ...], str] = {}  # a long form as first written, for embedding it
        self._lock = threading.Lock()
        self._version = 0
        self._cache: tuple[int, dict[str, tuple[tuple[str, ...], ...]],
                           dict[tuple[str, ...], tuple[str, ...]]] | None = None
        for key, forms in COMMON.items():
            for form in forms:
                self._counts[key][tuple(content_stems(form))] += 1
                self._spelled[tuple(content_stems(form))] = form

    def learn(self, texts: Iterable[str]) -> int:
        """Learn the definitions in `texts`; returns how many were found."""
        found: list[tuple[str, tuple[str, ...]]] = []
        for text in texts:
            if "(" not in text:
                continue
            for match in _DEFINITION.finditer(text):
                before = _HYPHENS.sub("-", _LATEX.sub(" ", text[max(0, match.start() - _BEFORE):match.start()]))
                long = long_form(match.group(1), before)
                if long:
                    stems = tuple(content_stems(long))
                    if len(stems) >= 2:  # one word "spelling" an acronym is usually a coincidence
                        found.append((_key(match.group(1)), stems))
                        self._spelled.setdefault(stems, long)
        if found:
            with self._lock:
                for key, stems in found:
                    self._counts[key][stems] += 1
                self._version += 1
        return len(found)

    def _tables(self) -> tuple[dict[str, tuple[tuple[str, ...], ...]], dict[tuple[str, ...], tuple[str, ...]]]:
        cache = self._cache
        if cache is not None and cache[0] == self._version:
            return cache[1], cache[2]
        with self._lock:
            expansions: dict[str, tuple[tuple[str, ...], ...]] = {}
            reverse: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for key, counts in self._counts.items():
                total = sum(counts.values())
                kept = tuple(form for form, n in counts.most_common() if n >= _MIN_SHARE * total)
                expansions[key] = kept
                for form in kept:
                    reverse[form].append(key)
            frozen = {form: tuple(keys) for form, keys in reverse.items()}
            self._cache = (self._version, expansions, frozen)
        return expansions, frozen

    def spelled(self, form: tuple[str, ...]) -> str | None:
        """A long form as the archive wrote it ('physics-informed neural networks')."""
        return self._spelled.get(form)

    def expansions(self, word: str) -> tuple[tuple[str, ...], ...]:
        """Long forms (stem tuples) of an acronym typed as `word` ('GNNs', 'gnn'), or ()."""
        return self._tables()[0].get(_key(word) if word[:1].isupper() else word.lower().removesuffix("s"), ()) \
            or self._tables()[0].get(word.lower(), ())

    def acronyms_of(self, stems: tuple[str, ...]) -> tuple[str, ...]:
        """Acronym keys whose long form is exactly these stems."""
        return self._tables()[1].get(stems, ())

    def __len__(self) -> int:
        return len(self._counts)
