"""Queries on referrals and their history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from probhealth.referral_states import OPEN
from probhealth.store.models import Person, Referral, ReferralEvent


def get(session: Session, referral_id: int) -> Referral | None:
    return session.get(Referral, referral_id)


def add(session: Session, row: object) -> object:
    session.add(row)
    session.flush()
    return row


def events(session: Session, referral_id: int) -> Sequence[ReferralEvent]:
    return (
        session.execute(
            select(ReferralEvent)
            .where(col(ReferralEvent.referral_id) == referral_id)
            .order_by(col(ReferralEvent.id))
        )
        .scalars()
        .all()
    )


def events_for(session: Session, referral_ids: Sequence[int]) -> dict[int, list[ReferralEvent]]:
    """The history of many referrals at once, oldest event first (a few queries, not one per
    referral)."""
    out: dict[int, list[ReferralEvent]] = {}
    ids = sorted(set(referral_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = (
            session.execute(
                select(ReferralEvent)
                .where(col(ReferralEvent.referral_id).in_(chunk))
                .order_by(col(ReferralEvent.referral_id), col(ReferralEvent.id))
            )
            .scalars()
            .all()
        )
        for e in rows:
            out.setdefault(e.referral_id, []).append(e)
    return out


def declined(session: Session, person_id: str) -> dict[str, tuple[date, str | None]]:
    """Per pathway, when the person last said no to it (local date) and the coded reason."""
    rows = session.execute(
        select(col(Referral.pathway_id), col(Referral.closed_at), col(Referral.closed_reason))
        .where(col(Referral.person_id) == person_id, col(Referral.status) == "declined-by-person")
        .order_by(col(Referral.id))
    ).all()
    from probhealth import clock

    return {p: (clock.to_london(at).date(), reason) for p, at, reason in rows if at is not None}


def pathways_for_screening(session: Session, screening_id: int) -> Sequence[str]:
    """Pathways referred to (or declined) from this screening."""
    return (
        session.execute(
            select(col(Referral.pathway_id))
            .where(col(Referral.screening_id) == screening_id)
            .distinct()
        )
        .scalars()
        .all()
    )


def open_from_screening(session: Session, screening_id: int) -> int:
    """How many referrals made from this screening are still open."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Referral)
            .where(
                col(Referral.screening_id) == screening_id,
                col(Referral.status).in_(sorted(OPEN)),
            )
        ).scalar_one()
    )


def completed_achieved(session: Session, person_id: str) -> dict[str, date]:
    """Per pathway, the day a referral to it was last completed as achieved (the day it
    happened, as recorded with the step)."""
    rows = session.execute(
        select(col(Referral.pathway_id), func.max(col(ReferralEvent.event_date)))
        .join(ReferralEvent, col(ReferralEvent.referral_id) == col(Referral.id))
        .where(
            col(Referral.person_id) == person_id,
            col(Referral.status) == "completed",
            col(Referral.outcome) == "achieved",
            col(ReferralEvent.to_status) == "completed",
        )
        .group_by(col(Referral.pathway_id))
    ).all()
    return {p: _as_date(d) for p, d in rows if d is not None}


def _as_date(value: object) -> date:
    """A DATE from an aggregate: text on SQLite, a date elsewhere."""
    return date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def open_for(session: Session, person_id: str) -> Sequence[Referral]:
    return (
        session.execute(
            select(Referral)
            .where(col(Referral.person_id) == person_id, col(Referral.status).in_(sorted(OPEN)))
            .order_by(col(Referral.id))
        )
        .scalars()
        .all()
    )


def _by_worker(column: Any, worker: str) -> Any:
    """The actor is the worker's name, or on a server ``LOGIN (NAME)`` (the login and the
    name given with ``--as``): either part matches, in any letter case."""
    name = worker.lower()
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    actor = func.lower(column)
    return or_(
        actor == name,
        actor.like(f"{escaped} (%)", escape="\\"),
        actor.like(f"% ({escaped})", escape="\\"),
    )


def listing(
    session: Session,
    *,
    person_id: str | None = None,
    statuses: Sequence[str] | None = None,
    due_on_or_before: date | None = None,
    office: str | None = None,
    worker: str | None = None,
) -> Sequence[tuple[Referral, Person]]:
    stmt = select(Referral, Person).join(Person, col(Person.id) == col(Referral.person_id))
    if person_id:
        stmt = stmt.where(col(Referral.person_id) == person_id)
    if office:  # the person's office, as ``suggest --all`` matches it (any letter case)
        stmt = stmt.where(func.lower(col(Person.office)) == office.lower())
    if worker:  # who made the referral (any letter case)
        stmt = stmt.where(_by_worker(col(Referral.created_by), worker))
    if statuses:
        stmt = stmt.where(col(Referral.status).in_(list(statuses)))
    if due_on_or_before is not None:
        # Closed referrals never fall due (peers.md: overdue items for closed referrals).
        stmt = stmt.where(
            col(Referral.status).in_(sorted(OPEN)),
            col(Referral.follow_up_due).is_not(None),
            col(Referral.follow_up_due) <= due_on_or_before,
        ).order_by(col(Referral.follow_up_due), col(Referral.id))
    else:
        stmt = stmt.order_by(col(Referral.id))
    return [(r, p) for r, p in session.execute(stmt).all()]
