"""Digests of record content, carried by the audit log (issue 14 item 2).

The hash chain covers the events, not the data: an answer, a date of birth, a referral's
status or a whole person changed or deleted straight in the file left the chain intact. So
every write transaction notes which records it touched, and the audit event that ends it
carries, for each, a digest of the record's content after the change (``null`` when it was
deleted) -- a digest only, never a value. ``audit verify --records`` recomputes the digest
of every current record and names each one whose content no longer matches its last event:
table and id, never the values.

How touched records are found (SQLite): temporary triggers, created on each of our own
connections and invisible to any other program, add the key of every inserted, updated or
deleted row to a temporary table; before the commit the rows are read back by key and
digested. A change made by another program fires no trigger and writes no digest.

A record's digest (form 2, migration 0011) is SHA-256 of its canonical text, which SQLite
builds: a JSON array of its columns in table order, trailing NULLs dropped (so adding a
nullable column changes no digest), ``canonical_sql``. The text holds the record's key, so
each digest is its record's own. ``audit verify --records`` then reads one column a row and
looks each digest up in the set its table's events recorded (``check``): about twice a plain
``SELECT *`` (benchmarks/record_digests.py). A migration that changes existing rows' content
(fills a new column, rewrites a table) must record their new digests afterwards, checking the
old ones first as 0011 does, or every such row reads as changed.

On PostgreSQL nothing is recorded (no temporary triggers on permanent tables, and a server's
administrator can change rows and the log alike): use the server's own audit (pgaudit).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from operator import itemgetter, methodcaller
from typing import Any

from sqlalchemy.engine import Connection

# Not digested: the audit log itself (it is the chain) and Alembic's bookkeeping.
UNTRACKED = frozenset({"audit_event", "alembic_version"})
CHUNK = 1000  # records per event when one transaction touches more (imports, purges)
_INFO_KEY = "probhealth_digest_triggers"
_TABLES_KEY = "probhealth_digest_tables"


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]  # primary key columns, in key order (at most two here)
    columns: tuple[str, ...]

    def key_sql(self, alias: str) -> str:
        """The record's id as SQLite writes it (a JSON array of the key values)."""
        return "json_array(" + ", ".join(f"{alias}.{_q(k)}" for k in self.keys) + ")"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables(conn: Connection) -> list[Table]:
    """The data tables of this database (SQLite), with their keys; read again only when the
    schema changed (``PRAGMA schema_version``), so a write pays one pragma for this."""
    version = conn.exec_driver_sql("PRAGMA main.schema_version").scalar()
    cached = conn.info.get(_TABLES_KEY)
    if cached is not None and cached[0] == version:
        return list(cached[1])
    found = _read_tables(conn)
    conn.info[_TABLES_KEY] = (version, tuple(found))
    return found


def _read_tables(conn: Connection) -> list[Table]:
    out = []
    names = conn.exec_driver_sql(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).all()
    for (name,) in names:
        if name in UNTRACKED:
            continue
        info = conn.exec_driver_sql(f"PRAGMA main.table_info({_q(name)})").all()
        keys = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        if not keys:
            keys = ("rowid",)
        out.append(Table(name, keys, tuple(r[1] for r in info)))
    return out


def _note(t: Table, row: str) -> str:
    """Trigger body: note the key of ``row`` (NEW or OLD). Names come from the schema of a
    file already recognised as ours, and are quoted all the same."""
    k1 = f"{row}.{_q(t.keys[0])}"
    k2 = f"{row}.{_q(t.keys[1])}" if len(t.keys) > 1 else "NULL"
    name = "'" + t.name.replace("'", "''") + "'"
    return (
        "INSERT OR IGNORE INTO probhealth_touched VALUES "  # noqa: S608 - schema names, quoted
        f"({name}, {t.key_sql(row)}, {k1}, {k2});"
    )


def install(conn: Connection) -> bool:
    """Create the temporary table and triggers on this connection (once per connection and
    schema). Returns False when this is not an SQLite connection."""
    if conn.dialect.name != "sqlite":
        return False
    found = tables(conn)
    signature = tuple((t.name, t.keys) for t in found)
    if conn.info.get(_INFO_KEY) == signature:
        have = conn.exec_driver_sql(
            "SELECT count(*) FROM temp.sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'probhealth_dg_%'"
        ).scalar()
        if have == 3 * len(found):
            return True
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS probhealth_touched "
        "(tbl TEXT NOT NULL, pk TEXT NOT NULL, k1, k2, PRIMARY KEY (tbl, pk))"
    )
    for t in found:
        for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            body = _note(t, row)
            if when == "UPDATE":  # a changed key leaves the old id behind: note it too
                body += " " + _note(t, "OLD")
            conn.exec_driver_sql(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {_q('probhealth_dg_' + when.lower() + '_' + t.name)} "
                f"AFTER {when} ON main.{_q(t.name)} BEGIN {body} END"
            )
    conn.info[_INFO_KEY] = signature
    return True


def canonical_sql(t: Table, alias: str = "x", *, robust: bool = True) -> str:
    """SQL for the record's canonical text (form 2): a JSON array of its columns in table
    order, trailing NULLs dropped (so adding a nullable column changes no digest), as bytes.

    JSON tells 1 from '1'. It cannot hold a BLOB, which probhealth never writes: the robust
    form writes one as ``["blob", "HEX"]`` (no text value can read so); the fast form raises
    on it instead, and the checker then goes over that table again in the robust form. Both
    give the same text for every other row. The last character of a column's JSON is a
    quote, a digit or ``]``, so ``rtrim`` takes only trailing nulls and the closing bracket.
    """
    cols = [f"{alias}.{_q(c)}" for c in t.columns]
    if t.keys == ("rowid",):
        cols.insert(0, f"{alias}.rowid")
    if robust:
        cols = [f"iif(typeof({c}) = 'blob', json_array('blob', hex({c})), {c})" for c in cols]
    return f"CAST(rtrim(json_array({', '.join(cols)}), ',nul]') AS BLOB)"


def digest_of(text: bytes) -> str:
    """A record's digest: SHA-256 of its canonical text, first 32 hex digits (PostgreSQL's
    ``sha256()`` gives the same for the same text)."""
    return sha256(text).hexdigest()[:32]


def legacy_digest(table: Table, values: Sequence[Any]) -> str:
    """The first digest form (migrations 0009 to 0011): non-NULL columns by name with their
    Python ``repr``. Kept only so migration 0011 can check records before moving them on."""
    raw = "\x00".join(
        [f"{n}\x01{v!r}" for n, v in zip(table.columns, values, strict=True) if v is not None]
    )
    return sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def tracking(conn: Connection) -> bool:
    """Whether this connection notes the records it touches (``install`` ran on it)."""
    return conn.dialect.name == "sqlite" and _INFO_KEY in conn.info


def collect(conn: Connection) -> dict[str, dict[str, str | None]]:
    """Digests of the records this transaction touched ({table: {id: digest or None}}), and
    the note of them cleared. Empty when nothing was touched or tracking is off."""
    if conn.dialect.name != "sqlite" or _INFO_KEY not in conn.info:
        return {}
    names = [r[0] for r in conn.exec_driver_sql("SELECT DISTINCT tbl FROM temp.probhealth_touched")]
    if not names:
        return {}
    by_name = {t.name: t for t in tables(conn)}
    out: dict[str, dict[str, str | None]] = {}
    for name in names:
        t = by_name.get(name)
        if t is None:
            continue  # dropped in this transaction
        on = f"x.{_q(t.keys[0])} = t.k1" + (
            f" AND x.{_q(t.keys[1])} = t.k2" if len(t.keys) > 1 else ""
        )
        rows = conn.exec_driver_sql(
            f"SELECT t.pk, x.rowid, {canonical_sql(t)} FROM temp.probhealth_touched t "  # noqa: S608 - names from the schema
            f"LEFT JOIN main.{_q(name)} x ON {on} WHERE t.tbl = ?",
            (name,),
        )
        out[name] = {str(r[0]): None if r[1] is None else digest_of(r[2]) for r in rows}
    conn.exec_driver_sql("DELETE FROM temp.probhealth_touched")
    return out


def scan(conn: Connection) -> Iterator[tuple[str, str, str]]:
    """Every current record as (table, id, digest), streamed."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for t in tables(conn):
            for key, text in _keyed(cursor, t):
                yield t.name, key, digest_of(text)
    finally:
        cursor.close()


def _keyed(cursor: Any, t: Table) -> Iterator[tuple[str, bytes]]:
    cursor.execute(
        f"SELECT {t.key_sql('x')}, {canonical_sql(t)} FROM main.{_q(t.name)} x"  # noqa: S608 - schema names
    )
    while batch := cursor.fetchmany(2000):
        yield from batch


def chunks(records: dict[str, dict[str, str | None]]) -> list[dict[str, dict[str, str | None]]]:
    """``records`` cut into pieces of at most ``CHUNK`` records, one per audit event."""
    out: list[dict[str, dict[str, str | None]]] = []
    current: dict[str, dict[str, str | None]] = {}
    size = 0
    for table in sorted(records):
        for key, value in sorted(records[table].items()):
            if size == CHUNK:
                out.append(current)
                current, size = {}, 0
            current.setdefault(table, {})[key] = value
            size += 1
    if current:
        out.append(current)
    return out


def encode(records: dict[str, dict[str, str | None]]) -> str:
    return json.dumps(records, ensure_ascii=True, separators=(",", ":"), sort_keys=True)


def baseline(conn: Connection) -> dict[str, dict[str, str | None]]:
    """Every current record's digest (a migration records these once, so records written
    before digests began are covered too)."""
    out: dict[str, dict[str, str | None]] = {}
    for table, key, value in scan(conn):
        out.setdefault(table, {})[key] = value
    return out


def legacy_scan(conn: Connection) -> Iterator[tuple[Table, str, str, bytes]]:
    """Every record as (table, id, its first-form digest, its canonical text): migrations
    0009 (which recorded the first form) and 0011 (which checks it, then moves on)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for t in tables(conn):
            cols = ", ".join(f"x.{_q(c)}" for c in t.columns)
            cursor.execute(
                f"SELECT {t.key_sql('x')}, {canonical_sql(t)}, {cols} "  # noqa: S608 - schema names
                f"FROM main.{_q(t.name)} x"
            )
            while batch := cursor.fetchmany(2000):
                for row in batch:
                    yield t, row[0], legacy_digest(t, row[2:]), row[1]
    finally:
        cursor.close()


# ------------------------------------------------------------------------ checking ----
@dataclass(frozen=True)
class Mismatch:
    """A record whose content no longer matches its last audit event (never a value)."""

    table: str
    key: str  # as the audit log holds it: a JSON array of the key values
    kind: str  # added | put_back | changed | deleted | unreadable (an audit event)
    event: int | None = None  # the event that last recorded it (the event itself if unreadable)


_MISSING = object()
_CHECK_BATCH = 4096
_first = itemgetter(0)
_hex = methodcaller("hexdigest")
_cut = itemgetter(slice(None, 32))


def recorded(conn: Connection) -> tuple[dict[str, dict[str, Any]], list[int]]:
    """The last digest the audit log holds for each record ({table: {id: digest, or None
    when deleted}}) and the ids of events whose digests cannot be read."""
    last: dict[str, dict[str, Any]] = {}
    unreadable: list[int] = []
    for event_id, data in _events(conn):
        if data is None:
            unreadable.append(event_id)
            continue
        for table, entries in data.items():
            last.setdefault(table, {}).update(entries)
    return last, unreadable


def _events(conn: Connection) -> Iterator[tuple[int, dict[str, dict[str, Any]] | None]]:
    """(event id, its record digests as read, or None when they cannot be read)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "SELECT id, CAST(records AS BLOB) FROM audit_event WHERE records IS NOT NULL "
            "ORDER BY id"
        )
        while batch := cursor.fetchmany(500):
            for event_id, raw in batch:
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
                if not isinstance(data, dict) or not all(
                    isinstance(v, dict) for v in data.values()
                ):
                    data = None
                yield int(event_id), data
    finally:
        cursor.close()


def check(conn: Connection) -> tuple[int, list[Mismatch]]:
    """Compare every current record with the digest its last audit event recorded.
    Returns (records checked, mismatches). SQLite.

    Fast path, per table: one column per row (the canonical text, built by SQLite), hashed
    by C-level ``map`` calls, each digest looked up in the set of the table's recorded
    digests. A record's text holds its key, so its digest is its own: when every current
    digest is recorded and the counts agree, the table matches record for record. Only a
    table that does not is gone over again by key, to name its records."""
    current = tables(conn)  # first: its statement begins the read transaction (one snapshot)
    last, unreadable = recorded(conn)
    problems = [Mismatch("audit_event", str(e), "unreadable", e) for e in unreadable]
    checked = 0
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for t in current:
            expected = last.pop(t.name, {})
            count = _same(cursor, t, expected)
            if count is None:
                count, found = _differences(cursor, t, expected)
                problems += found
            checked += count
    finally:
        cursor.close()
    for name, expected in sorted(last.items()):  # a table that is gone
        problems += [
            Mismatch(name, k, "deleted") for k, v in sorted(expected.items()) if v is not None
        ]
    if len(problems) > len(unreadable):
        _name_events(conn, problems)
    return checked, problems


def _same(cursor: Any, t: Table, expected: dict[str, Any]) -> int | None:
    """The number of rows when the table matches its recorded digests exactly, else None."""
    values = list(expected.values())
    try:
        live = set(values)
    except TypeError:  # a digest that is not text: the keyed pass names its record
        return None
    live.discard(None)
    if len(live) != len(values) - values.count(None):
        return None
    count = 0
    try:
        cursor.execute(
            f"SELECT {canonical_sql(t, robust=False)} FROM main.{_q(t.name)} x"  # noqa: S608 - schema names
        )
        while batch := cursor.fetchmany(_CHECK_BATCH):
            count += len(batch)
            if not all(
                map(live.__contains__, map(_cut, map(_hex, map(sha256, map(_first, batch)))))
            ):
                return None
    except Exception as exc:  # a BLOB, which the fast form refuses: the keyed pass names it
        if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("sqlcipher3"):
            return None
        raise
    return count if count == len(live) else None


def _differences(cursor: Any, t: Table, expected: dict[str, Any]) -> tuple[int, list[Mismatch]]:
    """The keyed pass over one table: (rows, each record that does not match)."""
    rest = dict(expected)
    out: list[Mismatch] = []
    count = 0
    for key, text in _keyed(cursor, t):
        count += 1
        known = rest.pop(key, _MISSING)
        if known is _MISSING:
            out.append(Mismatch(t.name, key, "added"))
        elif known is None:
            out.append(Mismatch(t.name, key, "put_back"))
        elif known != digest_of(text):
            out.append(Mismatch(t.name, key, "changed"))
    out += [Mismatch(t.name, k, "deleted") for k, v in sorted(rest.items()) if v is not None]
    return count, out


def _name_events(conn: Connection, problems: list[Mismatch]) -> None:
    """Fill in the event that last recorded each record named (a second read of the log,
    paid only when something does not match)."""
    wanted = {(p.table, p.key) for p in problems if p.kind != "unreadable"}
    found: dict[tuple[str, str], int] = {}
    for event_id, data in _events(conn):
        for table, entries in (data or {}).items():
            for key in entries:
                if (table, key) in wanted:
                    found[(table, key)] = event_id
    for i, p in enumerate(problems):
        if p.kind != "unreadable":
            problems[i] = Mismatch(p.table, p.key, p.kind, found.get((p.table, p.key)))
