"""Schema migrations with Alembic, run programmatically (no alembic.ini needed).

Imported only when a database is new or behind (``Store._open``). The whole upgrade
runs in one ``BEGIN IMMEDIATE`` transaction, so a crash mid-migration leaves the database at
its old revision, and a second process arriving at the same moment waits, then finds the
schema current. An existing database is backed up first, with SQLite's online backup API.
"""

from __future__ import annotations

import errno
import os
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from probhealth import atomicfile, clock
from probhealth.dbkey import Key
from probhealth.errors import DatabaseRefused
from probhealth.store import anchor, schema
from probhealth.store.db import connect_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from probhealth.store.db import Store

SCRIPT_LOCATION = "probhealth.store:migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def upgrade(
    store: Store, revision: str = "head"
) -> tuple[str | None, Path | None, anchor.Head | None]:
    """Upgrade to ``revision`` (tests build old databases with it) in one ``BEGIN IMMEDIATE`` transaction.

    The revision is read again under the write lock: a second process that waited for the
    first finds the schema current and does nothing. An existing SQLite database is backed up
    (online backup API, a reader beside our write lock) before the first change.
    A new database's first audit event, ``db.init``, is written in the same transaction, so
    event 1 of every database is its creation (a log without it has lost its start).
    Returns (revision upgraded from, backup file, audit head when an event was written).
    """
    engine = store.engine().execution_options(probhealth_write=True)
    cfg = alembic_config()
    with engine.begin() as conn:
        current = _revision(conn)
        if current == (schema.HEAD if revision == "head" else revision):
            return None, None, None
        if current is not None and current not in schema.KNOWN:
            raise DatabaseRefused(
                f"{store.target.display}: was written by a newer version of probhealth (schema {current})",
                hint="Upgrade probhealth to open it; nothing was changed.",
            )
        backup = None
        if current is not None and store.target.path is not None:
            backup = backup_before_migration(store.target.path, current, store.key, store.salt)
            store.backup_path = backup  # known even if the upgrade then fails
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        head = _first_event(conn, store.actor) if current is None else None
    return current, backup, head


def _first_event(conn: Connection, actor: str) -> anchor.Head | None:
    """``db.init`` as event 1 of a new database (none if events exist already), carrying the
    digests of the rows the migrations themselves wrote. Plain SQL, so a database built at
    an old revision (without record digests) gets it too."""
    from probhealth.store import audit, digests

    if conn.exec_driver_sql("SELECT 1 FROM audit_event LIMIT 1").first() is not None:
        return None
    from sqlalchemy import inspect

    columns = {c["name"] for c in inspect(conn).get_columns("audit_event")}
    if "records" in columns:
        records = digests.baseline(conn) if conn.dialect.name == "sqlite" else {}
        return audit.append_raw(
            conn,
            actor=actor,
            action=audit.FIRST_ACTION,
            entity="database",
            detail="{}",
            records=digests.encode(records) if records else None,
        )
    at = clock.now().replace(microsecond=0)
    digest = audit.event_hash(
        1, at, actor, audit.FIRST_ACTION, "database", None, "{}", audit.GENESIS
    )
    conn.execute(
        text(
            "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, detail, "
            "prev_hash, hash) VALUES (1, :at, :actor, :action, 'database', NULL, '{}', "
            ":prev, :hash)"
        ),
        {
            "at": at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "actor": actor,
            "action": audit.FIRST_ACTION,
            "prev": audit.GENESIS,
            "hash": digest,
        },
    )
    return anchor.Head(1, digest)


def _revision(conn: Connection) -> str | None:
    """The stored revision, or None when the version table does not exist yet (no error
    raised, so the surrounding transaction stays usable)."""
    if conn.dialect.name == "sqlite":
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).first()
    else:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = 'alembic_version'"
        ).first()
    if exists is None:
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None


def backup_file(
    source: Path, dest: Path, key: Key | None = None, salt: bytes | None = None
) -> Path:
    """Copy a live SQLite database with the online backup API into a new 0600 file.

    An encrypted database's copy is encrypted with the same key (and salt: it opens with
    the same passphrase); its pages never exist in the clear on disk.

    The copy is made under a temporary name beside ``dest`` and linked into place only when
    complete, so an interrupted backup never leaves a partial file under the backup's name.
    FileExistsError when ``dest`` exists (it is never replaced).
    """
    if dest.exists():
        raise FileExistsError(dest)
    atomicfile.sweep_partials(
        dest.parent, report=False
    )  # what a killed backup left (ours, not in use)
    tmp = atomicfile.temporary_name(dest)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    atomicfile.hold(fd)  # held until the copy is in place: a sweep leaves it alone
    try:
        src = connect_file(source, key=key, salt=salt, readonly=True)
        try:
            dst = connect_file(tmp, key=key, salt=salt)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        try:
            os.link(tmp, dest)  # never overwrites: FileExistsError if another backup won
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            if dest.exists():  # a filesystem without hard links: check, then rename
                raise FileExistsError(dest) from None
            os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + "-journal").unlink(missing_ok=True)
        os.close(fd)
    _anchor_copy(dest, key, salt)
    return dest


def _anchor_copy(path: Path, key: Key | None = None, salt: bytes | None = None) -> None:
    """A copy carries its own audit head, so a restored backup verifies against it."""
    try:
        con = connect_file(path, key=key, salt=salt, readonly=True)
        try:
            row = con.execute(
                "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1"
            ).fetchone()
        finally:
            con.close()
    except Exception:  # sqlite3's or SQLCipher's error: the copy has no readable head
        return
    if row is not None:
        anchor.advance(path, anchor.Head(int(row[0]), str(row[1])))  # a new file: no anchor yet


def backup_before_migration(
    path: Path, revision: str, key: Key | None = None, salt: bytes | None = None
) -> Path:
    """``NAME.pre-REV-STAMP.bak`` beside the database; ``-2``, ``-3``... when a failed attempt
    in the same second already left one (it is kept: it is a good copy)."""
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 100):
        suffix = "" if n == 1 else f"-{n}"
        dest = path.with_name(f"{path.name}.pre-{revision}-{stamp}{suffix}.bak")
        try:
            return backup_file(path, dest, key, salt)
        except FileExistsError:
            continue
    raise FileExistsError(dest)
