"""The service directory in the database: load a YAML or CSV directory (checked against the
rules' pathways), list and look up entries, and which are open now."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probhealth import clock, validation
from probhealth.directory.hours import is_open
from probhealth.directory.model import Service, from_json, load_file
from probhealth.errors import BadInput, NotFound, Remedy
from probhealth.rules.model import RuleSet
from probhealth.store import audit
from probhealth.store import directory as repo
from probhealth.store.db import Store


def check_file(path: Path, rules: RuleSet) -> list[Service]:
    return load_file(path, known_pathways={p.id for p in rules.pathways})


@dataclass(frozen=True)
class LoadResult:
    added: int
    replaced: int
    fictional: int

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "replaced": self.replaced, "fictional": self.fictional}


def import_services(store: Store, services: list[Service], *, source: str) -> LoadResult:
    """Add or replace every entry in one transaction (all or nothing)."""
    now = clock.now()
    added = replaced = 0
    with store.write() as session:
        for s in services:
            if repo.upsert(
                session,
                service_id=s.id,
                name=s.name,
                fictional=s.fictional,
                data=s.to_json(),
                pathways=s.pathways,
                areas=s.areas,
                last_verified=s.last_verified,
                at=now,
            ):
                replaced += 1
            else:
                added += 1
        audit.append(
            session,
            actor=store.actor,
            action="services.import",
            entity="service",
            detail={"added": added, "replaced": replaced, "source": source},
        )
    return LoadResult(added, replaced, sum(1 for s in services if s.fictional))


def load_path(store: Store, path: Path, rules: RuleSet) -> LoadResult:
    return import_services(
        store, check_file(path, rules), source=path.suffix.lstrip(".").lower() or "file"
    )


def get(store: Store, service_id: str) -> Service:
    with store.read() as session:
        row = repo.get(session, service_id)
        if row is None:
            raise NotFound(
                f"No service {service_id!r} in the directory.",
                remedy=Remedy.of("list-services"),
            )
        return from_json(json.loads(row.data))


def list_services(
    store: Store, *, pathway: str | None = None, area: str | None = None, open_now: bool = False
) -> list[tuple[Service, bool]]:
    now_local = clock.to_london(clock.now())
    with store.read() as session:
        rows = repo.find(
            session, pathways=[pathway] if pathway else None, areas=[area] if area else None
        )
        out = []
        for row in rows:
            service = from_json(json.loads(row.data))
            opened = is_open(
                service.hours, now_local, open_on_bank_holidays=service.bank_holidays_open
            )
            if open_now and not opened:
                continue
            out.append((service, opened))
    if pathway and not rows:
        _known_pathway(pathway)
    return out


def _known_pathway(pathway: str) -> None:
    """Nothing offers ``pathway``: if the rules have no such pathway, say so (a typo), with
    the closest one, rather than an empty list."""
    from probhealth.services.definitions import load_rules

    ids = {p.id for p in load_rules().pathways}
    if pathway not in ids:
        raise BadInput(
            f"Unknown pathway {pathway!r}.{validation.did_you_mean(pathway, ids)}",
            remedy=Remedy.of("show-rules"),
        )


def ensure_demo_directory(store: Store, rules: RuleSet) -> LoadResult | None:
    """Load the bundled fictional directory into a demo database if it has no services."""
    from probhealth.services.definitions import bundled_services_path

    with store.read() as session:
        if repo.count(session):
            return None
    return load_path(store, bundled_services_path(), rules)
