"""Bulk writes for imports and demo data: many rows per statement, inside the caller's write
transaction (all or nothing)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select
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
    """One executemany on the driver's cursor. The statement is compiled once and each column's
    bind processor (e.g. UTC timestamps) is applied column by column, skipping SQLAlchemy's
    per-row parameter machinery; the rows join the session's transaction."""
    batch = list(rows)
    if not batch:
        return 0
    table = model.__table__
    conn = session.connection()
    columns = [c for c in table.columns if c.name in batch[0]]
    compiled = (
        insert(table)
        .values({c.name: bindparam(c.name) for c in columns})
        .compile(dialect=conn.dialect)
    )
    processors = {c.name: c.type.bind_processor(conn.dialect) for c in columns}
    names = (
        list(compiled.positiontup)
        if compiled.positional and compiled.positiontup
        else [c.name for c in columns]
    )
    converted: dict[str, list[Any]] = {}
    for name in names:
        values = [row.get(name) for row in batch]
        proc = processors.get(name)
        converted[name] = [proc(v) if v is not None else None for v in values] if proc else values
    cursor = conn.connection.cursor()
    try:
        if compiled.positional:
            cursor.executemany(
                str(compiled), list(zip(*(converted[n] for n in names), strict=True))
            )
        else:
            cursor.executemany(
                str(compiled),
                [
                    dict(zip(names, vals, strict=True))
                    for vals in zip(*(converted[n] for n in names), strict=True)
                ],
            )
    finally:
        cursor.close()
    return len(batch)
