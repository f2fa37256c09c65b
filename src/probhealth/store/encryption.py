"""Encrypt, re-key and decrypt a database file (SQLCipher): a new file is built with
``sqlcipher_export`` and swapped in, so an interrupted run leaves the old file as it was.

While the new file is built the old one is held: its WAL is folded into it (journal mode
DELETE, which SQLite allows only when no other connection has the file open, so a database
in use is refused instead of losing another worker's save) and its write lock taken, so
nothing is written to it that the new file would miss. After the swap the old file's bytes
are overwritten with zeros through the handle still open on it (best effort: a copy-on-write
or flash file system may keep old blocks; keep the laptop's disk encrypted too).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from probhealth.dbkey import Key
from probhealth.errors import StorageError
from probhealth.store.db import BUSY_TIMEOUT_MS, Store, cipher_module, connect_file


def _errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    module = cipher_module()
    return (sqlite3.Error,) if module is None else (sqlite3.Error, module.Error)


def temp_beside(path: Path, what: str) -> Path:
    """A new, empty 0600 file beside ``path`` (removed by the caller when not used)."""
    tmp = path.with_name(f".{path.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    return tmp


def remove_with_side_files(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def held(store: Store) -> Iterator[None]:
    """The database held for a swap: no other connection, WAL folded in, write lock taken."""
    assert store.target.path is not None
    store.close()  # our own pooled connections would count as "others"
    con = connect_file(store.target.path, key=store.key, salt=store.salt)
    con.isolation_level = None
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            mode = con.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except _errors():
            mode = "busy"
        if str(mode).lower() != "delete":
            raise StorageError(
                "Others are using the database; nothing was changed.",
                hint="Run this again when no one else has probhealth open on it.",
            )
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            con.execute("ROLLBACK")
    finally:
        con.close()


def copy_into(store: Store, out: Path, key: Key | None, salt: bytes | None) -> None:
    """Every table, index and row into ``out`` (an empty file), encrypted with ``key`` (None:
    plain). Keeps the file's application id and user version (how probhealth knows its own
    files)."""
    assert store.target.path is not None
    src = connect_file(store.target.path, key=store.key, salt=store.salt, cipher=True)
    try:
        src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        src.execute(
            "ATTACH DATABASE ? AS target KEY ?", (str(out), key.raw(salt) if key and salt else "")
        )
        src.execute("SELECT sqlcipher_export('target')")
        app_id = int(src.execute("PRAGMA main.application_id").fetchone()[0])
        version = int(src.execute("PRAGMA main.user_version").fetchone()[0])
        src.execute(f"PRAGMA target.application_id = {app_id}")
        src.execute(f"PRAGMA target.user_version = {version}")
        src.commit()
        src.execute("DETACH DATABASE target")
    finally:
        src.close()


def check_copy(path: Path, key: Key | None, salt: bytes | None) -> int:
    """Open the new file as probhealth will and read it all (quick_check); its audit events."""
    con = connect_file(path, key=key, salt=salt, readonly=True)
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            raise StorageError("The new file did not check out; nothing was changed.")
        return int(con.execute("SELECT count(*) FROM audit_event").fetchone()[0])
    finally:
        con.close()


def audit_events(store: Store) -> int:
    with store.raw() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM audit_event").scalar_one())


def swap_in(path: Path, new: Path) -> None:
    """Put ``new`` at ``path``; then overwrite the old file's bytes through a handle on it."""
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        _fsync(new)
        os.replace(new, path)
        _fsync_dir(path.parent)
        zeros = b"\0" * (1 << 20)
        done = 0
        while done < size:
            done += os.pwrite(fd, zeros[: min(len(zeros), size - done)], done)
        os.fsync(fd)
    finally:
        os.close(fd)
    for suffix in ("-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync(path)
    except OSError:
        pass  # not every platform lets a folder be opened


def size(path: Path) -> int:
    return path.stat().st_size
