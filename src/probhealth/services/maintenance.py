"""Use cases for looking after the database: init, check, backup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probhealth import atomicfile, clock
from probhealth.errors import BadInput, Remedy
from probhealth.services.audit import RecordCheck, Verification, verify, verify_records
from probhealth.store import audit as audit_store
from probhealth.store import maintenance as m
from probhealth.store import schema
from probhealth.store.db import Store


@dataclass(frozen=True)
class InitResult:
    location: str
    created: bool
    revision: str | None
    encrypted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.location,
            "created": self.created,
            "schema": self.revision,
            "encrypted": self.encrypted,
        }


def init(store: Store, *, encrypt: bool = False) -> InitResult:
    store.engine()
    if encrypt and not store.encrypted:
        raise BadInput(
            f"{store.target.display} already exists and is not encrypted; nothing was changed.",
            remedy=Remedy.of("encrypt-db"),
        )
    if not store.created:  # a new database's event 1 is already db.init (store.migrate)
        with store.write() as session:
            audit_store.append(
                session, actor=store.actor, action=audit_store.FIRST_ACTION, entity="database"
            )
    return InitResult(
        store.target.display, store.created, m.schema_revision(store), store.encrypted
    )


@dataclass(frozen=True)
class CheckResult:
    location: str
    revision: str | None
    head: str
    integrity: tuple[str, ...]
    audit: Verification
    records: RecordCheck
    server: bool = False  # a server database: SQLite's integrity check does not apply

    @property
    def audit_events(self) -> int:
        return self.audit.events

    @property
    def audit_break(self) -> audit_store.ChainBreak | None:
        return self.audit.problems[0] if self.audit.problems else None

    @property
    def ok(self) -> bool:
        return (
            not self.integrity
            and self.audit_break is None
            and self.records.ok
            and self.revision == self.head
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.location,
            "schema": self.revision,
            "schema_expected": self.head,
            "integrity": "ok" if not self.integrity else list(self.integrity),
            "integrity_checked": not self.server,
            "audit_events": self.audit_events,
            "audit_head": None if self.audit.head is None else self.audit.head.short(),
            "audit_problems": [
                {"event": p.event_id, "reason": p.reason} for p in self.audit.problems
            ],
            "audit_chain": "ok"
            if self.audit_break is None
            else {
                "first_broken_event": self.audit_break.event_id,
                "reason": self.audit_break.reason,
            },
            "records": self.records.to_json(),
            "ok": self.ok,
        }


def check(store: Store) -> CheckResult:
    problems = tuple(m.integrity_check(store))
    chain = verify(store)
    records = verify_records(store)
    return CheckResult(
        store.target.display,
        m.schema_revision(store),
        schema.HEAD,
        problems,
        chain,
        records,
        server=not store.is_sqlite,
    )


def backup(store: Store, out: Path | None) -> tuple[Path, int]:
    if store.target.path is None:
        raise BadInput(
            "db backup copies SQLite files; back up a PostgreSQL database with pg_dump.",
            remedy=Remedy.of("pg-dump"),
        )
    if out is None:
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        out = store.target.path.with_name(f"{store.target.path.stem}-backup-{stamp}.db")
    out = atomicfile.check_target(out, force=False, exists_hint="Choose another {opt:out}.")
    try:
        path, size = m.backup(store, out)
    except FileExistsError:
        raise BadInput(f"{out} appeared while backing up; choose another {{opt:out}}.") from None
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise BadInput(f"Cannot write the backup {out}: {exc.strerror}.") from None
    with store.write() as session:
        audit_store.append(
            session,
            actor=store.actor,
            action="db.backup",
            entity="database",
            detail={"bytes": size},
        )
    return path, size
