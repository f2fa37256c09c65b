"""Rows straight from a database cursor, in batches, in constant memory: the one streaming
read that export and the caseload-wide batch reads share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection

BATCH = 2000


def stream(conn: Connection, stmt: Any) -> Iterator[Any]:
    gen = _rows(conn, stmt)
    # Closed by Store.raw() before the connection goes back, even if not read to the end.
    conn.info.setdefault("probhealth_streams", []).append(gen)
    return gen


def _rows(conn: Connection, stmt: Any) -> Iterator[Any]:
    """Rows straight from the DBAPI cursor, in batches: SQLAlchemy binds the parameters, but
    the rows are the driver's own tuples (no Row objects, no result processing), so values are
    raw: on SQLite, timestamps are 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC, dates ISO text,
    booleans 0/1. The export service formats either kind."""
    if conn.dialect.name != "sqlite":
        # Server databases stream through a server-side cursor (SQLAlchemy buffers it),
        # closed here however the reading ends: a named cursor left to the garbage collector
        # stays open on the server and psycopg warns about it.
        with conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt) as server:
            yield from server
        return
    # pysqlite steps the statement as rows are fetched: no buffering, constant memory.
    result = conn.execute(stmt)
    cursor = result.cursor
    try:
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                return
            yield from rows
    finally:
        result.close()
