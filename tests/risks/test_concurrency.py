"""Several people, or several windows, using one database at once (reliability rows 3, 4, 9).

Row 3: a writer waits for another writer up to the busy timeout, then stops with one line and
exit 1, having changed nothing; many CLI processes writing together lose nothing.
Row 4: every write transaction starts with ``BEGIN IMMEDIATE``, so a read-then-write
transaction waits for the lock instead of failing at once with SQLITE_BUSY in WAL mode.
Row 9: ``db backup`` taken while another process writes is a consistent, private copy.

CLI processes are real ``python -c`` processes. One that must run many commands (a busy
worker) runs them through ``probhealth.cli.main`` one after another, so it pays the start-up
cost once; each command still opens and closes the database as a separate run would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from probhealth.errors import Busy
from tests.helpers import CLI_DRIVER, count, query

DRIVER = CLI_DRIVER


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH_")}
    return {**env, "PROBHEALTH_HOME": str(home), "PROBHEALTH_USER": "worker", **extra}


def _cli(db: Path | str, home: Path, *args: str, timeout: float = 60, **env: str):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "probhealth", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(home, **env),
    )


def _driver(
    db: Path | str, home: Path, steps: list[list[str]], stop: Path | None = None, **env: str
):  # type: ignore[no-untyped-def]
    script = home.parent / f"steps-{os.urandom(4).hex()}.json"
    script.write_text(json.dumps([{"argv": ["--db", str(db), *s]} for s in steps]))
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(script), *([str(stop)] if stop else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(home, **env),
    )


def _finish(proc: subprocess.Popen, timeout: float = 60) -> list[dict]:  # type: ignore[type-arg]
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    return [json.loads(line) for line in out.splitlines()]


def _count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db, timeout=30)) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _add_args(crn: str) -> list[str]:
    return ["person", "add", "--crn", crn, "--given", "Pat", "--family", "Lee"] + [
        "--dob",
        "1985-05-05",
        "--sex",
        "not-stated",
    ]


# ---------------------------------------------------------------- row 3: lock held ------
@pytest.mark.sqlite_only("SQLite's one write lock per file, held by another connection")
def test_writer_gives_up_politely_then_succeeds_once_the_lock_is_free(db_path, tmp_path):
    home = tmp_path / "home"
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another program is in the middle of saving
        before = {t: _count(db_path, t) for t in ("person", "audit_event")}
        started = time.monotonic()
        blocked = _cli(db_path, home, *_add_args("L000001"), PROBHEALTH_BUSY_TIMEOUT_MS="300")
        waited = time.monotonic() - started
        assert blocked.returncode == 1, blocked.stderr
        assert blocked.stderr.strip() == f"Error: {Busy().message}"
        assert blocked.stdout == ""
        assert waited >= 0.3  # it did wait for the lock before giving up
        assert {t: _count(db_path, t) for t in ("person", "audit_event")} == before
    finally:
        holder.rollback()
        holder.close()
    done = _cli(db_path, home, *_add_args("L000001"), PROBHEALTH_BUSY_TIMEOUT_MS="300")
    assert done.returncode == 0, done.stderr
    assert "Added L000001" in done.stderr
    assert _count(db_path, "person") == 1


# ------------------------------------------------------------- row 4: BEGIN IMMEDIATE ---
def _locker(db_path: Path) -> sqlite3.Connection:
    """Another worker in the middle of a save: holds the write lock until rolled back."""
    con = sqlite3.connect(db_path, isolation_level=None, timeout=5)
    con.execute("BEGIN IMMEDIATE")
    return con


@pytest.mark.sqlite_only("SQLite's busy write lock and its retries")
def test_a_held_lock_is_retried_three_times_then_busy(store, db_path, monkeypatch):
    """Row 3, bounded retry: three attempts (each waiting the busy timeout), then Busy."""
    import probhealth.store.db as db_mod
    from probhealth.services import people

    monkeypatch.setattr(db_mod, "BUSY_TIMEOUT_MS", 20)
    pauses: list[float] = []
    monkeypatch.setattr(db_mod.time, "sleep", pauses.append)
    store.engine()
    locker = _locker(db_path)
    try:
        with pytest.raises(Busy):
            people.add_person(
                store,
                people.PersonInput(
                    crn="X123456", given="A", family="B", dob="1990-01-01", sex="male"
                ),
            )
    finally:
        locker.rollback()
        locker.close()
    assert len(pauses) == 2  # attempts 1 and 2 were retried; the third gave up
    assert _count(db_path, "person") == 0


@pytest.mark.sqlite_only("SQLite's busy write lock and its retries")
def test_a_lock_freed_between_attempts_is_retried_and_saves(store, db_path, monkeypatch):
    import probhealth.store.db as db_mod
    from probhealth.services import people

    monkeypatch.setattr(db_mod, "BUSY_TIMEOUT_MS", 20)
    store.engine()
    locker = _locker(db_path)

    def other_worker_finishes(seconds: float) -> None:
        locker.rollback()  # during the pause before the second attempt

    monkeypatch.setattr(db_mod.time, "sleep", other_worker_finishes)
    try:
        people.add_person(
            store,
            people.PersonInput(crn="X123456", given="A", family="B", dob="1990-01-01", sex="male"),
        )
    finally:
        locker.close()
    assert _count(db_path, "person") == 1


def test_every_write_runs_inside_begin_immediate(store, backend):
    """Every write runs in a transaction that took the write lock first: BEGIN IMMEDIATE on
    SQLite, the advisory lock (keeps the audit chain linear) on PostgreSQL."""
    from sqlalchemy import event

    from probhealth.services import people

    seen: list[str] = []
    engine = store.engine()
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2].strip()))
    event.listen(engine, "commit", lambda *a: seen.append("COMMIT"))
    event.listen(engine, "rollback", lambda *a: seen.append("ROLLBACK"))
    people.add_person(store, people.PersonInput("R000001", "Rae", "Hill", "1979-09-09", "female"))
    people.record_consent(store, "R000001", purpose="screening", status="given")
    people.edit_person(store, "R000001", {"office": "Ely"})
    people.list_people(store)
    people.show_person(store, "R000001")
    people.get_person(store, "R000001")

    locked = "BEGIN IMMEDIATE" if backend == "sqlite" else "SELECT PG_ADVISORY_XACT_LOCK("
    begin = None
    writes = 0
    for sql in seen:
        verb = sql.split(None, 1)[0].upper()
        if verb == "BEGIN" or sql.upper().startswith(locked):
            begin = sql.upper()
        elif verb in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            writes += 1
            assert begin is not None and begin.startswith(locked), f"{sql[:60]} ran in {begin}"
        elif verb in ("COMMIT", "ROLLBACK"):
            begin = None
    assert writes >= 8  # 3 changes and 5 audit events
    if backend == "sqlite":
        assert "BEGIN" in seen  # the read-only lookup took a plain read transaction


@pytest.mark.sqlite_only("SQLite's WAL snapshot upgrade (plain sqlite3)")
def test_naive_read_then_write_fails_at_once_in_wal(db_path):
    """The hazard row 4 is about, shown with plain sqlite3 (proves the next test could fail):
    a deferred transaction that read before another writer committed cannot upgrade to a
    write, and SQLite says "locked" at once, whatever the busy timeout."""
    a = sqlite3.connect(db_path, isolation_level=None, timeout=5)
    b = sqlite3.connect(db_path, isolation_level=None, timeout=5)
    try:
        a.execute("BEGIN")
        a.execute("SELECT count(*) FROM person").fetchone()
        b.execute("INSERT INTO meta (key, value) VALUES ('race', 'b')")
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            a.execute("INSERT INTO meta (key, value) VALUES ('race2', 'a')")
        assert time.monotonic() - started < 1.0  # no waiting: the timeout did not help
        a.execute("ROLLBACK")
    finally:
        a.close()
        b.close()


@pytest.mark.sqlite_only(
    "SQLite's WAL snapshot upgrade; a server serialises writers with an advisory lock (tests/risks/test_many_writers.py)"
)
def test_app_read_then_write_waits_for_the_other_writer(store, db_path):
    """The same race through the store: our write transaction holds the lock from its first
    statement, so the other writer waits for us, then goes ahead; and when the other writer
    holds the lock (here for ~0.5 s) our write waits for it instead of failing."""
    from sqlmodel import select

    from probhealth.services import people
    from probhealth.store.models import Person

    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with closing(sqlite3.connect(db_path, isolation_level=None, timeout=10)) as con:
                con.execute("INSERT INTO meta (key, value) VALUES ('other', 'x')")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other_done.set()

    people.add_person(store, people.PersonInput("T000001", "Ty", "Ng", "1990-10-10", "male"))
    with store.write() as session:
        before = len(session.exec(select(Person)).all())  # the read ...
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert not other_done.wait(0.3)  # ... the other writer is held back ...
        row = session.exec(select(Person)).first()
        row.office = "March"  # ... and our write after the read still goes through
        session.add(row)
    thread.join(10)
    assert other_done.is_set() and not errors, errors
    assert before == 1

    # Now the other way round: someone else holds the write lock for half a second.
    locked = threading.Event()

    def hold_lock() -> None:
        with closing(sqlite3.connect(db_path, isolation_level=None)) as con:
            con.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(0.5)
            con.execute("INSERT INTO meta (key, value) VALUES ('held', 'y')")
            con.execute("COMMIT")

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(5)
    started = time.monotonic()
    people.add_person(store, people.PersonInput("T000002", "Jo", "Ng", "1991-11-11", "female"))
    waited = time.monotonic() - started
    holder.join(10)
    assert waited >= 0.3, waited  # it waited for the lock rather than failing
    with closing(sqlite3.connect(db_path)) as con:
        assert con.execute("SELECT count(*) FROM person").fetchone()[0] == 2
        keys = {r[0] for r in con.execute("SELECT key FROM meta")}
    assert {"other", "held"} <= keys


# ------------------------------------------------------- row 3: many writers at once ----
@pytest.mark.slow
def test_six_workers_writing_at_once_lose_nothing(db, tmp_path):
    home = tmp_path / "home"
    workers = []
    for w in range(6):
        steps = []
        for n in range(15):
            crn = f"{'ABCDEF'[w]}{n:06d}"
            steps.append(_add_args(crn))
            steps.append(["consent", crn, "--purpose", "screening", "--given"])
        workers.append(_driver(db.url, home, steps))
    results = [_finish(p, timeout=120) for p in workers]
    for steps in results:
        assert len(steps) == 30
        for r in steps:
            assert r["code"] == 0, r
            assert r["stderr"].startswith(("Added ", "Recorded: ")), r["stderr"]
            assert "Error" not in r["stderr"]
    assert count(db, "person") == 90
    assert count(db, "consent") == 90
    assert count(db, "audit_event") == 181  # event 1 is db.init
    check = _cli(db.url, home, "db", "check", "--json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["ok"] is True
    assert report["integrity"] == "ok" if db.path is not None else not report["integrity_checked"]
    assert report["audit_chain"] == "ok" and report["audit_events"] == 181
    ids = [r[0] for r in query(db, "SELECT id FROM audit_event ORDER BY id")]
    assert ids == list(range(1, 182))


@pytest.mark.slow
def test_two_processes_upgrading_an_old_database_at_once(tmp_path):
    """Both find it at revision 0002 and both take the automatic backup before migrating
    (held at the migration step by a write lock, so the timing is fixed). Whichever comes
    second must wait and find the schema current, not crash on the other's backup file."""
    from tests.risks.test_damaged import _db_at_0002

    path = _db_at_0002(tmp_path / "old.db")
    home = tmp_path / "home"
    env = {"PROBHEALTH_NOW": "2026-05-01T10:00:00Z", "PROBHEALTH_BUSY_TIMEOUT_MS": "20000"}
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "probhealth", "--db", str(path), "person", "list"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(home, **env),
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            backups = list(tmp_path.glob("old.db.pre-0002-*"))
            if len(backups) >= 2 or any(p.poll() is not None for p in procs):
                break
            if backups:  # one backup is there; give the other process time to reach it
                time.sleep(1.5)
                break
            time.sleep(0.05)
    finally:
        holder.rollback()
        holder.close()
    outcomes = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, _out, err in outcomes:
        assert "Internal error" not in err, err
        assert code == 0, err
    with closing(sqlite3.connect(path)) as con:
        from probhealth.store.schema import HEAD

        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD


# ------------------------------------------------------------ row 9: live backup --------
@pytest.mark.slow
@pytest.mark.sqlite_only("db backup copies SQLite files; on a server pg_dump backs up")
def test_backup_while_another_process_writes(db_path, tmp_path):
    home = tmp_path / "home"
    stop = tmp_path / "stop"
    steps = [_add_args(f"W{n:06d}") for n in range(400)]
    writer = _driver(db_path, home, steps, stop=stop)
    try:
        deadline = time.monotonic() + 30
        while _count(db_path, "person") < 5:
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        snapshot = _count(db_path, "person")
        out = tmp_path / "backups" / "copy.db"
        out.parent.mkdir()
        backup = _cli(db_path, home, "db", "backup", "--out", str(out))
        still_writing = writer.poll() is None
    finally:
        stop.touch()
    results = _finish(writer)
    assert backup.returncode == 0, backup.stderr
    assert still_writing, "the writer finished before the backup: no overlap was tested"
    assert all(r["code"] == 0 for r in results), [r for r in results if r["code"]]

    assert out.stat().st_mode & 0o777 == 0o600
    assert not list(out.parent.glob("copy.db-*"))  # a self-contained file, no -wal needed
    with closing(sqlite3.connect(out)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = con.execute("SELECT count(*) FROM person").fetchone()[0]
        crns = [r[0] for r in con.execute("SELECT crn FROM person ORDER BY crn")]
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert copied >= snapshot
    assert crns == [f"W{n:06d}" for n in range(copied)]  # a prefix: no torn transaction

    assert _count(db_path, "person") == len(results)  # the source kept every write
    check = _cli(db_path, home, "db", "check", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["ok"] is True
    restored = _cli(out, home, "person", "list", "--json")
    assert restored.returncode == 0, restored.stderr
    assert len(json.loads(restored.stdout)) == copied
