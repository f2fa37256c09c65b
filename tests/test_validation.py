from __future__ import annotations

from datetime import date

import pytest

from probhealth import validation
from probhealth.errors import BadInput


def test_crn():
    assert validation.crn(" x123456 ") == "X123456"
    for bad in ("123", "X12345", "X1234567", "XX12345", "X12345A", "", "X123 456"):
        with pytest.raises(BadInput):
            validation.crn(bad)


def test_dob_age_bounds():
    today = date(2026, 11, 23)
    # Adult probation (issue 13): 18 or over.
    assert validation.date_of_birth("2008-11-23", today=today) == date(2008, 11, 23)  # exactly 18
    with pytest.raises(BadInput, match="adult probation"):
        validation.date_of_birth("2008-11-24", today=today)  # 17
    assert validation.date_of_birth("1906-11-24", today=today)  # 119
    with pytest.raises(BadInput):
        validation.date_of_birth("1905-11-22", today=today)  # 121


def test_postcodes():
    assert validation.postcode("cb12ab") == "CB1 2AB"
    assert validation.postcode("ts1  3bp") == "TS1 3BP"
    assert validation.postcode("W6 9JX") == "W6 9JX"
    assert validation.postcode("ex34") == "EX34"
    assert validation.postcode_district("EX34 9AA") == "EX34"
    with pytest.raises(BadInput):
        validation.postcode("12345")


def test_release_date_bounds():
    today = date(2026, 11, 23)
    assert validation.release_date("2026-11-01", today=today)
    assert validation.release_date("2026-11-23", today=today)  # released today
    for future in ("2026-11-24", "2028-01-01"):  # issue 13: refused as the screening does
        with pytest.raises(BadInput, match="in the future"):
            validation.release_date(future, today=today)
    with pytest.raises(BadInput):
        validation.release_date("1980-01-01", dob=date(1990, 1, 1), today=today)


@pytest.mark.parametrize(("typed", "meant"), [("X123 456", "X123456"), ("z-900001", "Z900001")])
def test_a_crn_typed_with_a_space_names_the_crn_meant(typed: str, meant: str) -> None:
    with pytest.raises(BadInput, match=f"with no spaces: {meant}\\.$"):
        validation.crn(typed)


@pytest.mark.parametrize(("word", "day"), [("tomorrow", "2026-12-03"), ("Today", "2026-12-02")])
def test_a_day_written_as_a_word_is_refused_with_its_date(monkeypatch, word, day) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-12-02T10:00:00")
    with pytest.raises(BadInput) as caught:
        validation.iso_date(word, "--date")
    assert str(caught.value) == (
        f"--date must be a date written YYYY-MM-DD or DD/MM/YYYY: {word.casefold()} is {day}."
    )
