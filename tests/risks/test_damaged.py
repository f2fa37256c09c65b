"""Files that are damaged, foreign, newer or half-written (reliability rows 6, 8 and 10).

Row 8: every such file gets a one-line message and exit 1 or 2 from ``person list``,
``person add`` and ``db check``; no traceback; a refused file (and any ``-wal`` beside it) is
left byte for byte as it was. A Hypothesis test overwrites random byte ranges of a small
populated database and runs the CLI on each copy in its own process with a 20 s limit.
Row 10: a migration that fails half-way leaves the database at its old revision, readable,
with a good pre-migration backup, and the next open migrates it.
Row 6: a full disk gives "disk is full ... not saved", and the database stays intact.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probhealth.errors import Busy
from tests.helpers import Cli, add_person, file_sha

ADD = ["person", "add", "--crn", "Q654321", "--given", "Bo", "--family", "Jones"]
ADD += ["--dob", "1980-02-02", "--sex", "male"]
COMMANDS = {"list": ["person", "list"], "add": ADD, "check": ["db", "check"]}


# ------------------------------------------------------------------ helpers -------------
def _snapshot(path: Path) -> dict[str, str]:
    """Hashes of the database and of every companion file (-wal, -shm, -journal) beside it."""
    return {p.name: file_sha(p) for p in sorted(path.parent.glob(path.name + "*"))}


def _assert_untouched(path: Path, before: dict[str, str], what: str = "") -> None:
    """The file and every companion that was there are byte for byte the same. A read-only
    look may leave an empty -wal and an -shm beside a WAL-mode file (SQLite does that for
    any reader); anything else new (a -journal, a -wal with content) means a write."""
    after = _snapshot(path)
    assert {k: after.get(k) for k in before} == before, f"{what}: a refused file was changed"
    for name in set(after) - set(before):
        extra = path.with_name(name)
        assert name.endswith("-shm") or (name.endswith("-wal") and extra.stat().st_size == 0), (
            f"{what}: {name} was written"
        )


def _query(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql).fetchall()


def _integrity(path: Path) -> str:
    return _query(path, "PRAGMA integrity_check")[0][0]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert "Internal error" not in stderr and "Traceback" not in stderr, stderr
    return lines[0]


def _populated(template_db: Path, path: Path, people: int = 3) -> Path:
    """A checkpointed copy of the template with a few people and consents (no -wal beside)."""
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    cli = Cli(path)
    for n in range(people):
        add_person(cli, f"A{n:06d}", given=f"Ann{n}", family="Smith")
        cli("consent", f"A{n:06d}", "--purpose", "screening", "--given")
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def _with_hot_wal(source: Path, dest: Path, write) -> Path:  # type: ignore[no-untyped-def]
    """Copy ``source`` to ``dest`` together with a -wal holding committed, un-checkpointed
    changes made by ``write(holder_connection, work_path)``: what a copy taken while a
    program had the database open looks like, or what a crash leaves behind."""
    work = dest.with_name("work-" + dest.name)
    shutil.copyfile(source, work)
    os.chmod(work, 0o600)
    holder = sqlite3.connect(work, isolation_level=None)
    try:
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        assert holder.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        holder.execute("SELECT count(*) FROM sqlite_master").fetchone()
        write(holder, work)  # while `holder` is open the -wal is neither merged nor deleted
        wal = Path(f"{work}-wal")
        assert wal.exists() and wal.stat().st_size > 0
        shutil.copyfile(work, dest)
        shutil.copyfile(wal, f"{dest}-wal")
    finally:
        holder.close()
    for p in (dest, Path(f"{dest}-wal")):
        os.chmod(p, 0o600)
    for p in work.parent.glob(work.name + "*"):
        p.unlink()
    return dest


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(data)


# ------------------------------------------------------------------ row 8: fixtures ------
def _empty(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "empty.db"
    path.touch(mode=0o600)
    old = time.time() - 3600  # not "being created by another process right now"
    os.utime(path, (old, old))
    return path


def _random_bytes(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "random.db"
    path.write_bytes(random.Random(8).randbytes(3 * 4096))
    os.chmod(path, 0o600)
    return path


def _other_app(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "notes.db"
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
        con.execute("INSERT INTO note (body) VALUES ('shopping list')")
        con.commit()
    os.chmod(path, 0o600)
    return path


def _page2_damaged(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "page2.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    _overwrite(path, 4096, bytes((i * 37 + 11) % 256 for i in range(104)))  # bytes 4096..4200
    return path


def _cut_in_half(tmp_path: Path, template_db: Path) -> Path:
    path = _populated(template_db, tmp_path / "half.db")
    os.truncate(path, path.stat().st_size // 2)
    return path


def _newer(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "newer.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    with closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
        con.commit()
    return path


def _newer_in_hot_wal(tmp_path: Path, template_db: Path) -> Path:
    def write(con, _work):  # type: ignore[no-untyped-def]
        con.execute("UPDATE alembic_version SET version_num = '9999'")

    return _with_hot_wal(template_db, tmp_path / "newer-wal.db", write)


REFUSED = {
    "empty file": (_empty, "empty file"),
    "random bytes": (_random_bytes, "not a probhealth database"),
    "another app's sqlite db": (_other_app, "another application"),
    "page 2 overwritten": (_page2_damaged, "damaged"),
    "cut in half": (_cut_in_half, "damaged"),
    "newer schema": (_newer, "newer version of probhealth"),
    "newer schema, hot -wal beside it": (_newer_in_hot_wal, "newer version of probhealth"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_file_gets_one_line_and_is_left_untouched(tmp_path, template_db, case, command):
    make, expected = REFUSED[case]
    path = make(tmp_path, template_db)
    before = _snapshot(path)
    result = Cli(path)(*COMMANDS[command], expect=None)
    assert result.exit_code in (1, 2), result.stderr
    line = _one_error_line(result.stderr)
    assert expected in line
    assert result.stdout.strip() == ""
    _assert_untouched(path, before, f"{case}, {command}")


def test_damaged_page_dbcheck_reports_integrity_problem(tmp_path, template_db):
    """Damage that leaves the file openable: ``db check`` names the problem and exits 1."""
    path = _populated(template_db, tmp_path / "index.db")
    rootpage = _query(path, "SELECT rootpage FROM sqlite_master WHERE name='ix_person_name_key'")
    start = (rootpage[0][0] - 1) * 4096
    data = bytearray(path.read_bytes())
    at = data.find(b"ann1 smith", start, start + 4096)  # a key in the index, not the table
    assert at > 0
    data[at : at + 4] = b"zzz1"
    path.write_bytes(data)
    result = Cli(path)("db", "check", expect=1)
    assert re.search(r"Integrity check: \d+ problem\(s\)", result.stderr), result.stderr
    assert "missing from index ix_person_name_key" in result.stderr
    report = json.loads(Cli(path)("db", "check", "--json", expect=1).stdout)
    assert report["ok"] is False and report["integrity"] != "ok"
    assert report["audit_chain"] == "ok"


def test_damaged_btree_page_is_refused_before_anything_is_written(tmp_path, template_db):
    """A page that SQLite cannot read (here the root of the person name index) is damage that
    ``PRAGMA quick_check`` finds at once. Row 8: refuse before writing. ``person list`` must
    not append its audit event to a damaged file (and so change it)."""
    path = tmp_path / "btree.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    rootpage = _query(path, "SELECT rootpage FROM sqlite_master WHERE name='ix_person_name_key'")
    _overwrite(path, (rootpage[0][0] - 1) * 4096, b"\xff" * 104)
    assert "btreeInitPage" in _query(path, "PRAGMA quick_check")[0][0]
    before = _snapshot(path)
    for command in ("list", "add"):
        result = Cli(path)(*COMMANDS[command], expect=None)
        assert result.exit_code in (1, 2), f"{command}: exit {result.exit_code}"
        assert "damaged" in _one_error_line(result.stderr)
        _assert_untouched(path, before, f"person {command} on a damaged database")
    check = Cli(path)("db", "check", expect=None)
    assert check.exit_code in (1, 2)
    assert "damaged" in check.stderr or "problem" in check.stderr


def test_damaged_schema_text_is_reported_as_damage_not_internal_error(tmp_path, template_db):
    """A non-UTF-8 byte inside a table's CREATE statement in sqlite_master: SQLite's error
    message then contains that byte and Python's sqlite3 raises UnicodeDecodeError (not a
    DatabaseError) from the connect hook's ``PRAGMA journal_mode``."""
    path = tmp_path / "schema.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    at = data.find(b"CREATE TABLE person (")
    assert at > 0
    data[at + len(b"CREATE TABLE person ")] = 0xFF  # the "(" becomes a lone 0xff byte
    path.write_bytes(data)
    before = _snapshot(path)
    for command in ("list", "check"):
        result = Cli(path)(*COMMANDS[command], expect=None)
        assert "Internal error" not in result.stderr, result.stderr
        assert result.exit_code in (1, 2)
        assert "damaged" in _one_error_line(result.stderr)
        _assert_untouched(path, before, command)


def test_hot_wal_beside_a_good_database_is_recovered(tmp_path, template_db):
    """A copy of the database and its -wal (committed data not yet checkpointed) opens, shows
    the data that lives only in the -wal, and checks clean."""

    def write(_con, work):  # type: ignore[no-untyped-def]
        add_person(Cli(work), "W000001", given="Wal", family="Only")

    path = _with_hot_wal(template_db, tmp_path / "hot.db", write)
    main_only = tmp_path / "main-only.db"
    shutil.copyfile(path, main_only)
    assert _query(main_only, "SELECT count(*) FROM person") == [(0,)]  # the row is in the -wal

    cli = Cli(path)
    listed = json.loads(cli("person", "list", "--json").stdout)
    assert [p["crn"] for p in listed] == ["W000001"]
    cli(*COMMANDS["add"])
    report = json.loads(cli("db", "check", "--json").stdout)
    assert report["ok"] is True and report["integrity"] == "ok"
    assert _query(path, "SELECT count(*) FROM person") == [(2,)]


# ------------------------------------------------------- row 8: random damage (Hypothesis) --
ZYGOTE = r"""
import json, os, sys, time, traceback

import probhealth.cli, probhealth.cli.admin, probhealth.cli.person, probhealth.cli.render
import probhealth.services.maintenance, probhealth.services.people, probhealth.store.maintenance
import probhealth.store.models

probhealth.store.models.load_all()

for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:  # the child runs one command as `python -m probhealth ...` would
        code = 98
        try:
            fds = [os.open(os.devnull, os.O_RDONLY)] + [
                os.open(req[k], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                for k in ("out", "err")
            ]
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            sys.argv = ["probhealth", *req["argv"]]
            try:
                probhealth.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 99
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    deadline = time.monotonic() + req["timeout"]
    hung = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
            hung = True
            break
        time.sleep(0.005)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "hung": hung}), flush=True)
"""


class Runner:
    """Runs CLI commands, each in its own process with a time limit. Each process is forked
    from a server that has already imported probhealth, so a case costs ~0.1 s, not ~1 s."""

    def __init__(self, home: Path) -> None:
        env = {
            **os.environ,
            "PROBHEALTH_HOME": str(home),
            "PROBHEALTH_USER": "fuzzer",
            "PROBHEALTH_BUSY_TIMEOUT_MS": "2000",
        }
        env.pop("PROBHEALTH_DEBUG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, db: Path, *argv: str, timeout: float = 20.0) -> tuple[int, bool, str, str]:
        out, err = db.with_name(db.name + ".out"), db.with_name(db.name + ".err")
        request = {"argv": ["--db", str(db), *argv], "out": str(out), "err": str(err)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({**request, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout + 30)
        assert ready, "the process server stopped answering"
        reply = json.loads(self.proc.stdout.readline())
        return reply["code"], reply["hung"], out.read_text(), err.read_text(errors="replace")

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def runner(tmp_path):  # type: ignore[no-untyped-def]
    r = Runner(tmp_path / "fuzz-home")
    yield r
    r.close()


@pytest.fixture
def small_db(tmp_path, template_db) -> bytes:
    return _populated(template_db, tmp_path / "small.db").read_bytes()


def test_runner_reports_exit_codes_and_hangs(runner, tmp_path, small_db):
    """The harness itself: exit codes and output come back, and a command that outlives its
    time limit is killed and reported as hung."""
    path = tmp_path / "good" / "p.db"
    path.parent.mkdir()
    path.write_bytes(small_db)
    os.chmod(path, 0o600)
    code, hung, out, err = runner.run(path, "person", "list", "--json")
    assert (code, hung) == (0, False), err
    assert len(json.loads(out)) == 3
    code, hung, _, err = runner.run(path, "person", "add", "--crn", "nonsense")
    assert (code, hung) == (2, False) and err.startswith("Error: ")
    _code, hung, _, _ = runner.run(path, "db", "check", timeout=0.01)
    assert hung


FLIP = st.tuples(
    st.one_of(st.integers(0, 99), st.integers(0, 1 << 20)),  # the header, or anywhere
    st.binary(min_size=1, max_size=64),
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(flips=st.lists(FLIP, min_size=1, max_size=4))
def test_random_damage_never_crashes_or_hangs(runner, tmp_path, small_db, flips):
    data = bytearray(small_db)
    for offset, blob in flips:
        start = offset % len(data)
        data[start : start + len(blob)] = blob
    del data[len(small_db) :]
    case = tmp_path / f"case-{os.urandom(4).hex()}"
    case.mkdir()
    path = case / "p.db"
    path.write_bytes(bytes(data))
    os.chmod(path, 0o600)
    for argv in (["person", "list"], ["db", "check"]):
        code, hung, _out, err = runner.run(path, *argv)
        assert not hung, f"{argv} hung on {flips}"
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err, err
        assert "Internal error" not in err, (argv, err, flips)
        if code and argv[0] == "person":
            _one_error_line(err)
    shutil.rmtree(case)


# ------------------------------------------------------- row 10: failed migration --------
def _db_at_0002(path: Path) -> Path:
    """A database built at revision 0002 (before referrals) holding one person."""
    from probhealth.paths import resolve_db
    from probhealth.store import migrate
    from probhealth.store.db import Store, prepare_sqlite_file

    store = Store(resolve_db(str(path)), actor="t")
    prepare_sqlite_file(store.target)
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0002")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO person (id, crn, given_name, family_name, name_key, dob, sex, "
            "needs_interpreter, created_at, updated_at) VALUES ('p1', 'A000001', 'Old', "
            "'Record', 'old record', '1980-01-01', 'male', 0, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"
        )
    store.close()
    return path


def _fail_after_first_table(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Make migration 0003 raise after it has changed `answer` and created one table."""
    from alembic.operations import Operations

    created: list[str] = []
    original = Operations.create_table

    def create_table(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if created:
            raise RuntimeError("simulated crash in the middle of migration 0003")
        created.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_table", create_table)
    return created


def _assert_still_0002(path: Path) -> None:
    assert _query(path, "SELECT version_num FROM alembic_version") == [("0002",)]
    tables = {r[0] for r in _query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "service" not in tables and not any(t.startswith("_alembic_tmp") for t in tables)
    assert "hidden" not in {r[1] for r in _query(path, "PRAGMA table_info(answer)")}
    assert _query(path, "SELECT crn, given_name FROM person") == [("A000001", "Old")]
    assert _integrity(path) == "ok"


def test_failed_migration_leaves_old_revision_and_a_good_backup(tmp_path, monkeypatch):
    from probhealth.paths import resolve_db
    from probhealth.store import schema
    from probhealth.store.db import Store

    path = _db_at_0002(tmp_path / "old.db")
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-05-01T10:00:00Z")
    created = _fail_after_first_table(monkeypatch)
    store = Store(resolve_db(str(path)), actor="t")
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.engine()
    assert created == ["service"]  # it did get half-way
    _assert_still_0002(path)

    backups = sorted(tmp_path.glob("old.db.pre-0002-*.bak"))
    assert len(backups) == 1 and store.backup_path == backups[0]
    assert backups[0].stat().st_mode & 0o777 == 0o600
    assert _integrity(backups[0]) == "ok"
    assert _query(backups[0], "SELECT version_num FROM alembic_version") == [("0002",)]
    assert _query(backups[0], "SELECT crn FROM person") == [("A000001",)]

    # The CLI still refuses nothing and loses nothing: the next open (a minute later,
    # with the migration code working again) migrates cleanly.
    monkeypatch.undo()
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-05-01T10:01:00Z")
    again = Store(resolve_db(str(path)), actor="t")
    again.engine()
    assert again.migrated_from == "0002" and again.backup_path is not None
    again.close()
    assert _query(path, "SELECT version_num FROM alembic_version") == [(schema.HEAD,)]
    assert _query(path, "SELECT crn FROM person") == [("A000001",)]
    report = json.loads(Cli(path)("db", "check", "--json").stdout)
    assert report["ok"] is True


def test_retrying_a_failed_migration_at_once_works(tmp_path, monkeypatch):
    """The retry lands in the same second as the failed attempt (fixed clock here; in real
    life a worker pressing up-arrow, or a second process): the pre-migration backup name is
    time-stamped to the second and created with O_EXCL, so the retry must not trip over the
    backup the failed attempt left."""
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    path = _db_at_0002(tmp_path / "old.db")
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-05-01T10:00:00Z")
    _fail_after_first_table(monkeypatch)
    with pytest.raises(RuntimeError):
        Store(resolve_db(str(path)), actor="t").engine()
    monkeypatch.undo()
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-05-01T10:00:00Z")
    result = Cli(path)("person", "list", "--json", expect=None)
    assert "Internal error" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    assert [p["crn"] for p in json.loads(result.stdout)] == ["A000001"]


# ------------------------------------------------------------------ row 6: disk full -----
@pytest.mark.sqlite_only(
    "a full disk under the SQLite file (its size limit); a server has its own disk"
)
def test_disk_full_rolls_back_with_a_clear_message(store, db_path):
    from sqlalchemy import event

    from probhealth.errors import StorageError
    from probhealth.services import people
    from probhealth.store.maintenance import integrity_check

    for n in range(3):
        people.add_person(
            store, people.PersonInput(f"B{n:06d}", "Early", "Bird", "1970-01-01", "female")
        )
    engine = store.engine()
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"PRAGMA max_page_count = {int(pages)}")

    event.listen(engine, "connect", cap)
    engine.dispose()  # new connections get the cap: the "disk" is now full
    added = 0
    with pytest.raises(StorageError) as caught:
        for n in range(2000):
            people.add_person(
                store,
                people.PersonInput(
                    f"C{n:06d}", "Filler" + "x" * 40, "Person", "1970-01-01", "male"
                ),
            )
            added += 1
    message = str(caught.value)
    assert "disk is full" in message and "not saved" in message
    assert not isinstance(caught.value, Busy)

    event.remove(engine, "connect", cap)
    engine.dispose()
    assert integrity_check(store) == []
    with closing(sqlite3.connect(db_path)) as con:
        crns = [r[0] for r in con.execute("SELECT crn FROM person ORDER BY crn")]
        assert crns == [f"B{n:06d}" for n in range(3)] + [f"C{n:06d}" for n in range(added)]
        events = con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    assert events == 1 + 3 + added  # db.init; the failed add left no audit event behind
    people.add_person(store, people.PersonInput("D000001", "After", "Space", "1970-01-01", "male"))
