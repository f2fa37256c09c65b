"""Reading and verifying the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from probhealth import clock, validation
from probhealth.errors import BadInput
from probhealth.store import anchor, audit
from probhealth.store import maintenance as m
from probhealth.store.anchor import Head
from probhealth.store.db import Store

UNREADABLE = "(unreadable)"


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime | None  # None: the stored time is not a time
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: str
    problem: str | None = None  # what in this row is not as probhealth writes it

    def to_json(self) -> dict[str, Any]:
        import json

        try:
            detail: Any = json.loads(self.detail)
        except ValueError:
            detail = None
        return {
            "id": self.id,
            "at": None if self.at is None else clock.iso_utc(self.at),
            "actor": self.actor,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "detail": detail,
            "problem": self.problem,
        }


def _event(row: tuple[Any, ...]) -> Event:
    """One stored row, each unreadable part replaced by a mark and named in ``problem``."""
    at = audit.instant_of(row[1])
    texts = [audit.text_of(v) for v in row[2:7]]
    bad = [] if at is not None else ["time is not a time"]
    names = ("user", "action", "record", "record id", "detail")
    for name, raw, value in zip(names, row[2:7], texts, strict=True):
        if value is None and not (name == "record id" and raw is None):
            bad.append(f"{name} is not readable text")
    if texts[4] is not None:
        import json

        try:
            json.loads(texts[4])
        except ValueError:
            bad.append("detail is not JSON")
    actor, action, entity, entity_id, detail = (UNREADABLE if v is None else v for v in texts)
    return Event(
        int(row[0]),
        at,
        actor,
        action,
        entity,
        None if row[5] is None else entity_id,
        detail,
        ("its " + " and its ".join(bad)) if bad else None,
    )


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
        out = [_event(r) for r in rows]
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
    problems: tuple[audit.ChainBreak, ...]
    head: Head | None  # the last event (None for an empty log)
    anchor: Head | None  # what the anchor file beside the database says
    anchor_note: str | None  # why there is no anchor to compare with, if there is none
    start_note: str | None = None  # a log begun before db.init existed: how its start is known

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_at(self) -> int | None:
        return self.problems[0].event_id if self.problems else None

    @property
    def reason(self) -> str | None:
        return self.problems[0].reason if self.problems else None

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "ok": self.ok,
            "first_broken_event": self.broken_at,
            "reason": self.reason,
            "problems": [{"event": p.event_id, "reason": p.reason} for p in self.problems],
            "head": None if self.head is None else self.head.short(),
            "head_hash": None if self.head is None else self.head.hash,
            "anchor": None if self.anchor is None else self.anchor.short(),
            "anchor_note": self.anchor_note,
            "start_note": self.start_note,
        }


def parse_head(text: str) -> Head:
    """``ID:HASH`` as printed by ``audit verify`` (at least the first 16 hex digits)."""
    event, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if (
        not event.isdigit()
        or not 16 <= len(digest) <= 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise BadInput(
            "{opt:expect-head} must be an event number and hash as printed by audit verify, "
            "e.g. 41:3f9a0c2e81d4b7a6."
        )
    return Head(int(event), digest)


def verify(store: Store, *, expect: Head | None = None) -> Verification:
    """Walk the chain and compare its start with ``db.init`` and its end with the anchor file
    beside the database and with ``expect`` (a head noted earlier)."""
    anchored: Head | None = None
    note: str | None = None
    if store.target.path is not None:
        try:
            anchored = anchor.read(store.target.path)
        except anchor.Unreadable as exc:
            note = f"the anchor file {anchor.path_for(store.target.path)} is unreadable: {exc}"
        else:
            if anchored is None:
                note = "there is no anchor file beside the database yet (the next change writes it)"
    else:
        note = (
            "a server database has no anchor file: note the head and give it when you verify again"
        )
    marks = [h for h in (anchored, expect) if h is not None]
    start_note: str | None = None
    walked = audit.walk(_rows(store), want=[h.event for h in marks])
    problems = list(walked.problems)
    if walked.events == 0:
        problems.append(
            audit.ChainBreak(1, f"the log is empty: event 1 ({audit.FIRST_ACTION}) is missing")
        )
    elif (
        walked.first_action is not None
        and walked.first_action != audit.FIRST_ACTION
        and m.has_audit_action(store, audit.BASELINE_ACTION)
    ):
        # A database older than the anchor (upgraded across migration 0009): its event 1 was
        # never db.init. Its start is still checked by the chain (event 1 links to the genesis).
        start_note = (
            f"the log began before probhealth wrote {audit.FIRST_ACTION} (the database is older "
            "than the audit anchor), so its start is checked by the chain alone"
        )
    elif walked.first_action is not None and walked.first_action != audit.FIRST_ACTION:
        problems.append(
            audit.ChainBreak(
                1,
                f"event 1 is {walked.first_action}, not {audit.FIRST_ACTION}: "
                "the start of the log is missing",
            )
        )
    for mark, what in ((anchored, "the anchor file"), (expect, "the head you gave")):
        if mark is None:
            continue
        if walked.head_id < mark.event:
            missing = (
                f"event {mark.event} is"
                if walked.head_id + 1 == mark.event
                else f"events {walked.head_id + 1} to {mark.event} are"
            )
            problems.append(
                audit.ChainBreak(
                    walked.head_id + 1,
                    f"{missing} missing from the end: {what} says the log reached event "
                    f"{mark.event}, it now ends at {walked.head_id}",
                )
            )
        elif not walked.hash_at.get(mark.event, "").startswith(mark.hash):
            problems.append(
                audit.ChainBreak(
                    mark.event,
                    f"it is not the event {what} names: the log was rewritten from there on",
                )
            )
    head = Head(walked.head_id, walked.head_hash) if walked.events else None
    return Verification(walked.events, tuple(problems), head, anchored, note, start_note)


def _rows(store: Store) -> Iterator[Any]:
    yield from m.audit_rows(store)


@dataclass(frozen=True)
class RecordProblem:
    table: str
    id: str  # the record's key (internal ids and field names, never a value)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class RecordCheck:
    checked: int
    problems: tuple[RecordProblem, ...]
    available: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "records_checked": self.checked,
            "available": self.available,
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
        }


def _key(raw: str) -> str:
    """A record id as people read it: ``a`` or ``a/b`` for a two-part key."""
    import json

    try:
        parts = json.loads(raw)
    except ValueError:
        return raw
    return "/".join(str(p) for p in parts) if isinstance(parts, list) else raw


_REASONS = {
    "unreadable": "its record digests cannot be read",
    "added": "no audit event records it: added outside probhealth",
    "put_back": "event {e} recorded it deleted: put back outside probhealth",
    "changed": "changed outside probhealth since event {e}",
    "deleted": "deleted outside probhealth (event {e} recorded it)",
}


def verify_records(store: Store, *, split: bool | None = None) -> RecordCheck:
    """Recompute the digest of every current record and compare it with the digest its last
    audit event recorded. Names table and id of each record changed, added or deleted by
    something other than probhealth; never a value. ``split``: share the tables with a second
    process (None: when the database is large enough to gain by it)."""
    if not store.is_sqlite:
        return RecordCheck(0, (), available=False)
    checked, found = m.check_records(store, split=split)
    problems = [
        RecordProblem(p.table, _key(p.key), _REASONS[p.kind].format(e=p.event)) for p in found
    ]
    return RecordCheck(checked, tuple(problems))
