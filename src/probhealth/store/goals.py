"""Queries on health goals and their reviews."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from probhealth.store.models import Goal, GoalReview


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
