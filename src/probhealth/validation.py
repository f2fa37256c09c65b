"""Pure validation of what a worker types about a person (shared by ``person add``/``edit``
and ``import people``). No database, no I/O: values in, clean values or ``BadInput`` out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from probhealth import clock
from probhealth.errors import BadInput
from probhealth.textsafe import clean_name

SEXES = ("female", "male", "intersex", "not-stated")
CONSENT_PURPOSES = ("screening", "share-with-gp", "share-with-services", "health-trainer")
CONSENT_STATUSES = ("given", "declined", "withdrawn")
CONSENT_METHODS = ("verbal", "written")
# Probation here is adult probation: people are 18 or over (younger people are supervised by
# youth justice services, not this tool).
MIN_AGE, MAX_AGE = 18, 120

_DAY_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_CRN = re.compile(r"[A-Z][0-9]{6}")
_POSTCODE_FULL = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_POSTCODE_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")


def crn(value: str) -> str:
    """A case reference number: one letter and six digits, stored upper-case."""
    text = value.strip().upper()
    if not _CRN.fullmatch(text):
        squeezed = re.sub(r"[\s./-]", "", text)
        if _CRN.fullmatch(squeezed):  # typed with a space or a dash, as on some letters
            raise BadInput(
                f"CRN must be one letter followed by six digits, with no spaces: {squeezed}."
            )
        raise BadInput(
            "CRN must be one letter followed by six digits, e.g. X123456.",
        )
    return text


def iso_date(value: str, field: str) -> date:
    """A date as YYYY-MM-DD or as people write it in the UK, DD/MM/YYYY (never MM/DD)."""
    text = value.strip()
    uk = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if uk is None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        word = text.casefold()
        if word in _DAY_WORDS:  # a word is not read as a date, but its date is offered
            day = clock.today() + timedelta(days=_DAY_WORDS[word])
            raise BadInput(
                f"{field} must be a date written YYYY-MM-DD or DD/MM/YYYY: {word} is {day.isoformat()}."
            )
        raise BadInput(
            f"{field} must be a date written YYYY-MM-DD or DD/MM/YYYY, e.g. 1990-01-31 or 31/01/1990."
        )
    try:
        if uk is not None:
            return date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{field} {text} is not a real date; check the day and month.") from None


def date_of_birth(value: str | date, today: date | None = None) -> date:
    dob = value if isinstance(value, date) else iso_date(value, "Date of birth")
    today = today or clock.today()
    if dob > today:
        raise BadInput("Date of birth is in the future; check it.")
    age = clock.age_on(dob, today)
    if age < MIN_AGE:
        raise BadInput(
            f"Date of birth gives an age of {age}; this tool is for adult probation "
            f"({MIN_AGE} or over). Check the date."
        )
    if age > MAX_AGE:
        raise BadInput(
            f"Date of birth gives an age of {age}; it must be between {MIN_AGE} and {MAX_AGE}."
        )
    return dob


def release_date(value: str | date, *, dob: date | None = None, today: date | None = None) -> date:
    day = value if isinstance(value, date) else iso_date(value, "Release date")
    today = today or clock.today()
    if dob is not None and day <= dob:
        raise BadInput("Release date is before the date of birth; check it.")
    if day > today:
        # The date of the last release from custody, as the screening asks it: not a plan.
        raise BadInput(
            "Release date is in the future; it is the date they were last released from "
            "custody. Record it once they are out."
        )
    return day


def sex(value: str) -> str:
    text = value.strip().lower()
    if text not in SEXES:
        raise BadInput(f"Sex must be one of: {', '.join(SEXES)}." + did_you_mean(text, SEXES))
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


def short_text(value: str, field: str, max_len: int = 100) -> str:
    return clean_name(value, field, max_len=max_len)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` Did you mean 'X'?`` for the closest of ``options`` to a mistyped ``word`` (difflib),
    or an empty string when none is close."""
    import difflib

    text = word.strip().lower()
    found = difflib.get_close_matches(text, sorted(set(options)), n=1, cutoff=0.6)
    return f" Did you mean {found[0]!r}?" if found and found[0] != text else ""


def filter_name(value: str | None, option: str) -> str | None:
    """A name to list by (an office, a worker): trimmed, printable, at most 100 characters;
    None when not given."""
    if value is None:
        return None
    clean = value.strip()
    if not clean or not clean.isprintable() or len(clean) > 100:
        raise BadInput(f"{option} needs a name (printable, at most 100 characters).")
    return clean


def choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    text = value.strip().lower()
    if text not in allowed:
        raise BadInput(
            f"{field} must be one of: {', '.join(allowed)}." + did_you_mean(text, allowed)
        )
    return text


def nhs_number(value: str) -> str:
    """An NHS number: 10 digits (spaces or hyphens allowed), the last a Modulus 11 check digit
    (digits 1-9 weighted 10 down to 2; 11 minus the remainder mod 11; 11 means 0; 10 is never
    valid). Returned as 10 digits."""
    digits = "".join(ch for ch in value if ch not in " -")
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise BadInput("An NHS number has 10 digits, like 943 476 5919.")
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise BadInput(
            "That NHS number fails its check digit: a digit is wrong or two are swapped."
        )
    return digits


def nhs_number_display(digits: str) -> str:
    """``943 476 5919``: the NHS's own grouping."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# A postal address on one line ("12 Mill Road, Cambridge"); the postcode has its own field.
ADDRESS_MAX = 200

# Where the person is and what stage they are at (issue 12): pathways differ between England
# and Wales, and a CSTR assessment belongs to the pre-sentence stage.
NATIONS = ("england", "wales")
STAGES = (
    "pre-sentence",
    "community-order",
    "suspended-sentence",
    "licence",
    "post-sentence-supervision",
)


def nation(value: object) -> str:
    word = str(value).strip().casefold()
    if word not in NATIONS:
        raise BadInput(f"Nation must be one of: {', '.join(NATIONS)} (got {value!r}).")
    return word


def stage(value: object) -> str:
    word = str(value).strip().casefold()
    if word not in STAGES:
        raise BadInput(f"Stage must be one of: {', '.join(STAGES)} (got {value!r}).")
    return word


PERSON_COLUMNS = (
    "crn",
    "given_name",
    "family_name",
    "dob",
    "sex",
    "postcode",
    "office",
    "language",
    "needs_interpreter",
    "communication_needs",
    "release_date",
    "nhs_number",
    "address",
    "nation",
    "stage",
)
REQUIRED_PERSON_COLUMNS = ("crn", "given_name", "family_name", "dob", "sex")


def yes_no(value: str | bool, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0", ""):
        return False
    raise BadInput(f"{field} must be yes or no.")


def person_fields(
    raw: Mapping[str, object], *, today: date | None = None
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """Validate every field of a person (the rules of ``person add``), collecting all problems
    as (column, message) instead of stopping at the first."""
    from probhealth.textsafe import clean_note

    today = today or clock.today()
    clean: dict[str, object] = {
        "postcode": None,
        "office": None,
        "language": None,
        "needs_interpreter": False,
        "communication_needs": None,
        "release_date": None,
        "nhs_number": None,
        "address": None,
        "nation": None,
        "stage": None,
    }
    errors: list[tuple[str, str]] = []
    for column, check in _PERSON_CHECKS:
        value = raw.get(column)
        if value is None or (type(value) is str and not value.strip()):
            if column in REQUIRED_PERSON_COLUMNS:
                errors.append((column, f"{column} is empty; it is required."))
            continue
        try:
            if column == "dob":
                clean[column] = date_of_birth(value, today)  # type: ignore[arg-type]
            elif column == "release_date":
                dob = clean.get("dob")
                clean[column] = release_date(
                    value,  # type: ignore[arg-type]
                    dob=dob if isinstance(dob, date) else None,
                    today=today,
                )
            elif column == "communication_needs":
                clean[column] = clean_note(str(value), "Communication needs", max_len=500)
            else:
                clean[column] = check(value)
        except BadInput as exc:
            errors.append((column, exc.message))
    return clean, errors


_PERSON_CHECKS: tuple[tuple[str, Any], ...] = (
    ("crn", crn),
    ("given_name", lambda v: short_text(v, "Given name")),
    ("family_name", lambda v: short_text(v, "Family name")),
    ("dob", None),
    ("sex", sex),
    ("postcode", postcode),
    ("office", lambda v: short_text(v, "Office", 60)),
    ("language", lambda v: short_text(v, "Language", 40)),
    ("needs_interpreter", lambda v: yes_no(v, "needs_interpreter")),
    ("communication_needs", None),
    ("release_date", None),
    ("nhs_number", nhs_number),
    ("address", lambda v: short_text(v, "Address", ADDRESS_MAX)),
    ("nation", nation),
    ("stage", stage),
)


MAX_ID = 2**63 - 1  # the largest id a database row can hold


def record_id(value: int, what: str) -> int:
    """A record id as typed; one no database can hold is simply not found."""
    from probhealth.errors import NotFound

    if not 1 <= value <= MAX_ID:
        raise NotFound(f"No {what} {value}.")
    return value


def parse_date(value: str | date | None, field: str) -> date | None:
    """An optional date: None and dates pass through, text must be an ISO date."""
    if value is None or isinstance(value, date):
        return value
    return iso_date(value, field)
