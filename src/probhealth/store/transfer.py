"""Queries for transfer bundles: every record about some people, read and written by column
name, so columns added to a table later travel without a change here.

A record's identity across databases is its ``uid``: a person's is its own id (a UUID); a
row with a numeric id has the uid it arrived with (``transfer_record``) or, if it was made
here, this database's id and its row id (so nothing is backfilled); an
answer, score or flag is named by its screening's uid and its item, scale or flag id.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from probhealth import clock
from probhealth.store import audit as audit_store
from probhealth.store import models

_NS = uuid.UUID("6f1c2a52-3d0e-4c55-9a41-1b7f0c5e9d21")
CHUNK = 900


@dataclass(frozen=True)
class Entity:
    name: str
    refs: dict[str, str]  # foreign-key column -> parent entity
    natural: tuple[str, ...] = ()  # for rows named by their parent: the key columns besides it

    @property
    def numeric(self) -> bool:
        return self.name != "person" and not self.natural


# Parents before children: an import inserts in this order.
ENTITIES: tuple[Entity, ...] = (
    Entity("person", {}),
    Entity("consent", {"person_id": "person"}),
    Entity("screening", {"person_id": "person"}),
    Entity("answer", {"screening_id": "screening"}, ("item_id",)),
    Entity("score", {"screening_id": "screening"}, ("scale_id",)),
    Entity("flag", {"screening_id": "screening"}, ("flag_id",)),
    Entity("need", {"person_id": "person", "screening_id": "screening"}),
    Entity("barrier", {"person_id": "person", "screening_id": "screening"}),
    Entity("suggestion", {"person_id": "person", "screening_id": "screening"}),
    Entity("referral", {"person_id": "person", "screening_id": "screening"}),
    Entity("referral_event", {"referral_id": "referral"}),
    Entity("goal", {"person_id": "person"}),
    Entity("goal_review", {"goal_id": "goal"}),
)
BY_NAME = {e.name: e for e in ENTITIES}


def table(name: str) -> Table:
    models.load_all()
    return SQLModel.metadata.tables[name]


def columns(name: str) -> list[str]:
    return [c.name for c in table(name).columns]


# -- values by column type -------------------------------------------------------------------
def _kind(column: Any) -> type:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    try:
        return kind.python_type  # type: ignore[no-any-return]
    except NotImplementedError:
        return str


def encode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = _kind(column)
    if kind is datetime:
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if kind is date:
        return date.fromisoformat(str(value))
    if kind is bool:
        return bool(value)
    if kind is int:
        return int(value)
    return value


def content_hash(refs: dict[str, Any], data: dict[str, Any]) -> str:
    text = json.dumps({"refs": refs, "data": data}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# -- this database's id ------------------------------------------------------------------------
def database_id(session: Session, *, create: bool) -> str | None:
    Meta = models.Meta
    row = session.get(Meta, "database_id")
    if row is not None:
        return row.value
    if not create:
        return None
    value = str(uuid.uuid4())
    session.add(Meta(key="database_id", value=value))
    session.flush()
    return value


def derived_uid(db_id: str, entity: str, local_id: Any) -> str:
    """The uid of a row made here: this database's id and the row's id, so the database that
    made a record finds it again by its uid alone, however many databases it went through."""
    return f"{db_id}/{local_id}"


def natural_uid(parent_uid: str, entity: str, key: Sequence[Any]) -> str:
    return str(uuid.uuid5(_NS, f"{parent_uid}/{entity}/" + "/".join(str(k) for k in key)))


class Identities:
    """uid <-> local id, cached for one transaction."""

    def __init__(self, session: Session, db_id: str) -> None:
        self.session = session
        self.db_id = db_id
        self._uid: dict[tuple[str, str], str] = {}
        self._local: dict[tuple[str, str], str] = {}

    def load(self, entity: str, local_ids: Iterable[Any]) -> None:
        t = table("transfer_record")
        ids = [str(i) for i in local_ids]
        for start in range(0, len(ids), CHUNK):
            for uid, local in self.session.execute(
                select(t.c.uid, t.c.local_id).where(
                    and_(t.c.entity == entity, t.c.local_id.in_(ids[start : start + CHUNK]))
                )
            ):
                self._uid[(entity, local)] = uid
                self._local[(entity, uid)] = local

    def uid(self, entity: str, local_id: Any) -> str:
        if entity == "person":
            return str(local_id)
        key = (entity, str(local_id))
        found = self._uid.get(key)
        if found is None:
            found = derived_uid(self.db_id, entity, local_id)
            self._uid[key] = found
        return found

    def local(self, entity: str, uid: str) -> str | None:
        """The local id of a numeric-id record with this uid, or None."""
        key = (entity, uid)
        if key in self._local:
            return self._local[key]
        t = table("transfer_record")
        row = self.session.execute(
            select(t.c.local_id).where(and_(t.c.entity == entity, t.c.uid == uid))
        ).first()
        if row is not None:
            self._local[key] = str(row[0])
            self._uid[(entity, str(row[0]))] = uid  # its children's refs name this uid
            return str(row[0])
        mine, _, number = uid.partition("/")
        if mine == self.db_id and number.isdigit():
            exists = self.session.execute(
                select(table(entity).c.id).where(table(entity).c.id == int(number))
            ).first()
            if exists is not None:
                self._local[key] = number
                self._uid[(entity, number)] = uid
                return number
        return None

    def remember(self, entity: str, uid: str, local_id: Any) -> None:
        self.session.execute(
            insert(table("transfer_record")).values(entity=entity, uid=uid, local_id=str(local_id))
        )
        self._uid[(entity, str(local_id))] = uid
        self._local[(entity, uid)] = str(local_id)


# -- reading -----------------------------------------------------------------------------------
def _in(session: Session, name: str, column: str, values: Sequence[Any]) -> Iterator[Any]:
    t = table(name)
    for start in range(0, len(values), CHUNK):
        yield from session.execute(
            select(t).where(t.c[column].in_(list(values[start : start + CHUNK])))
        ).mappings()


def children(
    session: Session, name: str, column: str, values: Sequence[Any]
) -> list[dict[str, Any]]:
    """Rows of table ``name`` whose ``column`` is one of ``values``."""
    return [dict(r) for r in _in(session, name, column, values)]


def rows_for_people(session: Session, person_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every transferable table about these people, as column -> value."""
    out: dict[str, list[dict[str, Any]]] = {}
    out["person"] = [dict(r) for r in _in(session, "person", "id", person_ids)]
    for entity in ENTITIES[1:]:
        parent_col, parent = next(iter(entity.refs.items()))
        parent_ids = person_ids if parent == "person" else [r["id"] for r in out.get(parent, [])]
        out[entity.name] = [dict(r) for r in _in(session, entity.name, parent_col, parent_ids)]
    return out


def questionnaire_defs(session: Session, keys: set[tuple[str, int]]) -> list[dict[str, Any]]:
    t = table("questionnaire_def")
    out = []
    for qid, version in sorted(keys):
        row = (
            session.execute(select(t).where(and_(t.c.id == qid, t.c.version == version)))
            .mappings()
            .first()
        )
        if row is not None:
            out.append(dict(row))
    return out


def add_questionnaire_def(session: Session, row: dict[str, Any]) -> bool:
    t = table("questionnaire_def")
    found = session.execute(
        select(t.c.content_hash).where(and_(t.c.id == row["id"], t.c.version == row["version"]))
    ).first()
    if found is not None:
        return False
    session.execute(insert(t).values(**row))
    return True


def all_person_ids(session: Session) -> list[str]:
    t = table("person")
    return [r[0] for r in session.execute(select(t.c.id).order_by(t.c.crn))]


def person_ids_by_crn(session: Session, crns: Sequence[str]) -> dict[str, str]:
    t = table("person")
    found: dict[str, str] = {}
    for start in range(0, len(crns), CHUNK):
        for pid, crn in session.execute(
            select(t.c.id, t.c.crn).where(t.c.crn.in_(list(crns[start : start + CHUNK])))
        ):
            found[crn] = pid
    return found


def people_changed_since(session: Session, since: datetime) -> list[str]:
    """People with any record created or changed at or after ``since``."""
    found: set[str] = set()
    rows = rows_for_people(session, all_person_ids(session))
    owner: dict[tuple[str, Any], str] = {}
    for entity in ENTITIES:
        for row in rows[entity.name]:
            if entity.name == "person":
                pid = row["id"]
            elif "person_id" in row:
                pid = row["person_id"]
            else:
                parent_col, parent = next(iter(entity.refs.items()))
                pid = owner.get((parent, row[parent_col]), "")
            if "id" in row:
                owner[(entity.name, row["id"])] = pid
            if any(isinstance(v, datetime) and v >= since for v in row.values()):
                found.add(pid)
    return sorted(p for p in found if p)


# -- the state of one record here ------------------------------------------------------------
def find_row(
    session: Session, entity: Entity, local_id: str | None, parent_local: Any, key: list[Any]
) -> dict[str, Any] | None:
    t = table(entity.name)
    if entity.natural:
        parent_col = next(iter(entity.refs))
        cond = [t.c[parent_col] == parent_local]
        cond += [t.c[c] == v for c, v in zip(entity.natural, key, strict=True)]
        row = session.execute(select(t).where(and_(*cond))).mappings().first()
    else:
        if local_id is None:
            return None
        value: Any = local_id if entity.name == "person" else int(local_id)
        row = session.execute(select(t).where(t.c.id == value)).mappings().first()
    return dict(row) if row is not None else None


def insert_row(session: Session, entity: Entity, values: dict[str, Any]) -> Any:
    t = table(entity.name)
    if entity.numeric:
        return session.execute(insert(t).values(**values).returning(t.c.id)).scalar_one()
    session.execute(insert(t).values(**values))
    return values.get("id")


def update_row(
    session: Session, entity: Entity, current: dict[str, Any], values: dict[str, Any]
) -> None:
    t = table(entity.name)
    if entity.natural:
        parent_col = next(iter(entity.refs))
        cond = [t.c[parent_col] == current[parent_col]]
        cond += [t.c[c] == current[c] for c in entity.natural]
    else:
        cond = [t.c.id == current["id"]]
    session.execute(update(t).where(and_(*cond)).values(**values))


def erased(session: Session, person_ids: Sequence[str]) -> dict[str, datetime]:
    """Which of ``person_ids`` were erased here (a ``person.erase`` tombstone in the audit
    log), each with when."""
    t = table("audit_event")
    wanted = set(person_ids)
    out: dict[str, datetime] = {}
    if not wanted:
        return out
    # One pass over the log (entity_id has no index; erasures are few), not one per chunk.
    rows = session.execute(
        select(t.c.entity_id, t.c.at).where(t.c.action == "person.erase", t.c.entity == "person")
    )
    for uid, at in rows:
        if str(uid) in wanted:
            when = audit_store.instant_of(at)
            out[str(uid)] = when if when is not None else clock.now()
    return out


def person_by_crn(session: Session, crn: str) -> str | None:
    t = table("person")
    row = session.execute(select(t.c.id).where(t.c.crn == crn)).first()
    return None if row is None else str(row[0])


# -- versions seen, conflicts, bundles sent ----------------------------------------------------
def seen(session: Session, uids: Sequence[str]) -> dict[str, set[str]]:
    t = table("transfer_seen")
    out: dict[str, set[str]] = {}
    for start in range(0, len(uids), CHUNK):
        for uid, digest in session.execute(
            select(t.c.uid, t.c.hash).where(t.c.uid.in_(list(uids[start : start + CHUNK])))
        ):
            out.setdefault(uid, set()).add(digest)
    return out


def add_seen(session: Session, pairs: Iterable[tuple[str, str]]) -> int:
    rows = [{"uid": u, "hash": h} for u, h in pairs]
    if rows:
        session.execute(insert(table("transfer_seen")), rows)
    return len(rows)


def add_conflict(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(table("transfer_conflict")).values(**values))


def open_conflict_hashes(session: Session, uids: Sequence[str]) -> set[tuple[str, str]]:
    t = table("transfer_conflict")
    out: set[tuple[str, str]] = set()
    for start in range(0, len(uids), CHUNK):
        for uid, digest in session.execute(
            select(t.c.uid, t.c.hash).where(
                and_(t.c.uid.in_(list(uids[start : start + CHUNK])), t.c.resolved_at.is_(None))
            )
        ):
            out.add((uid, digest))
    return out


def conflicts(session: Session, *, include_resolved: bool = False) -> list[dict[str, Any]]:
    t = table("transfer_conflict")
    p = table("person")
    stmt = select(t, p.c.crn).join(p, p.c.id == t.c.person_id, isouter=True).order_by(t.c.id)
    if not include_resolved:
        stmt = stmt.where(t.c.resolved_at.is_(None))
    return [dict(r) for r in session.execute(stmt).mappings()]


def conflict(session: Session, conflict_id: int) -> dict[str, Any] | None:
    t = table("transfer_conflict")
    row = session.execute(select(t).where(t.c.id == conflict_id)).mappings().first()
    return dict(row) if row is not None else None


def close_conflict(session: Session, conflict_id: int, *, actor: str, resolution: str) -> None:
    t = table("transfer_conflict")
    session.execute(
        update(t)
        .where(t.c.id == conflict_id)
        .values(resolved_at=clock.now(), resolved_by=actor, resolution=resolution)
    )


def record_sent(session: Session, person_ids: Sequence[str], bundle_hash: str, actor: str) -> None:
    now = clock.now()
    rows = [
        {"person_id": p, "bundle_hash": bundle_hash, "sent_at": now, "sent_by": actor}
        for p in person_ids
    ]
    if rows:
        session.execute(insert(table("transfer_sent")), rows)


def sent_for(session: Session, person_id: str) -> list[dict[str, Any]]:
    t = table("transfer_sent")
    return [
        dict(r)
        for r in session.execute(
            select(t).where(t.c.person_id == person_id).order_by(t.c.id)
        ).mappings()
    ]


def forget_person(session: Session, person_id: str) -> None:
    """Erasure: drop the identities of the person's records (their conflicts go by cascade),
    so a row id used again later is never taken for one of theirs."""
    rows = rows_for_people(session, [person_id])
    t = table("transfer_record")
    for entity in ENTITIES:
        if not entity.numeric:
            continue
        local_ids = [str(r["id"]) for r in rows[entity.name]]
        for start in range(0, len(local_ids), CHUNK):
            session.execute(
                delete(t).where(
                    and_(
                        t.c.entity == entity.name,
                        t.c.local_id.in_(local_ids[start : start + CHUNK]),
                    )
                )
            )
