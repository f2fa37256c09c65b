"""Open the database in one place, with safe settings, and hand out short transactions.

SQLite (the default):

- the data directory is created 0700 and the file 0600 *before* SQLite opens it, so the
  ``-wal``/``-shm`` files SQLite creates copy that mode (SQLite's default would be 0644);
- a file that is not ours (not SQLite, another application's, a newer probhealth's, readable
  by other users) is refused before anything is written to it;
- every connection gets ``foreign_keys=ON``, ``journal_mode=WAL``, ``synchronous=FULL``, a
  ``busy_timeout``, ``secure_delete=ON`` and the hardening pragmas for files of unknown origin;
- the driver's own transaction handling is switched off and we emit ``BEGIN`` ourselves:
  ``BEGIN IMMEDIATE`` for writes, so a writer takes the lock up front and waits for another
  writer instead of failing half-way (SQLite WAL docs, section 9).

PostgreSQL: the same code, no pragmas; writers serialise on an advisory lock so the audit
chain stays linear.

The schema is brought to head on first use; when it is already current the check is one
query and Alembic is never imported.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from probhealth.errors import Busy, DatabaseRefused, StorageError
from probhealth.paths import DbTarget
from probhealth.store import schema

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = int(os.environ.get("PROBHEALTH_BUSY_TIMEOUT_MS", "5000"))
WRITE_ATTEMPTS = 3
_PG_LOCK_KEY = 0x50484C54


def _refuse(target: DbTarget, why: str, hint: str) -> DatabaseRefused:
    return DatabaseRefused(f"{target.display}: {why}", hint=hint)


def prepare_sqlite_file(target: DbTarget) -> bool:
    """Create the directory (0700) and file (0600) if missing; refuse files we must not open.

    Returns True when the file was created now (a new, empty database).
    """
    assert target.path is not None
    path = target.path
    directory = path.parent
    if not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the data directory {directory}: {exc.strerror}.",
                hint="Choose another place with --db or PROBHEALTH_HOME.",
            ) from None
        os.chmod(directory, 0o700)
    elif not directory.is_dir():
        raise _refuse(target, "its folder is not a directory", "Give another path with --db.")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise _refuse(target, "is not a regular file", "Give the path of a database file.")
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False  # another process created it just now; check it below
        except OSError as exc:
            raise StorageError(
                f"Cannot create the database {path}: {exc.strerror}.",
                hint="Choose another place with --db or PROBHEALTH_HOME.",
            ) from None
        os.close(fd)
        os.chmod(path, 0o600)
        return True
    check_existing_file(target)
    return False


def check_existing_file(target: DbTarget) -> None:
    """Refuse, without writing, a file that is not a probhealth database we may open."""
    assert target.path is not None
    path = target.path
    info = path.stat()
    if sys.platform != "win32":
        if info.st_uid != os.getuid() and os.getuid() != 0:
            raise _refuse(
                target,
                "belongs to another user account",
                "Each worker keeps their own database file; ask its owner or use --db.",
            )
        if info.st_mode & 0o077:
            raise _refuse(
                target,
                f"can be read by other users (mode {stat.filemode(info.st_mode)})",
                f"Fix it with: chmod 600 '{path}'",
            )
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror}.") from None
    if not header and _wait_for_content(path):
        with path.open("rb") as fh:
            header = fh.read(100)
    if not header:
        raise _refuse(
            target,
            "is an empty file, not a probhealth database",
            "If you meant to start a new database there, delete the empty file first.",
        )
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise _refuse(
            target,
            "is not a probhealth database (not an SQLite file, or damaged)",
            "Check the path given with --db or PROBHEALTH_DB.",
        )
    app_id = int.from_bytes(header[68:72], "big")
    if app_id not in (0, schema.APPLICATION_ID):
        raise _refuse(
            target,
            "belongs to another application",
            "Check the path given with --db or PROBHEALTH_DB.",
        )


def _wait_for_content(path: Path, seconds: float = 2.0) -> bool:
    """A file created empty a moment ago is probably another process's new database."""
    try:
        if time.time() - path.stat().st_mtime > seconds:
            return False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if path.stat().st_size > 0:
                return True
    except OSError:
        return False
    return False


def inspect_sqlite_file(target: DbTarget) -> str | None:
    """Read-only look inside an existing file: its schema revision (None if none yet).

    Refuses another application's database, a damaged file or a newer schema *before* any
    connection with our pragmas (which would switch the file to WAL) touches it.
    """
    assert target.path is not None
    try:
        con = sqlite3.connect(
            f"file:{target.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.Error:
        raise StorageError(
            f"Cannot open {target.display}.", hint="Check the path and its folder."
        ) from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise _refuse(
                    target,
                    "belongs to another application (it has tables but no probhealth schema)",
                    "Check the path given with --db or PROBHEALTH_DB.",
                )
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise map_db_error(exc, target) from None
    finally:
        con.close()
    revision = row[0] if row else None
    if revision is not None and revision not in schema.KNOWN:
        raise _refuse(
            target,
            f"was written by a newer version of probhealth (schema {revision})",
            "Upgrade probhealth to open it; nothing was changed.",
        )
    return revision


def header_application_id(target: DbTarget) -> int:
    assert target.path is not None
    with target.path.open("rb") as fh:
        header = fh.read(72)
    return int.from_bytes(header[68:72], "big") if len(header) >= 72 else 0


def storage_warning(path: Path) -> str | None:
    """A warning when the file sits where SQLite locking is unreliable (reliability row 5)."""
    from probhealth.store.location import location_warning

    return location_warning(path)


def _is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


def map_db_error(exc: BaseException, target: DbTarget) -> Exception:
    """Turn a driver error into a domain error with a message fit for a worker."""
    text = str(getattr(exc, "orig", exc)).lower()
    if _is_busy(exc):
        return Busy()
    if "disk is full" in text or "database or disk is full" in text:
        return StorageError(
            "The disk is full: this change was not saved.", hint="Free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(f"{target.display} is read-only: nothing was saved.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return _refuse(
            target,
            "is damaged or not a probhealth database",
            "Nothing was written. Restore it from a backup (see `probhealth db backup`).",
        )
    if "unable to open" in text:
        return StorageError(f"Cannot open {target.display}.", hint="Check the path and its folder.")
    return StorageError(
        "The database reported an error; nothing was saved.", hint="Run `probhealth db check`."
    )


class Store:
    """The application's handle on one database. Cheap to create; opens on first use."""

    def __init__(self, target: DbTarget, *, actor: str) -> None:
        self.target = target
        self.actor = actor
        self._engine: Engine | None = None
        self._write_engine: Engine | None = None
        self.created = False
        self.migrated_from: str | None = None
        self.backup_path: Path | None = None

    # -- opening ---------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.target.url.startswith("sqlite")

    def engine(self) -> Engine:
        if self._engine is None:
            self._open()
        assert self._engine is not None
        return self._engine

    def _open(self) -> None:
        revision: str | None = None
        local_file = self.is_sqlite and self.target.path is not None
        ours = False
        if local_file:
            self.created = prepare_sqlite_file(self.target)
            ours = not self.created and header_application_id(self.target) == schema.APPLICATION_ID
            # A file marked as ours is checked through the engine below; anything else is
            # looked at read-only first, so a foreign file is refused before our pragmas
            # (WAL) could change it.
            revision = None if self.created or ours else inspect_sqlite_file(self.target)
        engine = self._create_engine()
        self._engine = engine
        self._write_engine = engine.execution_options(probhealth_write=True)
        try:
            if not local_file or ours:
                revision = self._server_revision()
            if revision != schema.HEAD:
                self.migrate(revision)
        except BaseException:
            self.close()
            raise

    def _create_engine(self) -> Engine:
        kwargs: dict[str, Any] = {"hide_parameters": True, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        try:
            engine = create_engine(self.target.url, **kwargs)
        except Exception as exc:  # bad URL, missing driver
            from probhealth.errors import BadInput

            raise BadInput(
                f"Cannot use the database URL {self.target.display}: {type(exc).__name__}.",
                hint="Give a file path, or a URL such as postgresql+psycopg://user@host/db.",
            ) from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "begin", _pg_on_begin)
        return engine

    def current_revision(self, conn: Connection) -> str | None:
        try:
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        except DBAPIError as exc:
            if (
                "no such table" in str(exc.orig).lower()
                or "does not exist" in str(exc.orig).lower()
            ):
                conn.rollback()
                return None
            raise
        return row[0] if row else None

    def _server_revision(self) -> str | None:
        """Revision of a server database (PostgreSQL); refuses foreign or newer schemas."""
        try:
            with self.engine().connect() as conn:
                revision = self.current_revision(conn)
                if revision is None and _user_tables(conn):
                    raise _refuse(
                        self.target,
                        "belongs to another application (it has tables but no probhealth schema)",
                        "Check the database URL.",
                    )
                conn.rollback()
        except DBAPIError as exc:
            raise map_db_error(exc, self.target) from None
        if revision is not None and revision not in schema.KNOWN:
            raise _refuse(
                self.target,
                f"was written by a newer version of probhealth (schema {revision})",
                "Upgrade probhealth to open it; nothing was changed.",
            )
        return revision

    def migrate(self, revision: str | None) -> None:
        """Bring the schema to head: one transaction, after a backup of existing data."""
        from probhealth.store import migrate as _migrate

        if revision is not None and self.is_sqlite and self.target.path is not None:
            self.backup_path = _migrate.backup_before_migration(self, revision)
        try:
            _migrate.upgrade(self)
        except DBAPIError as exc:
            raise map_db_error(exc, self.target) from None
        self.migrated_from = revision

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._write_engine = None

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (a consistent snapshot)."""
        session = Session(self.engine(), expire_on_commit=False, autoflush=False)
        try:
            yield session
        except DBAPIError as exc:
            raise map_db_error(exc, self.target) from None
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction. Takes the write lock first, waits and retries when
        another process holds it, then commits everything or nothing."""
        self.engine()
        assert self._write_engine is not None
        session = self._begin_write()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            raise map_db_error(exc, self.target) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _begin_write(self) -> Session:
        assert self._write_engine is not None
        for attempt in range(WRITE_ATTEMPTS):
            session = Session(self._write_engine, expire_on_commit=False, autoflush=True)
            try:
                session.connection()  # emits BEGIN IMMEDIATE; waits up to busy_timeout
                return session
            except OperationalError as exc:
                session.close()
                if _is_busy(exc) and attempt < WRITE_ATTEMPTS - 1:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise map_db_error(exc, self.target) from None
        raise Busy()

    @contextmanager
    def raw(self) -> Iterator[Connection]:
        """A plain connection for streaming reads (exports) and maintenance."""
        with self.engine().connect() as conn:
            try:
                yield conn
            except DBAPIError as exc:
                raise map_db_error(exc, self.target) from None
            finally:
                for stream in conn.info.pop("probhealth_streams", []):
                    stream.close()  # unfinished cursors close before the connection does
                conn.rollback()


def _user_tables(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ).all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).all()
    return [r[0] for r in rows]


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # Take transaction control away from the driver: we emit BEGIN ourselves (see module doc).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        for pragma in (
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys = ON",
            "PRAGMA trusted_schema = OFF",
            "PRAGMA cell_size_check = ON",
            "PRAGMA mmap_size = 0",
            "PRAGMA secure_delete = ON",
        ):
            cur.execute(pragma)
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        if sys.platform == "darwin":
            cur.execute("PRAGMA fullfsync = ON")
    finally:
        cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("probhealth_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _pg_on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("probhealth_write", False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
