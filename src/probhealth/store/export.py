"""Streaming reads for CSV export: each table as rows from a database cursor in batches, in a
stable order, filtered by period, office and questionnaire. Nothing here holds more than one
batch of rows; the export service turns rows into CSV lines as they arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, and_, func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from probhealth.store.export_sqlite import Filters
from probhealth.store.models import (
    Answer,
    AuditEvent,
    Barrier,
    Consent,
    Flag,
    Goal,
    GoalReview,
    Meta,
    Need,
    Person,
    QuestionnaireDef,
    Referral,
    ReferralEvent,
    Score,
    Screening,
    Suggestion,
)
from probhealth.store.stream import stream as _stream

__all__ = ["Filters"]  # defined beside the SQLite fast path, which needs no SQLAlchemy


def _period(stmt: Any, column: Any, f: Filters) -> Any:
    if f.since is not None:
        stmt = stmt.where(column >= f.since)
    if f.until is not None:
        stmt = stmt.where(column < f.until)
    return stmt


def _office(stmt: Any, f: Filters) -> Any:
    if f.office:
        stmt = stmt.where(func.lower(col(Person.office)) == f.office.lower())
    return stmt


def pseudonym_key(conn: Connection) -> str:
    row = conn.execute(select(col(Meta.value)).where(col(Meta.key) == "pseudonym_key")).first()
    if row is None:  # pragma: no cover - written by the first migration
        raise RuntimeError("this database has no pseudonym key")
    return str(row[0])


PERSON_COLS = (
    col(Person.id),
    col(Person.crn),
    col(Person.given_name),
    col(Person.family_name),
    col(Person.dob),
    col(Person.sex),
    col(Person.postcode),
    col(Person.office),
    col(Person.language),
    col(Person.needs_interpreter),
    col(Person.communication_needs),
    col(Person.release_date),
    col(Person.created_at),
    col(Person.nhs_number),
    col(Person.address),
    col(Person.nation),
    col(Person.stage),
)


def people(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = _office(_period(select(*PERSON_COLS), col(Person.created_at), f), f).order_by(
        col(Person.created_at), col(Person.id)
    )
    return _stream(conn, stmt)


def _screening_filter(stmt: Any, f: Filters) -> Any:
    stmt = _period(stmt, col(Screening.started_at), f)
    if f.questionnaire:
        stmt = stmt.where(col(Screening.questionnaire_id) == f.questionnaire)
    return _office(stmt, f)


def stored_versions(conn: Connection, questionnaire: str | None) -> list[tuple[str, int, str, str]]:
    """(id, version, content hash, source) of every questionnaire version stored, or of one
    questionnaire's: the columns of an export that no screening matches."""
    stmt = select(
        col(QuestionnaireDef.id),
        col(QuestionnaireDef.version),
        col(QuestionnaireDef.content_hash),
        col(QuestionnaireDef.source_text),
    ).order_by(col(QuestionnaireDef.id), col(QuestionnaireDef.version))
    if questionnaire:
        stmt = stmt.where(col(QuestionnaireDef.id) == questionnaire)
    return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


def screening_versions(conn: Connection, f: Filters) -> list[tuple[str, int, str, str]]:
    """(id, version, content hash, source) of every questionnaire version the export covers."""
    sub = (
        _screening_filter(
            select(col(Screening.questionnaire_id), col(Screening.questionnaire_version)).join(
                Person, col(Person.id) == col(Screening.person_id)
            ),
            f,
        )
        .distinct()
        .subquery()
    )
    stmt = (
        select(
            col(QuestionnaireDef.id),
            col(QuestionnaireDef.version),
            col(QuestionnaireDef.content_hash),
            col(QuestionnaireDef.source_text),
        )
        .join(
            sub,
            and_(
                sub.c.questionnaire_id == col(QuestionnaireDef.id),
                sub.c.questionnaire_version == col(QuestionnaireDef.version),
            ),
        )
        .order_by(col(QuestionnaireDef.id), col(QuestionnaireDef.version))
    )
    return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


def screenings(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = _screening_filter(
        select(
            col(Screening.id),
            col(Screening.person_id),
            col(Person.crn),
            col(Person.given_name),
            col(Person.family_name),
            col(Person.dob),
            col(Person.sex),
            col(Person.office),
            col(Person.postcode),
            col(Screening.questionnaire_id),
            col(Screening.questionnaire_version),
            col(Screening.status),
            col(Screening.setting),
            col(Screening.started_by),
            col(Screening.started_at),
            col(Screening.completed_at),
        ).join(Person, col(Person.id) == col(Screening.person_id)),
        f,
    ).order_by(col(Screening.id))
    return _stream(conn, stmt)


def _of_screenings(stmt: Any, screening_id_col: Any, f: Filters) -> Any:
    """Restrict a child table to the exported screenings (same filters), ordered by screening."""
    stmt = stmt.join(Screening, col(Screening.id) == screening_id_col).join(
        Person, col(Person.id) == col(Screening.person_id)
    )
    return _screening_filter(stmt, f).order_by(screening_id_col)


def answers(conn: Connection, f: Filters, *, with_person: bool = False) -> Iterator[Any]:
    """(screening id, item, value JSON, declined[, answered at, person, questionnaire, version, crn])."""
    cols = [col(Answer.screening_id), col(Answer.item_id), col(Answer.value), col(Answer.declined)]
    if with_person:
        cols += [
            col(Answer.answered_at),
            col(Screening.person_id),
            col(Screening.questionnaire_id),
            col(Screening.questionnaire_version),
            col(Person.crn),
        ]
    stmt = _of_screenings(
        select(*cols).where(col(Answer.hidden).is_(False)), col(Answer.screening_id), f
    )
    return _stream(conn, stmt)


def answers_by_screening(conn: Connection, f: Filters) -> Iterator[Any]:
    """(screening id, JSON object item -> value) per screening; a declined item maps to null.

    The database builds the object (SQLite json_group_object, PostgreSQL json_object_agg), so
    a wide export fetches one row per screening instead of one per answer."""
    if conn.dialect.name == "sqlite":
        packed = func.json_group_object(col(Answer.item_id), func.json(col(Answer.value)))
    else:
        packed = func.json_object_agg(col(Answer.item_id), func.cast(col(Answer.value), JSON))
    stmt = _of_screenings(
        select(col(Answer.screening_id), packed)
        .where(col(Answer.hidden).is_(False))
        .group_by(col(Answer.screening_id)),
        col(Answer.screening_id),
        f,
    )
    return _stream(conn, stmt)


def scores(conn: Connection, f: Filters) -> Iterator[Any]:
    return _stream(
        conn,
        _of_screenings(
            select(col(Score.screening_id), col(Score.scale_id), col(Score.value), col(Score.band)),
            col(Score.screening_id),
            f,
        ),
    )


def flags(conn: Connection, f: Filters) -> Iterator[Any]:
    return _stream(
        conn,
        _of_screenings(
            select(col(Flag.screening_id), col(Flag.flag_id), col(Flag.acknowledged_at)),
            col(Flag.screening_id),
            f,
        ),
    )


def consent(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(Consent.id),
        col(Consent.person_id),
        col(Person.crn),
        col(Consent.purpose),
        col(Consent.status),
        col(Consent.method),
        col(Consent.note),
        col(Consent.recorded_by),
        col(Consent.recorded_at),
    ).join(Person, col(Person.id) == col(Consent.person_id))
    return _stream(
        conn, _office(_period(stmt, col(Consent.recorded_at), f), f).order_by(col(Consent.id))
    )


def needs(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(Need.id),
        col(Need.person_id),
        col(Person.crn),
        col(Need.screening_id),
        col(Need.domain),
        col(Need.severity),
        col(Need.status),
        col(Need.source),
        col(Need.note),
        col(Need.created_at),
        col(Need.updated_at),
    ).join(Person, col(Person.id) == col(Need.person_id))
    return _stream(conn, _office(_period(stmt, col(Need.created_at), f), f).order_by(col(Need.id)))


def barriers(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(Barrier.id),
        col(Barrier.person_id),
        col(Person.crn),
        col(Barrier.screening_id),
        col(Barrier.type),
        col(Barrier.source),
        col(Barrier.note),
        col(Barrier.created_at),
        col(Barrier.resolved_at),
    ).join(Person, col(Person.id) == col(Barrier.person_id))
    return _stream(
        conn, _office(_period(stmt, col(Barrier.created_at), f), f).order_by(col(Barrier.id))
    )


def suggestions(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(Suggestion.id),
        col(Suggestion.person_id),
        col(Person.crn),
        col(Suggestion.screening_id),
        col(Suggestion.pathway_id),
        col(Suggestion.urgency),
        col(Suggestion.reasons),
        col(Suggestion.already_open),
        col(Suggestion.rules_id),
        col(Suggestion.rules_version),
        col(Suggestion.created_at),
    ).join(Person, col(Person.id) == col(Suggestion.person_id))
    if f.questionnaire:
        stmt = stmt.join(Screening, col(Screening.id) == col(Suggestion.screening_id)).where(
            col(Screening.questionnaire_id) == f.questionnaire
        )
    return _stream(
        conn, _office(_period(stmt, col(Suggestion.created_at), f), f).order_by(col(Suggestion.id))
    )


def referrals(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(Referral.id),
        col(Referral.person_id),
        col(Person.crn),
        col(Referral.pathway_id),
        col(Referral.service_id),
        col(Referral.self_referral),
        col(Referral.status),
        col(Referral.urgency),
        col(Referral.screening_id),
        col(Referral.outcome),
        col(Referral.closed_reason),
        col(Referral.follow_up_due),
        col(Referral.created_by),
        col(Referral.created_at),
        col(Referral.closed_at),
    ).join(Person, col(Person.id) == col(Referral.person_id))
    return _stream(
        conn, _office(_period(stmt, col(Referral.created_at), f), f).order_by(col(Referral.id))
    )


def referral_events(conn: Connection, f: Filters) -> Iterator[Any]:
    """Events of the exported referrals (filtered by the referral's creation), by referral."""
    stmt = (
        select(
            col(ReferralEvent.id),
            col(ReferralEvent.referral_id),
            col(Referral.person_id),
            col(Person.crn),
            col(Referral.pathway_id),
            col(ReferralEvent.from_status),
            col(ReferralEvent.to_status),
            col(ReferralEvent.reason),
            col(ReferralEvent.note),
            col(ReferralEvent.event_date),
            col(ReferralEvent.recorded_by),
            col(ReferralEvent.recorded_at),
        )
        .join(Referral, col(Referral.id) == col(ReferralEvent.referral_id))
        .join(Person, col(Person.id) == col(Referral.person_id))
    )
    stmt = _office(_period(stmt, col(Referral.created_at), f), f).order_by(
        col(ReferralEvent.referral_id), col(ReferralEvent.id)
    )
    return _stream(conn, stmt)


def goals(conn: Connection, f: Filters) -> Iterator[Any]:
    last = (
        select(
            col(GoalReview.goal_id),
            func.max(col(GoalReview.id)).label("last_id"),
            func.count().label("n"),
        )
        .group_by(col(GoalReview.goal_id))
        .subquery()
    )
    stmt = (
        select(
            col(Goal.id),
            col(Goal.person_id),
            col(Person.crn),
            col(Goal.text),
            col(Goal.domain),
            col(Goal.target_date),
            col(Goal.status),
            col(Goal.created_by),
            col(Goal.created_at),
            last.c.n,
            col(GoalReview.progress),
            col(GoalReview.reviewed_at),
        )
        .join(Person, col(Person.id) == col(Goal.person_id))
        .outerjoin(last, last.c.goal_id == col(Goal.id))
        .outerjoin(GoalReview, col(GoalReview.id) == last.c.last_id)
    )
    return _stream(conn, _office(_period(stmt, col(Goal.created_at), f), f).order_by(col(Goal.id)))


def audit(conn: Connection, f: Filters) -> Iterator[Any]:
    stmt = select(
        col(AuditEvent.id),
        col(AuditEvent.at),
        col(AuditEvent.actor),
        col(AuditEvent.action),
        col(AuditEvent.entity),
        col(AuditEvent.entity_id),
        col(AuditEvent.detail),
        col(AuditEvent.prev_hash),
        col(AuditEvent.hash),
    )
    return _stream(conn, _period(stmt, col(AuditEvent.at), f).order_by(col(AuditEvent.id)))


def count(conn: Connection, table: str, f: Filters) -> int | None:
    """Rows an export will write, for the progress bar (None when unknown)."""
    if table in ("screenings", "answers"):
        stmt = _screening_filter(
            select(func.count())
            .select_from(Screening)
            .join(Person, col(Person.id) == col(Screening.person_id)),
            f,
        )
        return int(conn.execute(stmt).scalar_one())
    if table == "people":
        return int(
            conn.execute(
                _office(
                    _period(select(func.count()).select_from(Person), col(Person.created_at), f), f
                )
            ).scalar_one()
        )
    return None


@dataclass(frozen=True)
class SensitiveCandidates:
    """What may exist because of a sensitive answer (issue 12, hazard H23): the screenings
    whose flags, needs or suggestion reasons could come from one, with their answers and the
    person's facts, and the suggestions, referrals and needs that could depend on them."""

    screenings: list[
        Any
    ]  # (id, qid, version, started, completed, dob, sex, release, nation, stage)
    answers: list[Any]  # (screening id, item, value JSON, declined), hidden answers too
    suggestions: list[Any]  # (id, screening id, pathway, reasons JSON)
    referrals: list[Any]  # (id, screening id, pathway, reasons JSON)
    needs: list[Any]  # (id, screening id, domain), from screenings only


def sensitive_candidates(
    conn: Connection,
    flag_ids: frozenset[str],
    need_domains: frozenset[str],
    rule_ids: frozenset[str],
    pathway_ids: frozenset[str],
) -> SensitiveCandidates:
    """Candidate screenings: a flag or need that a sensitive item can raise, or a suggestion or
    referral whose reasons name a rule that reads one (a superset: the caller checks each).
    Only candidates are read, so a caseload with no sensitive disclosure costs four lookups."""
    from sqlalchemy import false, or_, union

    def naming(reasons: Any) -> Any:
        return or_(*(reasons.contains(f'"{r}"', autoescape=True) for r in sorted(rule_ids)))

    parts: list[Any] = [
        select(col(Flag.screening_id).label("sid")).where(col(Flag.flag_id).in_(sorted(flag_ids))),
        select(col(Need.screening_id).label("sid")).where(
            col(Need.source) == "screening",
            col(Need.screening_id).is_not(None),
            col(Need.domain).in_(sorted(need_domains)),
        ),
    ]
    if rule_ids:
        for table in (Suggestion, Referral):
            parts.append(
                select(col(table.screening_id).label("sid")).where(
                    col(table.screening_id).is_not(None),
                    naming(col(table.reasons)),
                )
            )
    sids = union(*parts).subquery()
    candidate = select(sids.c.sid)
    screenings = conn.execute(
        select(
            col(Screening.id),
            col(Screening.questionnaire_id),
            col(Screening.questionnaire_version),
            col(Screening.started_at),
            col(Screening.completed_at),
            col(Person.dob),
            col(Person.sex),
            col(Person.release_date),
            col(Person.nation),
            col(Person.stage),
        )
        .join(Person, col(Person.id) == col(Screening.person_id))
        .where(col(Screening.id).in_(candidate))
        .order_by(col(Screening.id))
    ).all()
    answers = conn.execute(
        select(
            col(Answer.screening_id), col(Answer.item_id), col(Answer.value), col(Answer.declined)
        ).where(col(Answer.screening_id).in_(candidate))
    ).all()
    of_pathway = col(Suggestion.pathway_id).in_(sorted(pathway_ids)) if pathway_ids else false()
    suggestions = conn.execute(
        select(
            col(Suggestion.id),
            col(Suggestion.screening_id),
            col(Suggestion.pathway_id),
            col(Suggestion.reasons),
        )
        .where(or_(col(Suggestion.screening_id).in_(candidate), of_pathway))
        .order_by(col(Suggestion.id))
    ).all()
    ref_pathway = col(Referral.pathway_id).in_(sorted(pathway_ids)) if pathway_ids else false()
    referrals = conn.execute(
        select(
            col(Referral.id),
            col(Referral.screening_id),
            col(Referral.pathway_id),
            col(Referral.reasons),
        )
        .where(or_(col(Referral.screening_id).in_(candidate), ref_pathway))
        .order_by(col(Referral.id))
    ).all()
    needs = conn.execute(
        select(col(Need.id), col(Need.screening_id), col(Need.domain))
        .where(col(Need.source) == "screening", col(Need.screening_id).in_(candidate))
        .order_by(col(Need.id))
    ).all()
    return SensitiveCandidates(
        [tuple(r) for r in screenings],
        [tuple(r) for r in answers],
        [tuple(r) for r in suggestions],
        [tuple(r) for r in referrals],
        [tuple(r) for r in needs],
    )


def suggestion_reasons(conn: Connection, ids: Any) -> list[tuple[int, str | None]]:
    """(id, reasons JSON) of the given suggestions."""
    if not ids:
        return []
    rows = conn.execute(
        select(col(Suggestion.id), col(Suggestion.reasons)).where(
            col(Suggestion.id).in_(sorted(ids))
        )
    ).all()
    return [(int(r[0] or 0), r[1]) for r in rows]
