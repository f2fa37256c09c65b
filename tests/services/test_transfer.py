"""Transfer bundles: a laptop and an office database diverge and merge both ways without loss;
a tampered bundle and a wrong passphrase change nothing; importing twice changes nothing; the
merge keeps the same versions whichever order bundles arrive in."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import Cli, add_person, file_sha

CRN = "X123456"
ANSWERS = Path(__file__).resolve().parents[2] / "examples" / "answers-low-risk.yaml"
TABLES = (
    "person",
    "consent",
    "screening",
    "answer",
    "score",
    "flag",
    "need",
    "barrier",
    "suggestion",
    "referral",
    "referral_event",
    "goal",
    "goal_review",
)


def counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(db)) as con:
        return {
            t: sorted(map(repr, con.execute(f"select * from {t}").fetchall()))
            for t in (*TABLES, "transfer_conflict", "transfer_seen", "transfer_record")
        }


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "key"
    path.write_text("correct horse battery staple\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def office(db_path: Path) -> Cli:
    return Cli(db_path)


@pytest.fixture
def laptop(template_db: Path, tmp_path: Path) -> Cli:
    path = tmp_path / "laptop.db"
    shutil.copyfile(template_db, path)
    path.chmod(0o600)
    return Cli(path)


def export(cli: Cli, out: Path, key: Path, *args: str) -> dict:
    result = cli(
        "transfer", "export", *args, "--out", str(out), "--key-file", str(key), "--json", "--force"
    )
    return json.loads(result.stdout)


def imp(cli: Cli, bundle: Path, key: Path, *args: str, expect: int = 0) -> dict:
    result = cli(
        "transfer", "import", str(bundle), "--key-file", str(key), "--json", *args, expect=expect
    )
    return json.loads(result.stdout) if expect == 0 else {"stderr": result.stderr}


def setup_person(cli: Cli) -> None:
    add_person(cli, CRN, postcode="CB1 2AB")
    cli("consent", CRN, "--purpose", "screening", "--given", "--method", "verbal")
    cli("consent", CRN, "--purpose", "health-trainer", "--given", "--method", "verbal")
    cli("consent", CRN, "--purpose", "health-trainer", "--given", "--method", "verbal")
    cli("screen", CRN, "--answers", str(ANSWERS), "--json")
    cli("refer", CRN, "talking-therapies", "--self-referral")


def referral_events(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as con:
        return sorted(con.execute("select to_status, recorded_at from referral_event").fetchall())


@pytest.mark.slow
def test_laptop_and_office_diverge_and_merge_both_ways(office, laptop, key, tmp_path):
    setup_person(office)
    out = tmp_path / "out.phx"
    sent = export(office, out, key, "--all")
    assert sent["people"] == 1 and oct(out.stat().st_mode & 0o777) == "0o600"
    first = imp(laptop, out, key)
    assert first["added"] > 1 and first["conflicts"] == 0
    assert counts(laptop.db) == counts(office.db)

    # They diverge: a new screening on the laptop, referral steps on both (the office hears
    # the person made contact; the laptop too, then that the service accepted them), a goal
    # at the office, and the same person's postcode edited on both.
    laptop("screen", CRN, "--answers", str(ANSWERS), "--restart", "--new", "--json")
    office("referral", "update", "1", "--status", "referred", "--note", "Phoned the office")
    laptop("referral", "update", "1", "--status", "referred")
    laptop("referral", "update", "1", "--status", "accepted")
    office("goal", "add", CRN, "Register with a GP")
    office("person", "edit", CRN, "--postcode", "CB2 1AA")
    laptop("person", "edit", CRN, "--postcode", "CB3 9ZZ")

    to_office = tmp_path / "to-office.phx"
    to_laptop = tmp_path / "to-laptop.phx"
    export(laptop, to_office, key, CRN)
    export(office, to_laptop, key, "--all")
    at_office = imp(office, to_office, key)
    at_laptop = imp(laptop, to_laptop, key)
    # The referral moved on both sides: merged by its events, not a conflict.
    assert at_office["merged"] == 1 and at_laptop["merged"] == 1
    assert at_office["tables"]["referral"]["conflicts"] == 0
    assert at_laptop["tables"]["referral"]["conflicts"] == 0

    # No record lost: both hold both screenings, the goal, and every referral event.
    for db in (office.db, laptop.db):
        c = counts(db)
        assert c["screening"] == 2 and c["goal"] == 1 and c["person"] == 1
        assert c["referral"] == 1 and c["referral_event"] == 4  # agreed + 1 office + 2 laptop
    assert referral_events(office.db) == referral_events(laptop.db)
    # The referral is at the latest step on both, with every step in its history.
    for cli in (office, laptop):
        shown = json.loads(cli("referral", "show", "1", "--json").stdout)
        assert shown["status"] == "accepted"
        steps = [e["to"] for e in shown["history"]]
        assert sorted(steps) == ["accepted", "agreed", "referred", "referred"]
        assert "Phoned the office" in [e.get("note") for e in shown["history"]]
    with closing(sqlite3.connect(office.db)) as con, closing(sqlite3.connect(laptop.db)) as lap:
        query = "select * from referral"
        assert con.execute(query).fetchall() == lap.execute(query).fetchall()
    # The postcode edit is the one conflict, listed on both sides; nothing overwritten.
    for cli, mine in ((office, "CB2 1AA"), (laptop, "CB3 9ZZ")):
        listed = json.loads(cli("transfer", "conflicts", "--json").stdout)
        assert [c["record"] for c in listed] == ["person"]
        assert "postcode" in listed[0]["fields"]
        with closing(sqlite3.connect(cli.db)) as con:
            assert con.execute("select postcode from person").fetchone()[0] == mine

    # Importing again changes nothing, and every record is recognised as already seen.
    for cli, bundle, first_time in ((office, to_office, at_office), (laptop, to_laptop, at_laptop)):
        before = snapshot(cli.db)
        again = imp(cli, bundle, key)
        assert again["added"] == again["updated"] == again["merged"] == 0
        assert again["conflicts"] == first_time["conflicts"]
        assert snapshot(cli.db) == before
    twice = imp(laptop, out, key)
    assert twice["added"] == twice["updated"] == twice["merged"] == 0

    # Settle the postcode at the office: keep the laptop's; then it flows back without conflict.
    listed = json.loads(office("transfer", "conflicts", "--json").stdout)
    person = next(c for c in listed if c["record"] == "person")
    office("transfer", "resolve", str(person["id"]), "--keep", "theirs")
    with closing(sqlite3.connect(office.db)) as con:
        assert con.execute("select postcode from person").fetchone()[0] == "CB3 9ZZ"

    for cli in (office, laptop):
        assert json.loads(cli("audit", "verify", "--json").stdout)["ok"]

    # The next exchange carries the settled postcode back: no conflict is left on either side.
    back = tmp_path / "back.phx"
    export(office, back, key, "--all")
    settled = imp(laptop, back, key)
    assert settled["conflicts"] == 0 and settled["merged"] == 0
    with closing(sqlite3.connect(laptop.db)) as con:
        assert con.execute("select postcode from person").fetchone()[0] == "CB3 9ZZ"
    for cli in (office, laptop):
        assert json.loads(cli("audit", "verify", "--json").stdout)["ok"]
    with closing(sqlite3.connect(office.db)) as con:
        details = [
            r[0]
            for r in con.execute("select detail from audit_event where action like 'transfer.%'")
        ]
    assert details and not any("CB3" in d or "Smith" in d for d in details)


def test_wrong_passphrase_and_tampered_bundle_change_nothing(office, laptop, key, tmp_path):
    setup_person(office)
    out = tmp_path / "b.phx"
    export(office, out, key, CRN)
    before = file_sha(laptop.db)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    wrong.chmod(0o600)
    r = laptop("transfer", "import", str(out), "--key-file", str(wrong), expect=2)
    assert "passphrase is wrong" in r.stderr and "not the passphrase" not in r.stderr
    data = bytearray(out.read_bytes())
    for where in (10, len(data) // 2, len(data) - 1):
        bad = bytearray(data)
        bad[where] ^= 0x01
        tampered = tmp_path / f"t{where}.phx"
        tampered.write_bytes(bytes(bad))
        laptop("transfer", "import", str(tampered), "--key-file", str(key), expect=2)
    assert file_sha(laptop.db) == before
    # The bundle holds no personal data in the clear.
    raw = out.read_bytes()
    assert b"Smith" not in raw and CRN.encode() not in raw and b"CB1" not in raw


def test_crn_of_another_person_stops_the_import(office, laptop, key, tmp_path):
    setup_person(office)
    add_person(laptop, CRN, given="Other")
    out = tmp_path / "b.phx"
    export(office, out, key, CRN)
    before = counts(laptop.db)
    r = laptop("transfer", "import", str(out), "--key-file", str(key), expect=2)
    assert CRN in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert counts(laptop.db) == before


def test_dry_run_changes_nothing(office, laptop, key, tmp_path):
    setup_person(office)
    out = tmp_path / "b.phx"
    export(office, out, key, CRN)
    before = snapshot(laptop.db)
    report = imp(laptop, out, key, "--dry-run")
    assert report["dry_run"] and report["added"] > 0
    assert snapshot(laptop.db) == before


def test_passphrase_never_from_argv_without_terminal(office, tmp_path):
    add_person(office, CRN)
    r = office("transfer", "export", CRN, "--out", str(tmp_path / "x.phx"), expect=2)
    assert "--key-file" in r.stderr


# -- merge order: a property test on random divergent histories ------------------------------
OPS = ("postcode", "goal", "barrier", "review", "step")
STEPS = ("referred", "accepted", "appointment-booked", "attended")  # open steps, in order


def _store(template_db: Path, path: Path):
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    shutil.copyfile(template_db, path)
    path.chmod(0o600)
    return Store(resolve_db(str(path)), actor="tester")


def _apply(store, op: str, n: int) -> None:
    from probhealth.services import goals, needs, people

    if op == "postcode":
        people.edit_person(store, CRN, {"postcode": f"CB{n % 9 + 1} 1AA"})
    elif op == "goal":
        goals.add(store, CRN, f"Goal number {n}")
    elif op == "barrier":
        from probhealth.taxonomy import BARRIER_TYPES

        # A barrier type is recorded once per person: each step adds a different one.
        needs.add_barrier(store, CRN, list(BARRIER_TYPES)[n % len(BARRIER_TYPES)], note=f"n{n}")
    elif op == "step":
        from probhealth import referral_states
        from probhealth.services import referrals
        from probhealth.services.definitions import load_rules

        with store.read() as session:
            from probhealth.store import transfer as repo

            (row,) = repo.children(session, "referral", "person_id", [_ids(store)[0]])
        nxt = next(s for s in STEPS if s in referral_states.allowed(row["status"]))
        referrals.update(store, row["id"], load_rules(), status=nxt, note=f"step {n}")
    else:
        listed = goals.list_for(store, CRN)
        if listed:
            goals.review(store, listed[0].id, progress="partly", note=f"review {n}")


def _versions(store) -> dict[tuple[str, str], set[str]]:
    """Each record's (table, uid) -> the versions kept (the current one and open conflicts)."""
    from probhealth.services import transfer
    from probhealth.store import transfer as repo

    people = transfer.choose_people(store, crns=[], all_people=True, changed_since=None)
    payload, _, _ = transfer.build_payload(store, people)
    out: dict[tuple[str, str], set[str]] = {}
    for name, recs in payload["records"].items():
        for rec in recs:
            out.setdefault((name, rec["uid"]), set()).add(rec["hash"])
    with store.read() as session:
        for c in repo.conflicts(session):
            out.setdefault((c["entity"], c["uid"]), set()).add(c["hash"])
    return out


@pytest.mark.slow
def test_merge_loses_nothing_and_does_not_depend_on_order(template_db, tmp_path):
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from probhealth.services import people, referrals, transfer
    from probhealth.services.definitions import load_rules
    from probhealth.services.people import PersonInput

    ops = st.lists(st.sampled_from(OPS), max_size=4)
    counter = iter(range(10**9))

    @settings(max_examples=8, deadline=None)
    @given(ops, ops)
    @example(["step", "postcode"], ["step", "step", "postcode"])  # both move the referral
    def check(on_a: list[str], on_b: list[str]) -> None:
        run = tmp_path / f"run{next(counter)}"
        run.mkdir()
        a, b, c, d = (_store(template_db, run / f"{n}.db") for n in "abcd")
        pw = b"a pass phrase"
        try:
            people.add_person(
                a,
                PersonInput(crn=CRN, given="Ann", family="Smith", dob="1990-01-31", sex="female"),
            )
            people.record_consent(a, CRN, purpose="health-trainer", status="given")
            people.record_consent(a, CRN, purpose="health-trainer", status="given")
            _apply(a, "goal", 0)
            referrals.refer(a, CRN, "talking-therapies", load_rules(), self_referral=True)
            first = transfer.export(a, person_ids=_ids(a), out=run / "a0.phx", passphrase=pw)
            transfer.import_bundle(b, (run / "a0.phx").read_bytes(), passphrase=pw)
            assert first.people == 1
            v0 = _versions(a)
            for i, op in enumerate(on_a):
                _apply(a, op, i)
            for i, op in enumerate(on_b):
                _apply(b, op, 100 + i)
            transfer.export(a, person_ids=_ids(a), out=run / "a.phx", passphrase=pw)
            transfer.export(b, person_ids=_ids(b), out=run / "b.phx", passphrase=pw)
            ba, bb = (run / "a.phx").read_bytes(), (run / "b.phx").read_bytes()
            for data in (ba, bb):
                transfer.import_bundle(c, data, passphrase=pw)
            for data in (bb, ba):
                transfer.import_bundle(d, data, passphrase=pw)
            va, vb, vc, vd = (_versions(s) for s in (a, b, c, d))
            assert vc == vd  # the same versions kept, whichever bundle came first
            assert set(vc) == set(va) | set(vb)  # no record lost
            for key in vc:  # every new version kept (as the record or as a conflict) ...
                new = (va.get(key, set()) | vb.get(key, set())) - v0.get(key, set())
                if key[0] == "referral" and len(new) == 2:
                    # ... except a referral moved on both sides: its events are all kept
                    # (records of their own, checked above) and it takes the latest's step.
                    assert len(vc[key]) == 1 and vc[key] <= new
                else:
                    assert new <= vc[key] and (new or vc[key] == v0[key])
        finally:
            for s in (a, b, c, d):
                s.close()

    check()


def _ids(store) -> list[str]:
    from probhealth.services import transfer

    return transfer.choose_people(store, crns=[], all_people=True, changed_since=None)


def test_import_reports_progress_to_the_last_record(office, laptop, key, tmp_path):
    """A caseload import takes seconds (200 demo people: about 10 s): the merge says how far
    it has gone, ending at every record of the bundle."""
    from probhealth.dbkey import read_key_file
    from probhealth.paths import resolve_db
    from probhealth.services import transfer
    from probhealth.store.db import Store

    setup_person(office)
    out = tmp_path / "b.phx"
    records = export(office, out, key, CRN)["records"]
    seen: list[tuple[int, int]] = []
    store = Store(resolve_db(str(laptop.db)), actor="tester")
    try:
        transfer.import_bundle(
            store,
            out.read_bytes(),
            passphrase=read_key_file(key),
            progress=lambda done, total: seen.append((done, total)),
        )
    finally:
        store.close()
    assert seen and seen[-1] == (records, records)
    assert all(total == records for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
