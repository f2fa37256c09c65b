"""Short reads for completing what a worker types in ``probhealth shell``: CRNs of the caseload,
referral and screening ids. Each is one indexed query, capped, run in its own read
transaction by the caller, so nothing is held between keystrokes."""

from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlmodel import Session, col

from probhealth.store.models import Person
from probhealth.store.models_referral import Referral
from probhealth.store.models_screening import Screening

LIMIT = 40


def _prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def crns(session: Session, start: str, *, limit: int = LIMIT) -> list[str]:
    """CRNs beginning with ``start`` (any case), in order."""
    stmt = (
        select(col(Person.crn))
        .where(col(Person.crn).like(_prefix(start.upper()), escape="\\"))
        .order_by(col(Person.crn))
        .limit(limit)
    )
    return [row[0] for row in session.execute(stmt)]


def referrals(session: Session, start: str, *, limit: int = LIMIT) -> list[tuple[str, str]]:
    """Referral ids beginning with ``start``, newest first, each with "CRN pathway status"."""
    stmt = (
        select(col(Referral.id), col(Person.crn), col(Referral.pathway_id), col(Referral.status))
        .join(Person, col(Person.id) == col(Referral.person_id))
        .where(cast(col(Referral.id), String).like(_prefix(start), escape="\\"))
        .order_by(col(Referral.id).desc())
        .limit(limit)
    )
    return [
        (str(i), f"{crn} {pathway} {status}") for i, crn, pathway, status in session.execute(stmt)
    ]


def screenings(session: Session, start: str, *, limit: int = LIMIT) -> list[tuple[str, str]]:
    """Screening ids beginning with ``start``, newest first, each with "CRN status"."""
    stmt = (
        select(col(Screening.id), col(Person.crn), col(Screening.status))
        .join(Person, col(Person.id) == col(Screening.person_id))
        .where(cast(col(Screening.id), String).like(_prefix(start), escape="\\"))
        .order_by(col(Screening.id).desc())
        .limit(limit)
    )
    return [(str(i), f"{crn} {status}") for i, crn, status in session.execute(stmt)]
