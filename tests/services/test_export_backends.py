"""The same caseload exports the same bytes from PostgreSQL as from SQLite (issue 17).

One demo caseload (fixed seed and clock) with hostile text added through the commands, built
on a SQLite file and on a PostgreSQL database, then every table exported, pseudonymised and
identifiable, from each. Ids come from each database's own sequences, times from the fixed
clock, person ids (random UUIDs) from one counter, and both are given the same pseudonym key,
so the files must be equal byte for byte. Exports write an audit event each, so the audit
table is exported last and compared too, all but when and by whom the database was created
(event 1, db.init), the chain hashes over that, and SQLite's record digest events (SQLite only,
see store/digests.py) with the ids they take.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import uuid
from pathlib import Path

import pytest

from probhealth.services import export
from tests.helpers import Cli, add_person, query

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]

NOW = "2026-11-20T10:00:00+00:00"
HOSTILE = ('=HYPERLINK("http://x")', "line one\n=line two", "\uff1dfullwidth", "Zoë 'Ó' Ng\t")


def _build(cli: Cli, home: Path) -> None:
    env = {"PROBHEALTH_NOW": NOW, "PROBHEALTH_HOME": str(home)}
    cli("demo", "--people", "30", "--seed", "11", env=env)
    for n, text in enumerate(HOSTILE):
        crn = f"X90000{n}"
        add_person(cli, crn, given=text.split("\n")[0].strip(), office="Cambridge")
        cli("barrier", "add", crn, "competing-priorities", "--note", text, env=env)
        cli("consent", crn, "--purpose", "health-trainer", "--given", "--note", text, env=env)
        cli("goal", "add", crn, text, env=env)


def _without_creation(data: bytes) -> bytes:
    """The audit export with the time and user of event 1 (db.init, when and by whom the
    database was created) and the chain hashes, which cover them, taken out; every other
    byte stays."""
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    header = rows[0]
    at, prev, digest = header.index("at"), header.index("prev_hash"), header.index("hash")
    assert rows[1][header.index("action")] == "db.init"
    rows[1][at] = rows[1][header.index("actor")] = ""  # on a server: the login that made it
    # Record digests are SQLite's alone (store/digests.py: none on PostgreSQL), and the events
    # that carry them take ids: leave those events out and compare the others without ids.
    action, detail = header.index("action"), header.index("detail")
    rows = [rows[0], *(r for r in rows[1:] if not r[action].startswith("record."))]
    for row in rows[1:]:
        row[prev] = row[digest] = row[0] = ""  # column 0: the event id
        if "records" in header:
            row[header.index("records")] = ""
        if '"table":"audit"' in row[detail]:  # an audit export counted those events too
            row[detail] = re.sub(r'"rows":\d+', '"rows":N', row[detail])
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def test_every_export_is_the_same_bytes_on_both_backends(db, template_db, tmp_path, monkeypatch):
    sqlite_file = tmp_path / "same.db"
    shutil.copyfile(template_db, sqlite_file)
    sqlite_file.chmod(0o600)
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    # Each database makes its own pseudonym key when it is created; give both the same one.
    for key, value in query(sqlite_file, "select key, value from meta"):
        query(db, "update meta set value = ? where key = ?", value, key)
    backends = {"sqlite": Cli(sqlite_file), "postgresql": Cli(db.url)}
    for name, cli in backends.items():
        # Person ids are random UUIDs (and pseudonyms derive from them): the same ones here.
        counter = itertools.count(1)
        with monkeypatch.context() as patch:
            patch.setattr(uuid, "uuid4", lambda c=counter: uuid.UUID(int=next(c)))
            _build(cli, tmp_path / f"home-{name}")
    compared = 0
    tables = [t for t in export.TABLES if t != "audit"] + ["audit"]
    for table in tables:
        for extra in ([], ["--identifiable"]):
            files = {}
            for name, cli in backends.items():
                out = tmp_path / f"{name}-{table}-{len(extra)}.csv"
                cli("export", table, "--out", str(out), *extra, env={"PROBHEALTH_NOW": NOW})
                files[name] = out.read_bytes()
                if table == "audit":
                    files[name] = _without_creation(files[name])
            assert files["sqlite"].count(b"\r\n") > 1, f"{table} {extra} exports rows"
            if files["sqlite"] != files["postgresql"]:
                a = files["sqlite"].split(b"\r\n")
                b = files["postgresql"].split(b"\r\n")
                n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
                pytest.fail(
                    f"{table} {extra}: line {n} differs ({len(a)} vs {len(b)} lines)\n"
                    f"sqlite:     {a[n] if n < len(a) else None!r}\n"
                    f"postgresql: {b[n] if n < len(b) else None!r}"
                )
            compared += 1
    assert compared == 2 * len(export.TABLES)
