"""Reading and verifying the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from probhealth import clock, validation
from probhealth.store import audit
from probhealth.store import maintenance as m
from probhealth.store.db import Store


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        import json

        return {
            "id": self.id,
            "at": clock.iso_utc(self.at),
            "actor": self.actor,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "detail": json.loads(self.detail),
        }


def events(
    store: Store,
    *,
    since: str | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[Event]:
    after = None
    if since:
        day: date = validation.iso_date(since, "{opt:since}")
        after = datetime.combine(day, time(0, 0), tzinfo=clock.london())
    with store.write() as session:
        rows = audit.listing(session, since=after, actor=user, action=action, limit=limit)
        out = [
            Event(r.id or 0, r.at, r.actor, r.action, r.entity, r.entity_id, r.detail) for r in rows
        ]
        # Reading the audit log is itself recorded (REDCap, DHIS2).
        audit.append(
            session,
            actor=store.actor,
            action="audit.list",
            entity="audit",
            detail={"results": len(out)},
        )
    return out


@dataclass(frozen=True)
class Verification:
    events: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "ok": self.ok,
            "first_broken_event": self.broken_at,
            "reason": self.reason,
        }


def verify(store: Store) -> Verification:
    count, broken = audit.verify_rows(_rows(store))
    return Verification(
        count, broken.event_id if broken else None, broken.reason if broken else None
    )


def _rows(store: Store) -> Iterator[Any]:
    yield from m.audit_rows(store)
