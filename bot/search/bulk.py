"""Vectorised tokenising for index builds: bytes in, 64-bit term keys out, no Python object per token.

Building the index for 100k papers means ~20 million word occurrences. Python-level work per token costs
~70–90 ns on a small machine (re.findall alone took 3.9 s, a dict lookup per token 2.9 s), so the bulk
path works on the UTF-8 bytes of the folded text with numpy: word boundaries from one byte comparison,
short stop words dropped by a small direct-mapped table, plural stemming from the last bytes of each
word, and a term key computed from the word's first 24 bytes with MurmurHash3's finaliser. `text.py`
has the same rules for single strings; the two must agree, and tests check that they do.

`TermTable` maps keys to dense term ids with a numpy open-addressing hash table (vectorised probing), so
mapping a batch of a million keys is a handful of array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.search.text import STOP_STEMS, STOP_WORDS, stem, term_hash

U64 = np.uint64
_GOLDEN = U64(0x9E3779B97F4A7C15)
_C1 = U64(0xFF51AFD7ED558CCD)
_C2 = U64(0xC4CEB9FE1A85EC53)
_S33 = U64(33)
_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_PAD = b"\0" * 32
_MUL = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)

# After this translation every byte is a word byte (0-9, a-z, any byte of a non-ASCII letter), a hyphen,
# or a space: word bytes are exactly the bytes > "-", so one comparison finds them.
_SEPARATE = bytes(
    b if (48 <= b <= 57 or 97 <= b <= 122 or b >= 0x80 or b == 0x2D) else 0x20 for b in range(256)
)
_HY = 0x2D
_a, _z = ord("a"), ord("z")
_S, _E, _I, _X, _H, _C, _U = (ord(c) for c in "seixhcu")
# Masks for the j-th 8-byte part of a word of n bytes (n clipped to 25): how many of its bytes are in.
_PART_MASKS = [
    np.array([_MASKS[min(max(n - 8 * j, 0), 8)] for n in range(26)], dtype=np.uint64) for j in range(3)
]


def fmix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _S33)
    x *= _C1
    x ^= x >> _S33
    x *= _C2
    x ^= x >> _S33
    return x


@dataclass
class Words:
    """Words of one byte buffer: stemmed term keys, and where to find each stemmed spelling."""

    arr: np.ndarray  # uint8, the buffer plus zero padding
    keys: np.ndarray  # uint64
    starts: np.ndarray  # int64 byte offsets
    lengths: np.ndarray  # int64 byte length of the stem
    ies: np.ndarray  # bool: the stem ends in "y" where the buffer says "ies"

    def __len__(self) -> int:
        return len(self.keys)

    def spellings(self, which: np.ndarray) -> tuple[bytes, np.ndarray]:
        """UTF-8 of the stems of words `which`, concatenated, and their lengths (vectorised)."""
        lengths = self.lengths[which]
        if len(which) == 0:
            return b"", lengths
        ends = np.cumsum(lengths)
        index = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(self.starts[which] - (ends - lengths), lengths)
        data = self.arr[index]
        data[ends[self.ies[which]] - 1] = ord("y")
        return data.tobytes(), lengths


@dataclass
class Tokens:
    """Words of a buffer and the joined forms of its hyphenated compounds (a second, synthetic buffer)."""

    words: Words
    compounds: Words
    compound_starts: np.ndarray  # int64: offset in the first buffer of each compound's first part


def _boundaries(word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the runs of True in `word`."""
    starts = np.flatnonzero(word[1:] > word[:-1]) + 1
    ends = np.flatnonzero(word[1:] < word[:-1]) + 1
    if word[0]:
        starts = np.concatenate(([0], starts))
    if word[-1]:
        ends = np.concatenate((ends, [len(word)]))
    return starts, ends


def _is_letter(c: np.ndarray) -> np.ndarray:
    return (c >= _a) & (c <= _z)


def _stop_table() -> tuple[np.ndarray, int]:
    """Direct-mapped table of short stop words (raw first-8-byte value), collision-free by construction."""
    words = sorted(w for w in STOP_STEMS | STOP_WORDS if len(w.encode()) <= 8 and stem(w) in STOP_STEMS)
    values = np.array([int.from_bytes(w.encode(), "little") for w in words], dtype=np.uint64)
    for bits in range(10, 20):
        slots = (values * _MUL[1]) >> U64(64 - bits)
        if len(np.unique(slots)) == len(values):
            table = np.zeros(1 << bits, dtype=np.uint64)
            table[slots.astype(np.int64)] = values
            return table, bits
    raise AssertionError("no collision-free stop table")


_STOP_TABLE, _STOP_BITS = _stop_table()


def _words(buf: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Words:
    """Stemmed term keys for the words [starts, ends) of `arr` (= buf + padding), short stop words dropped.

    Longer stop words (ourselves, therefore, ...) are left in; the vocabulary marks their keys as stop.
    """
    view = np.ndarray(shape=(len(arr) - 7,), dtype="<u8", buffer=arr, strides=(1,))
    length = ends - starts
    clipped = np.minimum(length, 25)
    k0 = view[starts] & _PART_MASKS[0][clipped]
    slots = ((k0 * _MUL[1]) >> U64(64 - _STOP_BITS)).astype(np.int64)
    keep = np.flatnonzero((_STOP_TABLE[slots] != k0) | (length > 8))
    if len(keep) < len(starts):
        starts, ends, length, clipped, k0 = starts[keep], ends[keep], length[keep], clipped[keep], k0[keep]

    stemmed = length.copy()
    ies = np.zeros(len(starts), dtype=bool)
    # Only words ending in "s" can change; the rules run on those alone. A word is preceded by a separator
    # (or the zero padding at index -k), so for words shorter than k, c_k is not a letter.
    cand = np.flatnonzero(arr[ends - 1] == _S)
    cend = ends[cand]
    c2, c3, c4 = (arr[cend - k] for k in (2, 3, 4))
    plural = _is_letter(c2) & _is_letter(c3) & _is_letter(c4)
    cies = plural & (c2 == _E) & (c3 == _I)
    es2 = plural & (c2 == _E) & ~cies & (
        ((c3 == _S) & (c4 == _S)) | (c3 == _X) | ((c3 == _H) & ((c4 == _C) | (c4 == _S)))
    )
    keepsuffix = plural & ~cies & ~es2 & ((c2 == _S) | (c2 == _I) | ((c2 == _U) & (length[cand] >= 5)))
    cut = 2 * (cies | es2) + (plural & ~cies & ~es2 & ~keepsuffix)
    changed = cand[cut > 0]
    stemmed[cand] -= cut
    ies[cand] = cies
    clipped[changed] = np.minimum(stemmed[changed], 25)
    k0[changed] &= _PART_MASKS[0][clipped[changed]]

    # key = fmix(k0*A + k1*B + k2*C + length): k_j is the j-th 8 bytes of the stem (little-endian, zero
    # padded). Most words fit in k0, so k1 and k2 are gathered only for the longer ones.
    base = k0 * _MUL[0] + stemmed.astype(np.uint64)
    longer = np.flatnonzero(stemmed > 8)
    for j, which in ((1, longer), (2, longer[stemmed[longer] > 16])):
        base[which] += (view[starts[which] + 8 * j] & _PART_MASKS[j][clipped[which]]) * _MUL[j]
    if ies.any():  # "studies" -> "studi" + (i→y): add the difference the flipped byte makes to its part
        where = np.flatnonzero(ies)
        pos = stemmed[where] - 1
        flips = (U64(0x79 - 0x69) << (8 * (pos % 8)).astype(np.uint64)) * _MUL[np.minimum(pos // 8, 2)]
        base[where] += flips
    keys = fmix(base)
    keys[keys == 0] = 1
    for i in np.flatnonzero(stemmed > 24).tolist():  # rare; Python is exact here
        keys[i] = term_hash(stem(buf[starts[i]:ends[i]].decode()))
    return Words(arr, keys, starts, stemmed, ies)


def _no_words() -> Words:
    return Words(np.zeros(32, dtype=np.uint8), np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64),
                 np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))


def tokenize(buf: bytes, n: int | None = None) -> Tokens:
    """Term keys of the words in `buf[:n]` (folded text, UTF-8) but short stop words, and the joined
    forms of hyphenated compounds. Without `n`, `buf` is all text; with it, `buf` must go on for at least
    24 bytes of separators (padding) after `n`, which saves a copy of a large buffer."""
    if n is None:
        n = len(buf)
        buf += _PAD
    none = np.zeros(0, dtype=np.int64)
    if n == 0:
        return Tokens(_no_words(), _no_words(), none)
    buf = buf.translate(_SEPARATE)
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts, ends = _boundaries(arr[:n] > _HY)
    if len(starts) == 0:
        return Tokens(_no_words(), _no_words(), none)

    # A word followed by a hyphen and, right after it, the next word is linked to that word.
    link = np.zeros(len(starts) + 1, dtype=bool)
    link[:-2] = (arr[ends[:-1]] == _HY) & (starts[1:] == ends[:-1] + 1)
    compounds, cstarts = _no_words(), none
    if link.any():
        first = np.flatnonzero(link[:-1] & ~np.concatenate(([False], link[:-2])))
        last = np.flatnonzero(link[:-1] & ~link[1:]) + 1
        # The joined forms, hyphens removed, space-separated, gathered in one go.
        cstarts, cends = starts[first], ends[last]
        spans = cends - cstarts + 1  # + the separator
        stops = np.cumsum(spans)
        index = np.arange(int(stops[-1]), dtype=np.int64) + np.repeat(cstarts - (stops - spans), spans)
        data = arr[index]
        data[stops - 1] = 0x20
        joined = data[data != _HY].tobytes()
        jarr = np.frombuffer(joined + _PAD, dtype=np.uint8)
        jstarts, jends = _boundaries(jarr[:len(joined)] > _HY)
        compounds = _words(joined, jarr, jstarts, jends)
        if len(compounds) < len(cstarts):  # a compound of stop words only, e.g. "in-to": dropped
            cstarts = cstarts[np.isin(jstarts, compounds.starts)]
    return Tokens(_words(buf, arr, starts, ends), compounds, cstarts)


class TermTable:
    """uint64 key -> int32 value, open addressing with linear probing, all operations vectorised.

    Key 0 marks an empty slot (term keys are never 0).
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        size = 1 << max(10, int(capacity / 0.45).bit_length())
        self._keys = np.zeros(size, dtype=np.uint64)
        self._values = np.full(size, -1, dtype=np.int32)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + self._values.nbytes

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        shift = U64(64 - (len(self._keys).bit_length() - 1))
        return ((keys * _GOLDEN) >> shift).astype(np.int64)

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Table position of each key, -1 where absent."""
        slots = self._slots(keys)
        found = self._keys[slots]
        hit = found == keys  # most keys are found at the first probe
        out = np.where(hit, slots, -1)
        pending = np.flatnonzero(~hit & (found != 0))
        mask = len(self._keys) - 1
        slots = (slots[pending] + 1) & mask
        while len(pending):
            found = self._keys[slots]
            hit = found == keys[pending]
            out[pending[hit]] = slots[hit]
            again = ~hit & (found != 0)
            pending = pending[again]
            slots = (slots[again] + 1) & mask
        return out

    def get(self, keys: np.ndarray) -> np.ndarray:
        """Values for `keys`, -1 where absent."""
        where = self._find(keys)
        out: np.ndarray = self._values[where]
        out[where < 0] = -1
        return out

    def set(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert or overwrite (keys unique, non-zero)."""
        where = self._find(keys)
        present = where >= 0
        self._values[where[present]] = values[present]
        if not present.all():
            self.put(keys[~present], values[~present])

    def put(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert keys not yet present (unique, non-zero) with their values."""
        if self._count + len(keys) > len(self._keys) * 0.6:
            self._grow(self._count + len(keys))
        slots = self._slots(keys)
        pending = np.arange(len(keys))
        mask = len(self._keys) - 1
        while len(pending):
            free = self._keys[slots] == 0
            # Two new keys may want the same free slot: the first of each slot wins this round.
            cand = np.flatnonzero(free)
            _, first = np.unique(slots[cand], return_index=True)
            win = cand[first]
            self._keys[slots[win]] = keys[pending[win]]
            self._values[slots[win]] = values[pending[win]]
            lose = np.ones(len(pending), dtype=bool)
            lose[win] = False
            pending = pending[lose]
            slots = (slots[lose] + 1) & mask
        self._count += len(keys)

    def _grow(self, needed: int) -> None:
        live = self._keys != 0
        keys, values = self._keys[live], self._values[live]
        size = 1 << max(10, int(needed / 0.45).bit_length())
        self._keys = np.zeros(size, dtype=np.uint64)
        self._values = np.full(size, -1, dtype=np.int32)
        self._count = 0
        if len(keys):
            self.put(keys, values)
