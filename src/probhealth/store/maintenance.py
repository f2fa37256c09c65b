"""Database health: integrity check, schema revision, audit chain rows, online backup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from probhealth.store.db import Store


def integrity_check(store: Store) -> list[str]:
    """``PRAGMA integrity_check`` (SQLite) -> problems found; empty means ok."""
    if not store.is_sqlite:
        return []
    with store.raw() as conn:
        rows = conn.exec_driver_sql("PRAGMA integrity_check").all()
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    problems = [str(r[0]) for r in rows if str(r[0]).lower() != "ok"]
    problems += [f"broken link from {r[0]} row {r[1]} to {r[2]}" for r in fk]
    return problems


def schema_revision(store: Store) -> str | None:
    with store.raw() as conn:
        return store.current_revision(conn)


AUDIT_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "detail",
    "prev_hash",
    "hash",
    "records",
)


def has_audit_action(store: Store, action: str) -> bool:
    """Whether any audit event has this action (one indexed-or-not probe; stops at the first)."""
    from sqlalchemy import text

    with store.raw() as conn:
        found = conn.execute(
            text("SELECT 1 FROM audit_event WHERE action = :action LIMIT 1"), {"action": action}
        ).first()
    return found is not None


def audit_rows(store: Store, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Every audit event in id order, as stored, streamed in batches from the cursor.

    Raw values, not model objects: on SQLite every column but the id comes as bytes, so a
    row holding a time that is not a time, a BLOB or bytes that are not UTF-8 reaches the
    checker (which names it) instead of failing inside the driver."""
    with store.raw() as conn:
        if conn.dialect.name == "sqlite":
            cols = ", ".join(["id", *(f"CAST({c} AS BLOB)" for c in AUDIT_COLUMNS[1:])])
        else:
            cols = ", ".join(AUDIT_COLUMNS)
        # The result (a server-side cursor on PostgreSQL) closes when the reading ends,
        # also when the reader stops early.
        with conn.execution_options(stream_results=True, yield_per=batch).exec_driver_sql(
            f"SELECT {cols} FROM audit_event ORDER BY id"  # noqa: S608 - fixed column names
        ) as result:
            for row in result:
                yield tuple(row)


def check_records(store: Store, *, split: bool | None = None) -> tuple[int, list[Any]]:
    """Every current record against the digest its last audit event recorded (SQLite):
    (records checked, ``digests.Mismatch`` for each that does not match)."""
    from probhealth.store import digests

    with store.raw() as conn:
        plain = None if store.encrypted else store.target.path  # a second process opens it
        return digests.check(conn, path=plain, split=split)


def sqlite_pragmas(store: Store) -> dict[str, Any]:
    names = (
        "journal_mode",
        "synchronous",
        "foreign_keys",
        "busy_timeout",
        "secure_delete",
        "trusted_schema",
    )
    with store.raw() as conn:
        return {n: conn.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names}


def backup(store: Store, dest: Path) -> tuple[Path, int]:
    """Online backup (safe while others write). Returns the path and its size in bytes."""
    from probhealth.store.migrate import backup_file

    assert store.target.path is not None
    store.engine()  # the source must be a valid, current probhealth database
    backup_file(store.target.path, dest, store.key, store.salt)
    return dest, os.path.getsize(dest)
