"""The audit log: append-only and hash-chained.

Each event's ``hash`` covers its id, time, actor, action, entity, entity id, detail and the
previous event's hash, so editing, deleting or reordering any row breaks the chain from that
row on (``verify``). Events are numbered without gaps inside the write transaction, which
holds the database's write lock, so two writers cannot fork the chain.

``detail`` holds counts, field names and codes only: never a name, a date of birth or an answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from probhealth import clock
from probhealth.store.anchor import HEAD_KEY, Head
from probhealth.store.chain import (  # the chain's arithmetic (also used without SQLAlchemy)
    BASELINE_ACTION,
    FIRST_ACTION,
    GENESIS,
    detail_json,
    event_hash,
    stored_time,
)
from probhealth.store.models import AuditEvent

__all__ = ["BASELINE_ACTION", "FIRST_ACTION", "GENESIS", "event_hash"]  # re-exported

# A write transaction of ``Store.write`` collects its events and chains them at its end, so
# the last one can carry the digests of the records the transaction changed (``finish``).
DEFER_KEY = "probhealth_audit_deferred"
_PENDING_KEY = "probhealth_audit_pending"
_Pending = tuple[datetime, str, str, str, str | None, str]


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add one event to the chain (inside the caller's write transaction)."""
    at = clock.now().replace(microsecond=0)
    eid = None if entity_id is None else str(entity_id)
    event = (at, actor, action, entity, eid, detail_json(detail))
    if session.info.get(DEFER_KEY):
        session.info.setdefault(_PENDING_KEY, []).append(event)
    else:
        _insert(session, [event], {})


def append_many(
    session: Session,
    *,
    actor: str,
    events: Sequence[tuple[str, str, str | None, Mapping[str, Any] | None]],
) -> int:
    """Append many events (action, entity, entity id, detail), chained exactly as ``append``
    would chain them one by one."""
    if not events:
        return 0
    at = clock.now().replace(microsecond=0)
    rows = [(at, actor, a, e, i, detail_json(d)) for a, e, i, d in events]
    if session.info.get(DEFER_KEY):
        session.info.setdefault(_PENDING_KEY, []).extend(rows)
    else:
        _insert(session, rows, {})
    return len(rows)


def finish(session: Session, *, actor: str, records: dict[str, dict[str, str | None]]) -> None:
    """Chain and insert the transaction's events; the last carries the digests of the records
    it touched (more than ``digests.CHUNK`` go on ``record.digest`` events after it)."""
    pending: list[_Pending] = session.info.pop(_PENDING_KEY, [])
    if not pending and not records:
        return
    _insert(session, pending, records, actor=actor)


def _insert(
    session: Session,
    events: list[_Pending],
    records: dict[str, dict[str, str | None]],
    *,
    actor: str | None = None,
) -> None:
    from probhealth.store import digests
    from probhealth.store.bulk import insert_rows

    pieces = digests.chunks(records)
    attached: list[str | None] = [None] * len(events)
    if pieces and events:
        attached[-1] = digests.encode(pieces.pop(0))
    at = clock.now().replace(microsecond=0)
    for piece in pieces:
        count = sum(len(v) for v in piece.values())
        events.append(
            (at, actor or "probhealth", "record.digest", "records", None, f'{{"records":{count}}}')
        )
        attached.append(digests.encode(piece))
    last = head(session)
    prev_id, prev_hash = (last.event, last.hash) if last else (0, GENESIS)
    rows = []
    for (when, who, action, entity, eid, detail), recs in zip(events, attached, strict=True):
        prev_id += 1
        digest = event_hash(prev_id, when, who, action, entity, eid, detail, prev_hash, recs)
        rows.append(
            {
                "id": prev_id,
                "at": when,
                "actor": who,
                "action": action,
                "entity": entity,
                "entity_id": eid,
                "detail": detail,
                "prev_hash": prev_hash,
                "hash": digest,
                "records": recs,
            }
        )
        prev_hash = digest
    if len(rows) > 50:  # imports: the driver's executemany, without per-row overhead
        insert_rows(session, AuditEvent, rows, own_ids=True)
    else:
        session.execute(insert(AuditEvent), rows)
    session.info[HEAD_KEY] = (prev_id, prev_hash)


def append_raw(
    conn: Connection, *, actor: str, action: str, entity: str, detail: str, records: str | None
) -> Head:
    """One event through a plain connection (migrations, which have no session)."""
    last = conn.exec_driver_sql("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").first()
    prev_id, prev_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    at = clock.now().replace(microsecond=0)
    digest = event_hash(prev_id + 1, at, actor, action, entity, None, detail, prev_hash, records)
    conn.execute(
        text(
            "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, detail, "
            "prev_hash, hash, records) VALUES (:id, :at, :actor, :action, :entity, NULL, "
            ":detail, :prev, :hash, :records)"
        ),
        {
            "id": prev_id + 1,
            "at": stored_time(at),
            "actor": actor,
            "action": action,
            "entity": entity,
            "detail": detail,
            "prev": prev_hash,
            "hash": digest,
            "records": records,
        },
    )
    return Head(prev_id + 1, digest)


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
    detail, prev hash, hash, record digests), as stored: text may arrive as bytes, a time as text. A row that
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
        raw_records = row[9] if len(row) > 9 else None
        records = None if raw_records is None else _text(raw_records)
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
                ("record digests are not readable text", raw_records is None or records),
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
                event_hash(
                    event_id, at, actor, action, entity, entity_id, detail, prev_hash, records
                )
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


def listing(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """Events in order (the newest ``limit`` of them when limited), as stored: (id, at, actor,
    action, entity, entity id, detail), text as bytes on SQLite, so a row that is not what
    probhealth writes is returned for the caller to name instead of failing in the driver."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    names = ("at", "actor", "action", "entity", "entity_id", "detail")
    cols = ", ".join(["id", *(f"CAST({c} AS BLOB)" if sqlite else c for c in names)])
    where: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        where.append("at >= :since")
        utc = since.astimezone(UTC).replace(tzinfo=None)
        params["since"] = utc.strftime("%Y-%m-%d %H:%M:%S") if sqlite else utc
    if actor:
        # On a server the user is "login (display name)": either part finds it.
        where.append(
            "(actor = :actor"
            " OR substr(actor, 1, length(:as_login)) = :as_login"
            " OR (length(actor) >= length(:as_shown)"
            " AND substr(actor, length(actor) - length(:as_shown) + 1) = :as_shown))"
        )
        params.update(actor=actor, as_login=f"{actor} (", as_shown=f" ({actor})")
    if action:
        where.append("substr(action, 1, length(:action)) = :action")
        params["action"] = action
    sql = f"SELECT {cols} FROM audit_event"  # noqa: S608 - fixed column names
    if where:
        sql += " WHERE " + " AND ".join(where)
    if limit:
        sql += f" ORDER BY id DESC LIMIT {int(limit)}"
        return list(reversed([tuple(r) for r in conn.execute(text(sql), params)]))
    return [tuple(r) for r in conn.execute(text(sql + " ORDER BY id"), params)]


def text_of(value: Any) -> str | None:
    """A stored text value, or None when it is not text."""
    return _text(value)


def instant_of(value: Any) -> datetime | None:
    """A stored time, or None when it is not a time."""
    return _instant(value)
