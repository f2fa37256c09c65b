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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from probhealth import clock
from probhealth.store.anchor import HEAD_KEY, Head
from probhealth.store.models import AuditEvent

GENESIS = "0" * 64
FIRST_ACTION = "db.init"  # event 1 of every database (written by the migration that creates it)


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
    session.info[HEAD_KEY] = (event_id, event.hash)
    return event


def head(session: Session) -> Head | None:
    """The last event (id and hash), or None for an empty log."""
    last = session.execute(
        select(col(AuditEvent.id), col(AuditEvent.hash))
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    return None if last is None else Head(int(last[0]), str(last[1]))


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


@dataclass
class Walk:
    """What one pass over the chain found."""

    events: int = 0
    problems: list[ChainBreak] = field(default_factory=list)
    first_action: str | None = None
    head_id: int = 0
    head_hash: str = GENESIS
    hash_at: dict[int, str] = field(default_factory=dict)  # hashes of the events asked for

    @property
    def broken(self) -> ChainBreak | None:
        return self.problems[0] if self.problems else None


def _text(value: Any) -> str | None:
    """A stored text value, or None when it is not text (a BLOB, bytes that are not UTF-8)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        return value
    return None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def walk(rows: Iterable[Sequence[Any]], *, want: Iterable[int] = ()) -> Walk:
    """Check a stream of raw events in id order (id, at, actor, action, entity, entity id,
    detail, prev hash, hash), as stored: text may arrive as bytes, a time as text. A row that
    cannot even be read is named and the walk carries on from the hash it claims."""
    wanted = set(want)
    result = Walk()
    expected_prev = GENESIS
    expected_id = 1
    for row in rows:
        result.events += 1
        event_id = row[0]
        if not isinstance(event_id, int):
            result.problems.append(ChainBreak(expected_id, "its number is not a number"))
            continue
        gap = event_id != expected_id
        if gap:
            result.problems.append(
                ChainBreak(expected_id, f"event {expected_id} is missing (next is {event_id})")
            )
        at = _instant(row[1])
        actor, action, entity, detail, prev_hash, stored_hash = (
            _text(row[i]) for i in (2, 3, 4, 6, 7, 8)
        )
        entity_id = None if row[5] is None else _text(row[5])
        if event_id == 1:
            result.first_action = action
        bad = [
            what
            for what, ok in (
                ("time is not a time", at is not None),
                ("user is not readable text", actor is not None),
                ("action is not readable text", action is not None),
                ("record is not readable text", entity is not None),
                ("record id is not readable text", row[5] is None or entity_id is not None),
                ("detail is not readable text", detail is not None),
                ("hashes are not readable text", prev_hash is not None and stored_hash),
            )
            if not ok
        ]
        if bad:
            result.problems.append(ChainBreak(event_id, "its " + " and its ".join(bad)))
        elif prev_hash != expected_prev and not gap:
            result.problems.append(
                ChainBreak(event_id, "its link to the previous event does not match")
            )
        else:
            assert at is not None and actor is not None and action is not None
            assert entity is not None and detail is not None and prev_hash is not None
            if (
                event_hash(event_id, at, actor, action, entity, entity_id, detail, prev_hash)
                != stored_hash
            ):
                result.problems.append(
                    ChainBreak(event_id, "its contents were changed after it was written")
                )
        expected_prev = stored_hash or ""
        expected_id = event_id + 1
        result.head_id, result.head_hash = event_id, stored_hash or ""
        if event_id in wanted:
            result.hash_at[event_id] = stored_hash or ""
    return result


def verify_rows(rows: Iterable[Sequence[Any]]) -> tuple[int, ChainBreak | None]:
    """Check a stream of events in id order. Returns (events checked, first break or None)."""
    result = walk(rows)
    return result.events, result.broken


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

    insert_rows(session, AuditEvent, rows, own_ids=True)
    session.info[HEAD_KEY] = (prev_id, prev_hash)
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
