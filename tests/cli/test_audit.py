"""The audit log (reliability row 23): every create, change, erase, export, search and view
of a person is recorded, without names or health values; it is append-only and chained, and
``audit verify`` names the first altered event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import INSERT_ORDER, DbHandle, add_person, count, query, refused, tamper

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (
    "Zebedee",
    "Quasimodo",
    "X123456",
    "1990-07-19",
    "CB1 2AB",
    "very private note",
    "Mill Road Surgery",
)


def actions(db: DbHandle) -> list[str]:
    return [str(r[0]) for r in query(db, "select action from audit_event order by id")]


@pytest.fixture
def person(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """A person with services loaded, three consents and a screening (built once a process)."""

    def build() -> str:
        cli("services", "load", str(ROOT / "examples" / "services-fictional.yaml"))
        add_person(
            cli,
            "X123456",
            given="Zebedee",
            family="Quasimodo",
            dob="1990-07-19",
            postcode="CB1 2AB",
            sex="male",
            office="Cambridge",
        )
        cli(
            "consent", "X123456", "--purpose", "screening", "--given", "--note", "very private note"
        )
        cli("consent", "X123456", "--purpose", "health-trainer", "--given")  # goals need it
        cli("consent", "X123456", "--purpose", "share-with-services", "--given")
        cli("screen", "X123456", "--answers", str(negative_file(tmp_path, gp_registered="no")))
        return "X123456"

    return built_once(build)


# command line -> the audit action it must record
COMMANDS = [
    (
        [
            "person",
            "add",
            "--crn",
            "Y000001",
            "--given",
            "A",
            "--family",
            "B",
            "--dob",
            "1990-01-01",
            "--sex",
            "male",
        ],
        "person.add",
    ),
    (["person", "edit", "X123456", "--office", "Ilfracombe"], "person.edit"),
    (["person", "show", "X123456"], "person.show"),
    (["person", "list"], "person.list"),
    (["person", "list", "--search", "zeb"], "person.search"),
    (["consent", "X123456", "--purpose", "health-trainer", "--given"], "consent.record"),
    (["consent", "X123456", "--purpose", "screening", "--history"], "consent.history"),
    (["screening", "list", "X123456"], "screening.list"),
    (["screening", "show", "1"], "screening.show"),
    (["need", "list", "X123456"], "need.list"),
    (["need", "update", "1", "--status", "being-addressed"], "need.update"),
    (["barrier", "add", "X123456", "transport"], "barrier.add"),
    (["barrier", "list", "X123456"], "barrier.list"),
    (["barrier", "resolve", "1"], "barrier.resolve"),
    (["suggest", "X123456"], "suggest.view"),
    (["suggest", "--all"], "suggest.batch"),
    (["refer", "X123456", "gp-registration"], "referral.create"),
    (["referral", "list"], "referral.list"),
    (["goal", "add", "X123456", "Register with a GP"], "goal.add"),
    (["goal", "list", "X123456"], "goal.list"),
    (["export", "people", "--out", "-"], "export"),
    (["export", "people", "--out", "-", "--identifiable"], "export.identifiable"),
    (["audit", "list"], "audit.list"),
    (["db", "backup", "--out", "{tmp}/b.db"], "db.backup"),
    (["init"], "db.init"),
    (["db", "purge", "--closed-before", "2000-01-01", "--apply"], "db.purge"),
]


@pytest.mark.parametrize(("argv", "action"), COMMANDS, ids=[a for _, a in COMMANDS])
def test_every_command_leaves_an_audit_event(cli, db, person, tmp_path, argv, action):
    if action == "db.backup" and db.backend == "postgresql":
        pytest.skip("SQLite only: db backup copies SQLite files (on a server it explains pg_dump)")
    before = len(actions(db))
    cli(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
    new = actions(db)[before:]
    assert action in new, new


def test_screen_referral_goal_and_erase_steps_are_audited(cli, db, person):
    cli("refer", person, "dentist", "--self-referral")
    cli("referral", "update", "1", "--status", "referred")
    cli("referral", "show", "1")
    cli("goal", "add", person, "See a dentist")
    cli("goal", "review", "1", "--progress", "partly")
    cli("person", "erase", person, "--reason", "erasure-request", "--yes")
    got = actions(db)
    for action in (
        "screening.import",
        "screening.complete",
        "need.create",
        "barrier.create",
        "referral.update",
        "referral.show",
        "goal.review",
        "person.erase",
    ):
        assert action in got, action


def test_audit_rows_hold_no_names_or_health_values(cli, db, person):
    cli("person", "show", person)
    cli("export", "people", "--identifiable", "--out", "-")
    cli("refer", person, "gp-registration", "--note", "very private note")
    rows = " ".join(
        str(r)
        for r in query(db, "select actor, action, entity, entity_id, detail from audit_event")
    )
    for secret in SECRETS:
        assert secret not in rows, secret


def test_append_only_at_the_database_level(cli, db, person):
    for sql in (
        "update audit_event set actor = 'x' where id = 1",
        "delete from audit_event where id = 1",
    ):
        assert "audit_event is append-only" in refused(db, sql)
    assert count(db, "audit_event") > 1


def test_verify_names_the_first_altered_event(cli, db, person):
    assert "chain ok" in cli("audit", "verify").stderr
    tamper(db, "update audit_event set actor = 'mallory' where id = 3")
    result = cli("audit", "verify", "--json", expect=1)
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["first_broken_event"] == 3
    assert "broken at event 3" in cli("audit", "verify", expect=1).stderr
    assert cli("db", "check", "--json", expect=1)


def test_verify_detects_a_deleted_event(cli, db, person):
    tamper(db, "delete from audit_event where id = 4")
    data = json.loads(cli("audit", "verify", "--json", expect=1).stdout)
    assert data["first_broken_event"] == 4 and "missing" in data["reason"]


def test_audit_list_filters(cli, person):
    cli("--as", "officer.jones", "person", "show", person)
    rows = json.loads(cli("audit", "list", "--user", "officer.jones", "--json").stdout)
    assert {r["action"] for r in rows} == {"person.show"}
    rows = json.loads(cli("audit", "list", "--action", "consent", "--json").stdout)
    assert rows and all(r["action"].startswith("consent") for r in rows)
    assert json.loads(cli("audit", "list", "--since", "2999-01-01", "--json").stdout) == []
    assert len(json.loads(cli("audit", "list", "--limit", "2", "--json").stdout)) == 2
    assert "YYYY-MM-DD" in cli("audit", "list", "--since", "last week", expect=2).stderr


def test_event_ids_stay_monotonic_when_the_clock_steps_back(cli, db, person, monkeypatch):
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-11-23T12:00:00Z")
    cli("person", "show", person)
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-11-23T11:00:00Z")
    cli("person", "show", person)
    ids = [
        r[0] for r in query(db, f"select id from audit_event order by {INSERT_ORDER[db.backend]}")
    ]
    assert ids == sorted(ids) == list(range(1, len(ids) + 1))
    assert "chain ok" in cli("audit", "verify").stderr
