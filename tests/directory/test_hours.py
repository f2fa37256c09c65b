"""Opening hours: periods, "is it open now?", bank holidays in England, and what time is left
once the person's unavailable times are taken out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from probhealth.directory.hours import (
    MIN_USEFUL_MINUTES,
    Window,
    is_bank_holiday,
    is_open,
    parse_window,
    usable_times,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def hours(*texts: str) -> tuple[Window, ...]:
    return tuple(parse_window(t) for t in texts)


# ------------------------------------------------------------------ parse_window -------
@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("mon-fri 09:00-12:30", (MON, TUE, WED, THU, FRI), 9 * 60, 12 * 60 + 30),
        ("sat 10:00-14:00", (SAT,), 600, 840),
        ("mon-sun 00:00-24:00", tuple(range(7)), 0, 1440),
        ("  Tue-Thu 17:30 - 20:00  ", (TUE, WED, THU), 1050, 1200),
        ("sun 23:59-24:00", (SUN,), 1439, 1440),
        ("wed-wed 08:00-09:00", (WED,), 480, 540),
    ],
)
def test_parse_valid_windows(text: str, days: tuple[int, ...], start: int, end: int) -> None:
    window = parse_window(text)
    assert window == Window(days, start, end)


@pytest.mark.parametrize(
    ("window", "text"),
    [
        ("mon-fri 09:00-12:30", "mon-fri 09:00-12:30"),
        ("sat 10:00-14:00", "sat 10:00-14:00"),
        ("mon-sun 00:00-24:00", "mon-sun 00:00-24:00"),
    ],
)
def test_window_prints_as_written(window: str, text: str) -> None:
    assert str(parse_window(window)) == text
    assert parse_window(str(parse_window(window))) == parse_window(window)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fri-mon 09:00-12:00", "the days run backwards"),
        ("sun-mon 09:00-12:00", "the days run backwards"),
        ("mon-fri 12:00-09:00", "must end after it starts"),
        ("mon-fri 09:00-09:00", "must end after it starts"),
        ("mon 24:00-24:00", "must end after it starts"),
        ("mon 23:00-24:30", "must end after it starts"),
        ("mon-fri 09:00-25:00", "is not a period"),
        ("mon-fri 9:30-12:00", "is not a period"),
        ("mon-fri 09:30-12:0", "is not a period"),
        ("mon-fri 09:60-12:00", "is not a period"),
        ("monday 09:00-12:00", "is not a period"),
        ("mon-fri", "is not a period"),
        ("09:00-12:00", "is not a period"),
        ("mon-fri 09:00", "is not a period"),
        ("", "is not a period"),
        ("mon,tue 09:00-12:00", "is not a period"),
    ],
)
def test_parse_invalid_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


# ------------------------------------------------------------------ is_open ------------
WEEKDAY_9_TO_5 = hours("mon-fri 09:00-17:00")
MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), True),  # Monday morning
        (datetime(2026, 11, 23, 9, 0), True),  # the first minute
        (datetime(2026, 11, 23, 8, 59), False),
        (datetime(2026, 11, 23, 16, 59), True),
        (datetime(2026, 11, 23, 17, 0), False),  # the end is not included
        (datetime(2026, 11, 27, 12, 0), True),  # Friday
        (datetime(2026, 11, 28, 12, 0), False),  # Saturday
        (datetime(2026, 11, 29, 12, 0), False),  # Sunday
    ],
)
def test_is_open_on_weekdays(when: datetime, expected: bool) -> None:
    assert is_open(WEEKDAY_9_TO_5, when) is expected


def test_split_sessions() -> None:
    split = hours("mon-fri 09:00-12:30", "mon-fri 13:30-17:00", "thu 18:00-20:00")
    assert is_open(split, datetime(2026, 11, 24, 11, 0))
    assert not is_open(split, datetime(2026, 11, 24, 12, 30))  # lunch
    assert not is_open(split, datetime(2026, 11, 24, 13, 0))
    assert is_open(split, datetime(2026, 11, 24, 13, 30))
    assert not is_open(split, datetime(2026, 11, 24, 19, 0))  # evening is Thursday only
    assert is_open(split, datetime(2026, 11, 26, 19, 0))
    assert not is_open(split, datetime(2026, 11, 26, 20, 0))


def test_open_until_midnight() -> None:
    late = hours("fri 18:00-24:00")
    assert is_open(late, datetime(2026, 11, 27, 23, 59))
    assert not is_open(late, datetime(2026, 11, 28, 0, 0))  # Saturday
    always = hours("mon-sun 00:00-24:00")
    assert is_open(always, datetime(2026, 11, 29, 0, 0))
    assert is_open(always, datetime(2026, 11, 29, 23, 59))


def test_no_hours_means_never_open() -> None:
    assert not is_open((), datetime(2026, 11, 23, 10, 0))
    assert not is_open((), datetime(2026, 11, 23, 10, 0), open_on_bank_holidays=True)


# ------------------------------------------------------------------ bank holidays ------
@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 25),  # Christmas Day (Friday)
        date(2026, 12, 28),  # Boxing Day substitute day (Monday)
        date(2026, 8, 31),  # August (summer) bank holiday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # early May bank holiday
        date(2026, 5, 25),  # spring bank holiday
        date(2027, 1, 1),
    ],
)
def test_closed_on_bank_holidays_in_england(day: date) -> None:
    assert day.weekday() < SAT
    assert is_bank_holiday(day)
    when = datetime(day.year, day.month, day.day, 10, 0)
    assert not is_open(WEEKDAY_9_TO_5, when)
    assert is_open(WEEKDAY_9_TO_5, when, open_on_bank_holidays=True)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 24),
        date(2026, 12, 29),
        date(2026, 8, 24),
        date(2026, 11, 23),
        date(2026, 11, 30),  # St Andrew's Day: a bank holiday in Scotland, not England
        date(2026, 3, 17),  # St Patrick's Day: Northern Ireland only
        date(2026, 8, 3),  # Scotland's summer bank holiday, not England's
    ],
)
def test_ordinary_weekdays_are_not_bank_holidays(day: date) -> None:
    assert not is_bank_holiday(day)
    assert is_open(WEEKDAY_9_TO_5, datetime(day.year, day.month, day.day, 10, 0))


# ------------------------------------------------------------------ usable_times -------
WEEKDAY_MORNINGS = hours("mon-fri 00:00-12:00")
WEEKDAY_AFTERNOONS = hours("mon-fri 12:00-17:00")
WEEKDAY_EVENINGS = hours("mon-fri 17:00-24:00")
WEEKENDS = hours("sat-sun 00:00-24:00")


def test_nothing_unavailable_leaves_every_session() -> None:
    split = hours("mon 09:00-12:00", "mon 13:00-16:00", "sat 10:00-12:00")
    assert usable_times(split, ()) == [(MON, 540, 720), (MON, 780, 960), (SAT, 600, 720)]


def test_mornings_only_service_against_unavailable_mornings() -> None:
    mornings = hours("mon-fri 09:00-12:00")
    assert usable_times(mornings, WEEKDAY_MORNINGS) == []
    assert usable_times(mornings, WEEKDAY_AFTERNOONS) == [(d, 540, 720) for d in range(5)]


def test_an_evening_session_is_left() -> None:
    service = hours("mon-fri 09:00-12:00", "wed 17:30-19:30")
    assert usable_times(service, WEEKDAY_MORNINGS) == [(WED, 1050, 1170)]
    assert usable_times(service, WEEKDAY_MORNINGS + WEEKDAY_EVENINGS) == []


def test_a_period_is_cut_in_two() -> None:
    service = hours("tue 09:00-17:00")
    blocked = hours("tue 11:00-13:00")
    assert usable_times(service, blocked) == [(TUE, 540, 660), (TUE, 780, 1020)]


def test_thirty_minutes_is_the_least_useful_time() -> None:
    assert MIN_USEFUL_MINUTES == 30
    service = hours("mon 09:00-12:30")
    # 30 minutes left: kept.
    assert usable_times(service, hours("mon 00:00-12:00")) == [(MON, 720, 750)]
    # 29 minutes left: dropped.
    assert usable_times(service, hours("mon 00:00-12:01")) == []
    # Pieces on both sides of a cut are judged separately.
    # 09:00-09:29 (29 minutes) is dropped, 09:50-10:20 (30 minutes) kept.
    assert usable_times(hours("thu 09:00-10:20"), hours("thu 09:29-09:50")) == [(THU, 590, 620)]


def test_weekend_service_for_someone_busy_on_weekdays() -> None:
    service = hours("mon-fri 09:00-17:00", "sat 10:00-13:00")
    busy = WEEKDAY_MORNINGS + WEEKDAY_AFTERNOONS
    assert usable_times(service, busy) == [(SAT, 600, 780)]
    assert usable_times(service, busy + WEEKENDS) == []


def test_usable_times_of_a_service_with_no_hours() -> None:
    assert usable_times((), WEEKDAY_MORNINGS) == []


def test_boxing_day_on_a_saturday_is_not_a_bank_holiday() -> None:
    # In 2026 Boxing Day falls on a Saturday; the bank holiday in England is the substitute
    # day, Monday 28 December (gov.uk lists 25 and 28 December only). A service that opens on
    # Saturdays is open on Saturday 26 December as usual.
    assert not is_bank_holiday(date(2026, 12, 26))
    assert is_open(hours("sat 10:00-14:00"), datetime(2026, 12, 26, 11, 0))
