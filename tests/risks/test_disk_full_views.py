"""On a full disk a view still shows what it read (issue 14 item 13): views are audited, and
only the audit event failed to be written; say the disk is full, not "not saved"."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.helpers import add_person


def _failing_insert(monkeypatch, backend: str, error: str) -> None:  # type: ignore[no-untyped-def]
    """Writing any audit event fails as the driver fails: SQLite on a full disk (the tkt2920
    cap is exercised in test_damaged), PostgreSQL with disk_full (53100) or, on a read-only
    server or transaction, read_only_sql_transaction (25006)."""
    from probhealth.store import audit

    def fail(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        if backend == "sqlite":
            raise sqlite3.OperationalError(
                "database or disk is full"
                if error == "full"
                else "attempt to write a readonly database"
            )
        import psycopg

        if error == "full":
            raise psycopg.errors.DiskFull(
                'could not extend file "base/1/2": No space left on device'
            )
        raise psycopg.errors.ReadOnlySqlTransaction(
            "cannot execute INSERT in a read-only transaction"
        )

    monkeypatch.setattr(audit, "_insert", fail)


@pytest.fixture
def full_disk(cli, monkeypatch, backend):  # type: ignore[no-untyped-def]
    """Two people, then a disk with no room for one more audit event."""
    add_person(cli, "X123456", given="Ann")
    add_person(cli, "X654321", given="Bea")
    _failing_insert(monkeypatch, backend, "full")
    return 2


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


@pytest.mark.postgresql_only(
    "a read-only transaction is a server setting (default_transaction_read_only)"
)
def test_a_view_on_a_read_only_server_shows_what_it_read(cli, monkeypatch, backend):
    add_person(cli, "X123456", given="Ann")
    _failing_insert(monkeypatch, backend, "read-only")
    shown = cli("person", "show", "X123456")
    assert "Ann" in shown.stdout and "read-only" in shown.stderr and "audit log" in shown.stderr
    result = cli("person", "edit", "X123456", "--office", "Somewhere new", expect=1)
    assert "read-only" in result.stderr and "nothing was saved" in result.stderr
