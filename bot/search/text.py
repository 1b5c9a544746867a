"""Text normalisation shared by the index and queries: folding, tokenising, light stemming, term hashing.

Every rule here has a vectorised twin in `bulk.py` (the bulk index build); the two must agree exactly,
and tests check that they do. The rules:

- fold: NFKD, drop combining marks, casefold, plus a few letters NFKD leaves alone (ø, ł, đ, æ, œ, ß…),
  so `Schölkopf`, `SCHOLKOPF` and `scholkopf` are one word. Non-ASCII punctuation becomes a space.
- tokens: runs of [0-9a-z] and non-ASCII letters; everything else separates. A hyphenated compound
  (`auto-encoder`) is indexed as its parts and its joined form (`autoencoder`).
- stem: plural → singular only (`autoencoders` → `autoencoder`, `studies` → `study`, `processes` →
  `process`), for words whose last four characters are ASCII letters; others are left alone.
- stop words: a short English list; the index leaves them out (phrases still check them in the text).
- term hash: 64-bit hash of the stem's UTF-8 bytes (see `term_hash`); the index keys terms by it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from functools import lru_cache

# Letters NFKD does not decompose into base + mark (lower case: they are replaced after casefold()).
_SPECIAL_FOLDS = {
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŧ": "t",
    # Unicode hyphens join compounds like the ASCII one does; a soft hyphen is invisible.
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u00ad": "",
}
_SPECIAL = re.compile("[" + "".join(_SPECIAL_FOLDS) + "]")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# What is still non-ASCII after folding and not a letter or digit (quotes, dashes, symbols) separates
# words: it becomes a space. ASCII punctuation is left alone (tokenising treats it as a separator).
_NON_WORD_UNICODE = re.compile(r"[^\w\x00-\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_TOKEN = re.compile(r"[0-9a-z\u0080-\U0010ffff]+")
_COMPOUND = re.compile(r"[0-9a-z\u0080-\U0010ffff]+(?:-[0-9a-z\u0080-\U0010ffff]+)+")

_STOP_LIST = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either else etc few for from further had
has have having he her here hers herself him himself his how however i if in into is it its itself just
let may me might more most much must my myself neither no nor not of off on once only or other ought our
ours ourselves out over own per same shall she should so some such than that the their theirs them
themselves then there therefore these they this those thus to too under until up upon us very via was we
were what when where whether which while who whom whose why will with within without would yet you your
yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_LIST.split())

MASK64 = (1 << 64) - 1


@lru_cache(maxsize=16384)
def _fold_unicode(text: str) -> str:  # the same runs ("ö", "’", "—") come back all the time: cache
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()
    if text.isascii():
        return text
    text = _SPECIAL.sub(lambda m: _SPECIAL_FOLDS[m.group()], text)
    if text.isascii():
        return text
    return _NON_WORD_UNICODE.sub(" ", unicodedata.normalize("NFKC", text))


def _fold_run(match: re.Match[str]) -> str:
    return _fold_unicode(match.group())


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text`; non-ASCII punctuation becomes spaces.

    Every step maps characters one by one, so only the runs of non-ASCII characters need the slow,
    Unicode-aware steps (and folding texts joined by newlines equals folding each: the index relies
    on both)."""
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(_fold_run, text).lower()


def _fold_encode_error(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    run = error.object[error.start:error.end]
    return _fold_unicode(run).encode(), error.end


codecs.register_error("paperbot-search-fold", _fold_encode_error)


def fold_bytes(text: str) -> bytes:
    """fold(text).encode(), fast for long texts: the ASCII encoder copies ASCII at C speed and calls
    back only for each run of other characters; lower() on bytes changes only A-Z."""
    return text.encode("ascii", "paperbot-search-fold").lower()


def words(folded: str) -> list[str]:
    """Surface tokens of folded text, in order (hyphenated compounds split into their parts)."""
    return _TOKEN.findall(folded)


def compounds(folded: str) -> list[str]:
    """Joined forms of the hyphenated compounds in folded text: `auto-encoder` → `autoencoder`."""
    return [m.replace("-", "") for m in _COMPOUND.findall(folded)]


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Plural → singular when a word ends in four ASCII letters and `s` (same rules as bulk.py)."""
    tail = word[-4:]
    if tail[-1:] != "s" or len(tail) < 4 or not (tail.isascii() and tail.isalpha()):
        return word
    if tail.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if tail.endswith(("ss", "is")) or (tail.endswith("us") and len(word.encode()) >= 5):
        return word
    return word[:-1]


STOP_STEMS = frozenset(STOP_WORDS | {stem(w) for w in STOP_WORDS})


def is_stop(term: str) -> bool:
    return term in STOP_STEMS


def fmix(x: int) -> int:
    """MurmurHash3's 64-bit finaliser (bulk.py has the numpy version)."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & MASK64
    x ^= x >> 33
    return x


def long_tail_hash(tail: bytes) -> int:
    """Hash of the bytes after the 24th: rare (very long words), so computed in Python on both paths."""
    return int.from_bytes(hashlib.blake2b(tail, digest_size=8).digest(), "little")


_MUL = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def term_hash(term: str) -> int:
    """64-bit key of a term (a stem): fmix(k0*A + k1*B + k2*C + length [+ hash of bytes 25+]); never 0.

    k_j are the stem's UTF-8 bytes 8j..8j+7 as a little-endian integer. For words of up to 8 bytes the
    key is a bijection of the word, so common words never collide.
    """
    data = term.encode()
    h = len(data) + (long_tail_hash(data[24:]) if len(data) > 24 else 0)
    for j in range(3):
        h += int.from_bytes(data[8 * j:8 * j + 8], "little") * _MUL[j]
    return fmix(h & MASK64) or 1


def terms(text: str) -> list[str]:
    """Index terms of raw text in order: stems of non-stop words, then joined compound forms."""
    folded = fold(text)
    found = [t for t in map(stem, words(folded)) if t not in STOP_STEMS]
    found += [t for t in map(stem, compounds(folded)) if t not in STOP_STEMS]
    return found
