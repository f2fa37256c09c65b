"""Queries on health goals and their reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from probhealth.store.models import Goal, GoalReview, Person


def add(session: Session, row: Goal | GoalReview) -> Goal | GoalReview:
    session.add(row)
    session.flush()
    return row


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


def caseload_goals(
    session: Session,
    *,
    due_on_or_before: date | None = None,
    include_closed: bool = False,
    office: str | None = None,
    limit: int | None = None,
) -> Sequence[tuple[Goal, Person]]:
    """Goals across the caseload with their person. ``due_on_or_before``: active goals whose
    target date has come, oldest target first."""
    stmt = select(Goal, Person).join(Person, col(Person.id) == col(Goal.person_id))
    if not include_closed or due_on_or_before is not None:
        stmt = stmt.where(col(Goal.status) == "active")
    if office:
        stmt = stmt.where(func.lower(col(Person.office)) == office.lower())
    if due_on_or_before is not None:
        stmt = stmt.where(
            col(Goal.target_date).is_not(None), col(Goal.target_date) <= due_on_or_before
        ).order_by(col(Goal.target_date), col(Goal.id))
    else:
        stmt = stmt.order_by(col(Person.crn), col(Goal.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(g, p) for g, p in session.execute(stmt).all()]


def count_due(session: Session, due_on_or_before: date, office: str | None = None) -> int:
    stmt = select(func.count()).where(
        col(Goal.status) == "active",
        col(Goal.target_date).is_not(None),
        col(Goal.target_date) <= due_on_or_before,
    )
    if office:
        stmt = (stmt.select_from(Goal).join(Person, col(Person.id) == col(Goal.person_id))).where(
            func.lower(col(Person.office)) == office.lower()
        )
    return int(session.execute(stmt).scalar_one())


def reviews_for(session: Session, goal_ids: Sequence[int]) -> dict[int, list[GoalReview]]:
    """The reviews of many goals at once, oldest first."""
    out: dict[int, list[GoalReview]] = {}
    ids = sorted(set(goal_ids))
    for start in range(0, len(ids), 500):
        rows = (
            session.execute(
                select(GoalReview)
                .where(col(GoalReview.goal_id).in_(ids[start : start + 500]))
                .order_by(col(GoalReview.goal_id), col(GoalReview.id))
            )
            .scalars()
            .all()
        )
        for r in rows:
            out.setdefault(r.goal_id, []).append(r)
    return out
