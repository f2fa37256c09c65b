"""Service directory entries, modelled on Open Referral HSDS: what a local provider offers,
where, when it is open, who can refer, what to bring, languages and access.

Read from YAML (``services: [...]``) or from CSV with the same column names (lists separated
by ``;``). Every entry is validated; errors read ``FILE:LINE: message``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from probhealth import yamlfile
from probhealth.directory.hours import Window, parse_window
from probhealth.errors import BadInput, FileError
from probhealth.textsafe import clean_name, clean_note

DOCUMENTS = ("photo-id", "proof-of-address", "nhs-number", "referral-letter")
CSV_COLUMNS = (
    "id",
    "name",
    "fictional",
    "pathways",
    "areas",
    "address",
    "phone",
    "email",
    "website",
    "hours",
    "bank_holidays",
    "self_referral",
    "how_to_refer",
    "documents_needed",
    "languages",
    "interpreters",
    "accessibility",
    "co_located",
    "eligibility",
    "last_verified",
)
LIST_COLUMNS = ("pathways", "areas", "hours", "documents_needed", "languages")
BOOL_COLUMNS = ("fictional", "self_referral", "interpreters", "co_located")
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Long = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


def _window(text: str) -> str:
    parse_window(text)  # raises ValueError naming the period
    return text


class ServiceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[
        str,
        yamlfile.text_pattern(
            r"^[a-z0-9][a-z0-9-]{1,59}$", "2-60 lower-case letters, digits and hyphens"
        ),
    ]
    name: Short
    fictional: bool = False
    pathways: list[
        Annotated[
            str,
            yamlfile.text_pattern(
                r"^[a-z][a-z0-9-]{1,49}$",
                "2 to 50 lower-case letters, digits and hyphens, starting with a letter",
            ),
        ]
    ] = Field(min_length=1)
    areas: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(
        min_length=1
    )
    address: Short | None = None
    phone: (
        Annotated[
            str,
            yamlfile.text_pattern(
                r"^[0-9 +()-]{3,30}$", "a phone number (digits, spaces and + ( ) -)"
            ),
        ]
        | None
    ) = None
    email: (
        Annotated[
            str,
            yamlfile.text_pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an email address"),
            StringConstraints(max_length=200),
        ]
        | None
    ) = None
    website: (
        Annotated[
            str,
            yamlfile.text_pattern(r"^https?://\S+$", "a web address starting http:// or https://"),
            StringConstraints(max_length=300),
        ]
        | None
    ) = None
    hours: list[Annotated[str, AfterValidator(_window)]] = Field(default_factory=list)
    bank_holidays: Literal["closed", "open"] = "closed"
    self_referral: bool
    how_to_refer: Long
    documents_needed: list[
        Literal["photo-id", "proof-of-address", "nhs-number", "referral-letter"]
    ] = Field(default_factory=list)
    languages: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=lambda: ["English"]
    )
    interpreters: bool = False
    accessibility: Long | None = None
    co_located: bool = False
    eligibility: Long | None = None
    last_verified: date

    @field_validator("name", "address", "how_to_refer", "accessibility", "eligibility")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # ValueError (not BadInput) so pydantic reports it with the field's FILE:LINE.
        try:
            return clean_note(value, "text") if value is not None else None
        except BadInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("areas", "languages")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        try:
            return [clean_name(v, "value", max_len=60) for v in value]
        except BadInput as exc:
            raise ValueError(exc.message) from None


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    fictional: bool
    pathways: tuple[str, ...]
    areas: tuple[str, ...]
    address: str | None
    phone: str | None
    email: str | None
    website: str | None
    hours: tuple[Window, ...]
    bank_holidays_open: bool
    self_referral: bool
    how_to_refer: str
    documents_needed: tuple[str, ...]
    languages: tuple[str, ...]
    interpreters: bool
    accessibility: str | None
    co_located: bool
    eligibility: str | None
    last_verified: date

    def serves_area(self, keys: Iterable[str]) -> bool:
        mine = {a.casefold() for a in self.areas}
        return "*" in mine or any(k.casefold() in mine for k in keys if k)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "fictional": self.fictional,
            "pathways": list(self.pathways),
            "areas": list(self.areas),
            "address": self.address,
            "phone": self.phone,
            "email": self.email,
            "website": self.website,
            "hours": [str(w) for w in self.hours],
            "bank_holidays": "open" if self.bank_holidays_open else "closed",
            "self_referral": self.self_referral,
            "how_to_refer": self.how_to_refer,
            "documents_needed": list(self.documents_needed),
            "languages": list(self.languages),
            "interpreters": self.interpreters,
            "accessibility": self.accessibility,
            "co_located": self.co_located,
            "eligibility": self.eligibility,
            "last_verified": self.last_verified.isoformat(),
        }


def from_model(m: ServiceModel) -> Service:
    return Service(
        id=m.id,
        name=m.name,
        fictional=m.fictional,
        pathways=tuple(dict.fromkeys(m.pathways)),
        areas=tuple(m.areas),
        address=m.address,
        phone=m.phone,
        email=m.email,
        website=m.website,
        hours=tuple(parse_window(h) for h in m.hours),
        bank_holidays_open=m.bank_holidays == "open",
        self_referral=m.self_referral,
        how_to_refer=m.how_to_refer,
        documents_needed=tuple(m.documents_needed),
        languages=tuple(m.languages),
        interpreters=m.interpreters,
        accessibility=m.accessibility,
        co_located=m.co_located,
        eligibility=m.eligibility,
        last_verified=m.last_verified,
    )


def from_json(data: dict[str, Any]) -> Service:
    """A service as stored in the database (``Service.to_json`` form)."""
    return from_model(ServiceModel.model_validate(data))


def _check_pathways(
    services: Sequence[tuple[Service, int | None]], known: set[str] | None, name: str
) -> None:
    seen: set[str] = set()
    for service, line in services:
        if service.id in seen:
            raise FileError(name, line, f"service id {service.id!r} is used twice")
        seen.add(service.id)
        if known is not None:
            for p in service.pathways:
                if p not in known:
                    raise FileError(
                        name,
                        line,
                        f"service {service.id}: unknown pathway {p!r} (pathways are defined in the rules file)",
                    )


def load_yaml(
    path: Path, *, known_pathways: set[str] | None = None, name: str | None = None
) -> list[Service]:
    label = name or str(path)
    doc = yamlfile.load(path, name=label)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("services"), list):
        raise doc.error((), "a services file is a mapping with a 'services' list")
    extra = set(doc.data) - {"services", "title", "description"}
    if extra:
        key = sorted(extra)[0]
        raise doc.error((key,), f"unknown key {key!r} at the top level")
    out: list[tuple[Service, int | None]] = []
    problems: list[FileError] = []
    for i, entry in enumerate(doc.data["services"]):
        try:
            out.append((from_model(ServiceModel.model_validate(entry)), doc.line(("services", i))))
        except ValidationError as exc:
            problems.extend(_located(doc, ("services", i), exc))
    yamlfile.raise_problems(label, problems)  # every entry's problems, one a line
    _check_pathways(out, known_pathways, label)
    return [s for s, _ in out]


def _located(
    doc: yamlfile.Document, prefix: tuple[Any, ...], exc: ValidationError
) -> list[FileError]:
    class _Shifted:
        def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
            return [{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors(include_url=include_url)]

    return yamlfile.validation_problems(doc, _Shifted())


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _bool(value: str, column: str) -> bool:
    text = value.strip().lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    if text == "" and column != "self_referral":
        return False
    raise ValueError(f"{column}: write yes or no, not {value!r}")


def row_to_record(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column in CSV_COLUMNS:
        raw = (row.get(column) or "").strip()
        if column in LIST_COLUMNS:
            if raw:
                record[column] = _split(raw)
        elif column in BOOL_COLUMNS:
            record[column] = _bool(raw, column)
        elif raw:
            record[column] = raw
    return record


def load_csv_text(
    text: str, *, known_pathways: set[str] | None = None, name: str = "<csv>"
) -> list[Service]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise FileError(name, 1, f"is not valid CSV: {exc}") from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise FileError(
            name, 1, f"unknown column {unknown[0]!r}; columns are: {', '.join(CSV_COLUMNS)}"
        )
    missing = [
        c
        for c in (
            "id",
            "name",
            "pathways",
            "areas",
            "self_referral",
            "how_to_refer",
            "last_verified",
        )
        if c not in header
    ]
    if missing:
        raise FileError(name, 1, f"missing column {missing[0]!r}")
    out: list[tuple[Service, int | None]] = []
    start = reader.line_num + 1  # a quoted cell can span lines: report where the row starts
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileError(name, start, f"is not valid CSV: {exc}") from None
        line, start = start, reader.line_num + 1
        if None in row:
            raise FileError(name, line, "this row has more cells than the header")
        try:
            out.append((from_model(ServiceModel.model_validate(row_to_record(row))), line))
        except ValueError as exc:  # includes pydantic's ValidationError
            raise FileError(name, line, _short(exc)) from None
    _check_pathways(out, known_pathways, name)
    return [s for s, _ in out]


def _short(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return yamlfile.plain_message(exc.errors(include_url=False)[0])
    return str(exc)


def load_file(
    path: Path, *, known_pathways: set[str] | None = None, name: str | None = None
) -> list[Service]:
    label = name or str(path)
    if path.suffix.lower() == ".csv":
        return load_csv_text(
            yamlfile.read_text(path, name=label), known_pathways=known_pathways, name=label
        )
    return load_yaml(path, known_pathways=known_pathways, name=label)
