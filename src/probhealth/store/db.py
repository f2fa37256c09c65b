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

Encrypted SQLite (SQLCipher, the optional ``probhealth[encrypted]`` extra): the same file
handling, with every connection -- the read-only look, the engine's, backups -- made by
``connect_file`` here with the key applied first (see ``probhealth.dbkey``). A file that does
not start with SQLite's header is taken for an encrypted one: without the extra, the message
names the extra to install; without a key, where to give it; with a wrong key, the file is
refused read-only, byte-for-byte unchanged. A new file is encrypted when the store is made
with ``encrypt=True`` (``probhealth init --encrypt``).

PostgreSQL: the same code, no pragmas; writers serialise on an advisory lock so the audit
chain stays linear.

The schema is brought to head on first use; when it is already current the check is one
query and Alembic is never imported.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session as Session  # re-exported: services type their sessions with it

from probhealth.dbkey import Key
from probhealth.errors import (
    Busy,
    DatabaseRefused,
    LoginRefused,
    ReadOnlyLogin,
    Remedy,
    StorageError,
)
from probhealth.paths import DbTarget
from probhealth.store import anchor, filesafety, schema


def __getattr__(name: str) -> Any:
    """``Session`` (SQLModel's), loaded on first use: this module opens databases without
    SQLAlchemy too (``open_plain``), so it does not import it at its top."""
    if name == "Session":
        from sqlmodel import Session

        return Session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KeySource = Callable[[], Key | None]  # asked once, only when a file is (to be) encrypted
EXTRA = "probhealth[encrypted]"

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = int(os.environ.get("PROBHEALTH_BUSY_TIMEOUT_MS", "5000"))


def read_pragmas() -> tuple[str, ...]:
    """Every connection to a file of unknown origin: wait for a writer, and take nothing in the
    schema on trust. A read-only connection (digest_worker) applies these alone. The wait is
    ``BUSY_TIMEOUT_MS`` when the connection is made (tests shorten it)."""
    return (
        f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
        "PRAGMA trusted_schema = OFF",
        "PRAGMA cell_size_check = ON",
        "PRAGMA mmap_size = 0",
    )


WRITE_ATTEMPTS = 3
SCRUB_PENDING = "scrub_pending"  # meta key: an erasure's checkpoint is still to be done
# quick_check on open: the whole file up to this size (about 2 ms per MiB here); above it,
# only these tables (with their indexes), which every command reads or writes.
QUICK_CHECK_MAX_BYTES = 16 * 1024 * 1024
QUICK_CHECK_TABLES = ("alembic_version", "person", "consent")
_PG_LOCK_KEY = 0x50484C54


def _key_remedy(source: str) -> str:
    """What to do about a key that does not open the file, by where it came from."""
    if source == "the prompt":
        return "Type it again (capitals count); a lost key cannot be recovered."
    where = {"the key file": "the key file (PROBHEALTH_KEY_FILE)"}.get(source, source)
    return f"Check the key in {where}; a lost key cannot be recovered."


def _refuse(target: DbTarget, why: str, hint: str, remedy: Remedy | None = None) -> DatabaseRefused:
    return DatabaseRefused(f"{target.display}: {why}", hint=hint, remedy=remedy)


def prepare_sqlite_file(target: DbTarget) -> bool:
    """Create the directory (0700) and file (0600) if missing; refuse files we must not open.

    Returns True when the file was created now (a new, empty database).
    """
    assert target.path is not None
    if any(len(part) > 255 for part in target.path.parts):
        raise _refuse(target, "has a name longer than 255 characters", "Give a shorter path.")
    try:
        filesafety.check_places(target)  # folder, owner, modes of the file and its -wal/-shm
        return _prepare_sqlite_file(target)
    except OSError as exc:
        raise StorageError(
            f"Cannot use {target.display}: {exc.strerror or type(exc).__name__}.",
            hint="Check the path given with {opt:db} or PROBHEALTH_DB.",
        ) from None


def _prepare_sqlite_file(target: DbTarget) -> bool:
    assert target.path is not None
    path = target.path
    directory = path.parent
    if not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the data directory {directory}: {exc.strerror}.",
                hint="Choose another place with {opt:db} or PROBHEALTH_HOME.",
            ) from None
        os.chmod(directory, 0o700)
    elif not directory.is_dir():
        raise _refuse(target, "its folder is not a directory", "Give another path with {opt:db}.")
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
                hint="Choose another place with {opt:db} or PROBHEALTH_HOME.",
            ) from None
        os.close(fd)
        os.chmod(path, 0o600)
        return True
    check_existing_file(target)
    return False


def check_existing_file(target: DbTarget) -> bool:
    """Refuse, without writing, a file that is not a probhealth database we may open.

    True when the file is not plain SQLite but could be an encrypted (SQLCipher) database:
    whole pages, no SQLite header. Only its key can tell; ``Store`` then asks for it."""
    assert target.path is not None
    path = target.path
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
    if len(header) == 100 and not header.startswith(SQLITE_MAGIC) and _whole_pages(path):
        filesafety.check_journal(target)
        return True
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise _refuse(
            target,
            "is not a probhealth database (not an SQLite file, or damaged)",
            "Check the path given with {opt:db} or PROBHEALTH_DB.",
        )
    app_id = int.from_bytes(header[68:72], "big")
    if app_id not in (0, schema.APPLICATION_ID):
        raise _refuse(
            target,
            "belongs to another application",
            "Check the path given with {opt:db} or PROBHEALTH_DB.",
        )
    filesafety.check_shape(target, header)
    filesafety.check_journal(target)
    return False


def _whole_pages(path: Path) -> bool:
    try:
        return path.stat().st_size % 512 == 0
    except OSError:
        return False


def is_plain_sqlite(path: Path) -> bool:
    """True when the file starts with SQLite's header (not encrypted)."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def cipher_module() -> Any:
    """SQLCipher's DB-API module (``sqlcipher3``), or None when the extra is not installed."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        return None
    return dbapi2


def _no_extra(target: DbTarget) -> DatabaseRefused:
    return _refuse(
        target,
        "is not a plain SQLite file: it is encrypted, or not a probhealth database",
        f"To open an encrypted database, install the extra: pip install '{EXTRA}'",
    )


def connect_file(
    path: Path,
    *,
    key: Key | None = None,
    salt: bytes | None = None,
    readonly: bool = False,
    cipher: bool = False,
    timeout: float | None = None,
) -> Any:
    """A DB-API connection to a SQLite file: ``sqlite3``, or SQLCipher's when ``key`` is
    given (or ``cipher``: a plain file opened by SQLCipher, to copy it into an encrypted one).
    The key is applied before anything is read; ``salt`` is the file's (read from its first
    16 bytes when not given; a new file gets a new one). Every connection to a database file
    in probhealth is made here."""
    target = f"file:{_quote(path)}?mode=ro" if readonly else str(path)
    if timeout is None:
        timeout = BUSY_TIMEOUT_MS / 1000
    if key is None and not cipher:
        return sqlite3.connect(target, uri=readonly, timeout=timeout, check_same_thread=False)
    module = cipher_module()
    if module is None:
        raise _no_extra(DbTarget(url="sqlite:///" + str(path), path=path, explicit=True))
    con = module.connect(target, uri=readonly, timeout=timeout, check_same_thread=False)
    try:
        con.execute("PRAGMA cipher_log_level = NONE")  # SQLCipher's own stderr logging
        if key is not None:
            if salt is None:
                salt = file_salt(path)
            con.execute(f'PRAGMA key = "{key.raw(salt)}"')
    except BaseException:
        con.close()
        raise
    return con


def file_salt(path: Path) -> bytes:
    """An encrypted file's salt (its first 16 bytes); a new, empty file gets a new one."""
    from probhealth import dbkey

    try:
        with path.open("rb") as fh:
            head = fh.read(dbkey.SALT_BYTES)
    except OSError:
        head = b""
    return head if len(head) == dbkey.SALT_BYTES else dbkey.new_salt()


def _quote(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path.absolute()))


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


def inspect_sqlite_file(target: DbTarget, key: Key | None = None) -> str | None:
    """Read-only look inside an existing file: its schema revision (None if none yet).

    Refuses another application's database, a damaged file or a newer schema *before* any
    read-write connection touches it: our pragmas would switch a foreign file to WAL, and
    closing a read-write connection checkpoints a hot ``-wal`` into the file. A read-only
    connection reads the ``-wal`` without changing it (it may leave an empty ``-wal`` and an
    ``-shm`` beside the file, as any SQLite reader does).

    Then ``PRAGMA quick_check`` (reliability row 8), so damage is found before a write
    lands on a damaged page: the whole file when it is up to ``QUICK_CHECK_MAX_BYTES`` (a
    caseload's database, a few milliseconds), otherwise the tables every command reads.
    ``db check`` always runs the full ``integrity_check``.
    """
    assert target.path is not None
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    if key is not None:
        errors += (cipher_module().Error,)
    try:
        con = connect_file(target.path, key=key, readonly=True)
    except errors:
        raise StorageError(
            f"Cannot open {target.display}.", hint="Check the path and its folder."
        ) from None
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA cell_size_check = ON")
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except errors as exc:
            if key is not None and "not a database" in str(exc):
                raise _refuse(
                    target,
                    f"does not open with the key from {key.source}: the key is wrong, or it "
                    "is not a probhealth database.",
                    f"Nothing was changed. {_key_remedy(key.source)}",
                ) from None
            raise
        revision = filesafety.recognise(con, target, tables)
        if revision is None and not tables - {"alembic_version", "sqlite_sequence"}:
            return None
        _quick_check(con, target, tables)
    except (*errors, UnicodeDecodeError) as exc:  # type: ignore[misc]
        raise map_db_error(exc, target) from None
    finally:
        con.close()
    return revision


def _quick_check(con: Any, target: DbTarget, tables: set[str]) -> None:
    assert target.path is not None
    size = 0
    for suffix in ("", "-wal"):
        try:
            size += os.stat(f"{target.path}{suffix}").st_size
        except OSError:
            pass
    if size <= QUICK_CHECK_MAX_BYTES:
        scopes: list[str | None] = [None]
    else:
        scopes = [t for t in QUICK_CHECK_TABLES if t in tables]
    for scope in scopes:
        sql = "PRAGMA quick_check" if scope is None else f'PRAGMA quick_check("{scope}")'
        rows = con.execute(sql).fetchall()
        if rows != [("ok",)]:
            raise _refuse(
                target,
                "is damaged (SQLite's quick check found problems)",
                "Nothing was written.",
                Remedy.of("restore-or-check-db"),
            )


def look_at_file(
    target: DbTarget, *, encrypt: bool, key: Callable[[bool], Key]
) -> tuple[bool, str | None]:
    """The checks every open of a local file makes, in this order (``Store`` and
    ``open_plain`` both come here): folder and file ownership and modes, then the file made
    (0600) or, when it exists, its header, application id and journal looked at; an existing
    file is then opened read-only (schema version, quick check), so a foreign, damaged or
    newer file is refused before a read-write connection could change it.

    ``key(created)`` is asked for the key when the file is (to be) encrypted. Returns whether
    the file was created now, and its schema revision (None when new)."""
    assert target.path is not None
    if encrypt and cipher_module() is None:
        raise _no_extra(target)
    created = prepare_sqlite_file(target)
    given: Key | None = None
    if encrypt if created else not is_plain_sqlite(target.path):
        given = key(created)
    return created, None if created else inspect_sqlite_file(target, given)


def _server_error(sqlstate: str | None, text: str, target: DbTarget) -> Exception | None:
    """A server that cannot be reached or refuses the login, in words. Never the driver's
    own text (it can quote the connection string), only ``target.display``, which hides a
    password given in the URL."""
    if (
        sqlstate in ("28P01", "28000")
        or "password authentication failed" in text
        or "no password supplied" in text
    ):
        return LoginRefused(
            f"The database server refused the login for {target.display}.",
            hint="Check the login, and its password in PGPASSFILE (~/.pgpass) or the URL.",
        )
    if sqlstate == "3D000" or ("database" in text and "does not exist" in text):
        return StorageError(
            f"There is no database {target.display}.",
            hint="Check the database name in the URL, or create it (README: PostgreSQL).",
        )
    if sqlstate is None and ("connection" in text or "could not" in text or "timeout" in text):
        return StorageError(
            f"Cannot reach the database server for {target.display}.",
            hint="Check the host and port in the URL, and that the server is running.",
        )
    return None


def storage_warning(path: Path) -> str | None:
    """A warning when the file sits where SQLite locking is unreliable (reliability row 5)."""
    from probhealth.store.location import location_warning

    return location_warning(path)


def _is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


def map_db_error(exc: BaseException, target: DbTarget) -> Exception:
    """Turn a driver error into a domain error with a message fit for a worker."""
    if isinstance(getattr(exc, "orig", exc), UnicodeDecodeError):
        # SQLite's message quoted bytes from a damaged schema that are not UTF-8.
        return _refuse(
            target,
            "is damaged or not a probhealth database",
            "Nothing was written.",
            Remedy.of("restore-backup"),
        )
    text = str(getattr(exc, "orig", exc)).lower()
    if _is_busy(exc):
        return Busy()
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    if sqlstate == "42501":
        # PostgreSQL insufficient_privilege: a login granted SELECT only (README: roles).
        return ReadOnlyLogin()
    if not target.url.startswith("sqlite"):
        server = _server_error(sqlstate, text, target)
        if server is not None:
            return server
    if _disk_full(exc):
        return StorageError(
            "The disk is full: this change was not saved.", hint="Free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(f"{target.display} is read-only: nothing was saved.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return _refuse(
            target,
            "is damaged or not a probhealth database",
            "Nothing was written.",
            Remedy.of("restore-backup"),
        )
    if "unable to open" in text:
        return StorageError(f"Cannot open {target.display}.", hint="Check the path and its folder.")
    return StorageError(
        "The database reported an error; nothing was saved.", remedy=Remedy.of("check-db")
    )


class Store:
    """The application's handle on one database. Cheap to create; opens on first use."""

    def __init__(
        self,
        target: DbTarget,
        *,
        actor: str,
        key: KeySource | None = None,
        encrypt: bool = False,
    ) -> None:
        self.target = target
        self.label = actor  # --as / PROBHEALTH_USER / the login name of the computer
        self.login: str | None = None  # on a server: the database login (session_user)
        self.key_source = key
        self.encrypt = encrypt  # a new file is made encrypted
        self.key: Key | None = None  # set when the open file is encrypted
        self.salt: bytes | None = None
        self._engine: Engine | None = None
        self._write_engine: Engine | None = None
        self.created = False
        self.migrated_from: str | None = None
        self.backup_path: Path | None = None
        self._identity: tuple[int, int] | None = None
        self.last_head: anchor.Head | None = None  # the audit head after the last write
        self.notices: list[str] = []  # things the front end should say after the command

    @property
    def actor(self) -> str:
        """Who is writing, for the audit log and "recorded by". On a server database it is the
        database login (``session_user``), which the server vouches for; ``--as`` can add a
        display name after it but never claim another login: ``alice (Alice Jones)``."""
        if self.is_sqlite:
            return self.label
        if self.login is None:
            self.engine()
        login = self.login or "unknown"
        if self.label in (login, _os_login()):
            return login
        return f"{login} ({self.label})"

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
        if local_file:
            self.created, revision = look_at_file(
                self.target, encrypt=self.encrypt, key=self._key_for
            )
            self._identity = _file_identity(self.target)
        engine = self._create_engine()
        self._engine = engine
        self._write_engine = engine.execution_options(probhealth_write=True)
        try:
            if not local_file:
                revision = self._server_revision()
                if not self.is_sqlite:
                    with engine.connect() as conn:
                        self.login = str(conn.exec_driver_sql("SELECT session_user").scalar())
                        conn.rollback()
            if revision != schema.HEAD:
                self.migrate()
            elif local_file:
                # Take the pool's first connection now: the read-only look may have left an
                # empty -wal/-shm, and SQLite removes them when this connection closes.
                engine.connect().close()
                self._finish_scrub()
        except UnicodeDecodeError as exc:
            self.close()
            raise map_db_error(exc, self.target) from None
        except BaseException:
            self.close()
            raise

    def _finish_scrub(self) -> None:
        """An erasure that another reader kept from scrubbing the file is finished now. The
        erasure module (and the tables it loads) is imported only when one is pending."""
        from sqlalchemy.exc import DBAPIError

        if not self.is_sqlite:
            return
        try:
            with self.raw() as conn:
                pending = conn.exec_driver_sql(
                    "SELECT 1 FROM meta WHERE key = ?", (SCRUB_PENDING,)
                ).first()
            if pending is None:
                return
            from probhealth.store import erasure

            erasure.finish_scrub(self)
        except (StorageError, DBAPIError):
            pass  # busy or full: the erasure stays pending, the next command tries again

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    def _key_for(self, created: bool) -> Key:
        self.created = created
        self._take_key()
        assert self.key is not None
        return self.key

    def _take_key(self) -> None:
        """The key of an encrypted file (or of the new file to encrypt), asked once."""
        assert self.target.path is not None
        if cipher_module() is None:
            raise _no_extra(self.target)
        try:
            key = self.key_source() if self.key_source is not None else None
        except BaseException:
            # Refused (too short, typed differently twice) or Ctrl-C at the prompt: the new
            # file made for it goes, so the next init does not meet an empty file.
            if self.created:
                self.target.path.unlink(missing_ok=True)
            raise
        if key is None:
            what = (
                "is to be encrypted"
                if self.created
                else ("is encrypted, or not a probhealth database,")
            )
            if self.created:
                self.target.path.unlink(missing_ok=True)
            raise _refuse(
                self.target,
                f"{what} and no key was given.",
                "Give its key in a file named by PROBHEALTH_KEY_FILE, in the system keyring, "
                "or at a terminal.",
            )
        self.key = key
        self.salt = file_salt(self.target.path)

    def _create_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import URL

        kwargs: dict[str, Any] = {"hide_parameters": True, "future": True}
        url: str | URL = self.target.url
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            if self.target.path is not None:
                # Built, not parsed: a file name with `?`, `#` or `%` stays that file name.
                url = URL.create("sqlite", database=str(self.target.path))
            if self.key is not None:
                path, key, salt = self.target.path, self.key, self.salt
                assert path is not None
                kwargs.pop("connect_args")
                kwargs["module"] = cipher_module()
                kwargs["creator"] = lambda: connect_file(path, key=key, salt=salt)
        try:
            engine = create_engine(url, **kwargs)
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
        from sqlalchemy.exc import DBAPIError

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
        from sqlalchemy.exc import DBAPIError

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

    def migrate(self) -> None:
        """Bring the schema to head: one write transaction; existing data is backed up first,
        inside it, so two processes arriving together back up and migrate once."""
        from sqlalchemy.exc import DBAPIError

        from probhealth.store import migrate as _migrate

        try:
            self.migrated_from, self.backup_path, head = _migrate.upgrade(self)
        except DBAPIError as exc:
            raise map_db_error(exc, self.target) from None
        if head is not None and self.target.path is not None:
            anchor.advance(self.target.path, head)

    def changed_under(self) -> str | None:
        """What another process did to the open database since it was opened: ``"removed"``
        (the file is gone), ``"replaced"`` (another file at its path, e.g. a restored backup),
        ``"migrated"`` (its schema is not the one this program wrote), or None. Costs a stat
        and one query; a long-lived front end (the shell) asks before each command."""
        from sqlalchemy.exc import DBAPIError

        if self._engine is None:
            return None
        if self._identity is not None:
            now = _file_identity(self.target)
            if now is None:
                return "removed"
            if now != self._identity:
                return "replaced"
        try:
            with self._engine.connect() as conn:
                revision = self.current_revision(conn)
                conn.rollback()
        except DBAPIError:
            return "replaced"  # unreadable now: reopening runs every check again
        return None if revision == schema.HEAD else "migrated"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._write_engine = None

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (a consistent snapshot)."""
        from sqlalchemy.exc import DBAPIError
        from sqlmodel import Session

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
        from sqlalchemy.exc import DBAPIError

        self.engine()
        assert self._write_engine is not None
        session = self._begin_write()
        try:
            yield session
            self._finish_audit(session)
            head = self._head_to_anchor(session)
            session.commit()
            info = session.info.get(anchor.HEAD_KEY)
            if info is not None:
                self.last_head = anchor.Head(*info)
            if head is not None and self.target.path is not None:
                anchor.advance(self.target.path, head)
        except Exception as exc:
            session.rollback()
            # Bulk inserts use the driver's cursor: its own errors arrive unwrapped.
            if isinstance(exc, DBAPIError) or _driver_error(exc):
                why = _cannot_record(exc)
                if why is not None and session.info.get("probhealth_view"):
                    # A view changed no record: only recording it failed. What was read is
                    # still true, so the caller shows it, and the front end says why (a full
                    # disk, a read-only server) and that this view is missing from the log.
                    self.notices.append(why)
                    return
                raise map_db_error(exc, self.target) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _finish_audit(self, session: Session) -> None:
        """Chain the transaction's audit events; the last carries the digests of the records
        the transaction touched (store/digests.py)."""
        from probhealth.store import audit, digests

        session.flush()
        conn = session.connection()
        if session.info.pop("probhealth_rolled_back", False) and self.target.path is not None:
            digests.install(conn)  # the rollback took the temporary triggers with it
        records = digests.collect(conn)
        if conn.dialect.name == "sqlite":
            # Nothing but audit events to write (a view), as far as the triggers can tell.
            session.info["probhealth_view"] = not records and digests.tracking(conn)
        else:
            # PostgreSQL gives a transaction its id at its first write: none yet, a view.
            assigned = conn.exec_driver_sql("SELECT txid_current_if_assigned()").scalar()
            session.info["probhealth_view"] = assigned is None
        audit.finish(session, actor=self.actor, records=records)

    def _head_to_anchor(self, session: Session) -> anchor.Head | None:
        """The head this transaction's events make, if the anchor file may move to it."""
        info = session.info.get(anchor.HEAD_KEY)
        if info is None or self.target.path is None:
            return None
        head = anchor.Head(*info)

        def hash_of(event_id: int) -> str | None:
            row = session.connection().exec_driver_sql(
                "SELECT hash FROM audit_event WHERE id = ?", (event_id,)
            )
            found = row.first()
            return None if found is None else str(found[0])

        return head if anchor.may_advance(self.target.path, head, hash_of) else None

    def _begin_write(self) -> Session:
        from sqlalchemy import event
        from sqlalchemy.exc import OperationalError
        from sqlmodel import Session

        assert self._write_engine is not None
        for attempt in range(WRITE_ATTEMPTS):
            session = Session(self._write_engine, expire_on_commit=False, autoflush=True)
            session.info["probhealth_audit_deferred"] = True  # store/audit.py DEFER_KEY
            event.listen(session, "after_rollback", _forget_pending)
            try:
                conn = session.connection()  # emits BEGIN IMMEDIATE; waits up to busy_timeout
                if self.target.path is not None:
                    from probhealth.store import digests

                    digests.install(conn)  # note every record this transaction touches
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
        from sqlalchemy.exc import DBAPIError

        with self.engine().connect() as conn:
            try:
                yield conn
            except DBAPIError as exc:
                raise map_db_error(exc, self.target) from None
            finally:
                for stream in conn.info.pop("probhealth_streams", []):
                    stream.close()  # unfinished cursors close before the connection does
                conn.rollback()


class _NeedsStore(Exception):
    """Only the full open (``Store``) can open this file: encrypted, new, or to migrate."""


class Plain:
    """A checked, current, unencrypted SQLite file opened with the standard library's sqlite3
    alone, for a bulk read that needs no SQLAlchemy (an export): the same checks, pragmas and
    busy handling as ``Store``, and the same audit chain and anchor (``append_event``).
    Made by ``open_plain``; closed by ``close``."""

    is_sqlite = True

    def __init__(self, target: DbTarget, con: sqlite3.Connection, actor: str) -> None:
        self.target = target
        self.con = con
        self.actor = actor
        self.last_head: anchor.Head | None = None

    def append_event(
        self,
        *,
        action: str,
        entity: str,
        entity_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> anchor.Head:
        """One audit event in its own write transaction, chained as ``Store.write`` chains
        it, then the anchor file moved (only forward, only along the same chain)."""
        from probhealth.store import chain

        assert self.target.path is not None
        con = self.con
        self._begin_write()
        try:
            head = chain.append_plain(
                con.execute,
                actor=self.actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                detail=detail,
            )

            def hash_of(event_id: int) -> str | None:
                row = con.execute("SELECT hash FROM audit_event WHERE id = ?", (event_id,))
                found = row.fetchone()
                return None if found is None else str(found[0])

            advance = anchor.may_advance(self.target.path, head, hash_of)
            con.execute("COMMIT")
        except BaseException as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise map_db_error(exc, self.target) from None
            raise
        self.last_head = head
        if advance:
            anchor.advance(self.target.path, head)
        return head

    def _begin_write(self) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                self.con.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout
                return
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and attempt < WRITE_ATTEMPTS - 1:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise map_db_error(exc, self.target) from None
        raise Busy()  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        self.con.close()


def open_plain(target: DbTarget, *, actor: str) -> Plain | None:
    """The database as a ``Plain`` connection, after the very checks ``Store`` makes
    (``look_at_file``); None when only ``Store`` can open it: not a local file, missing,
    encrypted (SQLCipher), a schema to bring to head, or an erasure's scrub to finish."""
    path = target.path
    if not target.url.startswith("sqlite") or path is None or not path.is_file():
        return None

    def encrypted(created: bool) -> Key:
        raise _NeedsStore()

    try:
        created, revision = look_at_file(target, encrypt=False, key=encrypted)
    except _NeedsStore:
        return None
    if created or revision != schema.HEAD:
        return None
    try:
        con = connect_file(path)
    except sqlite3.Error as exc:
        raise map_db_error(exc, target) from None
    try:
        _sqlite_on_connect(con, None)
        pending = con.execute("SELECT 1 FROM meta WHERE key = ?", (SCRUB_PENDING,)).fetchone()
    except sqlite3.Error as exc:
        con.close()
        raise map_db_error(exc, target) from None
    if pending is not None:
        con.close()
        return None
    return Plain(target, con, actor)


def _os_login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or ""


VIEW_NOT_AUDITED = (
    "The disk is full: what is shown was read, but this view could not be recorded in the "
    "audit log, and no change can be saved until some space is freed."
)


VIEW_NOT_AUDITED_READ_ONLY = (
    "The database is read-only: what is shown was read, but this view could not be recorded "
    "in the audit log, and no change can be saved."
)


def _disk_full(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    return (
        "disk is full" in text
        or getattr(orig, "sqlstate", None) == "53100"  # PostgreSQL disk_full
        or "no space left on device" in text
    )


def _cannot_record(exc: BaseException) -> str | None:
    """Why an audit event could not be written, when it is the storage's fault: the notice
    a view shows with what it read (issue 14 item 13), or None."""
    if _disk_full(exc):
        return VIEW_NOT_AUDITED
    if getattr(getattr(exc, "orig", exc), "sqlstate", None) == "25006":  # read_only_sql_transaction
        return VIEW_NOT_AUDITED_READ_ONLY
    return None


def _driver_error(exc: BaseException) -> bool:
    """An error raised by the driver itself (sqlite3, SQLCipher's sqlcipher3, psycopg)."""
    module = type(exc).__module__
    return (
        isinstance(exc, sqlite3.Error)
        or module.startswith("sqlcipher3")
        or module.startswith("psycopg")
    )


def _forget_pending(session: Session) -> None:
    """A service rolled its transaction back (all or nothing): its audit events go too, as
    they did when each event was flushed at once."""
    session.info.pop("probhealth_audit_pending", None)
    session.info["probhealth_rolled_back"] = True


def _file_identity(target: DbTarget) -> tuple[int, int] | None:
    """The file's device and inode (None when it is missing)."""
    if target.path is None:
        return None
    try:
        info = os.stat(target.path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


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
        for pragma in (*read_pragmas(), "PRAGMA foreign_keys = ON", "PRAGMA secure_delete = ON"):
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
