"""Typo tolerance: map a query word to close vocabulary terms with rapidfuzz.

Fuzzy scorers over whole abstracts are slow and rank badly (see the shared README), so fuzz runs over
the *vocabulary* only, and only over plausible targets: terms seen in at least two papers or in a title,
author list or keyword list (a one-off word deep in one abstract is more often someone else's typo than
what a user means).

Distance: optimal string alignment (Levenshtein plus adjacent transpositions, so `teh` → `the` is one
edit). Words of 4–7 letters may be one edit off, longer ones two; shorter words and words with digits
are never corrected (`gan` vs `gap`, `gpt4` vs `gpt3` are different things).

Speed: rapidfuzz costs ~50 ns a comparison here, ~3 ms for a 60k-word bucket. A numpy pre-filter keeps
only terms of a compatible length whose set of letters differs from the word's in at most 2 × edits
letters (one edit changes at most two letters' presence), leaving a few hundred strings to score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

_LETTER_BIT = np.zeros(256, dtype=np.uint32)
_LETTER_BIT[ord("a"):ord("z") + 1] = 1 << np.arange(26, dtype=np.uint32)


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint32 (np.bitwise_count is numpy >= 2.0; pyproject allows 1.26)."""
    counts: np.ndarray
    if hasattr(np, "bitwise_count"):
        counts = np.bitwise_count(values)
    else:
        as_bytes = values.astype("<u4").view(np.uint8).reshape(-1, 4)
        counts = _BYTE_BITS[as_bytes].sum(axis=1)
    return counts


def max_edits(word: str) -> int:
    if len(word) < 4 or not (word.isascii() and word.isalpha()):
        return 0
    return 1 if len(word) < 8 else 2


def letter_mask(word: str) -> int:
    mask = 0
    for byte in word.encode():
        mask |= int(_LETTER_BIT[byte])
    return mask


@dataclass(frozen=True)
class Candidate:
    term_id: int
    term: str
    distance: int


class FuzzyPool:
    """Terms that typo'd query words may be corrected to (ASCII words of 3+ letters), as numpy arrays:
    id, length and letter set per term; spellings come from the vocabulary. Not thread-safe alone."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int32)
        self._lengths = np.zeros(0, dtype=np.uint8)
        self._masks = np.zeros(0, dtype=np.uint32)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def nbytes(self) -> int:
        return self._ids.nbytes + self._lengths.nbytes + self._masks.nbytes

    def add(self, term_ids: np.ndarray, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        """Add terms given as their UTF-8 bytes (`data[starts[i]:starts[i] + lengths[i]]`), vectorised."""
        if len(term_ids) == 0:
            return
        bits = _LETTER_BIT[data]
        nonempty = lengths > 0
        letters = np.zeros(len(term_ids), dtype=np.int64)
        masks = np.zeros(len(term_ids), dtype=np.uint32)
        is_letter = (bits > 0).astype(np.int64)
        letters[nonempty] = np.add.reduceat(is_letter, starts[nonempty])
        masks[nonempty] = np.bitwise_or.reduceat(bits, starts[nonempty])
        keep = (lengths >= 3) & (lengths <= 255) & (letters == lengths)
        self._ids = np.concatenate((self._ids, term_ids[keep].astype(np.int32)))
        self._lengths = np.concatenate((self._lengths, lengths[keep].astype(np.uint8)))
        self._masks = np.concatenate((self._masks, masks[keep]))

    def nearest(self, word: str, *, spell: Callable[[int], str], popularity: Callable[[int], int],
                accept: Callable[[int], bool] | None = None, limit: int = 3) -> list[Candidate]:
        """The closest terms to `word` (fewest edits first, then the most common), at most `limit`."""
        edits = max_edits(word)
        if edits == 0 or len(self._ids) == 0:
            return []
        near = np.abs(self._lengths.astype(np.int16) - len(word)) <= edits
        near &= _popcount(self._masks ^ np.uint32(letter_mask(word))) <= 2 * edits
        ids = self._ids[near].tolist()
        if not ids:
            return []
        spellings = [spell(t) for t in ids]
        found = []
        for term, distance, index in process.extract(word, spellings, scorer=OSA.distance, score_cutoff=edits,
                                                     limit=None):
            if distance and (accept is None or accept(ids[index])):
                found.append(Candidate(ids[index], term, int(distance)))
        if not found:
            return []
        best = min(c.distance for c in found)
        found = [c for c in found if c.distance == best]
        # Among equally close words prefer the one reached by inserting or dropping letters (typing too
        # few or too many: `adaption` -> `adaptation`, not `adaptive`), then the most common.
        found.sort(key=lambda c: (Indel.distance(word, c.term), -popularity(c.term_id)))
        return found[:limit]
