"""Queries on people and consent. Callers pass the session of a ``Store`` transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from probhealth.store.models import Consent, Person


def by_crn(session: Session, crn: str) -> Person | None:
    return session.execute(select(Person).where(col(Person.crn) == crn)).scalar_one_or_none()


def by_id(session: Session, person_id: str) -> Person | None:
    return session.get(Person, person_id)


def crn_exists(session: Session, crn: str) -> bool:
    return session.execute(select(col(Person.id)).where(col(Person.crn) == crn)).first() is not None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session,
    *,
    office: str | None = None,
    name_key: str | None = None,
    crn_text: str | None = None,
    limit: int | None = None,
) -> Sequence[Person]:
    stmt = select(Person)
    if office:
        stmt = stmt.where(func.lower(col(Person.office)) == office.lower())
    if name_key or crn_text:
        clauses: list[Any] = []
        if name_key:
            clauses.append(Person.name_key.like(_like_pattern(name_key), escape="\\"))  # type: ignore[attr-defined]
        if crn_text:
            clauses.append(Person.crn.like(_like_pattern(crn_text), escape="\\"))  # type: ignore[attr-defined]
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(Person.family_name, Person.given_name, Person.crn)
    if limit:
        stmt = stmt.limit(limit)
    return session.execute(stmt).scalars().all()


def add(session: Session, person: Person) -> Person:
    session.add(person)
    session.flush()
    return person


def add_consent(session: Session, consent: Consent) -> Consent:
    session.add(consent)
    session.flush()
    return consent


def current_consents(session: Session, person_id: str) -> dict[str, Consent]:
    """The latest decision per purpose (history is kept; the newest row wins)."""
    rows = session.execute(
        select(Consent).where(col(Consent.person_id) == person_id).order_by(col(Consent.id))
    ).scalars()
    current: dict[str, Consent] = {}
    for row in rows:
        current[row.purpose] = row
    return current


def consent_history(session: Session, person_id: str) -> Sequence[Consent]:
    return (
        session.execute(
            select(Consent).where(col(Consent.person_id) == person_id).order_by(col(Consent.id))
        )
        .scalars()
        .all()
    )
