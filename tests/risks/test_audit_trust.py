"""The audit log proves its start and its end, not only its middle (issue 14 items 1-3).

Each test removes or damages what a guard protects, straight in the database with the
append-only guard off, as someone with the file (or a superuser login) could. The anchor file
beside the database is SQLite's; a server has none, and ``--expect-head`` stands in for it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import DbHandle, add_person, fingerprint, query, tamper

# Record digests exist on SQLite only (the README's trust section says what a server proves).
DIGESTS_ON_SQLITE_ONLY = pytest.mark.sqlite_only(
    "record digests are written by SQLite temporary triggers; a server records none "
    "(store/digests.py: use pgaudit there)"
)


def _sql(db: DbHandle | Path, *statements: str) -> None:
    tamper(db, *statements)


def _max_id(db: DbHandle) -> int:
    return int(query(db, "SELECT max(id) FROM audit_event")[0][0])  # type: ignore[call-overload]


def _verify(cli, *args: str, expect: int = 0) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(cli("audit", "verify", "--json", *args, expect=expect).stdout)


@pytest.fixture
def busy_log(cli, db, built_once):  # type: ignore[no-untyped-def]
    """A person and six views of them (built once a process, copied for each test)."""

    def build() -> None:
        add_person(cli)
        for _ in range(6):
            cli("person", "show", "X123456")

    built_once(build)
    return db


def _anchor(db: DbHandle) -> Path:
    assert db.path is not None
    return db.path.with_name(db.path.name + ".audit-head")


def test_event_one_is_db_init_and_the_head_is_anchored_beside_the_file(cli, busy_log):
    first = query(busy_log, "SELECT action FROM audit_event WHERE id = 1")[0][0]
    last_id, last_hash = query(
        busy_log, "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1"
    )[0]
    assert first == "db.init"
    data = _verify(cli)
    assert data["ok"] and data["head"] == f"{last_id}:{last_hash[:16]}"  # type: ignore[index]
    if busy_log.backend == "postgresql":  # a server has no file to put an anchor beside
        assert data["anchor"] is None and "no anchor file" in data["anchor_note"]
        return
    anchor = _anchor(busy_log)
    assert anchor.stat().st_mode & 0o777 == 0o600
    assert json.loads(anchor.read_text()) == {"event": last_id, "hash": last_hash}
    assert data["anchor"] == data["head"]
    text = cli("audit", "verify").stderr
    assert "chain ok" in text and f"--expect-head {last_id}:{last_hash[:16]}" in text


@pytest.mark.sqlite_only(
    "the anchor file beside the SQLite file finds a cut tail; on a server --expect-head does (tested on both)"
)
def test_a_cut_tail_is_reported_by_verify_and_db_check(cli, busy_log):
    n = _max_id(busy_log)
    _sql(busy_log, f"DELETE FROM audit_event WHERE id > {n - 5}")
    data = _verify(cli, expect=1)
    assert data["first_broken_event"] == n - 4
    assert "missing from the end" in data["reason"] and f"reached event {n}" in data["reason"]
    check = json.loads(cli("db", "check", "--json", expect=1).stdout)
    assert check["ok"] is False and check["audit_chain"]["first_broken_event"] == n - 4
    assert "missing from the end" in cli("db", "check", expect=1).stderr


@pytest.mark.sqlite_only("the anchor file beside the SQLite file; a server has none")
def test_a_cut_tail_stays_found_after_new_writes(cli, busy_log):
    """New events after the cut reuse the lost numbers; their hashes differ from the anchor.
    (The new events are edits, not views like the ones cut: a view recorded again within the
    same second would be the very same event, with the same hash.)"""
    n = _max_id(busy_log)
    _sql(busy_log, f"DELETE FROM audit_event WHERE id > {n - 2}")
    for office in ("Ely", "March", "Wisbech"):
        cli("person", "edit", "X123456", "--office", office)
    data = _verify(cli, expect=1)
    assert data["first_broken_event"] == n and "rewritten" in data["reason"]


def test_an_emptied_log_is_not_chain_ok(cli, busy_log):
    _sql(busy_log, "DELETE FROM audit_event")
    data = _verify(cli, expect=1)
    assert data["events"] == 0 and not data["ok"]
    reasons = " ".join(p["reason"] for p in data["problems"])
    assert "db.init" in reasons
    if busy_log.backend == "postgresql":  # no anchor file on a server: the start tells
        return
    assert "missing from the end" in reasons
    # even with the anchor file gone too, an empty log is not a good one
    _anchor(busy_log).unlink()
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
    if busy_log.path is not None:
        _anchor(busy_log).unlink()
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


@pytest.mark.sqlite_only("the anchor file beside the SQLite file; a server has none")
def test_the_anchor_moves_only_forward_along_its_own_chain(busy_log):
    from probhealth.store import anchor

    busy_log = busy_log.path
    before = anchor.read(busy_log)
    assert before is not None
    same = {before.event: before.hash}.get
    assert not anchor.may_advance(busy_log, anchor.Head(1, "f" * 64), same)
    assert not anchor.may_advance(busy_log, anchor.Head(before.event, "f" * 64), same)
    assert anchor.may_advance(busy_log, anchor.Head(before.event + 1, "f" * 64), same)
    assert not anchor.may_advance(
        busy_log, anchor.Head(before.event + 1, "f" * 64), lambda _id: "e" * 64
    )


@pytest.mark.sqlite_only("db backup copies SQLite files; on a server pg_dump backs up")
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


# ---------------------------------------------------------------- item 2: record digests ----
def _records(cli, expect: int = 0) -> dict:  # type: ignore[no-untyped-def]
    data = json.loads(cli("audit", "verify", "--records", "--json", expect=expect).stdout)
    return data["records"]


@pytest.fixture
def worked(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """A caseload after a day's work through probhealth: screening, flags, referral, goal,
    an acknowledged flag, an erased person, an import (built once a process, copied)."""

    def build() -> None:
        from tests.cli.test_audit import person as _person  # noqa: F401 - same steps, inlined below
        from tests.cli.test_screen import negative_file

        root = Path(__file__).resolve().parents[2]
        cli("services", "load", str(root / "examples" / "services-fictional.yaml"))
        add_person(
            cli, "X123456", given="Zebedee", family="Quasimodo", dob="1990-07-19", sex="male"
        )
        add_person(cli, "X654321")
        cli("consent", "X123456", "--purpose", "screening", "--given")
        cli("consent", "X123456", "--purpose", "share-with-services", "--given")
        cli("consent", "X123456", "--purpose", "health-trainer", "--given")
        cli(
            "screen",
            "X123456",
            "--answers",
            str(negative_file(tmp_path, gp_registered="no", phq9_1=1, phq9_2=0, phq9_9=3)),
        )
        cli("refer", "X123456", "gp-registration")
        cli("referral", "update", "1", "--status", "referred")
        cli("goal", "add", "X123456", "Register with a GP")
        cli("barrier", "add", "X123456", "transport")
        cli("person", "edit", "X123456", "--office", "Ilfracombe")
        cli("person", "erase", "X654321", "--reason", "duplicate-record", "--yes")
        people = tmp_path / "people.csv"
        people.write_text(
            "crn,given_name,family_name,dob,sex\nA000001,Ann,One,1990-01-01,female\n"
            "A000002,Bob,Two,1980-02-02,male\n"
        )
        cli("import", "people", str(people))

    built_once(build)
    return cli


def test_a_days_work_leaves_every_record_matching_its_last_event(worked, db):
    if db.backend == "postgresql":  # digests come from SQLite temporary triggers (digests.py)
        assert _records(worked) == {
            "records_checked": 0,
            "available": False,
            "ok": True,
            "problems": [],
        }
        text = worked("audit", "verify", "--records").stderr
        assert "Records: not checked (a server database records no digests)." in text
        return
    records = _records(worked)
    assert records["ok"] and records["records_checked"] > 20
    carried = query(db, "SELECT records FROM audit_event WHERE records IS NOT NULL")
    text = " ".join(str(r[0]) for r in carried)
    for secret in ("Zebedee", "Quasimodo", "1990-07-19", "X123456"):
        assert secret not in text  # digests only, never values


@DIGESTS_ON_SQLITE_ONLY
@pytest.mark.parametrize(
    ("sql", "table", "words"),
    [
        (
            "UPDATE answer SET value = '\"yes\"' WHERE item_id = 'gp_registered'",
            "answer",
            "changed outside",
        ),
        ("UPDATE person SET dob = '1990-07-20' WHERE crn = 'X123456'", "person", "changed outside"),
        ("UPDATE referral SET status = 'closed' WHERE id = 1", "referral", "changed outside"),
        (
            "UPDATE flag SET acknowledged_by = 'mallory', acknowledged_at = '2026-01-01 00:00:00' "
            "WHERE flag_id = (SELECT min(flag_id) FROM flag)",
            "flag",
            "changed outside",
        ),
        ("DELETE FROM goal", "goal", "deleted outside"),
        ("INSERT INTO meta (key, value) VALUES ('planted', 'x')", "meta", "added outside"),
    ],
    ids=["answer", "dob", "referral-closed", "flag-acknowledged", "deleted", "added"],
)
def test_a_change_made_outside_probhealth_is_named_by_table_and_id(worked, db, sql, table, words):
    before = fingerprint(db)
    _sql(db, sql)  # foreign keys are not checked (plain sqlite3; a replica session on a server)
    assert fingerprint(db) != before
    records = _records(worked, expect=1)
    assert [p["table"] for p in records["problems"]] == [table], records
    assert words in records["problems"][0]["reason"]
    text = worked("audit", "verify", "--records", expect=1).stderr
    assert f"Record {table} " in text and "1990-07-20" not in text and "mallory" not in text
    assert json.loads(worked("db", "check", "--json", expect=1).stdout)["records"]["ok"] is False


@DIGESTS_ON_SQLITE_ONLY
def test_a_person_deleted_outside_probhealth_is_named(worked, db):
    pid = query(db, "SELECT id FROM person WHERE crn = 'A000001'")[0][0]
    _sql(db, "DELETE FROM person WHERE crn = 'A000001'")
    problems = _records(worked, expect=1)["problems"]
    assert (
        problems == [{"table": "person", "id": pid, "reason": problems[0]["reason"]}]
        and "deleted outside" in problems[0]["reason"]
    )


def test_records_written_before_digests_began_get_a_baseline(tmp_path):
    from probhealth.paths import resolve_db
    from probhealth.store import migrate
    from probhealth.store.db import Store, prepare_sqlite_file
    from tests.helpers import Cli

    path = tmp_path / "old.db"
    store = Store(resolve_db(str(path)), actor="t")
    prepare_sqlite_file(store.target)
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0007")
    store.close()
    cli = Cli(path)
    # the old database gets a person the way 0007 wrote them (no digests), then upgrades
    with closing(sqlite3.connect(path)) as con:
        con.execute(
            "INSERT INTO person (id, crn, given_name, family_name, name_key, dob, sex, "
            "needs_interpreter, created_at, updated_at) VALUES ('p1', 'A000001', 'Old', "
            "'Record', 'old record', '1980-01-01', 'male', 0, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"
        )
        con.commit()
    records = _records(cli)
    assert records["ok"] and records["records_checked"] >= 1
    with closing(sqlite3.connect(path)) as con:
        assert (
            con.execute(
                "SELECT count(*) FROM audit_event WHERE action = 'record.baseline'"
            ).fetchone()[0]
            == 1
        )
        con.execute("UPDATE person SET dob = '1980-01-02'")
        con.commit()
    assert _records(cli, expect=1)["problems"][0]["id"] == "p1"


# ------------------------------------------------------------ item 3: bad audit rows ----
BAD_ROWS = [
    ("UPDATE audit_event SET at = 'not a time' WHERE id = {n}", "time is not a time"),
    ("UPDATE audit_event SET detail = x'00ff10' WHERE id = {n}", "detail is not readable text"),
    (
        "UPDATE audit_event SET actor = CAST(x'ff6d616c6c6f7279' AS TEXT) WHERE id = {n}",
        "user is not readable text",
    ),
]


@pytest.mark.sqlite_only(
    "SQLite keeps any bytes in any column; a server's typed columns refuse these rows"
)
@pytest.mark.parametrize(("sql", "words"), BAD_ROWS, ids=["time", "blob-detail", "non-utf8-actor"])
def test_a_bad_audit_row_is_named_and_the_checkers_carry_on(cli, busy_log, sql, words):
    _sql(busy_log, sql.format(n=3), "UPDATE audit_event SET action = 'person.gone' WHERE id = 5")
    data = _verify(cli, expect=1)
    reasons = {p["event"]: p["reason"] for p in data["problems"]}
    assert words in reasons[3]
    assert 5 in reasons and "changed" in reasons[5]  # the walk went on past the bad row
    text = cli("audit", "verify", expect=1).stderr
    assert "Internal error" not in text and "event 3" in text and "event 5" in text
    check = cli("db", "check", "--json", expect=1)
    assert json.loads(check.stdout)["audit_chain"]["first_broken_event"] == 3
    assert "Internal error" not in cli("db", "check", expect=1).stderr
    listed = cli("audit", "list")
    assert "Internal error" not in listed.stderr
    assert f"Event 3 is not as probhealth wrote it: its {words}" in listed.stderr
    rows = json.loads(cli("audit", "list", "--json").stdout)
    assert [r["id"] for r in rows][:6] == [1, 2, 3, 4, 5, 6]
    assert words in rows[2]["problem"] and rows[3]["problem"] is None


def test_a_log_older_than_the_anchor_verifies_with_a_note(tmp_path):
    """A database from before db.init existed (its event 1 is what it first recorded) is not
    reported as broken once upgraded: migration 0009 marks it with record.baseline, and the
    chain still checks its start. Without that mark the same log is a missing start."""
    from datetime import UTC, datetime

    from probhealth.paths import resolve_db
    from probhealth.store import audit, migrate
    from probhealth.store.db import Store, prepare_sqlite_file
    from tests.helpers import Cli

    path = tmp_path / "old.db"
    store = Store(resolve_db(str(path)), actor="t")
    prepare_sqlite_file(store.target)
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0008")
    store.close()
    at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    digest = audit.event_hash(1, at, "old", "person.add", "person", "p1", "{}", audit.GENESIS)
    _sql(
        path,
        "DELETE FROM audit_event",
        "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, detail, prev_hash, "
        f"hash) VALUES (1, '2026-01-01 09:00:00.000000', 'old', 'person.add', 'person', 'p1', "
        f"'{{}}', '{audit.GENESIS}', '{digest}')",
    )
    path.with_name(path.name + ".audit-head").unlink(missing_ok=True)
    cli = Cli(path)
    data = _verify(cli)  # opening upgrades it to 0009, which writes record.baseline
    assert data["ok"] is True and "older than the audit anchor" in data["start_note"]
    assert "Start of the log" in cli("audit", "verify").stdout + cli("audit", "verify").stderr
    _sql(path, "DELETE FROM audit_event WHERE action = 'record.baseline'")
    assert any("not db.init" in p["reason"] for p in _verify(cli, expect=1)["problems"])


def test_migration_0011_moves_digests_on_but_keeps_naming_an_earlier_change(tmp_path):
    """0011 digests every record again in the second form (built by SQLite), but only those
    still matching their first-form digest: a record changed outside probhealth before the
    upgrade is still named afterwards, with the event that last recorded it."""
    from probhealth.paths import resolve_db
    from probhealth.store import migrate
    from probhealth.store.db import Store, prepare_sqlite_file
    from tests.helpers import Cli

    path = tmp_path / "old.db"
    store = Store(resolve_db(str(path)), actor="t")
    prepare_sqlite_file(store.target)
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0007")
    store.close()
    with closing(sqlite3.connect(path)) as con:
        for pid, crn in (("p1", "A000001"), ("p2", "A000002")):
            con.execute(
                "INSERT INTO person (id, crn, given_name, family_name, name_key, dob, sex, "
                f"needs_interpreter, created_at, updated_at) VALUES ('{pid}', '{crn}', 'Old', "
                "'Record', 'old record', '1980-01-01', 'male', 0, '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            )
        con.commit()
    store = Store(resolve_db(str(path)), actor="t")
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0009")  # first-form digests on a record.baseline event
    store.close()
    with closing(sqlite3.connect(path)) as con:
        baseline = con.execute(
            "SELECT id FROM audit_event WHERE action = 'record.baseline'"
        ).fetchone()[0]
        con.execute("UPDATE person SET dob = '1980-01-02' WHERE id = 'p2'")
        con.commit()
    cli = Cli(path)
    problems = _records(cli, expect=1)["problems"]  # opening upgrades it to 0011
    assert problems == [
        {
            "table": "person",
            "id": "p2",
            "reason": f"changed outside probhealth since event {baseline}",
        }
    ]
    with closing(sqlite3.connect(path)) as con:
        moved = con.execute(
            "SELECT records FROM audit_event WHERE action = 'record.redigest'"
        ).fetchall()
    people = {k for (r,) in moved for k in json.loads(r).get("person", {})}
    assert people == {'["p1"]'} and all("1980" not in r for (r,) in moved)


def test_a_blob_written_outside_probhealth_is_named_not_a_crash(worked, db_path):
    """The fast check builds each record's text with SQLite's json_array, which refuses a
    BLOB; the table is then gone over by key and the record named."""
    with closing(sqlite3.connect(db_path)) as con:
        con.execute("UPDATE person SET given_name = x'5a656265646565' WHERE crn = 'X123456'")
        con.commit()
    problems = _records(worked, expect=1)["problems"]
    assert [(p["table"], "changed outside" in p["reason"]) for p in problems] == [("person", True)]


def _row(path: Path, table: str, where: str) -> dict[str, object]:
    with closing(sqlite3.connect(path)) as con:
        con.row_factory = sqlite3.Row
        row = con.execute(f"SELECT * FROM {table} WHERE {where}").fetchone()
    return dict(row)


def _put(path: Path, table: str, row: dict[str, object], *, insert: bool) -> None:
    """Write ``row`` back exactly as it was, straight in the file."""
    cols = list(row)
    with closing(sqlite3.connect(path)) as con:
        if insert:
            con.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                list(row.values()),
            )
        else:
            con.execute(
                f"UPDATE {table} SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?",
                [*row.values(), row["id"]],
            )
        con.commit()


def _last_event(path: Path, table: str) -> int:
    return int(
        query(path, f"SELECT max(id) FROM audit_event WHERE records LIKE '%\"{table}\":%'")[0][0]  # type: ignore[call-overload]
    )


@DIGESTS_ON_SQLITE_ONLY
def test_an_earlier_content_written_back_outside_probhealth_is_named(cli, db_path):
    """The check takes each current digest out of the set of digests the log recorded; an
    earlier content of a record is in that set too, so a record set back to it is found by
    its last event, not by the set alone."""
    add_person(cli, "X123456")
    before = _row(db_path, "person", "crn = 'X123456'")
    cli("person", "edit", "X123456", "--office", "Ilfracombe")
    edit = _last_event(db_path, "person")
    _put(db_path, "person", before, insert=False)
    problems = _records(cli, expect=1)["problems"]
    assert problems == [
        {
            "table": "person",
            "id": before["id"],
            "reason": f"changed outside probhealth since event {edit}",
        }
    ]


@DIGESTS_ON_SQLITE_ONLY
def test_a_record_erased_by_probhealth_and_put_back_outside_is_named(cli, db_path):
    add_person(cli, "X123456")
    add_person(cli, "X654321")
    before = _row(db_path, "person", "crn = 'X654321'")
    cli("person", "erase", "X654321", "--reason", "duplicate-record", "--yes")
    erased = _last_event(db_path, "person")
    assert _records(cli)["ok"]
    _put(db_path, "person", before, insert=True)
    problems = _records(cli, expect=1)["problems"]
    assert problems == [
        {
            "table": "person",
            "id": before["id"],
            "reason": f"event {erased} recorded it deleted: put back outside probhealth",
        }
    ]


@DIGESTS_ON_SQLITE_ONLY
@pytest.mark.parametrize(
    "value",
    ["'not json'", "'[]'", "'{\"person\": [1]}'", "'{\"person\": {}} x'"],
    ids=["text", "array", "not-objects", "trailing"],
)
def test_an_event_whose_digests_cannot_be_read_is_named_and_the_rest_still_checked(
    worked, db, value
):
    event = _last_event(db.path, "person")
    _sql(db, f"UPDATE audit_event SET records = {value} WHERE id = {event}", "DELETE FROM goal")
    problems = _records(worked, expect=1)["problems"]
    assert {
        "table": "audit_event",
        "id": str(event),
        "reason": "its record digests cannot be read",
    } in problems
    assert any(p["table"] == "goal" and "deleted outside" in p["reason"] for p in problems)


@DIGESTS_ON_SQLITE_ONLY
def test_digests_held_as_a_blob_are_still_read(worked, db):
    """SQLite keeps any type in any column: JSON text stored as a BLOB is read as it always
    was (by the keyed pass), not called unreadable."""
    _sql(db, "UPDATE audit_event SET records = CAST(records AS BLOB) WHERE records IS NOT NULL")
    assert query(db, "SELECT count(*) FROM audit_event WHERE typeof(records) = 'blob'")[0][0]
    assert _records(worked, expect=None)["ok"]  # type: ignore[arg-type]
    _sql(db, "DELETE FROM goal")
    problems = _records(worked, expect=None)["problems"]  # type: ignore[arg-type]
    assert [p["table"] for p in problems] == ["goal"]


@DIGESTS_ON_SQLITE_ONLY
def test_two_processes_find_what_one_finds(worked, db, store, monkeypatch, tmp_path):
    """On a large database a second process digests part of the rows (whole tables and a
    range of one table's rowids); forced here on a small one. Its findings are the same as
    one process's, also when it cannot start or reads at another moment (this process then
    digests its share itself)."""
    import sys

    from probhealth.services import audit
    from probhealth.store import digests

    assert db.path is not None
    before = _row(db.path, "person", "crn = 'X123456'")
    worked("person", "edit", "X123456", "--office", "Barnstaple")
    _put(db.path, "person", before, insert=False)  # an earlier content, written back
    _sql(
        db,
        "UPDATE answer SET value = '\"yes\"' WHERE item_id = 'gp_registered'",
        "DELETE FROM goal",
        "INSERT INTO meta (key, value) VALUES ('planted', 'x')",
        "UPDATE referral SET status = x'00' WHERE id = 1",  # a BLOB: the keyed pass
    )
    one = audit.verify_records(store, split=False)
    assert sorted({p.table for p in one.problems}) == [
        "answer",
        "goal",
        "meta",
        "person",
        "referral",
    ]

    plans: list[tuple[list[digests.Piece], list[digests.Piece]]] = []
    finished: list[object] = []
    plan, finish = digests._plan, digests.Worker.finish

    def spy_plan(*args, **kwargs):  # type: ignore[no-untyped-def]
        plans.append(plan(*args, **kwargs))
        return plans[-1]

    def spy_finish(self, at):  # type: ignore[no-untyped-def]
        finished.append(finish(self, at))
        return finished[-1]

    monkeypatch.setattr(digests, "_plan", spy_plan)
    monkeypatch.setattr(digests.Worker, "finish", spy_finish)
    two = audit.verify_records(store, split=True)
    mine, theirs = plans[-1]
    assert theirs and any(p.after is not None for p in theirs)  # a table shared by rowid
    assert any(p.upto is not None for p in mine)
    assert finished and finished[-1] is not None  # the second process's digests were used
    assert two == one

    planted = tmp_path / "shared-folder"  # a folder someone else can write to
    (planted / "probhealth").mkdir(parents=True)
    marker = tmp_path / "ran"
    (planted / "probhealth" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(planted)
    assert audit.verify_records(store, split=True) == one
    assert finished[-1] is not None and not marker.exists()  # ours ran, not the planted one
    monkeypatch.chdir(tmp_path)

    monkeypatch.setattr(digests, "head", lambda cursor: [0, "another moment", 0])
    assert audit.verify_records(store, split=True) == one
    assert finished[-1] is None  # it read another head: this process did its share
    monkeypatch.undo()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    assert audit.verify_records(store, split=True) == one
