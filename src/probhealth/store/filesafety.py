"""Is a database file safe to open, and is it really ours? Checked before SQLite touches it.

SQLite gives the ``-wal``, ``-shm`` and ``-journal`` files beside a database the mode of the
database, but only when it creates them: a ``-wal`` that someone else created first (in a
shared, world-writable folder) keeps *their* owner and mode, and everything we save then
passes through a file they can read. So, before opening (reliability row 11):

- the database's folder must not be writable by others, nor any folder above it writable by
  everyone without the sticky bit (they could swap our folder for theirs);
- the database file and any ``-wal``, ``-shm`` and ``-journal`` beside it must be ours (the
  database file's owner) and closed to group and others.

Then the file itself (rows 8 and 10): a main file whose size is not a whole number of pages,
or shorter than its header says, was cut short (an incomplete copy) and is refused, since
SQLite would read the missing part as zeros and the next write would make the damage
permanent; a ``-journal`` that is not a SQLite journal is named as such; a SQLite file that is
not recognisably probhealth's is never converted.

POSIX only: on Windows the profile folder's ACLs do this job.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

from probhealth.errors import DatabaseRefused, Remedy
from probhealth.paths import DbTarget
from probhealth.store import schema

SIDE_FILES = ("-wal", "-shm", "-journal")
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _refuse(
    target: DbTarget, why: str, hint: str | None = None, remedy: Remedy | None = None
) -> DatabaseRefused:
    return DatabaseRefused(f"{target.display}: {why}", hint=hint, remedy=remedy)


def _absolute(path: Path) -> str:
    # Absolute, so a name starting with "-" can never be read as an option in a hint.
    return str(path.absolute())


def check_places(target: DbTarget) -> None:
    """Refuse a database whose folder or companion files other users could read or replace.

    Runs before the file is created or opened; changes nothing.
    """
    if sys.platform == "win32" or target.path is None:
        return
    path = target.path
    folder = path.absolute().parent
    me = os.getuid()
    try:
        info = folder.stat()
    except FileNotFoundError:
        info = None  # created below, 0700
    if info is not None:
        if info.st_uid not in (me, 0):
            raise _refuse(
                target,
                "its folder belongs to another user account, who could read what is saved there",
                "Keep the database in a folder of your own (the default needs no {opt:db}).",
            )
        if info.st_mode & 0o022:
            mode = stat.filemode(info.st_mode)
            if info.st_uid == me:
                raise _refuse(
                    target,
                    f"its folder can be written by other users (mode {mode}), who could read "
                    "what is saved",
                    remedy=Remedy.of("restrict-folder", path=_absolute(folder)),
                )
            raise _refuse(
                target,
                f"its folder can be written by other users (mode {mode}), who could read what "
                "is saved",
                "Keep the database in a folder only you can write to (the default needs no {opt:db}).",
            )
    for above in folder.parents:
        try:
            up = above.stat()
        except OSError:
            continue
        if up.st_mode & 0o002 and not up.st_mode & stat.S_ISVTX:
            raise _refuse(
                target,
                f"the folder {above} above it can be changed by anyone "
                f"(mode {stat.filemode(up.st_mode)}), who could swap the database's folder",
                **_folder_fix(above, up.st_uid == me),
            )
    try:
        owner = path.stat().st_uid
    except FileNotFoundError:
        owner = me
    except OSError:
        return  # the caller reports an unreadable file
    if owner != me and me != 0:
        raise _refuse(
            target,
            "belongs to another user account",
            "Each worker keeps their own database file; ask its owner or use {opt:db}.",
        )
    for suffix in ("", *SIDE_FILES):
        side = Path(f"{path}{suffix}")
        try:
            st = side.lstat()
        except FileNotFoundError:
            continue
        except OSError:
            continue
        what = "it" if not suffix else f"the {suffix} file beside it ({side.name})"
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise _refuse(
                target,
                f"{what} is not a regular file",
                "Nothing was opened. Remove it if no probhealth is running, or use another {opt:db}.",
            )
        if st.st_uid != owner:
            raise _refuse(
                target,
                f"{what} belongs to another user account, who could read what is saved",
                "Nothing was opened. Remove it if no probhealth is running, or use another {opt:db}.",
            )
        if st.st_mode & 0o077:
            raise _refuse(
                target,
                f"{what} can be read by other users (mode {stat.filemode(st.st_mode)})",
                remedy=Remedy.of("restrict-file", path=_absolute(side)),
            )


def _folder_fix(folder: Path, mine: bool) -> dict[str, Any]:
    if mine:
        return {"remedy": Remedy.of("restrict-folder", path=_absolute(folder))}
    return {"hint": "Keep the database in a folder only you can write to."}


def check_shape(target: DbTarget, header: bytes) -> None:
    """Refuse a main file cut short: not a whole number of pages, or fewer than its header
    says. Skipped while a ``-wal`` with content is beside it (a checkpoint that was
    interrupted leaves the main file short, and SQLite completes it from the ``-wal``)."""
    assert target.path is not None
    path = target.path
    try:
        size = path.stat().st_size
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return
    except OSError:
        return
    raw = int.from_bytes(header[16:18], "big")
    page_size = 65536 if raw == 1 else raw
    if page_size < 512 or page_size & (page_size - 1):
        return  # SQLite itself reports a header this broken as "not a database"
    cut = size % page_size != 0
    change_counter = int.from_bytes(header[24:28], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    pages = int.from_bytes(header[28:32], "big")
    if not cut and pages and change_counter == valid_for and size < pages * page_size:
        cut = True
    if cut:
        raise _refuse(
            target,
            "is damaged: shorter than it should be (cut short, as by an incomplete copy)",
            "Nothing was written. Restore it from a backup, or copy it again in full.",
        )


def check_journal(target: DbTarget) -> None:
    """A ``-journal`` beside the database that is not a SQLite journal: say what it is
    (SQLite would call the database read-only, or discard the file)."""
    assert target.path is not None
    journal = Path(f"{target.path}-journal")
    try:
        with journal.open("rb") as fh:
            head = fh.read(28)
    except FileNotFoundError:
        return
    except OSError:
        return
    if not head or head == bytes(len(head)):
        return  # empty or zeroed: not a hot journal, SQLite ignores it
    if head.startswith(JOURNAL_MAGIC):
        return  # a real journal: SQLite rolls it back (or another process is writing)
    raise _refuse(
        target,
        f"the file {journal.name} beside it is not a SQLite journal (damaged, or put there "
        "by another program); nothing was written.",
        remedy=Remedy.of("move-aside", path=_absolute(journal)),
    )


_CHECK_PATH = "Check the path given with {opt:db} or PROBHEALTH_DB; nothing was changed."


def recognise(con: sqlite3.Connection, target: DbTarget, tables: set[str]) -> str | None:
    """The schema revision of a file that is recognisably probhealth's (None: an empty file,
    safe to set up); refuses every other SQLite file, so nothing foreign is ever converted.

    Ours: the probhealth ``application_id`` with a known Alembic revision, or a file with
    no schema at all. Another Alembic application (even after ``downgrade base``, which
    leaves an empty ``alembic_version``), a file holding only views or triggers, or one with a
    ``user_version`` set by another program is foreign.
    """
    ours = con.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    if "alembic_version" not in tables:
        if tables - {"sqlite_sequence"}:
            raise _refuse(
                target,
                "belongs to another application (it has tables but no probhealth schema)",
                _CHECK_PATH,
            )
        other = con.execute(
            "SELECT type FROM sqlite_master WHERE type IN ('view', 'trigger', 'index') LIMIT 1"
        ).fetchone()
        if other is not None:
            raise _refuse(
                target,
                f"belongs to another application (it holds a {other[0]} but no tables)",
                _CHECK_PATH,
            )
        if con.execute("PRAGMA user_version").fetchone()[0] != 0:
            raise _refuse(
                target, "belongs to another application (its user_version is set)", _CHECK_PATH
            )
        return None
    row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = None if row is None else str(row[0])
    if not ours:
        raise _refuse(
            target,
            "belongs to another application (it has an Alembic schema that is not probhealth's)",
            _CHECK_PATH,
        )
    if revision is None:
        if tables - {"alembic_version", "sqlite_sequence"}:
            raise _refuse(
                target,
                "is marked as probhealth's but has no schema revision (damaged or changed by "
                "another program)",
                "Nothing was written. Restore it from a backup.",
            )
        return None
    if revision not in schema.KNOWN:
        raise _refuse(
            target,
            f"was written by a newer version of probhealth (schema {revision})",
            "Upgrade probhealth to open it; nothing was changed.",
        )
    return revision
