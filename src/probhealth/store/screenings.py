"""Queries on questionnaire versions, screenings, answers, scores and flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from probhealth.store.models import (
    Answer,
    Flag,
    QuestionnaireDef,
    Score,
    Screening,
)


# -- questionnaire versions --------------------------------------------------------------
def questionnaire_def(session: Session, *, qid: str, version: int) -> QuestionnaireDef | None:
    return session.get(QuestionnaireDef, (qid, version))


def latest_questionnaire_def(
    session: Session, *, qid: str, version: int | None = None
) -> QuestionnaireDef | None:
    stmt = select(QuestionnaireDef).where(col(QuestionnaireDef.id) == qid)
    if version is not None:
        stmt = stmt.where(col(QuestionnaireDef.version) == version)
    return session.execute(
        stmt.order_by(col(QuestionnaireDef.version).desc()).limit(1)
    ).scalar_one_or_none()


def add_questionnaire_def(session: Session, row: QuestionnaireDef) -> None:
    session.add(row)
    session.flush()


# -- screenings --------------------------------------------------------------------------
def screening(session: Session, screening_id: int) -> Screening | None:
    return session.get(Screening, screening_id)


def open_screening(session: Session, person_id: str) -> Screening | None:
    return session.execute(
        select(Screening)
        .where(col(Screening.person_id) == person_id, col(Screening.status) == "in-progress")
        .order_by(col(Screening.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_completed(session: Session, person_id: str) -> Screening | None:
    return session.execute(
        select(Screening)
        .where(col(Screening.person_id) == person_id, col(Screening.status) == "completed")
        .order_by(col(Screening.completed_at).desc(), col(Screening.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def screenings_for(session: Session, person_id: str) -> Sequence[Screening]:
    return (
        session.execute(
            select(Screening)
            .where(col(Screening.person_id) == person_id)
            .order_by(col(Screening.id))
        )
        .scalars()
        .all()
    )


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


# -- answers -----------------------------------------------------------------------------
def answers(
    session: Session, screening_id: int, *, include_hidden: bool = True
) -> dict[str, tuple[Any, bool]]:
    """item id -> (decoded JSON value or None, declined)."""
    stmt = select(col(Answer.item_id), col(Answer.value), col(Answer.declined)).where(
        col(Answer.screening_id) == screening_id
    )
    if not include_hidden:
        stmt = stmt.where(col(Answer.hidden).is_(False))
    rows = session.execute(stmt).all()
    return {r[0]: (_decode(r[1], screening_id, r[0]), bool(r[2])) for r in rows}


def _decode(raw: Any, screening_id: int, item_id: str) -> Any:
    """A stored answer; one that is not what probhealth writes (not JSON) stops the command
    with one line naming it, rather than being read as no answer (a risk is never dropped)."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        from probhealth.errors import Remedy, StorageError

        raise StorageError(
            f"The stored answer to {item_id} in screening {screening_id} is damaged "
            "(not as probhealth wrote it); nothing was changed.",
            remedy=Remedy.of("restore-or-check-db"),
        ) from None


def mark_hidden(session: Session, *, screening_id: int, item_ids: Sequence[str]) -> None:
    """Answers to questions the final answers no longer show: kept, but never used."""
    if item_ids:
        session.execute(
            update(Answer)
            .where(
                col(Answer.screening_id) == screening_id, col(Answer.item_id).in_(list(item_ids))
            )
            .values(hidden=True)
        )


def upsert_answer(
    session: Session,
    *,
    screening_id: int,
    item_id: str,
    value: Any,
    declined: bool,
    by: str,
    at: datetime,
) -> bool:
    """Save an answer; returns True when it replaced an earlier one."""
    encoded = None if declined else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    row = session.get(Answer, (screening_id, item_id))
    if row is None:
        session.add(
            Answer(
                screening_id=screening_id,
                item_id=item_id,
                value=encoded,
                declined=declined,
                answered_by=by,
                answered_at=at,
            )
        )
        session.flush()
        return False
    row.value = encoded
    row.declined = declined
    row.answered_by = by
    row.answered_at = at
    session.add(row)
    session.flush()
    return True


# -- flags, scores -----------------------------------------------------------------------
def flags(session: Session, screening_id: int) -> Sequence[Flag]:
    return (
        session.execute(
            select(Flag).where(col(Flag.screening_id) == screening_id).order_by(col(Flag.raised_at))
        )
        .scalars()
        .all()
    )


def flag(session: Session, *, screening_id: int, flag_id: str) -> Flag | None:
    return session.get(Flag, (screening_id, flag_id))


def replace_scores(session: Session, *, screening_id: int, scores: list[Score]) -> None:
    session.execute(delete(Score).where(col(Score.screening_id) == screening_id))
    for s in scores:
        session.add(s)
    session.flush()


def scores(session: Session, screening_id: int) -> Sequence[Score]:
    return (
        session.execute(select(Score).where(col(Score.screening_id) == screening_id))
        .scalars()
        .all()
    )


# -- open safety flags -------------------------------------------------------------------
