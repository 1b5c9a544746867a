"""Topics a channel watches: how a typed topic is cleaned, when two topics are the same, and the bounds."""

from __future__ import annotations

import unicodedata

MAX_TOPICS = 25
MAX_TOPIC_CHARS = 200
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "`": "`"}


class TopicError(ValueError):
    """A topic that cannot be stored. `reason` is `empty`, `too_long` or `too_many`; `limit` the bound hit."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(f"topic refused: {reason}")
        self.reason = reason
        self.limit = limit


def normalize_topic(text: str | None) -> str:
    """Whitespace collapsed, control characters and one pair of surrounding quotes removed."""
    cleaned = "".join(ch for ch in (text or "") if unicodedata.category(ch) not in ("Cc", "Cf") or ch.isspace())
    cleaned = " ".join(cleaned.split())
    # Only a quote pair around the whole topic: `"diffusion" -"video"` must keep its quotes.
    if len(cleaned) >= 2 and _QUOTES.get(cleaned[0]) == cleaned[-1] and cleaned[0] not in cleaned[1:-1] \
            and cleaned[-1] not in cleaned[1:-1]:
        cleaned = " ".join(cleaned[1:-1].split())
    return cleaned


def topic_key(topic: str) -> str:
    """What makes two topics the same: case-insensitive, whitespace-normalised."""
    return normalize_topic(topic).casefold()
