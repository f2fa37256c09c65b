"""Pure validation of what a worker types about a person (shared by ``person add``/``edit``
and ``import people``). No database, no I/O: values in, clean values or ``BadInput`` out.
"""

from __future__ import annotations

import re
from datetime import date

from probhealth import clock
from probhealth.errors import BadInput
from probhealth.textsafe import clean_name

SEXES = ("female", "male", "intersex", "not-stated")
CONSENT_PURPOSES = ("screening", "share-with-gp", "share-with-services", "health-trainer")
CONSENT_STATUSES = ("given", "declined", "withdrawn")
CONSENT_METHODS = ("verbal", "written")
MIN_AGE, MAX_AGE = 10, 120

_CRN = re.compile(r"[A-Z][0-9]{6}")
_POSTCODE_FULL = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_POSTCODE_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")


def crn(value: str) -> str:
    """A case reference number: one letter and six digits, stored upper-case."""
    text = value.strip().upper()
    if not _CRN.fullmatch(text):
        raise BadInput(
            "CRN must be one letter followed by six digits, e.g. X123456.",
        )
    return text


def iso_date(value: str, field: str) -> date:
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise BadInput(f"{field} must be a date written YYYY-MM-DD, e.g. 1990-01-31.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{field} {text} is not a real date; check the day and month.") from None


def date_of_birth(value: str | date, *, today: date | None = None) -> date:
    dob = value if isinstance(value, date) else iso_date(value, "Date of birth")
    today = today or clock.today()
    if dob > today:
        raise BadInput("Date of birth is in the future; check it.")
    age = clock.age_on(dob, today)
    if not MIN_AGE <= age <= MAX_AGE:
        raise BadInput(
            f"Date of birth gives an age of {age}; it must be between {MIN_AGE} and {MAX_AGE}."
        )
    return dob


def release_date(value: str | date, *, dob: date | None = None, today: date | None = None) -> date:
    day = value if isinstance(value, date) else iso_date(value, "Release date")
    today = today or clock.today()
    if dob is not None and day <= dob:
        raise BadInput("Release date is before the date of birth; check it.")
    if day > clock.add_days(today, 366):
        raise BadInput("Release date is more than a year ahead; check it.")
    return day


def sex(value: str) -> str:
    text = value.strip().lower()
    if text not in SEXES:
        raise BadInput(f"Sex must be one of: {', '.join(SEXES)}.")
    return text


def postcode(value: str) -> str:
    """A UK postcode (``CB1 2AB``) or just its district (``CB1``), upper-case, one space."""
    compact = "".join(value.upper().split())
    m = _POSTCODE_FULL.fullmatch(compact)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    if _POSTCODE_DISTRICT.fullmatch(compact):
        return compact
    raise BadInput("Postcode must be a UK postcode such as CB1 2AB, or a district such as CB1.")


def postcode_district(value: str | None) -> str | None:
    """The outward code (district) of a stored postcode: ``CB1 2AB`` -> ``CB1``."""
    if not value:
        return None
    return value.split(" ", 1)[0]


def short_text(value: str, field: str, *, max_len: int = 100) -> str:
    return clean_name(value, field, max_len=max_len)


def choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    text = value.strip().lower()
    if text not in allowed:
        raise BadInput(f"{field} must be one of: {', '.join(allowed)}.")
    return text
