"""Queries on needs and barriers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session, col

from probhealth.store.models import Barrier, Need


def open_needs(session: Session, person_id: str) -> dict[str, Need]:
    rows = session.execute(
        select(Need)
        .where(
            col(Need.person_id) == person_id,
            col(Need.status).in_(("identified", "being-addressed")),
        )
        .order_by(col(Need.id))
    ).scalars()
    return {r.domain: r for r in rows}


def needs(session: Session, person_id: str, *, include_closed: bool = False) -> Sequence[Need]:
    stmt = select(Need).where(col(Need.person_id) == person_id)
    if not include_closed:
        stmt = stmt.where(col(Need.status).in_(("identified", "being-addressed")))
    return session.execute(stmt.order_by(col(Need.id))).scalars().all()


def need(session: Session, need_id: int) -> Need | None:
    return session.get(Need, need_id)


def open_barriers(session: Session, person_id: str) -> dict[str, Barrier]:
    rows = session.execute(
        select(Barrier)
        .where(col(Barrier.person_id) == person_id, col(Barrier.resolved_at).is_(None))
        .order_by(col(Barrier.id))
    ).scalars()
    return {r.type: r for r in rows}


def barriers(
    session: Session, person_id: str, *, include_resolved: bool = False
) -> Sequence[Barrier]:
    stmt = select(Barrier).where(col(Barrier.person_id) == person_id)
    if not include_resolved:
        stmt = stmt.where(col(Barrier.resolved_at).is_(None))
    return session.execute(stmt.order_by(col(Barrier.id))).scalars().all()


def barrier(session: Session, barrier_id: int) -> Barrier | None:
    return session.get(Barrier, barrier_id)


def screening_needs(session: Session, screening_id: int) -> Sequence[Need]:
    return (
        session.execute(
            select(Need).where(col(Need.screening_id) == screening_id).order_by(col(Need.id))
        )
        .scalars()
        .all()
    )


def screening_barriers(session: Session, screening_id: int) -> Sequence[Barrier]:
    return (
        session.execute(
            select(Barrier)
            .where(col(Barrier.screening_id) == screening_id)
            .order_by(col(Barrier.id))
        )
        .scalars()
        .all()
    )


def open_from_screening(session: Session, screening_id: int) -> int:
    """How many open needs and barriers were last set by this screening."""
    needs = session.execute(
        select(func.count())
        .select_from(Need)
        .where(
            col(Need.screening_id) == screening_id,
            col(Need.status).in_(("identified", "being-addressed")),
        )
    ).scalar_one()
    barriers = session.execute(
        select(func.count())
        .select_from(Barrier)
        .where(col(Barrier.screening_id) == screening_id, col(Barrier.resolved_at).is_(None))
    ).scalar_one()
    return int(needs) + int(barriers)
