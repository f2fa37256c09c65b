"""Erasing people: every row about them goes (foreign keys cascade), then the WAL is
checkpointed and truncated so deleted text survives neither in the main file (secure_delete is
on for every connection) nor in the -wal file (reliability row 24)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, union_all
from sqlmodel import Session, col

from probhealth.referral_states import OPEN
from probhealth.store import audit
from probhealth.store.db import SCRUB_PENDING, Store
from probhealth.store.models import (
    Answer,
    Barrier,
    Consent,
    Flag,
    Goal,
    GoalReview,
    Meta,
    Need,
    Person,
    Referral,
    ReferralEvent,
    Score,
    Screening,
    Suggestion,
)


def counts(session: Session, person_id: str) -> dict[str, int]:
    """How many rows of each kind belong to a person (what an erasure removes)."""
    screenings = select(col(Screening.id)).where(col(Screening.person_id) == person_id)
    referrals = select(col(Referral.id)).where(col(Referral.person_id) == person_id)
    goals = select(col(Goal.id)).where(col(Goal.person_id) == person_id)

    def n(stmt: Any) -> int:
        return int(session.execute(stmt).scalar_one())

    return {
        "consent": n(
            select(func.count()).select_from(Consent).where(col(Consent.person_id) == person_id)
        ),
        "screenings": n(
            select(func.count()).select_from(Screening).where(col(Screening.person_id) == person_id)
        ),
        "answers": n(
            select(func.count()).select_from(Answer).where(col(Answer.screening_id).in_(screenings))
        ),
        "scores": n(
            select(func.count()).select_from(Score).where(col(Score.screening_id).in_(screenings))
        ),
        "flags": n(
            select(func.count()).select_from(Flag).where(col(Flag.screening_id).in_(screenings))
        ),
        "needs": n(select(func.count()).select_from(Need).where(col(Need.person_id) == person_id)),
        "barriers": n(
            select(func.count()).select_from(Barrier).where(col(Barrier.person_id) == person_id)
        ),
        "suggestions": n(
            select(func.count())
            .select_from(Suggestion)
            .where(col(Suggestion.person_id) == person_id)
        ),
        "referrals": n(
            select(func.count()).select_from(Referral).where(col(Referral.person_id) == person_id)
        ),
        "referral_events": n(
            select(func.count())
            .select_from(ReferralEvent)
            .where(col(ReferralEvent.referral_id).in_(referrals))
        ),
        "goals": n(select(func.count()).select_from(Goal).where(col(Goal.person_id) == person_id)),
        "goal_reviews": n(
            select(func.count()).select_from(GoalReview).where(col(GoalReview.goal_id).in_(goals))
        ),
    }


def delete_person(session: Session, person_id: str) -> None:
    """Delete the person; ON DELETE CASCADE removes everything that points at them."""
    from probhealth.store import transfer

    transfer.forget_person(session, person_id)
    session.execute(delete(Person).where(col(Person.id) == person_id))
    session.flush()


def inactive_people(session: Session, before: datetime) -> Sequence[str]:
    """People with no open referral and no activity at or after ``before`` (retention)."""
    activity = union_all(
        select(col(Person.id).label("pid"), col(Person.updated_at).label("at")),
        select(col(Consent.person_id), col(Consent.recorded_at)),
        select(col(Screening.person_id), col(Screening.updated_at)),
        select(col(Need.person_id), col(Need.updated_at)),
        select(col(Barrier.person_id), col(Barrier.created_at)),
        select(col(Barrier.person_id), col(Barrier.resolved_at)).where(
            col(Barrier.resolved_at).is_not(None)
        ),
        select(col(Referral.person_id), col(Referral.updated_at)),
        select(col(Goal.person_id), col(Goal.updated_at)),
    ).subquery()
    latest = (
        select(activity.c.pid, func.max(activity.c.at).label("last"))
        .group_by(activity.c.pid)
        .subquery()
    )
    open_refs = select(col(Referral.person_id)).where(col(Referral.status).in_(sorted(OPEN)))
    stmt = (
        select(latest.c.pid)
        .where(latest.c.last < before, latest.c.pid.not_in(open_refs))
        .order_by(latest.c.pid)
    )
    return [r[0] for r in session.execute(stmt)]


def scrub(store: Store) -> bool:
    """After a commit that deleted data: move the WAL into the main file and truncate it.

    False when another connection's open read kept the checkpoint from finishing within the
    busy timeout: the old pages, deleted text included, then stay in the main file (the
    scrubbed ones wait in the -wal) until a later checkpoint, which the next probhealth
    command after that read ends performs.
    """
    if not store.is_sqlite:
        return True
    with store.raw() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    done = busy is None or busy[0] == 0
    if not done:
        # Remembered in the database, so the next probhealth command finishes the job.
        with store.write() as session:
            session.merge(Meta(key=SCRUB_PENDING, value="1"))
    return done


def finish_scrub(store: Store) -> bool:
    """An earlier erasure could not scrub the file: try the checkpoint again now. Called by
    ``Store`` on open, only when its ``SCRUB_PENDING`` mark is there (it looks first, so this
    module loads only then). True when the pending scrub was completed."""
    with store.raw() as conn:  # a fresh transaction: a read snapshot would block the checkpoint
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy is not None and busy[0] != 0:
        return False  # still being read: the next command tries again
    with store.write() as session:
        session.execute(delete(Meta).where(col(Meta.key) == SCRUB_PENDING))
        audit.append(session, actor=store.actor, action="erase.scrubbed", entity="database")
    return True
