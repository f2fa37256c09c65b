"""Weekly opening hours, bank holidays, and "is there any time they can go?".

A period is written ``mon-fri 09:00-12:30`` (several per day allowed, so split and evening
sessions work). Bank holidays in England and Wales count as closed unless a service says it
opens on them; the ``holidays`` package knows the dates (imported only when needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+([01]\d|2[0-4]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$"
)
MIN_USEFUL_MINUTES = 30


@dataclass(frozen=True)
class Window:
    """A weekly period: days 0=Monday..6=Sunday, minutes from midnight [start, end)."""

    days: tuple[int, ...]
    start: int
    end: int

    def __str__(self) -> str:
        days = DAYS[self.days[0]] + (f"-{DAYS[self.days[-1]]}" if len(self.days) > 1 else "")
        return f"{days} {self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def parse_window(text: str) -> Window:
    m = _WINDOW.match(text.strip().lower())
    if not m:
        raise ValueError(f"{text!r} is not a period like 'mon-fri 09:00-12:30'")
    first, last, h1, m1, h2, m2 = m.groups()
    a, b = DAYS.index(first), DAYS.index(last or first)
    if b < a:
        raise ValueError(f"{text!r}: the days run backwards (write mon-fri, not fri-mon)")
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not 0 <= start < end <= 1440:
        raise ValueError(f"{text!r}: a period must end after it starts, within one day")
    return Window(tuple(range(a, b + 1)), start, end)


@lru_cache(maxsize=8)
def _bank_holidays(year: int) -> frozenset[date]:
    import holidays

    # Bank holidays in England and Wales are weekdays: when Christmas or Boxing Day falls at a
    # weekend, the package also lists the weekend date, but only the substitute Monday or
    # Tuesday is the bank holiday.
    return frozenset(
        d for d in holidays.country_holidays("GB", subdiv="ENG", years=year) if d.weekday() < 5
    )


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_open(
    hours: Sequence[Window], when: datetime, *, open_on_bank_holidays: bool = False
) -> bool:
    """Is a service with these hours open at ``when`` (local wall time)?"""
    if not hours:
        return False
    if not open_on_bank_holidays and is_bank_holiday(when.date()):
        return False
    minute = when.hour * 60 + when.minute
    weekday = when.weekday()
    return any(weekday in w.days and w.start <= minute < w.end for w in hours)


def _subtract(intervals: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for a, b in intervals:
        if cut[1] <= a or cut[0] >= b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0]))
        if cut[1] < b:
            out.append((cut[1], b))
    return out


def usable_times(
    hours: Sequence[Window], unavailable: Iterable[Window]
) -> list[tuple[int, int, int]]:
    """Open periods left after removing the times the person cannot attend:
    (weekday, start, end) of at least ``MIN_USEFUL_MINUTES`` each."""
    blocked = list(unavailable)
    left: list[tuple[int, int, int]] = []
    for day in range(7):
        intervals = [(w.start, w.end) for w in hours if day in w.days]
        for b in blocked:
            if day in b.days:
                for_cut = (b.start, b.end)
                intervals = _subtract(intervals, for_cut)
        left += [(day, a, z) for a, z in intervals if z - a >= MIN_USEFUL_MINUTES]
    return left


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _time_words(minutes: int) -> str:
    if minutes in (0, 1440):
        return "midnight"
    if minutes == 720:
        return "12 noon"
    hour, minute = divmod(minutes, 60)
    suffix = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour}{suffix}" if minute == 0 else f"{hour}:{minute:02d}{suffix}"


def _days_words(days: tuple[int, ...]) -> str:
    if days == tuple(range(7)):
        return "Every day"
    if len(days) == 1:
        return _DAY_NAMES[days[0]]
    if len(days) == 2:
        return f"{_DAY_NAMES[days[0]]} and {_DAY_NAMES[days[1]]}"
    return f"{_DAY_NAMES[days[0]]} to {_DAY_NAMES[days[-1]]}"


def in_words(windows: Sequence[Window]) -> str:
    """Opening hours as a person says them: "Monday to Friday, 9am to 5pm; Saturday, 10am
    to 1pm". Periods on the same days are joined ("9am to 12:30pm and 1:30pm to 5pm")."""
    grouped: dict[tuple[int, ...], list[Window]] = {}
    for w in windows:
        grouped.setdefault(w.days, []).append(w)
    parts = []
    for days, group in sorted(grouped.items(), key=lambda kv: (kv[0][0], -len(kv[0]))):
        if len(group) == 1 and group[0].start == 0 and group[0].end == 1440:
            times = "day and night"
        else:
            times = " and ".join(
                f"{_time_words(w.start)} to {_time_words(w.end)}"
                for w in sorted(group, key=lambda w: w.start)
            )
        parts.append(f"{_days_words(days)}, {times}")
    return "; ".join(parts)
