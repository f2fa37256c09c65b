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

A digest covers the row's non-NULL columns by name, so adding a nullable column leaves every
digest as it was. A migration that fills a new column for existing rows must call
``baseline`` for that table afterwards, or every row reads as changed.

On PostgreSQL nothing is recorded (no temporary triggers on permanent tables): use the
server's own audit (pgaudit) for this.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
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


def digest(table: Table, values: Sequence[Any]) -> str:
    """The digest of one row: its non-NULL columns by name (values never leave this).
    ``repr`` tells 1 from '1' and b'1', and is the same at write and at check."""
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
        cols = ", ".join(f"x.{_q(c)}" for c in t.columns)
        rows = conn.exec_driver_sql(
            f"SELECT t.pk, x.rowid, {cols} FROM temp.probhealth_touched t "  # noqa: S608 - names from the schema
            f"LEFT JOIN main.{_q(name)} x ON {on} WHERE t.tbl = ?",
            (name,),
        )
        out[name] = {str(r[0]): None if r[1] is None else digest(t, tuple(r[2:])) for r in rows}
    conn.exec_driver_sql("DELETE FROM temp.probhealth_touched")
    return out


def scan(conn: Connection) -> Iterator[tuple[str, str, str]]:
    """Every current record as (table, id, digest), streamed."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for t in tables(conn):
            cols = ", ".join(f"x.{_q(c)}" for c in t.columns)
            cursor.execute(
                f"SELECT {t.key_sql('x')}, {cols} FROM main.{_q(t.name)} x"  # noqa: S608 - schema names
            )
            name = t.name
            while batch := cursor.fetchmany(2000):
                for row in batch:
                    yield name, row[0], digest(t, row[1:])
    finally:
        cursor.close()


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
