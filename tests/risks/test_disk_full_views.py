"""On a full disk a view still shows what it read (issue 14 item 13): views are audited, and
only the audit event failed to be written; say the disk is full, not "not saved"."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from tests.helpers import add_person


@pytest.fixture
def full_disk(cli, db_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A database whose every connection is capped at its current size, with no free page
    and no room left in its pages for one more person (SQLite's tkt2920 technique)."""
    import probhealth.store.db as db

    add_person(cli, "X123456", given="Ann")
    with closing(sqlite3.connect(db_path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = con.execute("PRAGMA page_count").fetchone()[0]
    connect = db._sqlite_on_connect

    def capped(dbapi_conn, record):  # type: ignore[no-untyped-def]
        connect(dbapi_conn, record)
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(db, "_sqlite_on_connect", capped)
    for n in range(1, 3000):  # fill what room is left in the pages
        result = cli(
            "person",
            "add",
            "--crn",
            f"B{n:06d}",
            "--given",
            "Filler" + "x" * 60,
            "--family",
            "Person",
            "--dob",
            "1970-01-01",
            "--sex",
            "male",
            expect=None,
        )
        if result.exit_code != 0:
            assert "disk is full" in result.stderr
            break
    else:
        pytest.fail("the disk never filled")
    return n


def test_a_view_on_a_full_disk_shows_what_it_read_and_says_why_it_is_unaudited(cli, full_disk):
    listed = cli("person", "list", "--json")
    crns = [p["crn"] for p in json.loads(listed.stdout)]
    assert "X123456" in crns and len(crns) == full_disk  # everyone added before it filled
    assert "disk is full" in listed.stderr and "audit log" in listed.stderr
    assert "not saved" not in listed.stderr
    shown = cli("person", "show", "X123456")
    assert "Ann" in shown.stdout and "disk is full" in shown.stderr


def test_a_change_on_a_full_disk_is_still_refused(cli, full_disk):
    result = cli("person", "edit", "X123456", "--office", "Somewhere new", expect=1)
    assert "disk is full" in result.stderr and "not saved" in result.stderr
