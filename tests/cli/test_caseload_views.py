"""Caseload views (issue 13, item 8): ``referral list --office/--worker``, ``goal list --due``
across the caseload (a health trainer's day) and the ``today`` view with follow-ups due and
overdue, goals due and people not yet screened, each capped with "and N more"."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person

EARLIER = "2026-03-02T10:00:00Z"  # a Monday
LATER = "2026-03-20T10:00:00Z"


@pytest.fixture
def caseload(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """Three people at two offices; two screened with referrals by two workers, a third never
    screened; a goal set weeks ago with a target date now past."""

    def build() -> None:
        then = {"PROBHEALTH_NOW": EARLIER}
        add_person(cli, "X100001", sex="male", office="Cambridge")
        add_person(cli, "X100002", sex="male", office="Ilfracombe")
        add_person(cli, "X100003", office="Cambridge", given="Never", family="Screened")
        for crn in ("X100001", "X100002"):
            for purpose in ("screening", "share-with-services", "share-with-gp", "health-trainer"):
                cli("consent", crn, "--purpose", purpose, "--given", env=then)
            cli(
                "screen",
                crn,
                "--answers",
                str(negative_file(tmp_path, gp_registered="no")),
                env=then,
            )
        cli("--as", "asmith", "refer", "X100001", "dentist", "--follow-up", "7", env=then)
        cli("--as", "bjones", "refer", "X100002", "dentist", "--follow-up", "7", env=then)
        cli(
            "--as",
            "bjones",
            "refer",
            "X100002",
            "gp-registration",
            "--follow-up",
            "2026-03-20",
            env=then,
        )  # due on the day of the tests
        cli(
            "referral", "update", "2", "--status", "referred", "--follow-up", "2026-03-10", env=then
        )
        cli("goal", "add", "X100001", "Register with a GP", "--target-date", "2026-03-09", env=then)
        cli("goal", "add", "X100002", "Walk daily", "--target-date", "2026-12-31", env=then)

    built_once(build)
    return {"PROBHEALTH_NOW": LATER}


def _ids(result) -> list[int]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in json.loads(result.stdout)]


def test_referral_list_by_office_and_worker(cli, caseload):
    assert _ids(cli("referral", "list", "--json")) == [1, 2, 3]
    assert _ids(cli("referral", "list", "--office", "cambridge", "--json")) == [1]
    assert _ids(cli("referral", "list", "--worker", "BJones", "--json")) == [2, 3]
    both = cli(
        "referral",
        "list",
        "--worker",
        "bjones",
        "--office",
        "Ilfracombe",
        "--due",
        "--json",
        env=caseload,
    )
    assert _ids(both) == [2, 3]  # overdue first, then today
    assert _ids(cli("referral", "list", "--worker", "nobody", "--json")) == []
    assert _ids(cli("referral", "list", "--worker", "b%", "--json")) == []  # no wildcards
    assert "--office" in cli("referral", "list", "--office", " ", expect=2).stderr


def test_referral_list_json_carries_the_history_as_show_does(cli, caseload):
    listed = {r["id"]: r for r in json.loads(cli("referral", "list", "--json").stdout)}
    shown = json.loads(cli("referral", "show", "2", "--json").stdout)
    assert listed[2]["history"] == shown["history"]
    assert [e["to"] for e in listed[2]["history"]] == ["agreed", "referred"]


def test_goal_list_due_across_the_caseload(cli, caseload):
    due = json.loads(cli("goal", "list", "--due", "--json", env=caseload).stdout)
    assert [(g["crn"], g["text"]) for g in due] == [("X100001", "Register with a GP")]
    everyone = json.loads(cli("goal", "list", "--json", env=caseload).stdout)
    assert {g["crn"] for g in everyone} == {"X100001", "X100002"}
    human = cli("goal", "list", "--due", env=caseload).stdout
    assert "Goals due" in human and "X100001" in human and "late" in human
    assert (
        cli(
            "goal", "list", "--due", "--office", "ilfracombe", "--json", env=caseload
        ).stdout.strip()
        == "[]"
    )
    mine = json.loads(cli("goal", "list", "X100002", "--due", "--json", env=caseload).stdout)
    assert mine == []


def test_today_shows_overdue_due_goals_and_unscreened(cli, caseload):
    day = json.loads(cli("today", "--json", env=caseload).stdout)
    assert day["counts"] == {
        "open_flags": 0,
        "follow_ups_due_today": 1,
        "follow_ups_overdue": 2,
        "goals_due": 1,
        "not_screened": 1,
    }
    assert [r["id"] for r in day["follow_ups_overdue"]["rows"]] == [1, 2]
    assert [r["id"] for r in day["follow_ups_due_today"]["rows"]] == [3]
    assert day["goals_due"]["rows"][0]["crn"] == "X100001"
    assert [p["crn"] for p in day["not_screened"]["rows"]] == ["X100003"]
    human = cli("today", env=caseload).stdout
    for text in (
        "Follow-ups overdue",
        "Follow-ups due today",
        "Goals due",
        "Not yet screened",
        "X100003",
        "1 person not yet screened",
    ):
        assert text in human, text


def test_today_caps_each_section_and_says_how_many_more(cli, caseload):
    day = json.loads(cli("today", "--limit", "1", "--json", env=caseload).stdout)
    assert day["follow_ups_overdue"]["count"] == 2 and day["follow_ups_overdue"]["more"] == 1
    assert len(day["follow_ups_overdue"]["rows"]) == 1
    human = cli("today", "--limit", "1", env=caseload).stdout
    assert "and 1 more referrals: probhealth referral list --due" in human
    whole = json.loads(cli("today", "--limit", "0", "--json", env=caseload).stdout)
    assert whole["follow_ups_overdue"]["more"] == 0
    assert cli("today", "--limit", "-1", expect=2).stderr


def test_today_for_one_office(cli, caseload, tmp_path):
    """``today --office``: every section holds only that office's people, open safety flags
    included; a mistyped office is refused (an empty day would hide flags), not shown empty."""
    add_person(cli, "X100004", sex="male", office="Ilfracombe", given="Flag", family="Raised")
    cli("consent", "X100004", "--purpose", "screening", "--given", env=caseload)
    answers = negative_file(tmp_path, phq9_9=3)
    cli("screen", "X100004", "--answers", str(answers), env=caseload)

    def counts(*office: str) -> dict[str, int]:
        day = json.loads(cli("today", *office, "--json", env=caseload).stdout)
        assert day["office"] == (office[1] if office else None)
        return day["counts"]  # type: ignore[no-any-return]

    assert counts("--office", "CAMBRIDGE") == {
        "open_flags": 0,
        "follow_ups_due_today": 0,
        "follow_ups_overdue": 1,
        "goals_due": 1,
        "not_screened": 1,
    }
    assert counts("--office", "ilfracombe") == {
        "open_flags": 1,
        "follow_ups_due_today": 1,
        "follow_ups_overdue": 1,
        "goals_due": 0,
        "not_screened": 0,
    }
    assert counts()["open_flags"] == 1 and counts()["follow_ups_overdue"] == 2
    day = json.loads(cli("today", "--office", "Ilfracombe", "--json", env=caseload).stdout)
    assert [f["crn"] for f in day["open_flags"]] == ["X100004"]
    assert [r["id"] for r in day["follow_ups_overdue"]["rows"]] == [2]
    assert "at Ilfracombe" in cli("today", "--office", "Ilfracombe", env=caseload).stdout
    wrong = cli("today", "--office", "Ilfracombee", expect=2).stderr
    assert "Ilfracombee" in wrong and "Did you mean 'ilfracombe'?" in wrong
    assert wrong.count("\n") == 1 and "Traceback" not in wrong
    assert "--office" in cli("today", "--office", " ", expect=2).stderr


def test_today_says_how_to_see_more_as_it_can_be_copied(cli, caseload, db):
    """ "and N more" names a command that works when copied: with the database as it was typed
    (``--demo``, ``--db``), and for the office asked for. Before, it was always plain
    ``probhealth referral list --due``: on the demo database that lists the real caseload."""
    import shlex
    from types import SimpleNamespace

    from probhealth.cli import render
    from tests.helpers import Cli

    if db.path is None:
        pytest.skip("a typed --db path is a SQLite file")
    typed = Cli(None)("--db", str(db.path), "today", "--limit", "1", env=caseload).stdout
    assert (
        f"and 1 more referrals: probhealth --db {shlex.quote(str(db.path))} referral list --due"
        in typed
    )
    more = SimpleNamespace(more=3)
    for office, shown in (
        ("Ilfracombe", "--office Ilfracombe"),
        ("North Tyneside", "--office 'North Tyneside'"),
    ):
        (line,) = render._more(more, "goals", "probhealth goal list --due", office)
        assert line.plain == f"and 3 more goals: probhealth goal list --due {shown}"
