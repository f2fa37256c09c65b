"""The audit log proves its start and its end, not only its middle (issue 14 items 1-3).

Each test removes or damages what a guard protects, straight in the file with the
append-only triggers dropped, as someone with the file could."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import add_person


def _sql(db: Path, *statements: str) -> None:
    with closing(sqlite3.connect(db)) as con:
        con.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        con.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        for sql in statements:
            con.execute(sql)
        con.commit()


def _verify(cli, *args: str, expect: int = 0) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(cli("audit", "verify", "--json", *args, expect=expect).stdout)


@pytest.fixture
def busy_log(cli, db_path):  # type: ignore[no-untyped-def]
    add_person(cli)
    for _ in range(6):
        cli("person", "show", "X123456")
    return db_path


def test_event_one_is_db_init_and_the_head_is_anchored_beside_the_file(cli, busy_log):
    with closing(sqlite3.connect(busy_log)) as con:
        first = con.execute("SELECT action FROM audit_event WHERE id = 1").fetchone()[0]
        last_id, last_hash = con.execute(
            "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert first == "db.init"
    anchor = busy_log.with_name(busy_log.name + ".audit-head")
    assert anchor.stat().st_mode & 0o777 == 0o600
    assert json.loads(anchor.read_text()) == {"event": last_id, "hash": last_hash}
    data = _verify(cli)
    assert data["ok"] and data["head"] == f"{last_id}:{last_hash[:16]}"
    assert data["anchor"] == data["head"]
    text = cli("audit", "verify").stderr
    assert "chain ok" in text and f"--expect-head {last_id}:{last_hash[:16]}" in text


def test_a_cut_tail_is_reported_by_verify_and_db_check(cli, busy_log):
    with closing(sqlite3.connect(busy_log)) as con:
        n = con.execute("SELECT max(id) FROM audit_event").fetchone()[0]
    _sql(busy_log, f"DELETE FROM audit_event WHERE id > {n - 5}")
    data = _verify(cli, expect=1)
    assert data["first_broken_event"] == n - 4
    assert "missing from the end" in data["reason"] and f"reached event {n}" in data["reason"]
    check = json.loads(cli("db", "check", "--json", expect=1).stdout)
    assert check["ok"] is False and check["audit_chain"]["first_broken_event"] == n - 4
    assert "missing from the end" in cli("db", "check", expect=1).stderr


def test_a_cut_tail_stays_found_after_new_writes(cli, busy_log):
    """New events after the cut reuse the lost numbers; their hashes differ from the anchor."""
    with closing(sqlite3.connect(busy_log)) as con:
        n = con.execute("SELECT max(id) FROM audit_event").fetchone()[0]
    _sql(busy_log, f"DELETE FROM audit_event WHERE id > {n - 2}")
    for _ in range(3):
        cli("person", "show", "X123456")
    data = _verify(cli, expect=1)
    assert data["first_broken_event"] == n and "rewritten" in data["reason"]


def test_an_emptied_log_is_not_chain_ok(cli, busy_log):
    _sql(busy_log, "DELETE FROM audit_event")
    data = _verify(cli, expect=1)
    assert data["events"] == 0 and not data["ok"]
    reasons = " ".join(p["reason"] for p in data["problems"])
    assert "db.init" in reasons and "missing from the end" in reasons
    # even with the anchor file gone too, an empty log is not a good one
    busy_log.with_name(busy_log.name + ".audit-head").unlink()
    data = _verify(cli, expect=1)
    assert "db.init" in data["reason"]


def test_a_missing_start_is_named(cli, busy_log):
    _sql(busy_log, "UPDATE audit_event SET action = 'person.show' WHERE id = 1")
    data = _verify(cli, expect=1)
    assert any("not db.init" in p["reason"] for p in data["problems"])


def test_expect_head_catches_a_cut_even_without_the_anchor_file(cli, busy_log):
    head = _verify(cli)["head"]
    n = int(head.split(":")[0])
    _sql(busy_log, f"DELETE FROM audit_event WHERE id > {n - 3}")
    busy_log.with_name(busy_log.name + ".audit-head").unlink()
    assert _verify(cli)["anchor_note"]  # nothing beside the file to compare with ...
    data = _verify(cli, "--expect-head", head, expect=1)  # ... but the noted head remembers
    assert data["first_broken_event"] == n - 2 and "the head you gave" in data["reason"]


def test_expect_head_matching_and_malformed(cli, busy_log):
    head = _verify(cli)["head"]
    assert _verify(cli, "--expect-head", head)["ok"]
    event = head.split(":")[0]
    wrong = f"{event}:{'0' * 16}"
    assert "rewritten" in _verify(cli, "--expect-head", wrong, expect=1)["reason"]
    for bad in ("12", "x:abcdef0123456789", "3:abc", "3:zzzzzzzzzzzzzzzzzz"):
        result = cli("audit", "verify", "--expect-head", bad, expect=2)
        assert "--expect-head" in result.stderr and result.stderr.count("\n") == 1


def test_the_anchor_moves_only_forward_along_its_own_chain(busy_log):
    from probhealth.store import anchor

    before = anchor.read(busy_log)
    assert before is not None
    same = {before.event: before.hash}.get
    assert not anchor.may_advance(busy_log, anchor.Head(1, "f" * 64), same)
    assert not anchor.may_advance(busy_log, anchor.Head(before.event, "f" * 64), same)
    assert anchor.may_advance(busy_log, anchor.Head(before.event + 1, "f" * 64), same)
    assert not anchor.may_advance(
        busy_log, anchor.Head(before.event + 1, "f" * 64), lambda _id: "e" * 64
    )


def test_a_backup_carries_its_own_anchor(cli, busy_log, tmp_path):
    out = tmp_path / "b.db"
    cli("db", "backup", "--out", str(out))
    assert (tmp_path / "b.db.audit-head").exists()
    assert "chain ok" in cli("--db", str(out), "audit", "verify").stderr


def test_exports_and_bundles_carry_the_head(cli, busy_log, tmp_path):
    result = cli("export", "people", "--out", str(tmp_path / "p.csv"))
    assert "Audit head after this export:" in result.stderr
    head = result.stderr.split("Audit head after this export: ")[1].split(".")[0]
    assert _verify(cli, "--expect-head", head)["ok"]
