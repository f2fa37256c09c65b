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
takes each digest out of the set its table's events recorded (``check``), with no Python
bytecode run a record; on a large database a second process digests about half the rows
while this one reads the log. About twice the CPU of a plain ``SELECT *`` in one process,
a little more in two, for about half the wait (benchmarks/record_digests.py). A migration that changes existing rows' content
(fills a new column, rewrites a table) must record their new digests afterwards, checking the
old ones first as 0011 does, or every such row reads as changed.

On PostgreSQL nothing is recorded (no temporary triggers on permanent tables, and a server's
administrator can change rows and the log alike): use the server's own audit (pgaudit).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from hashlib import sha256
from itertools import chain
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    cursor = _cursor(conn)
    try:
        version = cursor.execute("PRAGMA main.schema_version").fetchone()[0]
        cached = conn.info.get(_TABLES_KEY)
        if cached is not None and cached[0] == version:
            return list(cached[1])
        found = _read_tables(cursor)
    finally:
        cursor.close()
    conn.info[_TABLES_KEY] = (version, tuple(found))
    return found


def _cursor(conn: Connection) -> Any:
    """A cursor on the DB-API connection under ``conn``, in its transaction. For the many
    small schema statements here, SQLAlchemy's own handling of each statement costs several
    times what SQLite does with it (a write command's ~100 statements: about 8 ms against 2)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _read_tables(cursor: Any) -> list[Table]:
    out = []
    names = cursor.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for (name,) in names:
        if name in UNTRACKED:
            continue
        info = cursor.execute(f"PRAGMA main.table_info({_q(name)})").fetchall()
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
    cursor = _cursor(conn)
    try:
        if conn.info.get(_INFO_KEY) == signature:
            have = cursor.execute(
                "SELECT count(*) FROM temp.sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'probhealth_dg_%'"
            ).fetchone()[0]
            if have == 3 * len(found):
                return True
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS probhealth_touched "
            "(tbl TEXT NOT NULL, pk TEXT NOT NULL, k1, k2, PRIMARY KEY (tbl, pk))"
        )
        for t in found:
            for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                body = _note(t, row)
                if when == "UPDATE":  # a changed key leaves the old id behind: note it too
                    body += " " + _note(t, "OLD")
                cursor.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS {_q('probhealth_dg_' + when.lower() + '_' + t.name)} "
                    f"AFTER {when} ON main.{_q(t.name)} BEGIN {body} END"
                )
    finally:
        cursor.close()
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


def check(
    conn: Connection, *, path: Path | None = None, split: bool | None = None
) -> tuple[int, list[Mismatch]]:
    """Compare every current record with the digest its last audit event recorded.
    Returns (records checked, mismatches). SQLite.

    Per table, with C-level calls only (no Python bytecode a record): every digest the
    table's events recorded goes in a set, and each current row's digest (one column a row,
    the canonical text SQLite builds, hashed by ``map`` calls) is taken out of it
    (``_settled`` says what the rest means). Only a table that does not match is gone over
    again by key, to name its records. A log the fast path cannot read exactly as the keyed
    pass would (a bad event) is checked by the keyed pass alone, which names the bad events.

    ``path`` (a plain SQLite file): on a large database a second process
    (``digest_worker``) digests part of the rows -- whole tables, or a range of a large
    one's rowids -- while this one reads the log, in a read transaction at the same audit
    head; ``split`` forces it on or off (tests). Its digests come back over a pipe and are
    taken out of the same sets, so the result is the same as with one process."""
    current = tables(conn)  # first: its statement begins the read transaction (one snapshot)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    worker: Worker | None = None
    try:
        if not _log_is_plain(cursor):
            return _check_exact(conn, current)
        mine = [Piece(t) for t in current]
        theirs: list[Piece] = []
        if path is not None and split is not False and (split or _cpus() > 1):
            rows = {t.name: _count(cursor, t) for t in current}
            if split or sum(rows.values()) >= SPLIT_RECORDS:
                mine, theirs = _plan(cursor, current, rows, forced=bool(split))
        at = head(cursor)
        if theirs:
            assert path is not None
            worker = Worker.start(path, at, theirs)
        log = _read_log(cursor)
        if log is None:
            return _check_exact(conn, current)
        logged: dict[str, set[Any]] = {}
        for t in current:
            try:
                logged[t.name] = set(chain.from_iterable(map(dict.values, log.get(t.name, []))))
            except TypeError:  # a digest that is not text: the keyed pass names its record
                pass
        taken = dict.fromkeys(logged, 0)
        read = dict.fromkeys(logged, 0)

        def take(name: str, digests: list[str]) -> None:
            before = len(logged[name])
            logged[name].difference_update(digests)
            taken[name] += before - len(logged[name])
            read[name] += len(digests)

        def here(piece: Piece) -> None:
            name = piece.table.name
            if name in logged and not _digest_rows(cursor, piece, partial(take, name)):
                del logged[name]  # the fast form refused a row (a BLOB): the keyed pass

        for piece in mine:
            here(piece)
        if worker is not None:
            found = worker.finish(at)
            worker = None
            if found is None:  # no second process, or it read another moment: do it here
                for piece in theirs:
                    here(piece)
            for piece, digests in zip(theirs, found or [], strict=False):
                if piece.table.name not in logged:
                    continue
                if digests is None:
                    del logged[piece.table.name]
                else:
                    take(piece.table.name, digests)
        checked = 0
        problems: list[Mismatch] = []
        for t in current:
            events = log.pop(t.name, [])
            count = None
            if t.name in logged:
                count = _settled(events, logged[t.name], taken[t.name], read[t.name])
            if count is None:
                count, named = _differences(cursor, t, _last(events))
                problems += named
            checked += count
        for name in sorted(log):  # a table that is gone
            problems += [
                Mismatch(name, k, "deleted")
                for k, v in sorted(_last(log[name]).items())
                if v is not None
            ]
    finally:
        if worker is not None:
            worker.stop()
        cursor.close()
    if problems:
        _name_events(conn, problems)
    return checked, problems


SPLIT_RECORDS = 200_000  # a second process pays for itself from about here (benchmarks/)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


# What the first process does besides digesting rows, in rows' worth: reading the log (per
# record), and starting the second process. The plan gives the second process more rows.
_LOG_WEIGHT = 0.5
_START_ROWS = 30_000
_MIN_PIECE = 5_000


@dataclass(frozen=True)
class Piece:
    """A table's rows, or those with ``after < rowid <= upto`` (a share of a large table)."""

    table: Table
    after: int | None = None
    upto: int | None = None

    def to_json(self) -> list[Any]:
        t = self.table
        return [t.name, list(t.keys), list(t.columns), self.after, self.upto]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Piece:
        name, keys, columns, after, upto = raw
        return cls(Table(str(name), tuple(keys), tuple(columns)), after, upto)


def head(cursor: Any) -> list[Any]:
    """The moment a read transaction sees: the last audit event and the schema's version.
    Every write probhealth makes adds an event, so two readers at the same head read the
    same records and log (a change made outside probhealth is a mismatch at either)."""
    row = cursor.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    version = cursor.execute("PRAGMA main.schema_version").fetchone()[0]
    return [None, None, version] if row is None else [int(row[0]), str(row[1]), version]


def _count(cursor: Any, t: Table) -> int:
    sql = f"SELECT count(*) FROM main.{_q(t.name)}"  # noqa: S608 - schema names
    return int(cursor.execute(sql).fetchone()[0])


def _plan(
    cursor: Any, current: list[Table], rows: dict[str, int], *, forced: bool = False
) -> tuple[list[Piece], list[Piece]]:
    """(this process's pieces, the second process's). The second gets about half of the
    work: the rows, plus what reading the log costs this one, less its own start; largest
    tables first, and a range of rowids of the first table that does not fit whole.
    ``forced`` (tests): a small database is shared all the same, down to a piece of one row."""
    total = sum(rows.values())
    room = (total * (1 + _LOG_WEIGHT) - (0 if forced else _START_ROWS)) / 2
    least = 1 if forced else _MIN_PIECE
    mine: list[Piece] = []
    theirs: list[Piece] = []
    for t in sorted(current, key=lambda t: (-rows[t.name], t.name)):
        n = rows[t.name]
        if 0 < n <= room:
            theirs.append(Piece(t))
            room -= n
            continue
        span = _rowids(cursor, t) if n and room >= least else None
        if span is None:
            mine.append(Piece(t))
            continue
        low, high = span
        cut = high - int((high - low + 1) * room / n)
        mine.append(Piece(t, upto=cut))
        theirs.append(Piece(t, after=cut))
        room = 0
    return mine, theirs


def _rowids(cursor: Any, t: Table) -> tuple[int, int] | None:
    """The lowest and highest rowid (None for a table without rowids)."""
    sql = f"SELECT min(rowid), max(rowid) FROM main.{_q(t.name)}"  # noqa: S608 - schema names
    try:
        low, high = cursor.execute(sql).fetchone()
    except sqlite3.Error:
        return None
    return None if low is None else (int(low), int(high))


def piece_digests(cursor: Any, piece: Piece) -> list[str] | None:
    """The digests of a piece's rows; None when the fast form refuses a row (a BLOB: the
    keyed pass names it)."""
    out: list[str] = []
    return out if _digest_rows(cursor, piece, out.extend) else None


def _digest_rows(cursor: Any, piece: Piece, sink: Callable[[list[str]], None]) -> bool:
    """Hand the digests of a piece's rows to ``sink``, a batch at a time; False when the
    fast form refuses a row."""
    t = piece.table
    where, args = "", []
    if piece.after is not None:
        where, args = " WHERE x.rowid > ?", [piece.after]
    if piece.upto is not None:
        where += (" AND" if where else " WHERE") + " x.rowid <= ?"
        args.append(piece.upto)
    try:
        cursor.execute(
            f"SELECT {canonical_sql(t, robust=False)} FROM main.{_q(t.name)} x{where}",  # noqa: S608 - schema names
            args,
        )
        while batch := cursor.fetchmany(_CHECK_BATCH):
            sink(list(map(_cut, map(_hex, map(sha256, map(_first, batch))))))
    except Exception as exc:  # a BLOB, which the fast form refuses
        if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("sqlcipher3"):
            return False
        raise
    return True


def _log_is_plain(cursor: Any) -> bool:
    """Whether every event's digests are JSON text that starts as an object, as probhealth
    writes them. Anything else (a BLOB, an array) sends the check to the keyed pass, which
    reads each event as it always has and names a bad one."""
    bad = cursor.execute(
        "SELECT 1 FROM audit_event WHERE records IS NOT NULL "
        "AND NOT (typeof(records) = 'text' AND substr(records, 1, 1) = '{') LIMIT 1"
    ).fetchone()
    return bad is None


def _read_log(cursor: Any) -> dict[str, list[dict[str, Any]]] | None:
    """The log's digests as {table: [its digests on each event, in event order]}; None when
    an event is not an object of objects (the keyed pass then names it)."""
    out: dict[str, list[dict[str, Any]]] = {}
    cursor.execute(
        "SELECT CAST(records AS BLOB) FROM audit_event WHERE records IS NOT NULL ORDER BY id"
    )
    while batch := cursor.fetchmany(256):
        for (raw,) in batch:
            try:
                data = json.loads(raw)
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            for table, entries in data.items():
                if not isinstance(entries, dict):
                    return None
                out.setdefault(table, []).append(entries)
    return out


def _last(events: list[dict[str, Any]]) -> dict[str, Any]:
    last: dict[str, Any] = {}
    for entries in events:
        last.update(entries)
    return last


def _settled(events: list[dict[str, Any]], stale: set[Any], taken: int, read: int) -> int | None:
    """The number of rows when the table matches its last recorded digests exactly, else
    None (the keyed pass then names what differs).

    No record's key is looked at while all is well. A digest is of a text that holds its
    record's key, so it names one record. ``stale`` is what is left of the set of every
    digest the table's events recorded once the digest of each of the ``read`` current rows
    was taken out (``taken`` were): every row's must have been there, or it was added or
    changed outside. What is left is an earlier content of a record, or None for a
    deletion. The table matches when each record with a stale digest ends as it should:
    its last digest current (taken out), or None with none of its digests current. Only
    those records are looked up by key (an edited answer, an erased person): what saves
    left behind, not the whole caseload. This holds for every log probhealth writes; a log
    rewritten to file one record's digest under another key breaks the hash chain first."""
    if taken != read:
        return None  # a row whose digest was never recorded (or was found twice)
    if not stale:
        return read
    if len(stale) * _FEW_STALE <= sum(map(len, events)):
        return read if _stale_settled(events, stale) else None
    return read if _last_settled(events, stale, read) else None


_FEW_STALE = 16  # stale digests up to 1 in this many entries are looked up record by record


def _last_settled(events: list[dict[str, Any]], stale: set[Any], read: int) -> bool:
    """``_stale_settled`` for many stale digests (every answer edited since): each record's
    last digest, in C-level dict updates. Each must be current (not stale), or None, and
    there must be as many as there are rows: a digest names its record, so the current
    rows are then exactly the records whose last digest is not None."""
    last = set(_last(events).values())
    last.discard(None)
    return len(last) == read and last.isdisjoint(stale)


def _stale_settled(events: list[dict[str, Any]], stale: set[Any]) -> bool:
    """Whether every record with a stale digest in the log ends as it should: its last
    digest current (not stale), or None (deleted) with none of its digests current. Every
    logged digest is current or stale, since the current ones were all found in the log."""
    keys: set[str] = set()
    for entries in events:
        if not stale.isdisjoint(entries.values()):
            keys.update([k for k, v in entries.items() if v in stale])
    last: dict[str, Any] = {}
    seen: dict[str, set[Any]] = {}
    for entries in events:
        for k in entries.keys() & keys:  # iterates the smaller of the two
            last[k] = entries[k]
            seen.setdefault(k, set()).add(entries[k])
    for k in keys:
        if last[k] is None:
            if any(v is not None and v not in stale for v in seen[k]):
                return False  # deleted, yet one of its contents is there: put back
        elif last[k] in stale:
            return False  # its last content is not there: changed or deleted outside
    return True


class Worker:
    """The second process of a check: ``python -m probhealth.store.digest_worker``, given its
    pieces on standard input. It answers with the head its read transaction sees, then the
    digests of each piece in frames (``piece index, byte count`` and the digests, one a
    line), then an end mark; a thread here reads them while this process works."""

    def __init__(self, proc: Any, pieces: int) -> None:
        import threading

        self.proc = proc
        self.pieces = pieces
        self.data = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        with self.proc.stdout:
            self.data = self.proc.stdout.read()

    @classmethod
    def start(cls, path: Path, at: list[Any], pieces: list[Piece]) -> Worker | None:
        """The second process started on ``pieces``; None when it cannot be (this process
        then does them)."""
        import subprocess

        if getattr(sys, "frozen", False) or not sys.executable:
            return None
        task = {"path": str(path), "head": at, "pieces": [p.to_json() for p in pieces]}
        try:
            proc = subprocess.Popen(
                # -P: the current folder is not put first on the module path (it could
                # hold a "probhealth" or "json" of someone else's)
                [sys.executable, "-P", "-m", "probhealth.store.digest_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        stdin = proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(task).encode())
            stdin.close()
        except OSError:
            proc.kill()
            proc.wait()
            return None
        return cls(proc, len(pieces))

    def finish(self, at: list[Any]) -> list[list[str] | None] | None:
        """The digests of each piece (None for a piece the fast form refused); None when the
        process failed or read at another head than ``at``."""
        self.reader.join()
        if self.proc.wait() != 0:
            return None
        try:
            return read_frames(self.data, at, self.pieces)
        except (ValueError, IndexError, TypeError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join()


def write_frames(out: Any, at: list[Any], pieces: list[list[str] | None] | Iterator[Any]) -> None:
    """What the second process writes (``read_frames`` reads it)."""
    out.write(json.dumps(at).encode("ascii") + b"\n")
    for i, digests in enumerate(pieces):
        if digests is None:
            out.write(b"%d -1\n" % i)
            continue
        for start in range(0, len(digests), _FRAME):
            body = "\n".join(digests[start : start + _FRAME]).encode("ascii")
            out.write(b"%d %d\n" % (i, len(body)) + body)
    out.write(b"end\n")


_FRAME = 65536  # digests a frame


def read_frames(data: bytes, at: list[Any], pieces: int) -> list[list[str] | None] | None:
    """The digests of each piece from the second process's output; None when it read at
    another head. Raises ValueError on output that is cut short or malformed."""
    line, pos = _line(data, 0)
    if json.loads(line) != at:
        return None
    found: dict[int, list[str] | None] = {}
    while True:
        line, pos = _line(data, pos)
        if line == b"end":
            break
        index, size = map(int, line.split(b" "))
        if size < 0:
            found[index] = None
            continue
        body = data[pos : pos + size]
        if len(body) != size:
            raise ValueError("cut short")
        pos += size
        have = found.setdefault(index, [])
        if have is not None:
            have.extend(body.decode("ascii").split("\n"))
    if pos != len(data):
        raise ValueError("trailing output")
    if any(i not in range(pieces) for i in found):
        raise ValueError("no such piece")
    return [found.get(i, []) for i in range(pieces)]


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\n", pos)
    return data[pos:end], end + 1


def _check_exact(conn: Connection, current: list[Table]) -> tuple[int, list[Mismatch]]:
    """The keyed pass over everything, reading each event as a whole: for a log with an
    event the fast path cannot read (it is named, and the others are still checked)."""
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
