"""Open safety flags: urgent flags nobody has acted on, shown wherever the person comes up.

Kept apart from ``services.screening`` so that every command taking a CRN (which shows its
person's open flags first) loads only this and the store, not the questionnaire engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probhealth import clock
from probhealth.services.people import require_person
from probhealth.store import flags as repo
from probhealth.store.db import Session, Store
from probhealth.taxonomy import URGENT


@dataclass(frozen=True)
class OpenFlag:
    """An urgent safety flag still open: nobody acknowledged it, or it was acknowledged and
    no action (a referral decision) has been recorded for the person since it was raised."""

    crn: str
    screening_id: int
    flag_id: str
    severity: str
    title: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def why_open(self) -> str:
        return "not acknowledged" if self.acknowledged_at is None else "no action recorded"

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "screening": self.screening_id,
            "id": self.flag_id,
            "severity": self.severity,
            "title": self.title,
            "raised_at": clock.iso_utc(self.raised_at),
            "acknowledged_at": clock.iso_utc(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "open_because": self.why_open,
        }


def _open_flags(
    session: Session, person_id: str | None, office: str | None = None
) -> list[OpenFlag]:
    rows = repo.open_flags(session, URGENT, person_id, office=office)
    return [OpenFlag(row[7], *row[:7]) for row in rows]


def open_flags(store: Store, crn: str | None = None) -> list[OpenFlag]:
    """Open urgent safety flags for one person, or across the caseload (``crn`` None).
    Read only: shown wherever the person comes up, so a disclosed risk is never out of sight."""
    with store.read() as session:
        person_id = require_person(session, crn).id if crn else None
        return _open_flags(session, person_id)


def caseload_flags(session: Session, office: str | None = None) -> list[OpenFlag]:
    """Every open urgent flag across the caseload (or one office's people), in a transaction
    already open (``today``)."""
    return _open_flags(session, None, office)
