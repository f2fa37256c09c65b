"""The audit chain's arithmetic, without SQLAlchemy: how an event is hashed, how its detail and
time are written, and appending one event through a plain DB-API connection.

``store/audit.py`` (sessions, verification) and the plain export path (``store/db.py``
``Plain``, which never loads SQLAlchemy) both chain events with these functions, so an event
hashes the same whichever path wrote it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from probhealth import clock
from probhealth.store.anchor import Head

GENESIS = "0" * 64
FIRST_ACTION = "db.init"  # event 1 of every database (written by the migration that creates it)
# Written by migration 0009 into a database that already had events: a log begun before
# db.init existed, whose event 1 is whatever that database first recorded.
BASELINE_ACTION = "record.baseline"


def event_hash(
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: str,
    prev_hash: str,
    records: str | None = None,
) -> str:
    """SHA-256 of the event's canonical form: a compact ASCII JSON array of its fields, the
    record digests last (only for events since they began)."""
    payload = [event_id, clock.iso_utc(at), actor, action, entity, entity_id, detail, prev_hash]
    if records is not None:  # events before record digests began hash as they always did
        payload.append(records)
    return hashlib.sha256(
        json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
    ).hexdigest()


def detail_json(detail: Mapping[str, Any] | None) -> str:
    if not detail:
        return "{}"
    return json.dumps(dict(detail), sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def stored_time(at: datetime) -> str:
    """An event's time as SQLite holds it (UTC, what SQLAlchemy's DateTime writes)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def append_plain(
    execute: Callable[..., Any],
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Head:
    """One event (no record digests: the transaction changed no record) through a DB-API
    ``execute`` (qmark style), inside the caller's write transaction; chained exactly as
    ``audit.append`` chains it. Returns the new head."""
    last = execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    prev_id, prev_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    at = clock.now().replace(microsecond=0)
    text = detail_json(detail)
    event_id = prev_id + 1
    digest = event_hash(event_id, at, actor, action, entity, entity_id, text, prev_hash)
    execute(
        "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, detail, prev_hash,"
        " hash, records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (event_id, stored_time(at), actor, action, entity, entity_id, text, prev_hash, digest),
    )
    return Head(event_id, digest)
