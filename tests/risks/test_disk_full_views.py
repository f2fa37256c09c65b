"""On a full disk a view still shows what it read (issue 14 item 13): views are audited, and
only the audit event failed to be written; say the disk is full, not "not saved"."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.helpers import add_person


@pytest.fixture
def full_disk(cli, monkeypatch):  # type: ignore[no-untyped-def]
    """Two people, then a disk with no room for one more audit event: writing any event
    fails as SQLite fails on a full disk (the tkt2920 cap is exercised in test_damaged)."""
    from probhealth.store import audit

    add_person(cli, "X123456", given="Ann")
    add_person(cli, "X654321", given="Bea")

    def full(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(audit, "_insert", full)
    return 2


@pytest.mark.sqlite_only("fills the disk under the SQLite file; a server has its own disk")
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
