"""Time: instants are UTC everywhere inside; people see Europe/London.

Tests move the clock with ``PROBHEALTH_NOW`` (an ISO instant); nothing else reads the OS clock.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON_NAME = "Europe/London"


@lru_cache(maxsize=1)
def london() -> ZoneInfo:
    return ZoneInfo(LONDON_NAME)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    fixed = os.environ.get("PROBHEALTH_NOW")
    if fixed:
        value = datetime.fromisoformat(fixed)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Europe/London (what a worker in England means by "today")."""
    return now().astimezone(london()).date()


def to_london(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(london())


def show(instant: datetime | None) -> str:
    """An instant as Europe/London wall time, e.g. ``2026-03-29 02:30 BST``."""
    if instant is None:
        return ""
    local = to_london(instant)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def iso_utc(instant: datetime | None) -> str | None:
    """An instant for JSON/CSV: ISO 8601 with an explicit UTC offset."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def age_on(dob: date, on: date) -> int:
    """Whole years between ``dob`` and ``on`` (a birthday on 29 February counts from 1 March)."""
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


AGE_BANDS = (
    (0, 17, "under 18"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 200, "65+"),
)


def age_band(age: int) -> str:
    """The band pseudonymised exports give instead of an age."""
    return next(
        (label for lo, hi, label in AGE_BANDS if lo <= age <= hi), "under 18" if age < 0 else "65+"
    )
