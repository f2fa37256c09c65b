"""The audit log: append-only and hash-chained.

Each event's ``hash`` covers its id, time, actor, action, entity, entity id, detail and the
previous event's hash, so editing, deleting or reordering any row breaks the chain from that
row on (``verify``). Events are numbered without gaps inside the write transaction, which
holds the database's write lock, so two writers cannot fork the chain.

``detail`` holds counts, field names and codes only: never a name, a date of birth or an answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from probhealth import clock
from probhealth.store.models import AuditEvent

GENESIS = "0" * 64


def _canonical(
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: str,
    prev_hash: str,
) -> bytes:
    payload = [event_id, clock.iso_utc(at), actor, action, entity, entity_id, detail, prev_hash]
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def event_hash(
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    return hashlib.sha256(
        _canonical(event_id, at, actor, action, entity, entity_id, detail, prev_hash)
    ).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the chain (inside the caller's write transaction)."""
    last = session.execute(
        select(col(AuditEvent.id), col(AuditEvent.hash))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    event_id = int(prev_id) + 1
    at = clock.now().replace(microsecond=0)
    detail_json = json.dumps(
        dict(detail or {}), sort_keys=True, ensure_ascii=True, separators=(",", ":")
    )
    eid = None if entity_id is None else str(entity_id)
    event = AuditEvent(
        id=event_id,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=eid,
        detail=detail_json,
        prev_hash=prev_hash,
        hash=event_hash(event_id, at, actor, action, entity, eid, detail_json, prev_hash),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_rows(
    rows: Iterator[tuple[int, datetime, str, str, str, str | None, str, str, str]],
) -> tuple[int, ChainBreak | None]:
    """Check a stream of events in id order. Returns (events checked, first break or None)."""
    expected_prev = GENESIS
    expected_id = 1
    count = 0
    for event_id, at, actor, action, entity, entity_id, detail, prev_hash, stored_hash in rows:
        count += 1
        if event_id != expected_id:
            return count, ChainBreak(
                expected_id, f"event {expected_id} is missing (next is {event_id})"
            )
        if prev_hash != expected_prev:
            return count, ChainBreak(event_id, "its link to the previous event does not match")
        if (
            event_hash(event_id, at, actor, action, entity, entity_id, detail, prev_hash)
            != stored_hash
        ):
            return count, ChainBreak(event_id, "its contents were changed after it was written")
        expected_prev = stored_hash
        expected_id += 1
    return count, None


def append_many(
    session: Session,
    *,
    actor: str,
    events: Sequence[tuple[str, str, str | None, Mapping[str, Any] | None]],
) -> int:
    """Append many events (action, entity, entity id, detail) with one bulk insert, chained
    exactly as ``append`` would chain them one by one."""
    if not events:
        return 0
    last = session.execute(
        select(col(AuditEvent.id), col(AuditEvent.hash))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    prev_id, prev_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    at = clock.now().replace(microsecond=0)
    rows = []
    for action, entity, entity_id, detail in events:
        prev_id += 1
        detail_json = (
            json.dumps(dict(detail), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
            if detail
            else "{}"
        )
        digest = event_hash(prev_id, at, actor, action, entity, entity_id, detail_json, prev_hash)
        rows.append(
            {
                "id": prev_id,
                "at": at,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "detail": detail_json,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    from probhealth.store.bulk import insert_rows

    insert_rows(session, AuditEvent, rows)
    return len(rows)


def listing(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events in order (the newest ``limit`` of them when limited)."""
    stmt = select(AuditEvent)
    if since is not None:
        stmt = stmt.where(col(AuditEvent.at) >= since)
    if actor:
        stmt = stmt.where(col(AuditEvent.actor) == actor)
    if action:
        stmt = stmt.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if limit:
        stmt = stmt.order_by(col(AuditEvent.id).desc()).limit(limit)
        return list(reversed(session.execute(stmt).scalars().all()))
    return list(session.execute(stmt.order_by(col(AuditEvent.id))).scalars().all())
