"""How strict a channel's digest is: the lowest score a paper needs to be posted, so a quiet day posts fewer
papers instead of padding up to the maximum with weak matches.

A channel's strictness is a level name of `STRICTNESS` ("strict", "normal", "broad") or a custom minimum score
in [0, 1]. The scores are the topic scorer's probability that a paper is *about* a topic. `STRICTNESS` is the
one place the levels' numbers live. This module imports nothing from the bot, so the configuration
(PAPERBOT_DIGEST_STRICTNESS), the `/papers schedule` parser, the stored document's check and the channel's
settings all read the same table and parse the same way.
"""

from __future__ import annotations

STRICTNESS: dict[str, float] = {"strict": 0.45, "normal": 0.25, "broad": 0.12}
DEFAULT_STRICTNESS = "normal"

Strictness = str | float  # a level name of STRICTNESS, or a custom minimum score in [0, 1]


class StrictnessError(ValueError):
    """Strictness someone typed that cannot be used; str() is a friendly sentence (plain text) listing the forms."""


def _either(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def forms() -> str:
    """The valid forms, for error messages: `“strict” (0.45), “normal” (0.25) or “broad” (0.12), or …`."""
    return (_either([f"“{name}” ({score_text(score)})" for name, score in STRICTNESS.items()])
            + ", or a minimum score from 0 to 1 such as “min 0.6” or “min 60%”")


def parse_minimum(text: str) -> float:
    """`0.6`, `.6`, `0,6`, `60%` → 0.6; raises StrictnessError unless it is a number in [0, 1] (or 0–100%)."""
    raw = text.strip().replace(",", ".")
    percent = raw.endswith("%")
    number = raw[:-1].strip() if percent else raw
    try:
        value = float(number)
    except ValueError:
        value = float("nan")
    if percent:
        value /= 100
    if not 0 <= value <= 1:  # also false for nan and inf
        got = f" (got “{text.strip()}”)" if text.strip() else ""
        if number.isdigit() and 1 < value <= 100 and not percent:
            got = f" (got “{text.strip()}”: for a percentage write “min {text.strip()}%”)"
        raise StrictnessError(f"Strictness is {forms()}{got}.")
    return round(value, 4)


def parse_strictness(text: str) -> Strictness:
    """A level name in any case, or a minimum (`0.6`, `60%`, `min 0.6`); raises StrictnessError."""
    words = text.split()
    key = " ".join(words).casefold()
    if key in STRICTNESS:
        return key
    if words and words[0].casefold() in ("min", "minimum"):
        return parse_minimum(" ".join(words[1:]))
    return parse_minimum(text)


def stored(value: object) -> Strictness | None:
    """A stored strictness as it is used (a level name, or a float in [0, 1]), or None if it is not one."""
    if isinstance(value, str):
        return value if value in STRICTNESS else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


def min_score(strictness: Strictness) -> float:
    """The lowest score a paper needs to be posted."""
    return STRICTNESS[strictness] if isinstance(strictness, str) else float(strictness)


def score_text(score: float) -> str:
    """`0.50`, `0.625`: two decimals unless the score has more."""
    return f"{score:.2f}" if round(score, 2) == score else f"{score:.4f}".rstrip("0")


def label(strictness: Strictness) -> str:
    """For display: `normal (0.25)`, `custom 0.62`."""
    if isinstance(strictness, str):
        return f"{strictness} ({score_text(min_score(strictness))})"
    return f"custom {score_text(strictness)}"


def describe(strictness: Strictness) -> str:
    """What it means for the channel: `strict (only papers scored 0.45 or more; a quiet day posts fewer)`."""
    name = strictness if isinstance(strictness, str) else label(strictness)
    score = min_score(strictness)
    if score <= 0:
        return f"{name} (every matching paper, up to the maximum)"
    return f"{name} (only papers scored {score_text(score)} or more; a quiet day posts fewer)"
