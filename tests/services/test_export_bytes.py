"""The CSV an export writes is a contract: the SQLite fast path (issue 19) must write exactly the
bytes the portable path writes (the per-row Python builders that PostgreSQL uses, unchanged from
before the fast path existed), for every table and option, on a demo caseload with hostile
text added: formulas, full-width formulas, leading spaces and tabs, apostrophes, several lines,
odd JSON answers (booleans, reals, null, unknown items, nested lists), a person's audit event.

Each export runs on its own copy of the database, so one export's audit event cannot show up
in the next one's audit table.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from probhealth.services import export
from tests.helpers import Cli

NOW = "2026-11-20T10:00:00+00:00"

HOSTILE = (
    '=HYPERLINK("http://x")',
    "+1",
    "-2 then text",
    "@SUM(A1)",
    "\t=tab",
    "  =spaced",
    "\uff1dfullwidth",
    "'already quoted",
    "line one\n=line two",
    "\u3000=ideographic space",
    'plain text, with comma and "quotes"',
    "",
)


def _hostile(db: Path) -> None:
    """Hostile text in every free-text column an export can write."""
    con = sqlite3.connect(db)
    with con:
        pids = [r[0] for r in con.execute("select id from person order by id")]
        for n, pid in enumerate(pids[: len(HOSTILE)]):
            text = HOSTILE[n]
            con.execute(
                "update person set given_name = ?, communication_needs = ?, address = ?,"
                " postcode = ?, office = case when ? % 3 = 0 then office else ? end"
                " where id = ?",
                (text or "Ann", text or None, text or None, text or None, n, text, pid),
            )
        # Ages on the day of the export (PROBHEALTH_NOW, 20 November 2026): 18 today, 17
        # until tomorrow, born on 29 February, 65 today, a postcode without a space.
        for pid, dob in zip(
            pids[len(HOSTILE) :],
            ("2008-11-20", "2008-11-21", "1964-02-29", "1961-11-20", "1961-11-21"),
            strict=False,
        ):
            con.execute("update person set dob = ?, postcode = 'CB12AB' where id = ?", (dob, pid))
        for table, column in (
            ("consent", "note"),
            ("need", "note"),
            ("barrier", "note"),
            ("referral", "outcome"),
            ("referral", "closed_reason"),
            ("referral_event", "reason"),
            ("referral_event", "note"),
            ("goal", "text"),
            ("goal_review", "progress"),
            ("screening", "setting"),
        ):
            ids = [r[0] for r in con.execute(f"select id from {table} order by id limit 12")]
            for n, rid in enumerate(ids):
                con.execute(
                    f"update {table} set {column} = ? where id = ?",
                    (HOSTILE[n % len(HOSTILE)], rid),
                )
        # A referral that reaches a step twice (the later event, by id, with the earlier
        # date: its date is the step's), and dates stored in another form: a timestamp
        # where a date belongs, a formula.
        rids = [r[0] for r in con.execute("select id from referral order by id limit 2")]
        for status, day in (
            ("referred", "2026-03-02"),
            ("referred", "2026-02-01"),
            ("accepted", "2026-03-05 10:11:12.000000"),
            ("attended", "=2026-03-06"),
        ):
            con.execute(
                "insert into referral_event (referral_id, from_status, to_status, event_date,"
                " recorded_by, recorded_at) values (?, 'referred', ?, ?, 'w',"
                " '2026-05-15 05:37:20.000000')",
                (rids[0], status, day),
            )
        con.execute(
            "update referral set follow_up_due = '2026-06-01 09:00:00.000000' where id = ?",
            (rids[1],),
        )
        # A NUL character in a referral's text and in a step's date: written whole (the
        # fast path builds these lines with || rather than printf, whose %s stops there).
        con.execute(
            "update referral set outcome = 'before' || char(0) || 'after' where id = ?",
            (rids[1],),
        )
        con.execute(
            "insert into referral_event (referral_id, from_status, to_status, event_date,"
            " recorded_by, recorded_at) values (?, 'attended', 'completed',"
            " '2026-03-07' || char(0) || 'x', 'w', '2026-05-15 05:37:20.000000')",
            (rids[0],),
        )
        sids = [r[0] for r in con.execute("select id from screening order by id limit 6")]
        odd_values = (
            ("gp_practice", "\"=cmd|' /C calc'!A0\""),  # free text (identifiable only)
            ("phq9_1", "true"),  # a boolean where a number belongs
            ("phq9_2", "1.5"),  # a real
            ("gad7_1", "null"),  # JSON null, not declined
            ("no_such_item", '"-5"'),  # an item no version has
            ("long_term_conditions", '["hiv", 3, true, ["nested"], 2.5]'),
            ("release_date", '"2026-07-06"'),
            ("housing", '"=not-an-option"'),
        )
        for n, sid in enumerate(sids):
            item, value = odd_values[n % len(odd_values)]
            con.execute(
                "insert or replace into answer (screening_id, item_id, value, declined,"
                " answered_by, answered_at, hidden) values (?, ?, ?, 0, '=worker', "
                "'2026-05-15 05:37:20.000000', 0)",
                (sid, item, value),
            )
            item2, value2 = odd_values[(n + 3) % len(odd_values)]
            con.execute(
                "insert or replace into answer (screening_id, item_id, value, declined,"
                " answered_by, answered_at, hidden) values (?, ?, ?, 0, 'w', "
                "'2026-05-15 05:37:21.000000', 0)",
                (sid, item2, value2),
            )
        con.execute(
            "insert into suggestion (person_id, screening_id, pathway_id, urgency, reasons,"
            " already_open, rules_id, rules_version, rules_hash, created_at) values"
            " (?, ?, 'gp-registration', 'routine', ?, 1, 'rules', 1, 'h',"
            " '2026-05-15 05:37:20.000000')",
            (
                pids[0],
                sids[0],
                '[{"rule": "=r", "because": "-because", "evidence": "=ev; flag: a"},'
                ' {"rule": "x", "evidence": "flag: a"}]',
            ),
        )
        con.execute(
            "insert into audit_event (at, actor, action, entity, entity_id, detail, prev_hash,"
            " hash) values ('2026-05-15 05:37:20.000000', '=actor', 'person.view', 'person',"
            " ?, '{\"x\": \"=1\"}', 'p', 'h')",
            (pids[1],),
        )
        con.execute(
            "insert into audit_event (at, actor, action, entity, entity_id, detail, prev_hash,"
            " hash) values ('2026-05-16 05:37:20.000000', 'a', 'person.view', 'person',"
            " NULL, '{}', 'p', 'h')"
        )
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


@pytest.fixture(scope="module")
def base_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("export-bytes")
    db = work / "base.db"
    shutil.copyfile(template_db, db)
    db.chmod(0o600)
    cli = Cli(db)
    env = {"PROBHEALTH_HOME": str(work / "home"), "PROBHEALTH_NOW": NOW}
    cli("demo", "--people", "40", "--seed", "19", env=env)  # has domestic abuse referrals
    _hostile(db)
    return db


CASES: list[tuple[str, dict[str, object]]] = []
for _table in export.TABLES:
    CASES.append((_table, {}))
    CASES.append((_table, {"identifiable": True}))
    CASES.append((_table, {"since": "2026-01-01", "until": "2026-09-30"}))
    if _table != "audit":
        CASES.append((_table, {"office": "Cambridge"}))
for _table in ("screenings", "answers"):
    CASES.append((_table, {"labels": True}))
    CASES.append((_table, {"labels": True, "identifiable": True}))
for _table in ("screenings", "answers", "suggestions"):
    CASES.append((_table, {"questionnaire": "probation-health"}))
CASES.append(("people", {"excel": True}))


def _export(base: Path, work: Path, table: str, opts: dict[str, object], portable: bool) -> bytes:
    from datetime import date

    from probhealth.paths import resolve_db
    from probhealth.store.db import Store, open_plain

    db = work / ("portable.db" if portable else "fast.db")
    shutil.copyfile(base, db)
    db.chmod(0o600)
    out = work / ("portable.csv" if portable else "fast.csv")
    kw = dict(opts)
    for key in ("since", "until"):
        if key in kw:
            kw[key] = date.fromisoformat(str(kw[key]))
    options = export.Options(table=table, out=out, force=True, **kw)  # type: ignore[arg-type]
    if not portable and export.plain_ok(options):
        # The fast path as the command takes it: the file opened with sqlite3 alone (an
        # identifiable export with rows to withhold goes through the store, as the command's).
        plain = open_plain(resolve_db(str(db)), actor="tester")
        assert plain is not None
        try:
            export.run(plain, options)
        finally:
            plain.close()
        return out.read_bytes()
    store = Store(resolve_db(str(db)), actor="tester")
    try:
        export.run(store, options, portable=portable)
    finally:
        store.close()
    return out.read_bytes()


@pytest.mark.parametrize(
    ("table", "opts"),
    CASES,
    ids=[f"{t}-{'-'.join(sorted(o)) or 'default'}" for t, o in CASES],
)
def test_fast_path_writes_the_same_bytes(
    base_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    opts: dict[str, object],
) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    portable = _export(base_db, tmp_path, table, opts, portable=True)
    fast = _export(base_db, tmp_path, table, opts, portable=False)
    assert portable.count(b"\r\n") > 1, "every case exports rows"
    if fast != portable:
        a, b = portable.split(b"\r\n"), fast.split(b"\r\n")
        first = next(
            (n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        pytest.fail(
            f"{table} {opts}: line {first} differs ({len(a)} vs {len(b)} lines)\n"
            f"portable: {a[first] if first < len(a) else None!r}\n"
            f"fast:     {b[first] if first < len(b) else None!r}"
        )


def test_hostile_text_is_in_the_exports(base_db: Path, tmp_path: Path, monkeypatch) -> None:
    """The cases above carry what they claim to: neutralised formulas in notes and answers."""
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    events = _export(base_db, tmp_path, "referral-events", {"identifiable": True}, portable=True)
    assert (
        b"'=HYPERLINK" in events and b"'\t=tab" in events and b'"line one\n\'=line two"' in events
    )
    answers = _export(base_db, tmp_path, "answers", {"identifiable": True}, portable=True)
    assert b"'=cmd|" in answers and b"nested" in answers
    people = _export(base_db, tmp_path, "people", {"identifiable": True}, portable=True)
    assert b",18-24," in people and b",under 18," in people and b",65+," in people
    assert b",CB12AB," in people


@pytest.mark.parametrize("table", sorted(export.FAST))
def test_sqlite_takes_the_fast_path(
    base_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """The comparison above means something only if SQLite really writes these tables."""
    from probhealth.store import export_sqlite

    real = export_sqlite._lines
    used: list[str] = []

    def spy(conn, sql, params):  # type: ignore[no-untyped-def]
        used.append(sql)
        return real(conn, sql, params)

    monkeypatch.setattr(export_sqlite, "_lines", spy)
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    fast = _export(base_db, tmp_path, table, {}, portable=False)
    assert len(used) == 1 and fast.count(b"\r\n") > 1


@pytest.mark.parametrize("table", sorted(export.WITHHOLDING & export.FAST))
def test_both_paths_leave_out_the_same_sensitive_rows(
    base_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """Hazard H23: the demo caseload has domestic abuse disclosures, so the identifiable cases
    above compare rows (and, in screenings, flags) left out as sensitive; both paths count
    the same."""
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    counts = []
    for portable in (True, False):
        db = tmp_path / f"{portable}.db"
        shutil.copyfile(base_db, db)
        db.chmod(0o600)
        store = Store(resolve_db(str(db)), actor="tester")
        try:
            options = export.Options(
                table=table, out=tmp_path / "x.csv", force=True, identifiable=True
            )
            result = export.run(store, options, portable=portable)
        finally:
            store.close()
        counts.append((result.rows, result.withheld_rows, result.withheld_cells))
    assert counts[0] == counts[1]
    if table == "screenings":  # a screening stays; a flag its sensitive answer raised goes
        assert counts[0][2] > 0, "the demo caseload has flags to leave out"
    elif table != "audit":
        assert counts[0][1] > 0, "the demo caseload has rows to leave out"


def test_both_paths_drop_a_sensitive_reason_the_same_way(
    base_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suggestion kept for other reasons loses only its sensitive reason, in the same bytes
    on both paths (the demo caseload has no such row, so one is chosen here)."""
    import json

    from probhealth.services import sensitive

    con = sqlite3.connect(base_db)
    gid, reasons = next(
        (i, r)
        for i, r in con.execute("select id, reasons from suggestion order by id")
        if len(json.loads(r)) >= 2
    )
    gone = json.loads(reasons)[0]
    con.close()
    fake = sensitive.Withheld(strip={gid: frozenset({gone["rule"]})})
    monkeypatch.setattr(sensitive, "withheld", lambda *a, **k: fake)
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    opts = {"identifiable": True}
    portable = _export(base_db, tmp_path, "suggestions", opts, portable=True)
    fast = _export(base_db, tmp_path, "suggestions", opts, portable=False)
    assert fast == portable
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    for path, since in ((True, None), (False, None), (True, "2099-01-01"), (False, "2099-01-01")):
        db = tmp_path / "count.db"
        shutil.copyfile(base_db, db)
        db.chmod(0o600)
        store = Store(resolve_db(str(db)), actor="tester")
        try:
            o = export.Options(
                table="suggestions",
                out=tmp_path / "c.csv",
                force=True,
                identifiable=True,
                since=date.fromisoformat(since) if since else None,
            )
            cells = export.run(store, o, portable=path).withheld_cells
        finally:
            store.close()
        assert cells == (0 if since else 1), (path, since)
    (row,) = [line for line in portable.split(b"\r\n") if line.startswith(f"{gid},".encode())]
    assert gone["rule"].encode() + b";" not in row and gone["because"].encode() not in row


def test_sqlite_quotes_and_guards_every_first_character_as_python_does() -> None:
    """``export_sqlite.cell`` (the SQL each text cell goes through) against the Python field
    writer, for text starting with every character up to U+3000 and the full-width triggers,
    alone, before a comma, a quote, a line break or a formula, and as numbers and blobs: the
    comparisons that pass most cells straight through must never pass one that needs a look."""
    from probhealth.store import export_sqlite

    con = sqlite3.connect(":memory:")
    con.create_function("ph_cell", 1, export._field, deterministic=True)
    con.execute("CREATE TABLE t (x)")
    firsts = [chr(c) for c in range(1, 0x3001)] + ["\uff0b", "\uff0d", "\uff1d", "\uff20"]
    values: list[object] = [
        first + rest for first in firsts for rest in ("", "x", "a,b", 'q"', "l\nm", "r\rs", "=1")
    ]
    values += [-1, 0, 2.5, b"=blob", "", "A", "<", "=", "@", "\x84", "\x85"]
    con.executemany("INSERT INTO t VALUES (?)", ((v,) for v in values))
    cells = f"SELECT '' || {export_sqlite.cell('x')} FROM t ORDER BY rowid"  # as in a line
    got = [r[0] for r in con.execute(cells)]
    for value, field in zip(values, got, strict=True):
        if isinstance(value, bytes):
            continue  # a blob is not a text cell; it only has to take the full test
        assert field == export._field(value), (value, field)
