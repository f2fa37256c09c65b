"""People on probation and their consent decisions (use cases over the store).

Each function opens one short transaction, records an audit event for every change (ids and
field names only) and returns frozen records, never ORM objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from probhealth import clock, validation
from probhealth.errors import BadInput, Conflict, ConsentRequired, NotFound, Remedy
from probhealth.store import audit
from probhealth.store import people as repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Consent, Person
from probhealth.textsafe import clean_note, mixed_script_warning, search_key

T = TypeVar("T")


@dataclass(frozen=True)
class ConsentRecord:
    purpose: str
    status: str
    method: str | None
    note: str | None
    recorded_by: str
    recorded_at: datetime

    def to_json(self, *, with_note: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "purpose": self.purpose,
            "status": self.status,
            "method": self.method,
            "recorded_by": self.recorded_by,
            "recorded_at": clock.iso_utc(self.recorded_at),
        }
        if with_note:
            out["note"] = self.note
        return out


def effective_nation(stored: str | None) -> str:
    """The person's nation: their record, else ``PROBHEALTH_NATION`` (england or wales),
    else england (issue 12)."""
    if stored:
        return stored
    import os

    env = (os.environ.get("PROBHEALTH_NATION") or "").strip().casefold()
    return env if env in validation.NATIONS else "england"


@dataclass(frozen=True)
class PersonRecord:
    id: str
    crn: str
    given_name: str
    family_name: str
    dob: date
    sex: str
    postcode: str | None
    office: str | None
    language: str | None
    needs_interpreter: bool
    communication_needs: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime
    consent: dict[str, ConsentRecord] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    nhs_number: str | None = None
    address: str | None = None
    nation: str | None = None
    stage: str | None = None

    @property
    def age(self) -> int:
        return clock.age_on(self.dob, clock.today())

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nation_shown(self) -> str:
        """The nation as the worker should read it: stored, or the default it falls back to."""
        return self.nation or f"{effective_nation(None)} (default)"

    def consent_status(self, purpose: str) -> str | None:
        record = self.consent.get(purpose)
        return record.status if record else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crn": self.crn,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "dob": self.dob.isoformat(),
            "age": self.age,
            "sex": self.sex,
            "postcode": self.postcode,
            "office": self.office,
            "language": self.language,
            "needs_interpreter": self.needs_interpreter,
            "communication_needs": self.communication_needs,
            "release_date": self.release_date.isoformat() if self.release_date else None,
            "nhs_number": self.nhs_number,
            "address": self.address,
            "nation": self.nation,
            "stage": self.stage,
            "created_at": clock.iso_utc(self.created_at),
            "updated_at": clock.iso_utc(self.updated_at),
            "consent": {p: c.to_json() for p, c in sorted(self.consent.items())},
        }


def _consent_record(row: Consent) -> ConsentRecord:
    return ConsentRecord(
        purpose=row.purpose,
        status=row.status,
        method=row.method,
        note=row.note,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _columns(row: Person) -> dict[str, Any]:
    """The person's own columns (``validation.PERSON_COLUMNS``: what is added, edited and
    imported), by column name."""
    return {name: getattr(row, name) for name in validation.PERSON_COLUMNS}


def to_record(row: Person, consents: dict[str, Consent] | None = None) -> PersonRecord:
    return PersonRecord(
        id=row.id,
        **_columns(row),
        created_at=row.created_at,
        updated_at=row.updated_at,
        consent={k: _consent_record(v) for k, v in (consents or {}).items()},
    )


# The two columns ``PersonInput`` names as the options do (``--given``, ``--family``).
_INPUT_NAMES = {"given_name": "given", "family_name": "family"}


@dataclass(frozen=True)
class PersonInput:
    """Raw values as typed; ``clean()`` validates them all (the same rules for add and import)."""

    crn: str
    given: str
    family: str
    dob: str | date
    sex: str
    postcode: str | None = None
    office: str | None = None
    language: str | None = None
    needs_interpreter: bool = False
    communication_needs: str | None = None
    release_date: str | date | None = None
    nhs_number: str | None = None
    address: str | None = None
    nation: str | None = None
    stage: str | None = None

    @classmethod
    def of_columns(cls, columns: dict[str, Any]) -> PersonInput:
        """The input that holds these column values (keyed as ``validation.PERSON_COLUMNS``)."""
        return cls(**{_INPUT_NAMES.get(k, k): v for k, v in columns.items()})

    def clean(self, *, today: date | None = None) -> dict[str, Any]:
        """Every field validated with the shared rules; the first problem is raised."""
        raw = {k: getattr(self, _INPUT_NAMES.get(k, k)) for k in validation.PERSON_COLUMNS}
        values, errors = validation.person_fields(raw, today=today)
        if errors:
            raise BadInput(errors[0][1])
        return values


def name_warnings(values: dict[str, Any]) -> tuple[str, ...]:
    """Warnings (not refusals) about names, such as letters from two alphabets."""
    found = []
    for key, label in (("given_name", "Given name"), ("family_name", "Family name")):
        if values.get(key):
            w = mixed_script_warning(values[key], label)
            if w:
                found.append(w)
    return tuple(found)


def default_nation(values: dict[str, Any]) -> None:
    """A person added without a nation takes their office's (office.yaml ``nation``), if it
    has one; otherwise it stays empty and reads as ``PROBHEALTH_NATION``, else England."""
    if not values.get("nation") and values.get("office"):
        from probhealth.services import office

        crn = str(values.get("crn") or "")
        found = office.nation_of(values["office"], demo_person=crn.startswith("Z"))
        if found:
            values["nation"] = found


def add_person(store: Store, data: PersonInput) -> PersonRecord:
    values = data.clean()
    default_nation(values)
    now = clock.now()
    with store.write() as session:
        if repo.crn_exists(session, values["crn"]):
            raise Conflict(
                f"A person with CRN {values['crn']} already exists; nothing was added.",
                remedy=Remedy.of("show-person", crn=values["crn"]),
            )
        row = Person(
            id=str(uuid.uuid4()),
            name_key=search_key(f"{values['given_name']} {values['family_name']}"),
            created_at=now,
            updated_at=now,
            **values,
        )
        repo.add(session, row)
        audit.append(
            session,
            actor=store.actor,
            action="person.add",
            entity="person",
            entity_id=row.id,
            detail={"fields": sorted(k for k, v in values.items() if v not in (None, False))},
        )
        record = to_record(row)
    return replace(record, warnings=name_warnings(values))


EDITABLE = validation.PERSON_COLUMNS
CLEARABLE = (
    "postcode",
    "office",
    "language",
    "communication_needs",
    "release_date",
    "nhs_number",
    "address",
    "nation",
    "stage",
)


def require_person(session: Session, crn: str) -> Person:
    """The person with this CRN, or NotFound with a hint (inside a store session)."""
    row = repo.by_crn(session, validation.crn(crn))
    if row is None:
        raise NotFound(
            f"No person with CRN {crn.strip().upper()}.",
            remedy=Remedy.of("list-people"),
        )
    return row


def listed_for(
    store: Store, crn: str, action: str, read: Callable[[Session, Person], list[T]]
) -> list[T]:
    """What ``read`` lists for the person with this CRN, with the audit event every such
    listing records: ``action`` on the person and how many records were shown."""
    with store.write() as session:
        person = require_person(session, crn)
        out = read(session, person)
        audit.append(
            session,
            actor=store.actor,
            action=action,
            entity="person",
            entity_id=person.id,
            detail={"results": len(out)},
        )
        return out


def edit_person(
    store: Store, crn: str, changes: dict[str, Any], clear: tuple[str, ...] = ()
) -> PersonRecord:
    """Change some fields. ``changes`` holds raw typed values keyed like ``PersonInput``."""
    for name in clear:
        if name not in CLEARABLE:
            raise BadInput(f"Cannot clear {name}; clearable fields: {', '.join(CLEARABLE)}.")
    with store.write() as session:
        row = require_person(session, crn)
        current = PersonInput.of_columns(_columns(row))
        given = {k: v for k, v in changes.items() if v is not None}
        merged = PersonInput(**(asdict(current) | given | dict.fromkeys(clear)))
        values = merged.clean()
        changed = sorted(k for k in EDITABLE if getattr(row, k) != values[k])
        if not changed:
            return to_record(row, repo.current_consents(session, row.id))
        if "crn" in changed and repo.crn_exists(session, values["crn"]):
            raise Conflict(f"Another person already has CRN {values['crn']}; nothing was changed.")
        for key in changed:
            setattr(row, key, values[key])
        row.name_key = search_key(f"{row.given_name} {row.family_name}")
        row.updated_at = clock.now()
        session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="person.edit",
            entity="person",
            entity_id=row.id,
            detail={"fields": changed},
        )
        record = to_record(row, repo.current_consents(session, row.id))
    return replace(record, warnings=name_warnings(values))


def show_person(store: Store, crn: str) -> PersonRecord:
    with store.write() as session:
        row = require_person(session, crn)
        consents = repo.current_consents(session, row.id)
        # Every view of an identifiable record is attributable (reliability row 23).
        audit.append(
            session, actor=store.actor, action="person.show", entity="person", entity_id=row.id
        )
        return to_record(row, consents)


def get_person(store: Store, crn: str) -> PersonRecord:
    """Look a person up for another command (no audit event of its own)."""
    with store.read() as session:
        row = require_person(session, crn)
        return to_record(row, repo.current_consents(session, row.id))


def list_people(
    store: Store, *, office: str | None = None, search: str | None = None, limit: int | None = None
) -> list[PersonRecord]:
    name_key = crn_text = None
    if search is not None:
        text = search.strip()
        if not text:
            raise BadInput("{opt:search} is empty; give part of a name or CRN.")
        if len(text) > 100:
            raise BadInput("{opt:search} is longer than 100 characters; shorten it.")
        name_key = search_key(text)
        crn_text = text.upper()
    with store.write() as session:
        rows = repo.search(
            session, office=office, name_key=name_key, crn_text=crn_text, limit=limit
        )
        records = [to_record(r) for r in rows]
        audit.append(
            session,
            actor=store.actor,
            action="person.search" if search else "person.list",
            entity="person",
            detail={
                "results": len(records),
                "filters": sorted(k for k, v in (("office", office), ("search", search)) if v),
            },
        )
    return records


def with_consent(
    store: Store,
    crn: str,
    purpose: str,
    action: Callable[[], T],
    agrees: Callable[[ConsentRequired], bool],
    recorded: Callable[[], None] | None = None,
) -> T:
    """Run ``action``; if it needs consent that is not given, ask ``agrees`` (given why).

    The purpose asked about is the one the refusal names (``purpose`` if it names none). A yes
    is recorded as verbal consent (then ``recorded`` is told) and ``action`` runs again (it may
    then need another purpose: each is asked once). A no is an answer too: it is recorded as
    declined, and the original ``ConsentRequired`` is raised (the action changed nothing)."""
    asked: set[str] = set()
    while True:
        try:
            return action()
        except ConsentRequired as exc:
            wanted = exc.purpose or purpose
            if wanted in asked:
                raise
            asked.add(wanted)
            if not agrees(exc):
                record_consent(store, crn, purpose=wanted, status="declined", method="verbal")
                raise
            record_consent(store, crn, purpose=wanted, status="given", method="verbal")
            if recorded is not None:
                recorded()


def record_consent(
    store: Store,
    crn: str,
    *,
    purpose: str,
    status: str,
    method: str | None = None,
    note: str | None = None,
) -> ConsentRecord:
    purpose = validation.choice(purpose, "Purpose", validation.CONSENT_PURPOSES)
    status = validation.choice(status, "Consent", validation.CONSENT_STATUSES)
    if method is not None:
        method = validation.choice(method, "Method", validation.CONSENT_METHODS)
    clean = clean_note(note, "Note") if note else None
    with store.write() as session:
        row = require_person(session, crn)
        consent = Consent(
            person_id=row.id,
            purpose=purpose,
            status=status,
            method=method,
            note=clean or None,
            recorded_by=store.actor,
            recorded_at=clock.now(),
        )
        repo.add_consent(session, consent)
        audit.append(
            session,
            actor=store.actor,
            action="consent.record",
            entity="person",
            entity_id=row.id,
            detail={"purpose": purpose, "status": status, "method": method},
        )
        return _consent_record(consent)


def consent_history(store: Store, crn: str, *, purpose: str | None = None) -> list[ConsentRecord]:
    """Every consent decision for a person, oldest first; ``purpose`` narrows it to one."""
    if purpose is not None:
        purpose = validation.choice(purpose, "Purpose", validation.CONSENT_PURPOSES)

    def read(session: Session, person: Person) -> list[ConsentRecord]:
        out = [_consent_record(c) for c in repo.consent_history(session, person.id)]
        return [r for r in out if purpose is None or r.purpose == purpose]

    return listed_for(store, crn, "consent.history", read)
