"""Helpers shared by tests (imported as ``tests.helpers``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner


@dataclass(frozen=True)
class DbHandle:
    """A test's database: ``url`` is what PROBHEALTH_DB gets (the file path on SQLite)."""

    backend: str  # "sqlite" or "postgresql"
    url: str
    path: Path | None  # the file, on SQLite


class Cli:
    """Run probhealth in-process against one database and check the contract on every call.
    ``db`` is a SQLite file or a database URL."""

    def __init__(self, db: Path | str | None) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        expect: int | None = 0,
        env: dict[str, str] | None = None,
    ):
        from probhealth.cli import app

        # The database comes from PROBHEALTH_DB, as a worker's shell profile would set it, so
        # messages suggest commands without a --db (tests of --db itself pass it explicitly).
        base = {"PROBHEALTH_DEBUG": "1"} | ({"PROBHEALTH_DB": str(self.db)} if self.db else {})
        result = self.runner.invoke(
            app,
            list(args),
            input=input,
            env={**base, **(env or {})},
            catch_exceptions=True,
        )
        text = result.stdout + result.stderr
        assert "Traceback" not in text, text
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code} != {expect}\nstdout:{result.stdout}\nstderr:{result.stderr}"
            )
        return result


def add_person(cli: Cli, crn: str = "X123456", **extra: str) -> None:
    args = [
        "person",
        "add",
        "--crn",
        crn,
        "--given",
        extra.pop("given", "Ann"),
        "--family",
        extra.pop("family", "Smith"),
        "--dob",
        extra.pop("dob", "1990-01-31"),
        "--sex",
        extra.pop("sex", "female"),
    ]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    cli(*args)


def connect(path: Path):  # type: ignore[no-untyped-def]
    """A DB-API connection to a database file as the tests' own reader: plain sqlite3, or
    SQLCipher with the key from PROBHEALTH_KEY_FILE when the file is encrypted."""
    import sqlite3

    from probhealth import dbkey
    from probhealth.store.db import connect_file, is_plain_sqlite

    if not path.exists() or path.stat().st_size == 0 or is_plain_sqlite(path):
        return sqlite3.connect(path)
    con = connect_file(path, key=dbkey.from_env())
    con.isolation_level = ""  # like sqlite3's default: DML opens a transaction
    return con


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def handle(db: DbHandle | Path | str) -> DbHandle:
    """A test database from a handle, a SQLite file path or a URL (``Cli.db``)."""
    if isinstance(db, DbHandle):
        return db
    if isinstance(db, str) and "://" in db:
        return DbHandle("postgresql", db, None)
    return DbHandle("sqlite", str(db), Path(db))


def query(db: DbHandle | Path | str, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of one SQL statement on the test's database, either backend (``?`` placeholders);
    a statement that changes data is committed."""
    db = handle(db)
    if db.path is not None:
        from contextlib import closing

        with closing(connect(db.path)) as con, con:
            return [tuple(r) for r in con.execute(sql, params)]
    cur = _server(db.url).execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
    return [tuple(r) for r in cur] if cur.description else []


_SERVER: dict[str, Any] = {}


def _server(url: str) -> Any:
    """One connection per database URL for ``query`` during a test, instead of one per
    statement (a PostgreSQL connection costs a server process: ~20 ms, most of a ``count``).
    Autocommit, so each statement commits or is undone on its own as before, and no
    transaction or lock is held between them; nothing is prepared on the server, so a plan
    cannot outlive a change of the table it reads. ``close_server_connections`` ends them
    after each test (tests/conftest.py)."""
    con = _SERVER.get(url)
    if con is None or con.closed:
        import psycopg

        from tests.pg import libpq

        con = psycopg.connect(libpq(url), autocommit=True, prepare_threshold=None)
        _SERVER[url] = con
    return con


def close_server_connections() -> None:
    while _SERVER:
        _SERVER.popitem()[1].close()


def tamper(db: DbHandle | Path | str, *statements: str) -> None:
    """Change the database behind probhealth's back, as someone with the file or a superuser
    login could: the statements run, and are committed, with the audit table's append-only
    guard off (SQLite: its triggers dropped for good; PostgreSQL: triggers not fired for this
    one session, as for a replica)."""
    db = handle(db)
    if db.path is not None:
        for verb in ("update", "delete"):
            query(db, f"DROP TRIGGER IF EXISTS audit_event_no_{verb}")
        for sql in statements:
            query(db, sql)
        return
    import psycopg

    from tests.pg import libpq

    with psycopg.connect(libpq(db.url)) as con:
        con.execute("SET session_replication_role = replica")
        for sql in statements:
            con.execute(sql)  # type: ignore[arg-type]


def refused(db: DbHandle | Path | str, sql: str, *params: object) -> str:
    """The error the database gives for a statement it must refuse (nothing is changed)."""
    db = handle(db)
    try:
        query(db, sql, *params)
    except Exception as exc:  # sqlite3.DatabaseError or psycopg.Error: the database refused
        if not type(exc).__module__.startswith(("sqlite3", "sqlcipher3", "psycopg")):
            raise
        return str(exc)
    raise AssertionError(f"the database accepted: {sql}")


# The order rows were written in: SQLite's rowid; on PostgreSQL the writing transaction's id,
# then the row's place in the table (rows are only appended in these tests).
INSERT_ORDER = {"sqlite": "rowid", "postgresql": "xmin::text::bigint, ctid"}


def count(db: DbHandle | Path | str, table: str) -> int:
    return int(query(db, f"SELECT count(*) FROM {table}")[0][0])  # type: ignore[call-overload]


def fingerprint(db: DbHandle | Path | str) -> str:
    """Changes when anything in the database changes: the file's bytes on SQLite, every row
    of every table on PostgreSQL (not sequences: a rolled-back insert advances one without
    changing data)."""
    db = handle(db)
    if db.path is not None:
        return file_sha(db.path)
    digest = hashlib.sha256()
    tables = query(
        db,
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
    )
    for (table,) in tables:
        digest.update(f"{table}\n".encode())
        for row in sorted(query(db, f'SELECT * FROM "{table}"'), key=repr):
            digest.update(repr(row).encode())
    return digest.hexdigest()


class ScriptedAsker:
    """A fake ``Asker``: answers prompts from a script, recording what was asked.

    Script entries: a choice title (select), a list of titles (checkbox), text (text prompt),
    True/False (confirm), or "BACK" / "DECLINE" for those choices. A callable entry receives
    (kind, message, choices) and returns one of the above.
    """

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.asked: list[tuple[str, str]] = []

    def _next(self, kind: str, message: str, choices: object = None) -> object:
        self.asked.append((kind, message))
        if not self.script:
            raise KeyboardInterrupt  # the worker stops when the script runs out
        entry = self.script.pop(0)
        return entry(kind, message, choices) if callable(entry) else entry

    @staticmethod
    def _key(choices, title):  # type: ignore[no-untyped-def]
        special = {"BACK": "__back__", "DECLINE": "__decline__"}
        if title in special:
            return special[title]
        for key, text in choices:
            if text.casefold() == str(title).casefold():
                return key
        raise AssertionError(f"no choice {title!r} in {[t for _, t in choices]}")

    def select(self, message, choices, *, default=None, instruction=None):  # type: ignore[no-untyped-def]
        return self._key(choices, self._next("select", message, choices))

    def checkbox(self, message, choices, *, checked=(), instruction=None):  # type: ignore[no-untyped-def]
        entry = self._next("checkbox", message, choices)
        titles = entry if isinstance(entry, list) else [entry]
        return [self._key(choices, t) for t in titles]

    def text(self, message, *, default="", instruction=None):  # type: ignore[no-untyped-def]
        entry = self._next("text", message)
        return {"BACK": "<", "DECLINE": "-"}.get(str(entry), str(entry))

    def confirm(self, message, *, default=False):  # type: ignore[no-untyped-def]
        return bool(self._next("confirm", message))


def negative_answer(item):  # type: ignore[no-untyped-def]
    """The answer that raises nothing for an item of the default questionnaire."""
    fixed = {
        "gp_registered": "yes",
        "gp_practice": "Mill Road Surgery",
        "dentist_registered": "yes",
        "recent_custody": "no",
        "long_term_conditions": ["none"],
        "pregnancy": "no",
        "auditc_1": 0,
        "smoking_status": "never",
        "learning_difficulty": "no",
        "autism_adhd": "no",
        "sils_1": "never",
        "housing": "own",
        "hvs_1": "never",
        "hvs_2": "never",
        "phone_internet": "both",
        "unavailable_times": ["none"],
        "id_documents": "yes",
        "bowel_screening_last": "within-2-years",
        "breast_screening_last": "within-3-years",
        "cervical_screening_last": "within-3-years",
        "aaa_screening": "yes",
        "worker_concerns": ["none"],
        "drugs_any": "no",
        "medication_supply": "yes",
        "statins": "no",
        "health_check_recent": "yes",
        "mh_team_contact": "yes",
        "mh_medicine": "yes",
    }
    if item.id in fixed:
        return fixed[item.id]
    if item.type == "text":
        return "something"
    if item.type == "date":
        return "2026-11-01"
    if item.type == "multi":
        return [item.exclusive[0]] if item.exclusive else [item.options[-1].value]
    if item.type == "single" and item.id == "phq9_10":
        return "not-difficult"
    if item.id == "alcohol_withdrawal":
        return "no"
    if item.type == "yesno":
        return "no"
    if item.type == "single" and all(isinstance(o.value, int) for o in item.options):
        return min(o.value for o in item.options)
    raise AssertionError(f"no negative answer defined for {item.id}")


# A script for `python -c`: runs the CLI commands listed in the JSON file argv[1], one after
# another, in this one process (each step may carry an "env" mapping), and prints one JSON result per command.
# Stops early once the file argv[2] exists.
CLI_DRIVER = r"""
import contextlib, io, json, os, sys
from probhealth import cli

with open(sys.argv[1]) as fh:
    steps = json.load(fh)
stop = sys.argv[2] if len(sys.argv) > 2 else None
results = []
for step in steps:
    if stop and os.path.exists(stop):
        break
    os.environ.update(step.get("env", {}))
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["probhealth", *step["argv"]]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
    print(json.dumps(results[-1]), flush=True)
"""


@contextmanager
def raises_saying(kind: type[BaseException], pattern: str) -> Iterator[pytest.ExceptionInfo]:
    """``pytest.raises``, matched against what the command line shows for the error: services
    name options as ``{opt:NAME}`` and next steps as remedies, the CLI words them."""
    from probhealth.cli.remedies import explain

    with pytest.raises(kind) as info:
        yield info
    shown = explain(info.value)  # type: ignore[arg-type]
    assert re.search(pattern, shown), shown
