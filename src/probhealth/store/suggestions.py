"""Queries on the pathways suggested for a screening."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlmodel import Session, col

from probhealth.store.models import Suggestion


def latest_suggestion(session: Session, *, person_id: str, pathway_id: str) -> Suggestion | None:
    """What the rules last suggested for this person and pathway at a completed screening."""
    return session.execute(
        select(Suggestion)
        .where(col(Suggestion.person_id) == person_id, col(Suggestion.pathway_id) == pathway_id)
        .order_by(col(Suggestion.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def replace_suggestions(session: Session, *, screening_id: int, rows: Sequence[Suggestion]) -> None:
    session.execute(delete(Suggestion).where(col(Suggestion.screening_id) == screening_id))
    for row in rows:
        session.add(row)
    session.flush()


def suggestions_for_screening(session: Session, screening_id: int) -> Sequence[Suggestion]:
    return (
        session.execute(
            select(Suggestion)
            .where(col(Suggestion.screening_id) == screening_id)
            .order_by(col(Suggestion.id))
        )
        .scalars()
        .all()
    )


def drop_for_screening(session: Session, screening_id: int) -> None:
    """Forget what was suggested at a screening (it was voided)."""
    session.execute(delete(Suggestion).where(col(Suggestion.screening_id) == screening_id))
