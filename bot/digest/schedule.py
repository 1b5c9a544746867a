"""A channel's digest schedule (local time, IANA zone, weekdays) and parsing what people type for it
(`/papers schedule 09:00 Europe/Berlin weekdays max 5 strict`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.digest.strictness import (
    STRICTNESS,
    Strictness,
    StrictnessError,
    parse_minimum,
    parse_strictness,
)
from bot.timeutil import local_to_utc, zone

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


class ScheduleError(ValueError):
    """A schedule the user typed that cannot be used; str() is a friendly sentence (plain text), `example` the
    arguments of a `/papers schedule` that would work."""

    def __init__(self, message: str, example: str = "09:00 Europe/Berlin weekdays") -> None:
        super().__init__(message)
        self.example = example


@dataclass(frozen=True)
class Schedule:
    at: time  # local wall-clock time
    tz: str  # IANA zone
    days: frozenset[int] = EVERY_DAY  # date.weekday() values
    enabled: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    @property
    def weekdays_only(self) -> bool:
        return self.days == WEEKDAYS

    def runs_on(self, day: date) -> bool:
        return day.weekday() in self.days

    def local_date(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def due_at(self, day: date) -> datetime:
        return local_to_utc(day, self.at, self.zone)

    def next_due(self, now: datetime, *, after: datetime | None = None) -> datetime | None:
        """The first digest time at or after `now` (and at or after `after`), or None if it never runs."""
        if not self.enabled or not self.days:
            return None
        start = self.local_date(now) - timedelta(days=1)
        floor = max(now, after) if after else now
        for offset in range(9):
            day = start + timedelta(days=offset)
            if self.runs_on(day) and self.due_at(day) >= floor:
                return self.due_at(day)
        return None

    def describe(self) -> str:
        days = "weekdays" if self.weekdays_only else "every day" if self.days == EVERY_DAY else \
            ", ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d] for d in sorted(self.days))
        return f"{self.at.strftime('%H:%M')} {self.tz}, {days}"


_TIME_RE = re.compile(r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)
_DAY_WORDS = {"weekdays": WEEKDAYS, "weekday": WEEKDAYS, "workdays": WEEKDAYS, "mon-fri": WEEKDAYS,
              "daily": EVERY_DAY, "everyday": EVERY_DAY, "every-day": EVERY_DAY, "all": EVERY_DAY}


def parse_time(text: str) -> time | None:
    """`09:00`, `9:00`, `9`, `9am`, `9:30 pm`, `21.30`, `21h30` → time; None if it is not a time of day."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@lru_cache(maxsize=1)
def _zones_by_key() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for `text` in any case (`europe/berlin` → `Europe/Berlin`), or None."""
    name = _zones_by_key().get(text.strip().casefold())
    if name is None:
        return None
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def suggest_zone(text: str) -> str | None:
    """The closest IANA zone name to a mistyped one (`Europe/Berln` → `Europe/Berlin`)."""
    from rapidfuzz import fuzz, process

    found = process.extractOne(text.casefold(), list(_zones_by_key()), scorer=fuzz.ratio, score_cutoff=75)
    if found is None:
        # `Berlin` alone: match the city part.
        cities = {name.rsplit("/", 1)[-1].casefold(): name for name in _zones_by_key().values() if "/" in name}
        city = process.extractOne(text.casefold(), list(cities), scorer=fuzz.ratio, score_cutoff=80)
        return cities[city[0]] if city else None
    return _zones_by_key()[found[0]]


@dataclass(frozen=True)
class ScheduleChange:
    """What `/papers schedule …` asked for; None means "keep the current value"."""

    off: bool = False
    at: time | None = None
    tz: str | None = None
    days: frozenset[int] | None = None
    max_papers: int | None = None
    post_empty: bool | None = None
    strictness: Strictness | None = None  # a level name of STRICTNESS or a minimum score in [0, 1]

    @property
    def empty(self) -> bool:
        return not self.off and all(v is None for v in (self.at, self.tz, self.days, self.max_papers,
                                                         self.post_empty, self.strictness))


_MIN_WORDS = ("min", "minimum")
# "min 0,6": a decimal comma, before commas separate words
_DECIMAL_COMMA_RE = re.compile(r"\b((?:min|minimum|strictness)(?:\s+|\s*=\s*)\d*),(\d)", re.IGNORECASE)


def parse_schedule_args(text: str, *, max_limit: int = 25) -> ScheduleChange:
    """Parse `09:00 [Europe/Berlin] [weekdays|daily] [max N] [quiet|always] [strict|normal|broad|min 0.6]` or
    `off` (words in any order)."""
    words = _DECIMAL_COMMA_RE.sub(r"\1.\2", text).replace(",", " ").split()
    if len(words) == 1 and words[0].casefold() in ("off", "stop", "pause", "none", "disable"):
        return ScheduleChange(off=True)
    values: dict[str, Any] = {}

    def put(key: str, value: Any, word: str) -> None:
        if key in values:
            raise ScheduleError(f"“{word}” repeats the {key.replace('_', ' ').replace('at', 'time')} "
                                f"already given.")
        values[key] = value

    i = 0

    def value_after(key: str) -> str:
        """The value of `max 10`, `max=10`, `min 60 %`: after "=" in this word, else the next word(s)."""
        nonlocal i
        value = key.split("=", 1)[1] if "=" in key and not key.endswith("=") else None
        if value is None:
            i += 1
            value = words[i] if i < len(words) else ""
        if i + 1 < len(words) and words[i + 1] == "%":
            i += 1
            value += "%"
        return value

    while i < len(words):
        word, key = words[i], words[i].casefold()
        if key in ("max", "max=", "limit") or key.startswith(("max=", "limit=")):
            number = value_after(key)
            if not number.isdigit() or not 1 <= int(number) <= max_limit:
                raise ScheduleError(f"The most papers per digest must be a number from 1 to {max_limit}, "
                                    f"for example “max 10”.")
            put("max_papers", int(number), word)
        elif key in STRICTNESS:
            put("strictness", key, word)
        elif key.split("=", 1)[0] in (*_MIN_WORDS, "strictness"):
            value = value_after(key)
            try:
                strictness = parse_minimum(value) if key.split("=", 1)[0] in _MIN_WORDS else parse_strictness(value)
            except StrictnessError as exc:
                raise ScheduleError(str(exc), example="strict") from None
            put("strictness", strictness, word)
        elif key in _DAY_WORDS:
            put("days", _DAY_WORDS[key], word)
        elif key in ("quiet", "skip-empty"):
            put("post_empty", False, word)
        elif key in ("always", "post-empty"):
            put("post_empty", True, word)
        elif key in ("off", "on"):
            raise ScheduleError(f"Use “off” on its own to stop the digest, or a time such as “09:00” to set "
                                f"it (got “{word}” among other words).")
        elif i + 1 < len(words) and words[i + 1].casefold() in ("am", "pm") and parse_time(word + words[i + 1]):
            put("at", parse_time(word + words[i + 1]), word)
            i += 1
        elif (at := parse_time(word)) is not None:
            put("at", at, word)
        elif (tz := parse_zone(word)) is not None:
            put("tz", tz, word)
        else:
            hint = suggest_zone(word) if "/" in word or word[:1].isupper() else None
            if hint:
                raise ScheduleError(f"I don't know the time zone “{word}”. Did you mean {hint}?")
            if "/" in word:
                raise ScheduleError(f"I don't know the time zone “{word}”: use an IANA name such as "
                                    f"Europe/Berlin, America/New_York or UTC.")
            raise ScheduleError(f"I don't understand “{word}”. Give a time such as 09:00, optionally a time "
                                f"zone such as Europe/Berlin, “weekdays” or “daily”, “max 10”, and how strict "
                                f"the digest is: {', '.join(f'“{name}”' for name in STRICTNESS)} or “min 0.6”.")
        i += 1
    return ScheduleChange(**values)
