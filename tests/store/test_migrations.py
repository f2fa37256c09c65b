"""Alembic: empty -> head, a second run does nothing, HEAD/KNOWN match the scripts, and the
migrated schema matches the SQLModel tables."""

from __future__ import annotations

import sqlite3

import pytest

from probhealth.paths import resolve_db
from probhealth.store import schema
from probhealth.store.db import Store
from tests.helpers import connect, query


def test_head_constant_matches_scripts():
    from alembic.script import ScriptDirectory

    from probhealth.store.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [schema.HEAD]
    revisions = [r.revision for r in scripts.walk_revisions()]
    assert sorted(revisions) == sorted(schema.KNOWN)


def test_migrate_from_empty_to_head_then_noop(tmp_path):
    path = tmp_path / "m.db"
    store = Store(resolve_db(str(path)), actor="t")
    store.engine()
    assert store.created and store.migrated_from is None
    store.close()
    again = Store(resolve_db(str(path)), actor="t")
    again.engine()
    assert not again.created and again.migrated_from is None and again.backup_path is None
    again.close()
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchone()[0] == schema.HEAD
    assert con.execute("pragma application_id").fetchone()[0] == schema.APPLICATION_ID
    con.close()


def test_schema_matches_models(db):
    from sqlalchemy import create_engine, inspect
    from sqlmodel import SQLModel

    import probhealth.store.models

    probhealth.store.models.load_all()

    if db.path is not None:
        engine = create_engine("sqlite://", creator=lambda: connect(db.path))
    else:
        engine = create_engine(db.url)
    insp = inspect(engine)
    for name, table in SQLModel.metadata.tables.items():
        db_cols = {c["name"]: c for c in insp.get_columns(name)}
        assert set(db_cols) == set(table.columns.keys()), name
        for col in table.columns:
            assert bool(db_cols[col.name]["nullable"]) == bool(col.nullable) or col.primary_key, (
                name,
                col.name,
            )
    engine.dispose()


def test_audit_log_refuses_update_and_delete(db, cli):
    from tests.helpers import add_person, count, refused

    add_person(cli)
    before = count(db, "audit_event")
    for sql in ("update audit_event set actor='x'", "delete from audit_event"):
        assert "append-only" in refused(db, sql)
    assert count(db, "audit_event") == before


def test_upgrade_from_0001_keeps_data_and_takes_a_backup(tmp_path):
    """A database at revision 0001 with a person is upgraded on first use, after a backup."""
    from probhealth.store import migrate

    path = tmp_path / "old.db"
    store = Store(resolve_db(str(path)), actor="t")
    store.created = True
    # Build the database at the first revision only.
    from probhealth.store.db import prepare_sqlite_file

    prepare_sqlite_file(store.target)
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO person (id, crn, given_name, family_name, name_key, dob, sex, needs_interpreter, created_at, updated_at) "
            "VALUES ('p1', 'A000001', 'Old', 'Record', 'old record', '1980-01-01', 'male', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    store.close()
    upgraded = Store(resolve_db(str(path)), actor="t")
    upgraded.engine()
    assert upgraded.migrated_from == "0001"
    assert upgraded.backup_path is not None and upgraded.backup_path.exists()
    upgraded.close()
    con = sqlite3.connect(path)
    assert con.execute("select crn from person").fetchall() == [("A000001",)]
    assert con.execute("select version_num from alembic_version").fetchone()[0] == schema.HEAD
    con.close()
    backup = sqlite3.connect(upgraded.backup_path)
    assert backup.execute("select version_num from alembic_version").fetchone()[0] == "0001"
    assert backup.execute("select count(*) from person").fetchone()[0] == 1
    backup.close()
    assert oct(upgraded.backup_path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.postgresql_only
@pytest.mark.parametrize("revision", [None, *schema.KNOWN[:-1]])
def test_postgresql_migrates_from_empty_and_from_every_earlier_revision(db, pg_pool, revision):
    """On PostgreSQL: a database built at each earlier revision, with a person in it, is
    brought to HEAD on first use and keeps the person; an empty one gets the whole schema and
    its db.init event; the audit chain verifies."""
    from probhealth.services.audit import verify
    from probhealth.store import migrate

    url = pg_pool.new_empty()
    if revision is not None:
        old = Store(resolve_db(url), actor="t")
        engine = old._create_engine()
        old._engine = engine
        old._write_engine = engine.execution_options(probhealth_write=True)
        migrate.upgrade(old, revision)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO person (id, crn, given_name, family_name, name_key, dob, sex,"
                " needs_interpreter, created_at, updated_at) VALUES ('p1', 'A000001', 'Old',"
                " 'Record', 'old record', '1980-01-01', 'male', false, '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        old.close()
    store = Store(resolve_db(url), actor="t")
    store.engine()
    assert store.migrated_from == revision
    assert store.backup_path is None  # a server database: its backups are pg_dump's
    assert not verify(store).problems
    store.close()
    assert query(url, "select version_num from alembic_version") == [(schema.HEAD,)]
    people = query(url, "select crn from person")
    assert people == ([] if revision is None else [("A000001",)])
    assert query(url, "select action from audit_event where id = 1") == [("db.init",)]
