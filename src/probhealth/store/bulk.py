"""Bulk writes for imports and demo data: many rows per statement, inside the caller's write
transaction (all or nothing)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from probhealth.store.models import Person


def existing_crns(session: Session, crns: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(crns), 900):
        chunk = list(crns[start : start + 900])
        found.update(
            r[0] for r in session.execute(select(col(Person.crn)).where(col(Person.crn).in_(chunk)))
        )
    return found


def insert_rows(session: Session, model: Any, rows: Iterable[dict[str, Any]]) -> int:
    batch = list(rows)
    if batch:
        session.execute(insert(model), batch)
    return len(batch)
