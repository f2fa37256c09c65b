"""Opening the database: pragmas, modes, refusal of files that are not ours."""

from __future__ import annotations

import os
import sqlite3

import pytest

from probhealth.errors import DatabaseRefused
from probhealth.paths import resolve_db
from probhealth.store.db import Store
from tests.helpers import Cli, DbHandle, fingerprint, query


@pytest.mark.sqlite_only("SQLite pragmas")
def test_pragmas_on_every_connection(store):
    from probhealth.store.maintenance import sqlite_pragmas

    p = sqlite_pragmas(store)
    assert p["journal_mode"] == "wal"
    assert p["synchronous"] == 2  # FULL
    assert p["foreign_keys"] == 1
    assert p["busy_timeout"] >= 1000
    assert p["secure_delete"] == 1
    assert p["trusted_schema"] == 0


def test_write_transactions_take_the_write_lock_first(store, backend):
    """SQLite: writes BEGIN IMMEDIATE, reads BEGIN. PostgreSQL: a write takes the advisory
    lock that keeps the audit chain linear before anything else; a read does not."""
    statements = []
    from sqlalchemy import event

    engine = store.engine()
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with store.write() as session:
        session.connection()
    writes = list(statements)
    with store.read() as session:
        session.connection()
    reads = statements[len(writes) :]
    if backend == "sqlite":
        # then only the bookkeeping of record digests (store/digests.py): no write
        assert writes[0] == "BEGIN IMMEDIATE" and reads == ["BEGIN"]
        assert not [w for w in writes[1:] if w.split()[0].upper() in ("INSERT", "UPDATE")]
    else:
        assert writes[0].startswith("SELECT pg_advisory_xact_lock(")
        # then only the bookkeeping read that tells a view from a write (store/db.py asks
        # whether the transaction has an id yet): no write
        assert writes[1:] == ["SELECT txid_current_if_assigned()"]
        assert reads == []


def _refused(path, *, expect_text):
    """``path``: a SQLite file, or the test's database (``db``) on either backend."""
    before = fingerprint(path)
    result = Cli(path.path or path.url if isinstance(path, DbHandle) else path)(
        "person", "list", expect=2
    )
    assert expect_text in result.stderr
    assert fingerprint(path) == before
    return result


def test_refuses_empty_file(tmp_path):
    path = tmp_path / "empty.db"
    path.touch(mode=0o600)
    _refused(path, expect_text="empty file")


def test_refuses_random_bytes(tmp_path):
    path = tmp_path / "random.db"
    path.write_bytes(os.urandom(8192))
    os.chmod(path, 0o600)
    _refused(path, expect_text="not a probhealth database")


def test_refuses_other_application_sqlite(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("create table notes (x text)")
    con.execute("insert into notes values ('hello')")
    con.commit()
    con.close()
    os.chmod(path, 0o600)
    _refused(path, expect_text="another application")


def test_refuses_foreign_application_id(tmp_path):
    path = tmp_path / "appid.db"
    con = sqlite3.connect(path)
    con.execute("pragma application_id = 1234")
    con.execute("create table t (x)")
    con.commit()
    con.close()
    os.chmod(path, 0o600)
    _refused(path, expect_text="another application")


def test_refuses_newer_schema(db):
    query(db, "update alembic_version set version_num = '9999'")
    _refused(db, expect_text="newer version of probhealth")


@pytest.mark.sqlite_only("file modes of the SQLite file")
def test_refuses_group_readable_database(db_path):
    os.chmod(db_path, 0o644)
    result = _refused(db_path, expect_text="can be read by other users")
    assert "chmod 600" in result.stderr


@pytest.mark.sqlite_only("a symlink or a folder where the SQLite file should be")
def test_refuses_directory_and_symlink(tmp_path, db_path):
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    with pytest.raises(DatabaseRefused):
        Store(resolve_db(str(link)), actor="t").engine()
    with pytest.raises(DatabaseRefused):
        Store(resolve_db(str(tmp_path)), actor="t").engine()


def test_url_and_env_resolution(tmp_path, monkeypatch):
    assert resolve_db(str(tmp_path / "a.db")).path == tmp_path / "a.db"
    assert resolve_db(f"sqlite:///{tmp_path}/b.db").path == tmp_path / "b.db"
    monkeypatch.setenv("PROBHEALTH_DB", str(tmp_path / "env.db"))
    assert resolve_db(None).path == tmp_path / "env.db"
    assert resolve_db(None, demo=True).path == tmp_path / "env.db"  # explicit wins over demo
    monkeypatch.delenv("PROBHEALTH_DB")
    assert resolve_db(None, demo=True).path.name == "demo.db"
    pg = resolve_db("postgresql+psycopg://u:secret@h/db")
    assert pg.path is None and "secret" not in pg.display


def test_location_warning_for_sync_and_network(tmp_path):
    from pathlib import Path

    from probhealth.store.location import location_warning

    assert "synced folder" in location_warning(Path("/home/a/OneDrive - NHS/probhealth.db"))
    mounts = "server:/export /mnt/share nfs4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    assert "network filesystem" in location_warning(Path("/mnt/share/x/probhealth.db"), mounts)
    assert location_warning(Path("/home/a/probhealth.db"), mounts) is None


class _Recorder:
    """Stands in for the read-only connection: records each PRAGMA, answers 'ok'."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def execute(self, sql: str) -> _Recorder:
        self.sql.append(sql)
        return self

    def fetchall(self) -> list[tuple[str]]:
        return [("ok",)]


def test_quick_check_is_whole_file_when_small_and_scoped_when_large(tmp_path, monkeypatch):
    """Row 8: the open-time check covers the whole file up to QUICK_CHECK_MAX_BYTES; above it,
    only the tables every command reads (those present)."""
    import probhealth.store.db as db_mod
    from probhealth.paths import resolve_db

    path = tmp_path / "x.db"
    path.write_bytes(b"\0" * 4096)
    target = resolve_db(str(path))
    small = _Recorder()
    db_mod._quick_check(small, target, {"person", "consent", "alembic_version", "answer"})  # type: ignore[arg-type]
    assert small.sql == ["PRAGMA quick_check"]
    monkeypatch.setattr(db_mod, "QUICK_CHECK_MAX_BYTES", 1024)
    large = _Recorder()
    db_mod._quick_check(large, target, {"person", "alembic_version", "answer"})  # type: ignore[arg-type]
    assert large.sql == ['PRAGMA quick_check("alembic_version")', 'PRAGMA quick_check("person")']
