"""Erasure (a person's right to erasure, or a record entered in error) and retention purges.

Both remove every row about a person; what remains is one tombstone event in the audit log
with the internal id, the coded reason and the counts removed, never a name, a CRN or a note.
Backups and exports made earlier are not reached by an erasure: the README says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from probhealth import clock, validation
from probhealth.errors import BadInput
from probhealth.services.people import require_person
from probhealth.store import audit
from probhealth.store import erasure as repo
from probhealth.store.db import Session, Store

REASONS = ("erasure-request", "entered-in-error", "duplicate-record", "retention-period", "other")
# Measured (issue 14 item 11): while another connection holds a read snapshot, SQLite may not
# write the scrubbed pages back over the old ones, so the erased text stays in the database
# file itself (the -wal holds the new pages); the next probhealth command after that read
# ends checkpoints them in, whether or not the other program is still open.
NOT_SCRUBBED = (
    "Another program is reading this database, so the erased details stay in the database "
    "file itself until that program finishes reading and probhealth runs again (any "
    "probhealth command then completes the erasure)."
)


@dataclass(frozen=True)
class Erased:
    crn: str
    counts: dict[str, int]
    scrubbed: bool = True  # False: another reader kept the old pages in the main file
    # Transfer bundles that carried their records elsewhere: (sent at, bundle hash).
    bundles: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "removed": self.counts,
            "scrubbed": self.scrubbed,
            "bundles_sent": [{"sent_at": at, "bundle_hash": h} for at, h in self.bundles],
        }


def erase_person(store: Store, crn: str, *, reason: str) -> Erased:
    code = reason.strip().lower()
    if code not in REASONS:
        raise BadInput(
            f"{{opt:reason}} must be one of: {', '.join(REASONS)}.",
            hint="The reason is recorded; a free-text note is not, as it could identify the person.",
        )
    with store.write() as session:
        row = require_person(session, crn)
        person_id, shown_crn = row.id, row.crn
        from probhealth.store import transfer

        bundles = tuple(
            (clock.iso_utc(s["sent_at"]) or "", str(s["bundle_hash"]))
            for s in transfer.sent_for(session, person_id)
        )
        removed = _erase_one(session, store.actor, person_id, code)
    return Erased(shown_crn, removed, repo.scrub(store), bundles)


def _erase_one(session: Session, actor: str, person_id: str, reason: str) -> dict[str, int]:
    """Delete one person and everything of theirs; the tombstone event holds only counts."""
    removed = repo.counts(session, person_id)
    repo.delete_person(session, person_id)
    audit.append(
        session,
        actor=actor,
        action="person.erase",
        entity="person",
        entity_id=person_id,
        detail={"reason": reason, "removed": removed},
    )
    return removed


@dataclass(frozen=True)
class Purge:
    before: date
    people: int
    applied: bool
    scrubbed: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "closed_before": self.before.isoformat(),
            "people": self.people,
            "applied": self.applied,
        }
        if self.applied:
            out["scrubbed"] = self.scrubbed
        return out


def purge(store: Store, *, closed_before: str, apply: bool = False) -> Purge:
    """Erase everyone inactive since ``closed_before`` with nothing open (dry run unless apply)."""
    day = validation.iso_date(closed_before, "{opt:closed-before}")
    if day > clock.today():
        raise BadInput("{opt:closed-before} is in the future; a retention date is in the past.")
    instant = datetime.combine(day, time(0, 0), tzinfo=clock.london())
    if not apply:
        with store.read() as session:
            return Purge(day, len(repo.inactive_people(session, instant)), False)
    with store.write() as session:
        ids = list(repo.inactive_people(session, instant))
        for person_id in ids:
            _erase_one(session, store.actor, person_id, "retention-period")
        audit.append(
            session,
            actor=store.actor,
            action="db.purge",
            entity="database",
            detail={"closed_before": day.isoformat(), "people": len(ids)},
        )
    return Purge(day, len(ids), True, repo.scrub(store))
