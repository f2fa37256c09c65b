"""Streaming reads for batch work (``suggest --all``): every person's latest completed
screening with its answers, scores, flags, and the person's open barriers, needs, referrals
and consent, read from a handful of ordered cursors merged by person id. Memory stays constant:
one person's rows at a time, whatever the caseload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import JSON, and_, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from probhealth.referral_states import OPEN, adjustments_in_place
from probhealth.store.models import (
    Answer,
    Barrier,
    Consent,
    Flag,
    Need,
    Person,
    Referral,
    ReferralEvent,
    Score,
    Screening,
)
from probhealth.store.stream import stream

BATCH = 1000


@dataclass
class PersonRows:
    person_id: str
    crn: str
    dob: date
    sex: str
    release_date: date | None
    postcode: str | None
    office: str | None
    screening_id: int
    questionnaire_id: str
    questionnaire_version: int
    answers: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    scores: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    barriers: set[str] = field(default_factory=set)
    needs: set[str] = field(default_factory=set)
    open_referrals: set[str] = field(default_factory=set)
    consents: dict[str, str] = field(default_factory=dict)
    nation: str | None = None  # issue 12
    stage: str | None = None
    completed: dict[str, date] = field(default_factory=dict)  # pathway -> completed (achieved)


def _latest() -> Any:
    return (
        select(col(Screening.person_id).label("pid"), func.max(col(Screening.id)).label("sid"))
        .where(col(Screening.status) == "completed")
        .group_by(col(Screening.person_id))
        .subquery("latest")
    )


class _Peek:
    def __init__(self, rows: Iterator[Any]) -> None:
        self.rows = rows
        self.head: Any = next(rows, None)

    def take(self, person_id: str) -> Iterator[Any]:
        while self.head is not None and self.head[0] < person_id:
            self.head = next(self.rows, None)  # rows for people filtered out
        while self.head is not None and self.head[0] == person_id:
            yield self.head
            self.head = next(self.rows, None)


def _day(value: Any) -> Any:
    """A DATE from the raw cursor: text on SQLite, a date elsewhere."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def count_people(conn: Connection, office: str | None) -> int:
    latest = _latest()
    stmt = select(func.count()).select_from(latest).join(Person, col(Person.id) == latest.c.pid)
    if office:
        stmt = stmt.where(func.lower(col(Person.office)) == office.lower())
    return int(conn.execute(stmt).scalar_one())


def latest_screenings(conn: Connection, office: str | None = None) -> Iterator[PersonRows]:
    latest = _latest()
    people = (
        select(
            col(Person.id),
            col(Person.crn),
            col(Person.dob),
            col(Person.sex),
            col(Person.release_date),
            col(Person.postcode),
            col(Person.office),
            col(Screening.id),
            col(Screening.questionnaire_id),
            col(Screening.questionnaire_version),
            col(Person.nation),
            col(Person.stage),
            col(Person.communication_needs),
        )
        .join(latest, latest.c.pid == col(Person.id))
        .join(Screening, col(Screening.id) == latest.c.sid)
        .order_by(col(Person.id))
    )
    if office:
        people = people.where(func.lower(col(Person.office)) == office.lower())
    if conn.dialect.name == "sqlite":
        packed = func.json_group_object(col(Answer.item_id), func.json(col(Answer.value)))
    else:
        packed = func.json_object_agg(col(Answer.item_id), func.cast(col(Answer.value), JSON))
    # One JSON object of answers per screening (null = declined): far fewer rows to fetch.
    answers = (
        select(latest.c.pid, packed)
        .join(Answer, and_(latest.c.sid == col(Answer.screening_id), col(Answer.hidden).is_(False)))
        .group_by(latest.c.pid)
        .order_by(latest.c.pid)
    )
    scores = (
        select(latest.c.pid, col(Score.scale_id), col(Score.value), col(Score.band))
        .join(latest, latest.c.sid == col(Score.screening_id))
        .order_by(latest.c.pid)
    )
    flags = (
        select(latest.c.pid, col(Flag.flag_id), col(Flag.severity))
        .join(latest, latest.c.sid == col(Flag.screening_id))
        .order_by(latest.c.pid)
    )
    barriers = (
        select(col(Barrier.person_id), col(Barrier.type))
        .where(col(Barrier.resolved_at).is_(None))
        .order_by(col(Barrier.person_id))
    )
    needs = (
        select(col(Need.person_id), col(Need.domain))
        .where(col(Need.status).in_(("identified", "being-addressed")))
        .order_by(col(Need.person_id))
    )
    referrals = (
        select(col(Referral.person_id), col(Referral.pathway_id))
        .where(col(Referral.status).in_(sorted(OPEN)))
        .order_by(col(Referral.person_id))
    )
    completed = (
        select(
            col(Referral.person_id),
            col(Referral.pathway_id),
            func.max(col(ReferralEvent.event_date)),
        )
        .join(ReferralEvent, col(ReferralEvent.referral_id) == col(Referral.id))
        .where(
            col(Referral.status) == "completed",
            col(Referral.outcome) == "achieved",
            col(ReferralEvent.to_status) == "completed",
        )
        .group_by(col(Referral.person_id), col(Referral.pathway_id))
        .order_by(col(Referral.person_id))
    )
    consents = select(col(Consent.person_id), col(Consent.purpose), col(Consent.status)).order_by(
        col(Consent.person_id), col(Consent.id)
    )

    streams = {
        name: _Peek(stream(conn, stmt))
        for name, stmt in (
            ("answers", answers),
            ("scores", scores),
            ("flags", flags),
            ("barriers", barriers),
            ("needs", needs),
            ("referrals", referrals),
            ("completed", completed),
            ("consents", consents),
        )
    }
    for row in stream(conn, people):
        rows = PersonRows(
            row[0],
            row[1],
            _day(row[2]),
            row[3],
            _day(row[4]),
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            nation=row[10],
            stage=row[11],
        )
        pid = rows.person_id
        for _, packed_answers in streams["answers"].take(pid):
            decoded = (
                json.loads(packed_answers) if isinstance(packed_answers, str) else packed_answers
            )
            rows.answers = {k: (v, v is None) for k, v in decoded.items()}
        for _, scale_id, value, band in streams["scores"].take(pid):
            rows.scores[scale_id] = (int(value), band)
        for _, flag_id, severity in streams["flags"].take(pid):
            rows.flags[flag_id] = severity
        rows.barriers.update(r[1] for r in streams["barriers"].take(pid))
        rows.needs.update(r[1] for r in streams["needs"].take(pid))
        rows.open_referrals.update(r[1] for r in streams["referrals"].take(pid))
        for _, pathway_id, day in streams["completed"].take(pid):
            if day is not None:
                rows.completed[pathway_id] = _day(day)
        rows.open_referrals.update(adjustments_in_place(row[12]))  # easy read: in place
        for _, purpose, status in streams["consents"].take(pid):
            rows.consents[purpose] = status
        yield rows


def read_only(conn: Connection, office: str | None = None) -> Iterator[int]:
    """The same rows, only read and decoded (the benchmark's baseline for ``suggest --all``)."""
    for rows in latest_screenings(conn, office):
        yield len(rows.answers)


# ---------------------------------------------------------------- the day (``today``) ----
def _completed_people() -> Any:
    return select(col(Screening.person_id)).where(col(Screening.status) == "completed")


def _of_office(stmt: Any, office: str | None) -> Any:
    """Only people of ``office`` (any letter case), when one is named."""
    return stmt.where(func.lower(col(Person.office)) == office.lower()) if office else stmt


def count_not_screened(session: Any, office: str | None = None) -> int:
    """People with no completed screening."""
    stmt = select(func.count()).where(col(Person.id).not_in(_completed_people()))
    return int(session.execute(_of_office(stmt, office)).scalar_one())


def offices(session: Any) -> list[str]:
    """The offices people on the caseload belong to, in lower case (to check a name given)."""
    stmt = select(func.lower(col(Person.office))).where(col(Person.office).is_not(None)).distinct()
    return [o for (o,) in session.execute(stmt).all() if o]


def not_screened(
    session: Any, limit: int | None, office: str | None = None
) -> list[tuple[Person, bool]]:
    """People with no completed screening, longest on the caseload first, each with whether a
    screening is under way."""
    started = select(col(Screening.person_id)).where(col(Screening.status) == "in-progress")
    stmt = (
        select(Person, col(Person.id).in_(started))
        .where(col(Person.id).not_in(_completed_people()))
        .order_by(col(Person.created_at), col(Person.crn))
    )
    stmt = _of_office(stmt, office)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(p, bool(underway)) for p, underway in session.execute(stmt).all()]


def count_follow_ups(session: Any, today: date, office: str | None = None) -> tuple[int, int]:
    """Open referrals whose follow-up is due today, and those overdue."""
    due = col(Referral.follow_up_due)
    stmt = select(func.count().filter(due == today), func.count().filter(due < today)).where(
        col(Referral.status).in_(sorted(OPEN)), due.is_not(None), due <= today
    )
    if office:
        stmt = _of_office(
            stmt.select_from(Referral).join(Person, col(Person.id) == col(Referral.person_id)),
            office,
        )
    on_day, late = session.execute(stmt).one()
    return int(on_day or 0), int(late or 0)


def follow_ups(
    session: Any,
    *,
    before: date | None = None,
    on: date | None = None,
    limit: int | None,
    office: str | None = None,
) -> list[tuple[Referral, Person]]:
    """Open referrals due on a day, or before it (overdue), oldest first."""
    due = col(Referral.follow_up_due)
    stmt = (
        select(Referral, Person)
        .join(Person, col(Person.id) == col(Referral.person_id))
        .where(col(Referral.status).in_(sorted(OPEN)), due.is_not(None))
        .order_by(due, col(Referral.id))
    )
    if before is not None:
        stmt = stmt.where(due < before)
    if on is not None:
        stmt = stmt.where(due == on)
    stmt = _of_office(stmt, office)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(r, p) for r, p in session.execute(stmt).all()]
