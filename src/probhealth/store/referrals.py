"""Queries on referrals, their history, suggestions and goals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlmodel import Session, col

from probhealth.referral_states import OPEN
from probhealth.store.models import Goal, GoalReview, Person, Referral, ReferralEvent, Suggestion


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


def latest_suggestion(session: Session, person_id: str, pathway_id: str) -> Suggestion | None:
    """What the rules last suggested for this person and pathway at a completed screening."""
    return session.execute(
        select(Suggestion)
        .where(col(Suggestion.person_id) == person_id, col(Suggestion.pathway_id) == pathway_id)
        .order_by(col(Suggestion.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def declined(session: Session, person_id: str) -> dict[str, tuple[date, str | None]]:
    """Per pathway, when the person last said no to it (local date) and the coded reason."""
    rows = session.execute(
        select(col(Referral.pathway_id), col(Referral.closed_at), col(Referral.closed_reason))
        .where(col(Referral.person_id) == person_id, col(Referral.status) == "declined-by-person")
        .order_by(col(Referral.id))
    ).all()
    from probhealth import clock

    return {p: (clock.to_london(at).date(), reason) for p, at, reason in rows if at is not None}


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


def listing(
    session: Session,
    *,
    person_id: str | None = None,
    statuses: Sequence[str] | None = None,
    due_on_or_before: date | None = None,
) -> Sequence[tuple[Referral, Person]]:
    stmt = select(Referral, Person).join(Person, col(Person.id) == col(Referral.person_id))
    if person_id:
        stmt = stmt.where(col(Referral.person_id) == person_id)
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


def replace_suggestions(session: Session, screening_id: int, rows: Sequence[Suggestion]) -> None:
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


# -- goals -------------------------------------------------------------------------------
def goal(session: Session, goal_id: int) -> Goal | None:
    return session.get(Goal, goal_id)


def goals_for(session: Session, person_id: str, *, include_closed: bool) -> Sequence[Goal]:
    stmt = select(Goal).where(col(Goal.person_id) == person_id)
    if not include_closed:
        stmt = stmt.where(col(Goal.status) == "active")
    return session.execute(stmt.order_by(col(Goal.id))).scalars().all()


def reviews(session: Session, goal_id: int) -> Sequence[GoalReview]:
    return (
        session.execute(
            select(GoalReview)
            .where(col(GoalReview.goal_id) == goal_id)
            .order_by(col(GoalReview.id))
        )
        .scalars()
        .all()
    )
