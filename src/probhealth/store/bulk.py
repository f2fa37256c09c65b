"""Bulk writes for imports and demo data: many rows per statement, inside the caller's write
transaction (all or nothing)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select
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


def next_id(session: Session, model: Any) -> int:
    """The id after the largest in ``model``'s table (1 for an empty table)."""
    top = session.execute(select(func.coalesce(func.max(col(model.id)), 0))).scalar_one()
    return int(top) + 1


def last_crn(session: Session, *, prefix: str) -> str | None:
    """The largest CRN starting with ``prefix`` (demo people are Z...), or None."""
    top = session.execute(
        select(func.max(col(Person.crn))).where(col(Person.crn).like(f"{prefix}%"))
    ).scalar_one()
    return str(top) if top else None


def insert_rows(
    session: Session, model: Any, rows: Iterable[dict[str, Any]], *, own_ids: bool = False
) -> int:
    """One executemany on the driver's cursor. The statement is compiled once and each column's
    bind processor (e.g. UTC timestamps) is applied column by column, skipping SQLAlchemy's
    per-row parameter machinery; the rows join the session's transaction. ``own_ids``: the
    table's ids are always given by the caller (the audit chain), never drawn from its
    sequence, so the sequence is left alone (moving it needs a privilege workers lack)."""
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
    if not own_ids:
        _advance_sequence(conn, table, columns)
    return len(batch)


def _advance_sequence(conn: Any, table: Any, columns: list[Any]) -> None:
    """Rows given their own ids leave a PostgreSQL sequence behind (SQLite takes the largest
    id + 1 by itself): move it to the largest id, or the next plain insert collides with them
    (after ``demo --people``, ``barrier add`` and ``goal add`` failed on a duplicate id). The
    caller's write transaction holds the write lock, so no other writer is between."""
    if conn.dialect.name != "postgresql":
        return
    serial = table.autoincrement_column  # an integer primary key filled by a sequence
    if serial is None or serial.name not in {c.name for c in columns}:
        return
    name, key = table.name, serial.name
    top = select(func.max(table.c[key])).scalar_subquery()
    conn.execute(
        select(func.setval(func.pg_get_serial_sequence(name, key), top)).where(top.is_not(None))
    )
