"""Database health: integrity check, schema revision, audit chain rows, online backup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from probhealth.store.db import Store
from probhealth.store.models import AuditEvent


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


def audit_rows(store: Store, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Every audit event in id order, streamed in batches from the cursor."""
    cols = [
        col(c)
        for c in (
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.detail,
            AuditEvent.prev_hash,
            AuditEvent.hash,
        )
    ]
    with store.raw() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(*cols).order_by(col(AuditEvent.id))
        )
        for row in result:
            yield tuple(row)


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
    backup_file(store.target.path, dest)
    return dest, os.path.getsize(dest)
