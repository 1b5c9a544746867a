"""Time helpers shared by the digest and the stores: "now" as an injectable clock, stored ISO 8601 stamps,
and local wall-clock times in IANA zones.

`local_to_utc` is DST-correct: 09:00 Europe/Berlin stays 09:00 local across DST; a local time that does not
exist that day (02:30 on spring-forward) maps to the first valid instant after the gap; an ambiguous one
(fall-back) to its first occurrence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """`2026-11-24T09:00:00Z`: the one format for stored second-precision times (string order is time order)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: Any) -> datetime | None:
    """A stored ISO 8601 timestamp as an aware datetime (naive ones are UTC); None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`, DST-correct (see the module doc)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant  # exists (fold=0 is the first occurrence of an ambiguous time)
    # In a gap: fold=0 and fold=1 map to instants on either side of it; the first instant whose wall
    # clock is at or past `wall` is the transition itself (02:30 on spring-forward in Berlin -> 03:00).
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = sorted((int(instant.timestamp()), int(other.timestamp())))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) < wall:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
