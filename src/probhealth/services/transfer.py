"""Transfer bundles: everything about some people, carried from one database to another.

``export`` writes one encrypted file (see ``probhealth.bundle``) with each record's uid,
its content (column by column), the uids of its parents, and the versions of it this
database has exchanged before. ``import_bundle`` merges it in one write transaction (all or
nothing) by uid:

- a record not here is added;
- the same version is skipped (importing a bundle twice changes nothing);
- a version that has seen ours (ours is in its history) replaces ours; ours replaces a
  version we have already seen (we moved on since);
- otherwise both sides changed it since they last met: a **conflict**. Ours stays, theirs is
  kept whole in ``transfer_conflict`` until a person settles it (``resolve``).

Histories (referral events, goal reviews, consent decisions) are records of their own, so
they merge as lists. A referral changed on both sides is not a conflict when only its step
moved (status, follow-up, outcome, dates): its events merge as a list and the referral takes
the step of the latest event (by the day it happened, then when it was recorded), with the
follow-up, outcome and reason of the side that recorded it; the result is the same whichever
bundle arrives first. A referral whose other fields differ is still a conflict. The audit log records each export and import with the other
database's id, the bundle's hash and counts, never content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from probhealth import bundle, clock, validation
from probhealth.errors import BadInput, Conflict, NotFound, Remedy
from probhealth.store import audit, schema
from probhealth.store import transfer as repo
from probhealth.store.db import Session, Store

OUTCOMES = ("added", "updated", "same", "kept_ours", "merged", "conflicts")
MIN_PASSPHRASE = 12  # characters, for a new bundle; any passphrase opens an old one

# A referral's fields that follow its latest event (services.referrals.update sets them).
REFERRAL_STEP = frozenset(
    {"status", "follow_up_due", "outcome", "closed_reason", "updated_at", "closed_at"}
)
# Fields that only record when a change was saved: they differ whenever anything does, so a
# conflict never lists them as something to choose between.
BOOKKEEPING = frozenset({"updated_at"})


@dataclass(frozen=True)
class Exported:
    path: Path
    people: int
    records: int
    size: int
    bundle_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "people": self.people,
            "records": self.records,
            "bytes": self.size,
            "bundle_hash": self.bundle_hash,
        }


@dataclass(frozen=True)
class Imported:
    source: str
    bundle_hash: str
    people: int
    counts: dict[str, int]
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "bundle_hash": self.bundle_hash,
            "people": self.people,
            "dry_run": self.dry_run,
            **self.counts,
            "tables": self.by_table,
        }


class _DryRun(Exception):
    def __init__(self, result: Imported) -> None:
        self.result = result


# -- export --------------------------------------------------------------------------------
def build_payload(store: Store, person_ids: list[str]) -> tuple[dict[str, Any], str, int]:
    """(payload, this database's id, record count), read in one transaction."""
    with store.write() as session:  # write: the database id is created on first use
        db_id = repo.database_id(session, create=True)
        assert db_id is not None
        rows = repo.rows_for_people(session, person_ids)
        ids = repo.Identities(session, db_id)
        for entity in repo.ENTITIES:
            if entity.numeric:
                ids.load(entity.name, [r["id"] for r in rows[entity.name]])
        records: dict[str, list[dict[str, Any]]] = {}
        uids_of: dict[tuple[str, Any], str] = {}
        count = 0
        for entity in repo.ENTITIES:
            out = []
            tab = repo.table(entity.name)
            for row in rows[entity.name]:
                rec = _record(entity, row, ids, uids_of, tab, db_id)
                out.append(rec)
            records[entity.name] = out
            count += len(out)
        all_uids = [r["uid"] for recs in records.values() for r in recs]
        history = repo.seen(session, all_uids)
        for recs in records.values():
            for rec in recs:
                rec["seen"] = sorted(history.get(rec["uid"], set()) | {rec["hash"]})
        qkeys = {(r["questionnaire_id"], r["questionnaire_version"]) for r in rows["screening"]}
        defs = [
            {k: repo.encode(None, v) for k, v in d.items()}
            for d in repo.questionnaire_defs(session, qkeys)
        ]
        audit_head = _audit_head(session)
    payload = {
        "format": bundle.FORMAT,
        "schema": schema.HEAD,
        "source": db_id,
        "created_at": clock.iso_utc(clock.now()),
        "audit_head": audit_head,
        "columns": {e.name: repo.columns(e.name) for e in repo.ENTITIES},
        "questionnaires": defs,
        "records": records,
    }
    return payload, db_id, count


def _audit_head(session: Session) -> str | None:
    """The source's audit head (ID:HASH) when the bundle was built: the receiving side can
    keep it as proof of how far the source's log reached."""
    head = audit.head(session)
    return None if head is None else head.short()


def _record(
    entity: repo.Entity,
    row: dict[str, Any],
    ids: repo.Identities,
    uids_of: dict[tuple[str, Any], str],
    tab: Any,
    db_id: str,
) -> dict[str, Any]:
    refs = {
        col: (
            None
            if row[col] is None
            else uids_of.get((parent, row[col])) or ids.uid(parent, row[col])
        )
        for col, parent in entity.refs.items()
    }
    skip = set(entity.refs) | ({"id"} if entity.name == "person" or entity.numeric else set())
    data = {c.name: repo.encode(c, row[c.name]) for c in tab.columns if c.name not in skip}
    rec: dict[str, Any] = {"refs": refs, "data": data}
    if entity.name == "person":
        rec["uid"] = row["id"]
    elif entity.numeric:
        rec["uid"] = ids.uid(entity.name, row["id"])
    else:
        parent_uid = next(iter(refs.values()))
        assert parent_uid is not None
        rec["uid"] = repo.natural_uid(parent_uid, entity.name, [row[c] for c in entity.natural])
    if "id" in row:
        uids_of[(entity.name, row["id"])] = rec["uid"]
    rec["hash"] = repo.content_hash(refs, data)
    return rec


def choose_people(
    store: Store, *, crns: list[str], all_people: bool, changed_since: str | None
) -> list[str]:
    chosen = [c for c in crns if c.strip()]
    if sum(bool(x) for x in (chosen, all_people, changed_since)) != 1:
        raise BadInput("Name the people: give CRNs, or {opt:all}, or {opt:changed-since} DATE.")
    day = validation.iso_date(changed_since, "{opt:changed-since}") if changed_since else None
    if day is not None and day > clock.today():
        raise BadInput(
            f"{{opt:changed-since}} {day.isoformat()} is after today; nothing was written. "
            "Give the day of the last exchange."
        )
    with store.read() as session:
        if all_people:
            everyone = repo.all_person_ids(session)
            if not everyone:
                raise BadInput("There is no one in this database to carry; nothing was written.")
            return everyone
        if day is not None:
            since = datetime.combine(day, time(0, 0), tzinfo=clock.london())
            changed = repo.people_changed_since(session, since)
            if not changed:
                # An empty bundle would reach the office looking like the day's work.
                raise BadInput(
                    f"No one has a record changed on or after {day.isoformat()}; nothing was "
                    "written. Check the date of the last exchange."
                )
            return changed
        wanted = [validation.crn(c) for c in chosen]
        found = repo.person_ids_by_crn(session, wanted)
    missing = [c for c in wanted if c not in found]
    if missing:
        raise NotFound(f"No person with CRN {missing[0]}.", remedy=Remedy.of("list-people"))
    return [found[c] for c in dict.fromkeys(wanted)]


def export(
    store: Store,
    *,
    person_ids: list[str],
    out: Path,
    passphrase: bytes,
    force: bool = False,
) -> Exported:
    from probhealth import atomicfile

    if len(passphrase.decode("utf-8", "replace")) < MIN_PASSPHRASE:
        # The bundle travels (email, USB stick): a short passphrase is guessed offline.
        raise BadInput(
            f"The bundle passphrase is too short: use at least {MIN_PASSPHRASE} characters "
            "(three random words are good). Nothing was written."
        )
    target = atomicfile.check_target(out, force=force)
    payload, db_id, count = build_payload(store, person_ids)
    data = bundle.seal(payload, passphrase=passphrase, source=db_id)
    digest = bundle.digest(data)
    path = atomicfile.write_bytes(target, data, force=force)
    with store.write() as session:
        repo.add_seen(
            session,
            _new_seen(
                session,
                [(r["uid"], r["hash"]) for recs in payload["records"].values() for r in recs],
            ),
        )
        repo.record_sent(session, person_ids, digest, store.actor)
        audit.append(
            session,
            actor=store.actor,
            action="transfer.export",
            entity="database",
            entity_id=db_id,
            detail={"bundle_hash": digest, "people": len(person_ids), "records": count},
        )
    return Exported(path, len(person_ids), count, len(data), digest)


def _new_seen(session: Session, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    have = repo.seen(session, list({u for u, _ in pairs}))
    out = []
    for uid, digest in dict.fromkeys(pairs):
        if digest not in have.get(uid, set()):
            have.setdefault(uid, set()).add(digest)
            out.append((uid, digest))
    return out


# -- import --------------------------------------------------------------------------------
def import_bundle(
    store: Store,
    data: bytes,
    *,
    passphrase: bytes,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    """Merge a bundle, all or nothing. ``progress(done, total)`` hears how many of the
    bundle's records are merged, now and then and once at the end."""
    header, payload = bundle.open_bundle(data, passphrase=passphrase)
    digest = bundle.digest(data)
    _check_payload(payload, header)
    try:
        with store.write() as session:
            result = _merge(session, store.actor, payload, digest, progress)
            if dry_run:
                raise _DryRun(result)
            audit.append(
                session,
                actor=store.actor,
                action="transfer.import",
                entity="database",
                entity_id=str(payload["source"]),
                detail={"bundle_hash": digest, "people": result.people, **result.counts},
            )
    except _DryRun as dry:
        r = dry.result
        return Imported(r.source, r.bundle_hash, r.people, r.counts, r.by_table, dry_run=True)
    return result


def _check_payload(payload: dict[str, Any], header: dict[str, Any]) -> None:
    if payload.get("format") != bundle.FORMAT or not isinstance(payload.get("records"), dict):
        raise bundle.BundleRefused("The bundle's contents are damaged; nothing was imported.")
    if payload.get("source") != header.get("source"):
        raise bundle.BundleRefused("The bundle is damaged or was changed; nothing was imported.")
    revision = str(payload.get("schema"))
    if revision not in schema.KNOWN:
        raise BadInput(
            f"The bundle was written by a newer version of probhealth (schema {revision}); "
            "nothing was imported.",
            hint="Upgrade probhealth here, then import it again.",
        )
    for name, cols in (payload.get("columns") or {}).items():
        if name not in repo.BY_NAME:
            raise BadInput(f"The bundle holds records this version does not know ({name}).")
        unknown = set(cols) - set(repo.columns(name))
        if unknown:
            raise BadInput(
                f"The bundle's {name} records have fields this database lacks "
                f"({', '.join(sorted(unknown))}); nothing was imported.",
                hint="Upgrade probhealth here, then import it again.",
            )


def _merge(
    session: Session,
    actor: str,
    payload: dict[str, Any],
    digest: str,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    my_id = repo.database_id(session, create=True)
    assert my_id is not None
    source = str(payload["source"])
    if source == my_id:
        raise BadInput("This bundle was made from this database; nothing to import.")
    ids = repo.Identities(session, my_id)
    _refuse_erased(session, payload)
    local_of: dict[tuple[str, str], Any] = {}
    counts: Counter[str] = Counter()
    by_table: dict[str, Counter[str]] = {}
    new_seen: list[tuple[str, str]] = []
    now = clock.now()
    for row in payload.get("questionnaires") or []:
        tab = repo.table("questionnaire_def")
        values = {c.name: repo.decode(c, row.get(c.name)) for c in tab.columns if c.name in row}
        repo.add_questionnaire_def(session, values)
    records: dict[str, list[dict[str, Any]]] = payload["records"]
    people = len(records.get("person", []))
    latest = _latest_events(records.get("referral_event") or [])
    total = sum(len(records.get(e.name) or []) for e in repo.ENTITIES)
    done = 0
    for entity in repo.ENTITIES:
        recs = records.get(entity.name) or []
        if not recs:
            continue
        tab = repo.table(entity.name)
        cols = {c.name: c for c in tab.columns}
        here_seen = repo.seen(session, [r["uid"] for r in recs])
        open_conflicts = repo.open_conflict_hashes(session, [r["uid"] for r in recs])
        tally = by_table.setdefault(entity.name, Counter())
        for rec in recs:
            outcome = _merge_one(
                session,
                entity,
                rec,
                cols,
                ids,
                local_of,
                here_seen,
                open_conflicts,
                source,
                now,
                latest,
            )
            counts[outcome] += 1
            tally[outcome] += 1
            if outcome != "conflicts":
                new_seen += [(rec["uid"], h) for h in rec["seen"]]
            done += 1
            if progress is not None and done % 250 == 0:
                progress(done, total)
    repo.add_seen(session, _new_seen(session, new_seen))
    if progress is not None:
        progress(done, total)
    return Imported(
        source,
        digest,
        people,
        {k: counts.get(k, 0) for k in OUTCOMES},
        {t: {k: c.get(k, 0) for k in OUTCOMES} for t, c in by_table.items()},
    )


def _refuse_erased(session: Session, payload: dict[str, Any]) -> None:
    """A person erased here (at their request, or by retention) is not brought back by a
    bundle written before the erasure reached the other database."""
    people = payload["records"].get("person") or []
    gone = repo.erased(session, [str(p["uid"]) for p in people])
    if not gone:
        return
    first = next(p for p in people if str(p["uid"]) in gone)
    crn = (first.get("data") or {}).get("crn") or "?"
    more = f" and {len(gone) - 1} more" if len(gone) > 1 else ""
    raise BadInput(
        f"The bundle holds {crn}{more}, erased here on "
        f"{clock.to_london(gone[str(first['uid'])]).date().isoformat()}; nothing was imported. "
        f"Erase them where the bundle was made too (person erase {crn} there), then send a "
        "new bundle."
    )


def _damaged() -> bundle.BundleRefused:
    return bundle.BundleRefused("The bundle's contents are damaged; nothing was imported.")


def _merge_one(
    session: Session,
    entity: repo.Entity,
    rec: dict[str, Any],
    cols: dict[str, Any],
    ids: repo.Identities,
    local_of: dict[tuple[str, str], Any],
    here_seen: dict[str, set[str]],
    open_conflicts: set[tuple[str, str]],
    source: str,
    now: datetime,
    latest: dict[str, tuple[Any, ...]],
) -> str:
    try:
        uid, refs, data = str(rec["uid"]), dict(rec["refs"]), dict(rec["data"])
        theirs_seen = set(rec.get("seen") or [])
    except (KeyError, TypeError, ValueError):
        raise _damaged() from None
    digest = repo.content_hash(refs, data)
    rec["seen"] = sorted(theirs_seen | {digest})
    refs_local: dict[str, Any] = {}
    for col, parent_uid in refs.items():
        if col not in entity.refs:
            raise _damaged()
        if parent_uid is None:
            refs_local[col] = None
            continue
        parent = entity.refs[col]
        local = local_of.get((parent, parent_uid))
        if local is None:
            if parent == "person":
                local = (
                    parent_uid
                    if repo.find_row(session, repo.BY_NAME["person"], parent_uid, None, [])
                    else None
                )
            else:
                found = ids.local(parent, parent_uid)
                local = int(found) if found is not None else None
        if local is None:
            raise _damaged()
        refs_local[col] = local
    values = {k: repo.decode(cols[k], v) for k, v in data.items()} | refs_local
    if entity.name == "person":
        current = repo.find_row(session, entity, uid, None, [])
    elif entity.numeric:
        current = repo.find_row(session, entity, ids.local(entity.name, uid), None, [])
    else:
        parent_col = next(iter(entity.refs))
        current = repo.find_row(
            session, entity, None, refs_local[parent_col], [data.get(c) for c in entity.natural]
        )
    if current is None:
        if entity.name == "person":
            other = repo.person_by_crn(session, str(data.get("crn")))
            if other is not None:
                raise Conflict(
                    f"CRN {data.get('crn')} belongs to a different person in this database; "
                    "nothing was imported.",
                    hint="Check which record is right before importing again.",
                )
            values["id"] = uid
        new_id = repo.insert_row(session, entity, values)
        if entity.numeric:
            ids.remember(entity.name, uid, new_id)
        if "id" in cols:
            local_of[(entity.name, uid)] = new_id if entity.name != "person" else uid
        return "added"
    if "id" in cols:
        local_of[(entity.name, uid)] = current["id"]
    ours = _hash_of(entity, current, ids, set(data))
    if ours == digest:
        return "same"
    if ours in theirs_seen:
        repo.update_row(session, entity, current, values)
        return "updated"
    if digest in here_seen.get(uid, set()):
        return "kept_ours"
    if entity.name == "referral" and _merge_steps(
        session, entity, rec, current, values, ids, latest, ours
    ):
        return "merged"
    if (uid, digest) not in open_conflicts:
        person_id = refs_local.get("person_id") or (uid if entity.name == "person" else "")
        if not person_id:
            person_id = _owner(session, entity, current)
        repo.add_conflict(
            session,
            {
                "entity": entity.name,
                "uid": uid,
                "person_id": person_id,
                "source": source,
                "data": json.dumps({"refs": refs, "data": data}, sort_keys=True),
                "hash": digest,
                "received_at": now,
            },
        )
        open_conflicts.add((uid, digest))
    return "conflicts"


def _event_key(data: dict[str, Any], uid: str) -> tuple[Any, ...]:
    """How late a referral event is: the day it happened, when it was recorded, then its uid
    (so both databases pick the same one)."""
    recorded = datetime.fromisoformat(str(data.get("recorded_at")))
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    return (str(data.get("event_date")), recorded.astimezone(UTC), uid)


def _latest_events(events: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """The bundle's latest event of each referral (by the referral's uid)."""
    out: dict[str, tuple[Any, ...]] = {}
    try:
        for ev in events:
            referral, key = ev["refs"]["referral_id"], _event_key(ev["data"], str(ev["uid"]))
            if referral is not None and (referral not in out or key > out[referral]):
                out[referral] = key
    except (KeyError, TypeError, ValueError):
        raise _damaged() from None
    return out


def _merge_steps(
    session: Session,
    entity: repo.Entity,
    rec: dict[str, Any],
    current: dict[str, Any],
    values: dict[str, Any],
    ids: repo.Identities,
    latest: dict[str, tuple[Any, ...]],
    ours: str,
) -> bool:
    """A referral moved on both sides: merge by events, not as a conflict, when only its step
    differs. The side with the latest event gives the step. False: a real conflict."""
    tab = repo.table(entity.name)
    for col in tab.columns:
        if col.name in REFERRAL_STEP or col.name not in rec["data"] or col.name in entity.refs:
            continue
        if repo.encode(col, current[col.name]) != rec["data"][col.name]:
            return False
    for ref, parent in entity.refs.items():
        here = None if current[ref] is None else ids.uid(parent, current[ref])
        if here != rec["refs"].get(ref):
            return False
    theirs = latest.get(str(rec["uid"]))
    events = repo.children(session, "referral_event", "referral_id", [current["id"]])
    ids.load("referral_event", [e["id"] for e in events])
    mine = max(
        (
            _event_key(
                {k: repo.encode(None, v) for k, v in e.items()}, ids.uid("referral_event", e["id"])
            )
            for e in events
        ),
        default=None,
    )
    if theirs is None or mine is None or theirs == mine:
        return False  # no event explains the difference
    if theirs > mine:
        repo.update_row(session, entity, current, values)
    rec["seen"] = sorted(set(rec["seen"]) | {ours})
    return True


def _hash_of(entity: repo.Entity, row: dict[str, Any], ids: repo.Identities, keys: set[str]) -> str:
    refs = {
        col: (None if row[col] is None else ids.uid(parent, row[col]))
        for col, parent in entity.refs.items()
    }
    tab = repo.table(entity.name)
    data = {c.name: repo.encode(c, row[c.name]) for c in tab.columns if c.name in keys}
    return repo.content_hash(refs, data)


def _owner(session: Session, entity: repo.Entity, row: dict[str, Any]) -> str:
    """The person a record belongs to (walking up its parents)."""
    while "person_id" not in row:
        parent_col, parent = next(iter(entity.refs.items()))
        entity = repo.BY_NAME[parent]
        found = repo.find_row(session, entity, str(row[parent_col]), None, [])
        if found is None:
            return ""
        row = found
    return str(row["person_id"])


# -- conflicts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConflictRow:
    id: int
    crn: str | None
    entity: str
    source: str
    received_at: datetime
    # Each differing field's two versions, as stored ("ours": here; "theirs": the bundle's),
    # bookkeeping left out.
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def fields(self) -> list[str]:
        """The fields that differ."""
        return list(self.values)

    def record_name(self) -> str:
        return self.entity.replace("_", " ")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crn": self.crn,
            "record": self.entity,
            "fields": self.fields,
            "values": self.values,
            "source": self.source,
            "received_at": clock.iso_utc(self.received_at),
        }


def list_conflicts(store: Store) -> list[ConflictRow]:
    """The open conflicts, each with the two versions of what differs. The versions can be
    personal details (a postcode), so a listing that shows any is a view, audited."""
    with store.write() as session:
        my_id = repo.database_id(session, create=False) or ""
        ids = repo.Identities(session, my_id)
        out = []
        for c in repo.conflicts(session):
            theirs = json.loads(c["data"])
            current = _current(session, ids, repo.BY_NAME[c["entity"]], c["uid"], theirs)
            values = _differing(c["entity"], current, theirs) if current is not None else {}
            out.append(
                ConflictRow(
                    c["id"],
                    c.get("crn"),
                    c["entity"],
                    c["source"],
                    c["received_at"],
                    values,
                )
            )
        if out:
            audit.append(
                session,
                actor=store.actor,
                action="transfer.conflicts",
                entity="database",
                entity_id=my_id or None,
                detail={"conflicts": len(out)},
            )
    return out


def _differing(
    entity: str, current: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each field (bookkeeping left out) whose two versions differ: {"ours", "theirs"}."""
    values: dict[str, dict[str, Any]] = {}
    for col in repo.table(entity).columns:
        if col.name not in theirs["data"] or col.name in BOOKKEEPING:
            continue
        ours = repo.encode(col, current[col.name])
        if ours != theirs["data"][col.name]:
            values[col.name] = {"ours": ours, "theirs": theirs["data"][col.name]}
    return values


def _current(
    session: Session, ids: repo.Identities, entity: repo.Entity, uid: str, theirs: dict[str, Any]
) -> dict[str, Any] | None:
    if entity.name == "person":
        return repo.find_row(session, entity, uid, None, [])
    if entity.numeric:
        return repo.find_row(session, entity, ids.local(entity.name, uid), None, [])
    parent_col, parent = next(iter(entity.refs.items()))
    parent_local = ids.local(parent, theirs["refs"][parent_col])
    return repo.find_row(
        session, entity, None, parent_local, [theirs["data"].get(c) for c in entity.natural]
    )


def resolve(store: Store, conflict_id: int, *, keep: str, fields: list[str] | None = None) -> str:
    """Settle a conflict: keep ``ours`` (the version here) or ``theirs`` (the bundle's); with
    ``fields``, theirs for those fields only and ours for the rest (each side's change kept)."""
    if keep not in ("ours", "theirs"):
        raise BadInput("{opt:keep} must be ours or theirs.")
    if fields and keep != "theirs":
        raise BadInput(
            "{opt:field} names the fields to take from theirs: use it with {opt:keep} theirs."
        )
    with store.write() as session:
        c = repo.conflict(session, conflict_id)
        if c is None or c["resolved_at"] is not None:
            raise NotFound(
                f"No open conflict {conflict_id}.",
                remedy=Remedy.of("list-transfer-conflicts"),
            )
        my_id = repo.database_id(session, create=True)
        assert my_id is not None
        ids = repo.Identities(session, my_id)
        entity = repo.BY_NAME[c["entity"]]
        theirs = json.loads(c["data"])
        current = _current(session, ids, entity, c["uid"], theirs)
        if current is None:
            raise NotFound(f"The record of conflict {conflict_id} is no longer here.")
        pairs = [
            (c["uid"], c["hash"]),
            (c["uid"], _hash_of(entity, current, ids, set(theirs["data"]))),
        ]
        if fields:
            differing = _differing(entity.name, current, theirs)
            unknown = [f for f in fields if f not in differing]
            if unknown:
                raise BadInput(
                    f"{unknown[0]} is not a field that differs in conflict {conflict_id}; "
                    f"choose from: {', '.join(sorted(differing)) or 'none'}."
                )
            cols = {col.name: col for col in repo.table(entity.name).columns}
            picked = {k: repo.decode(cols[k], theirs["data"][k]) for k in dict.fromkeys(fields)}
            repo.update_row(session, entity, current, picked)
        elif keep == "theirs":
            tab = repo.table(entity.name)
            cols = {col.name: col for col in tab.columns}
            values = {k: repo.decode(cols[k], v) for k, v in theirs["data"].items()}
            for col, parent_uid in theirs["refs"].items():
                parent = entity.refs[col]
                if parent_uid is None:
                    values[col] = None
                elif parent == "person":
                    values[col] = parent_uid
                else:
                    found = ids.local(parent, parent_uid)
                    values[col] = int(found) if found is not None else current[col]
            repo.update_row(session, entity, current, values)
        repo.add_seen(session, _new_seen(session, pairs))
        repo.close_conflict(session, conflict_id, actor=store.actor, resolution=keep)
        audit.append(
            session,
            actor=store.actor,
            action="transfer.resolve",
            entity=entity.name,
            entity_id=c["uid"],
            detail={
                "conflict": conflict_id,
                "kept": keep,
                **({"fields": fields} if fields else {}),
            },
        )
    return keep
