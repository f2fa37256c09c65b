"""``init``, ``db check``, ``db backup``, ``--version`` and the global options."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from tests.helpers import Cli, add_person, query


def test_init_is_idempotent_and_says_where(isolated_home):
    cli = Cli(None)
    first = cli("init")
    assert "Created the database at" in first.stderr and str(isolated_home) in first.stderr
    second = cli("init")
    assert "Using the database at" in second.stderr
    data = json.loads(cli("init", "--json").stdout)
    assert data["created"] is False and data["schema"]


def test_default_location_modes_under_umask_022(isolated_home):
    old = os.umask(0o022)
    try:
        Cli(None)("init")
    finally:
        os.umask(old)
    assert stat.S_IMODE(isolated_home.stat().st_mode) == 0o700
    db = isolated_home / "probhealth.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_wal_and_shm_files_inherit_0600(tmp_path):
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    old = os.umask(0o022)
    try:
        store = Store(resolve_db(str(tmp_path / "w.db")), actor="t")
        with store.raw() as conn:  # keep a connection open so -wal/-shm exist
            conn.exec_driver_sql("SELECT 1")
            sidecars = [p for p in tmp_path.iterdir() if p.name.startswith("w.db-")]
            assert sidecars, "expected -wal/-shm files while connected"
            for p in sidecars:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        store.close()
    finally:
        os.umask(old)


def test_db_check_reports_ok(cli):
    add_person(cli)
    data = json.loads(cli("db", "check", "--json").stdout)
    assert data["ok"] is True and data["integrity"] == "ok" and data["audit_chain"] == "ok"
    assert data["audit_events"] >= 1


@pytest.mark.sqlite_only("a copy of the SQLite file; on PostgreSQL pg_dump backs up")
def test_db_backup_is_a_valid_private_copy(cli, tmp_path):
    add_person(cli)
    out = tmp_path / "b.db"
    cli("db", "backup", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    con = sqlite3.connect(out)
    assert con.execute("select crn from person").fetchall() == [("X123456",)]
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    con.close()
    assert "already exists" in cli("db", "backup", "--out", str(out), expect=2).stderr


def test_an_interrupted_backup_leaves_no_file_under_its_name(cli, tmp_path, monkeypatch):
    """Row 9: the copy is built under a temporary name and linked into place when whole."""
    import probhealth.store.migrate as migrate

    add_person(cli)

    def interrupted(src, dst):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # Ctrl-C just before the finished copy takes its name

    monkeypatch.setattr(migrate.os, "link", interrupted)
    out = tmp_path / "backups" / "b.db"
    out.parent.mkdir()
    cli("db", "backup", "--out", str(out), expect=None)
    assert list(out.parent.iterdir()) == []


def test_version_and_help():
    cli = Cli(None)
    assert cli("--version").stdout.strip() == "probhealth 0.1.0"
    assert "person" in cli("--help").stdout


def test_every_command_has_help():
    from typer.main import get_command

    from probhealth.cli import app

    root = get_command(app)
    cli = Cli(None)

    def walk(cmd, path):
        sub = getattr(cmd, "commands", None)
        if sub:
            for name, child in sub.items():
                yield from walk(child, [*path, name])
        else:
            yield path

    paths = list(walk(root, []))
    assert len(paths) >= 8
    for path in paths:
        result = cli(*path, "--help")
        assert "Usage:" in result.stdout, path
        assert len(result.stdout) > 80, path


def test_help_shows_each_example_once_on_its_own_line():
    """Issue 13 item 11: two examples ran together into one paragraph ("Example: probhealth
    screen X123456 Example: probhealth screen X123456 --answers ..."), the word repeated and
    the second command cut across lines. Every example is now shown once, on a line of its
    own, under one "Example:" or "Examples:"."""
    import re

    from typer.main import get_command

    from probhealth.cli import app

    cli = Cli(None)

    def walk(cmd, path):
        yield cmd, path
        for name, child in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(child, [*path, name])

    checked = 0
    for cmd, path in walk(get_command(app), []):
        doc = (cmd.callback.__doc__ if cmd.callback else None) or cmd.help or ""
        examples = re.findall(r"^\s*(?:Example: )?(probhealth [^\n]+)$", doc, flags=re.M)
        examples = [e for e in examples if "Example: " + e in doc or "Examples:" in doc]
        if len(examples) < 2:
            continue
        text = cli(*path, "--help").stdout
        lines = [line.strip() for line in text.splitlines()]
        assert text.count("Example") == 1, (path, text)
        for example in examples:
            assert lines.count(example) == 1, (path, example, text)
        checked += 1
    assert checked >= 5


def test_actor_from_option_goes_to_audit(cli, db):
    add_person(cli)
    cli("--as", "officer.jones", "consent", "X123456", "--purpose", "screening", "--given")
    actors = [r[0] for r in query(db, "select actor from audit_event order by id")]
    # on a server the login comes first and --as only adds a name (README: who did it)
    expected = "officer.jones" if db.backend == "sqlite" else "tester (officer.jones)"
    assert actors[-1] == expected and "tester" in actors


def test_audit_events_hold_no_names(cli, db):
    add_person(cli, given="Zebedee", family="Quasimodo", postcode="CB1 2AB")
    cli("consent", "X123456", "--purpose", "screening", "--given", "--note", "Zebedee agreed")
    cli("person", "edit", "X123456", "--family", "Quixote")
    rows = " ".join(str(r) for r in query(db, "select * from audit_event"))
    for secret in ("Zebedee", "Quasimodo", "Quixote", "CB1", "1990-01-31", "X123456"):
        assert secret not in rows


def test_init_encrypt_says_to_keep_a_copy_of_the_key(tmp_path, key_file):
    """Lose the key and the data is gone: the moment the key is made is the moment to say so
    (as db encrypt does)."""
    pytest.importorskip("sqlcipher3")
    cli = Cli(tmp_path / "laptop" / "probhealth.db")
    r = cli("init", "--encrypt", env={"PROBHEALTH_KEY_FILE": str(key_file)})
    assert "Created the encrypted database" in r.stderr
    assert "Keep a copy of the key" in r.stderr
    # The key came from a file: no advice to store it elsewhere, and it is never shown.
    assert "keyring set" not in r.stderr and "passphrase" not in r.stderr
    assert key_file.read_text().strip() not in r.stdout + r.stderr
    # Run again: nothing new was made, nothing to say about the key.
    again = cli("init", env={"PROBHEALTH_KEY_FILE": str(key_file)})
    assert "Keep a copy" not in again.stderr
