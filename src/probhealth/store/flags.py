"""Open safety flags, read in one statement without loading the screening and referral
tables' classes: every command about a person shows that person's open flags first, so this
read sits on the path of ``person show`` and must stay light."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from probhealth.store.models import UTCDateTime

OpenFlagRow = tuple[int, str, str, str, datetime, datetime | None, str | None, str]

_SELECT = """
SELECT f.screening_id, f.flag_id, f.severity, f.title, f.raised_at, f.acknowledged_at,
       f.acknowledged_by, p.crn
FROM flag f
JOIN screening s ON s.id = f.screening_id
JOIN person p ON p.id = s.person_id
WHERE f.severity IN :severities AND s.status <> 'voided'
  AND (f.acknowledged_at IS NULL OR NOT EXISTS (
        SELECT 1 FROM referral r
        WHERE r.person_id = s.person_id AND r.created_at >= f.raised_at))
"""


def open_flags(
    session: Session,
    severities: Sequence[str],
    person_id: str | None = None,
    *,
    office: str | None = None,
) -> list[OpenFlagRow]:
    """Flags of ``severities`` still open: not acknowledged, or acknowledged with no action
    recorded since (no referral decision for the person made on or after it was raised).
    (screening id, flag id, severity, title, raised, acknowledged, by whom, CRN), most urgent
    first, then oldest."""
    sql = _SELECT + (" AND s.person_id = :person_id" if person_id is not None else "")
    if office:  # the person's office, in any letter case (as ``referral list`` matches it)
        sql += " AND lower(p.office) = lower(:office)"
    stmt = (
        text(sql + " ORDER BY f.raised_at, f.flag_id")
        .bindparams(bindparam("severities", expanding=True))
        .columns(raised_at=UTCDateTime(), acknowledged_at=UTCDateTime())
    )
    params: dict[str, object] = {"severities": list(severities)}
    if person_id is not None:
        params["person_id"] = person_id
    if office:
        params["office"] = office
    rows = [tuple(r) for r in session.execute(stmt, params).all()]
    order = {s: i for i, s in enumerate(severities)}
    return sorted(rows, key=lambda r: order.get(r[2], 99))
