"""Needs and barriers recorded for a person: derived from screenings, or added by a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probhealth import clock, taxonomy, validation
from probhealth.errors import BadInput, Conflict, NotFound, Remedy
from probhealth.services.people import listed_for, require_person
from probhealth.store import audit
from probhealth.store import needs as needs_repo
from probhealth.store import screenings as repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Barrier, Need, Person
from probhealth.textsafe import clean_note


@dataclass(frozen=True)
class NeedRecord:
    id: int
    domain: str
    severity: str
    status: str
    source: str
    screening_id: int | None
    note: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def label(self) -> str:
        return taxonomy.NEED_DOMAINS.get(self.domain, self.domain)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "label": self.label,
            "severity": self.severity,
            "status": self.status,
            "source": self.source,
            "screening": self.screening_id,
            "note": self.note,
            "created_at": clock.iso_utc(self.created_at),
            "updated_at": clock.iso_utc(self.updated_at),
        }


@dataclass(frozen=True)
class BarrierRecord:
    id: int
    type: str
    source: str
    screening_id: int | None
    note: str | None
    created_by: str
    created_at: datetime
    resolved_at: datetime | None

    @property
    def label(self) -> str:
        return taxonomy.BARRIER_TYPES.get(self.type, self.type)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "label": self.label,
            "source": self.source,
            "screening": self.screening_id,
            "note": self.note,
            "created_by": self.created_by,
            "created_at": clock.iso_utc(self.created_at),
            "resolved_at": clock.iso_utc(self.resolved_at),
        }


def need_record(row: Need) -> NeedRecord:
    assert row.id is not None
    return NeedRecord(
        row.id,
        row.domain,
        row.severity,
        row.status,
        row.source,
        row.screening_id,
        row.note,
        row.created_at,
        row.updated_at,
    )


def barrier_record(row: Barrier) -> BarrierRecord:
    assert row.id is not None
    return BarrierRecord(
        row.id,
        row.type,
        row.source,
        row.screening_id,
        row.note,
        row.created_by,
        row.created_at,
        row.resolved_at,
    )


def list_needs(store: Store, crn: str, *, include_closed: bool = False) -> list[NeedRecord]:
    def read(session: Session, person: Person) -> list[NeedRecord]:
        rows = needs_repo.needs(session, person.id, include_closed=include_closed)
        return [need_record(n) for n in rows]

    return listed_for(store, crn, "need.list", read)


def update_need(store: Store, need_id: int, *, status: str, note: str | None = None) -> NeedRecord:
    status = validation.choice(status, "Status", taxonomy.NEED_STATUSES)
    clean = clean_note(note, "Note") if note else None
    with store.write() as session:
        row = needs_repo.need(session, validation.record_id(need_id, "need"))
        if row is None:
            raise NotFound(f"No need {need_id}.", remedy=Remedy.of("list-needs"))
        row.status = status
        if clean:
            row.note = clean
        row.updated_at = clock.now()
        session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="need.update",
            entity="need",
            entity_id=need_id,
            detail={"status": status},
        )
        return need_record(row)


def add_need(
    store: Store,
    crn: str,
    domain: str,
    *,
    severity: str = "moderate",
    note: str | None = None,
) -> NeedRecord:
    """A need the worker records that the screening did not find; rules that look at the
    person's needs (``"housing" in needs``) then suggest a route for it."""
    kind = domain.strip().lower()
    if kind not in taxonomy.NEED_DOMAINS:
        raise BadInput(
            f"Unknown need domain {domain!r}; use one of: {', '.join(taxonomy.NEED_DOMAINS)}."
            + validation.did_you_mean(kind, taxonomy.NEED_DOMAINS)
        )
    level = severity.strip().lower()
    if level not in taxonomy.NEED_SEVERITIES:
        raise BadInput(f"{{opt:severity}} must be one of: {', '.join(taxonomy.NEED_SEVERITIES)}.")
    clean = clean_note(note, "Note") if note else None
    now = clock.now()
    with store.write() as session:
        person = require_person(session, crn)
        if kind in needs_repo.open_needs(session, person.id):
            raise Conflict(
                f"{person.crn} already has an open {kind} need.",
                remedy=Remedy.of("list-needs", crn=person.crn),
            )
        row = repo.add(
            session,
            Need(
                person_id=person.id,
                domain=kind,
                severity=level,
                status="identified",
                source="worker",
                note=clean,
                created_by=store.actor,
                created_at=now,
                updated_at=now,
            ),
        )
        audit.append(
            session,
            actor=store.actor,
            action="need.add",
            entity="need",
            entity_id=row.id,
            detail={"domain": kind, "severity": level},
        )
        return need_record(row)


def add_barrier(
    store: Store, crn: str, barrier_type: str, note: str | None = None
) -> BarrierRecord:
    kind = barrier_type.strip().lower()
    if kind not in taxonomy.BARRIER_TYPES:
        raise BadInput(
            f"Unknown barrier type {barrier_type!r}; use one of: {', '.join(taxonomy.BARRIER_TYPES)}."
            + validation.did_you_mean(kind, taxonomy.BARRIER_TYPES)
        )
    clean = clean_note(note, "Note") if note else None
    with store.write() as session:
        person = require_person(session, crn)
        if kind in needs_repo.open_barriers(session, person.id):
            raise Conflict(
                f"{person.crn} already has the barrier {kind} recorded.",
                remedy=Remedy.of("list-barriers", crn=person.crn),
            )
        row = repo.add(
            session,
            Barrier(
                person_id=person.id,
                type=kind,
                source="worker",
                note=clean,
                created_by=store.actor,
                created_at=clock.now(),
            ),
        )
        audit.append(
            session,
            actor=store.actor,
            action="barrier.add",
            entity="barrier",
            entity_id=row.id,
            detail={"type": kind},
        )
        return barrier_record(row)


def resolve_barrier(store: Store, barrier_id: int) -> BarrierRecord:
    with store.write() as session:
        row = needs_repo.barrier(session, validation.record_id(barrier_id, "barrier"))
        if row is None:
            raise NotFound(f"No barrier {barrier_id}.")
        if row.resolved_at is not None:
            raise Conflict(f"Barrier {barrier_id} is already resolved.")
        row.resolved_at = clock.now()
        row.resolved_by = store.actor
        session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="barrier.resolve",
            entity="barrier",
            entity_id=barrier_id,
        )
        return barrier_record(row)


def list_barriers(store: Store, crn: str, *, include_resolved: bool = False) -> list[BarrierRecord]:
    def read(session: Session, person: Person) -> list[BarrierRecord]:
        rows = needs_repo.barriers(session, person.id, include_resolved=include_resolved)
        return [barrier_record(b) for b in rows]

    return listed_for(store, crn, "barrier.list", read)
