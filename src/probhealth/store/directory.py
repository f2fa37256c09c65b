"""Queries on the service directory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlmodel import Session, col

from probhealth.store.models import Service, ServiceArea, ServicePathway


def upsert(
    session: Session,
    *,
    service_id: str,
    name: str,
    fictional: bool,
    data: dict[str, object],
    pathways: Iterable[str],
    areas: Iterable[str],
    last_verified: date,
    at: datetime,
) -> bool:
    """Insert or replace one entry; returns True when it replaced an existing one."""
    existing = session.get(Service, service_id)
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if existing is None:
        session.add(
            Service(
                id=service_id,
                name=name,
                fictional=fictional,
                data=payload,
                last_verified=last_verified,
                updated_at=at,
            )
        )
    else:
        existing.name, existing.fictional, existing.data = name, fictional, payload
        existing.last_verified, existing.updated_at = last_verified, at
        session.add(existing)
        session.execute(delete(ServicePathway).where(col(ServicePathway.service_id) == service_id))
        session.execute(delete(ServiceArea).where(col(ServiceArea.service_id) == service_id))
    session.flush()
    for p in dict.fromkeys(pathways):
        session.add(ServicePathway(service_id=service_id, pathway_id=p))
    for a in dict.fromkeys(x.casefold() for x in areas):
        session.add(ServiceArea(service_id=service_id, area_key=a))
    session.flush()
    return existing is not None


def get(session: Session, service_id: str) -> Service | None:
    return session.get(Service, service_id)


def find(
    session: Session, *, pathways: Sequence[str] | None = None, areas: Sequence[str] | None = None
) -> Sequence[Service]:
    stmt = select(Service).distinct()
    if pathways:
        stmt = stmt.join(ServicePathway, col(ServicePathway.service_id) == col(Service.id)).where(
            col(ServicePathway.pathway_id).in_(list(pathways))
        )
    if areas is not None:
        keys = [a.casefold() for a in areas if a] + ["*"]
        stmt = stmt.join(ServiceArea, col(ServiceArea.service_id) == col(Service.id)).where(
            col(ServiceArea.area_key).in_(keys)
        )
    return session.execute(stmt.order_by(col(Service.name))).scalars().all()


def names_of(session: Session, service_ids: Iterable[str | None]) -> dict[str, str]:
    """Service id -> name for those of ``service_ids`` in the directory (one query)."""
    wanted = sorted({i for i in service_ids if i})
    if not wanted:
        return {}
    rows = session.execute(
        select(col(Service.id), col(Service.name)).where(col(Service.id).in_(wanted))
    ).all()
    return {str(sid): str(name) for sid, name in rows}


def pathways_of(session: Session, service_ids: Sequence[str]) -> dict[str, list[str]]:
    rows = session.execute(
        select(col(ServicePathway.service_id), col(ServicePathway.pathway_id)).where(
            col(ServicePathway.service_id).in_(list(service_ids))
        )
    ).all()
    out: dict[str, list[str]] = {}
    for sid, pid in rows:
        out.setdefault(sid, []).append(pid)
    return out


def pathway_areas(session: Session) -> list[tuple[str, str, str, str]]:
    """(pathway id, area key, service id, service data) for every service, pathway and area."""
    rows = session.execute(
        select(
            col(ServicePathway.pathway_id),
            col(ServiceArea.area_key),
            col(Service.id),
            col(Service.data),
        )
        .join(ServiceArea, col(ServiceArea.service_id) == col(ServicePathway.service_id))
        .join(Service, col(Service.id) == col(ServicePathway.service_id))
    ).all()
    return [(p, a, s, d) for p, a, s, d in rows]


def count(session: Session) -> int:
    return len(session.execute(select(col(Service.id))).all())
