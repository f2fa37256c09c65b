"""``suggest`` for one person (JSON contract) and for everyone (--all)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.test_screen import negative_file
from tests.helpers import add_person, query

SERVICES = Path(__file__).resolve().parents[2] / "examples" / "services-fictional.yaml"


@pytest.fixture
def screened(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """A screened person with services loaded (built once a process, copied for each test)."""

    def build() -> None:
        cli("services", "load", str(SERVICES))
        add_person(cli, sex="male", postcode="CB1 2AB", office="Cambridge", language="Somali")
        cli("consent", "X123456", "--purpose", "screening", "--given")
        path = negative_file(
            tmp_path,
            gp_registered="no",
            auditc_1=4,
            auditc_2=2,
            auditc_3=1,
            audit_4=3,
            audit_5=3,
            audit_7=3,  # AUDIT 16: higher risk, the alcohol service
            interpreter="yes",
            unavailable_times=["weekday-mornings", "weekday-afternoons"],
            id_documents="no",
            hvs_1="often",
        )
        data = yaml.safe_load(path.read_text())
        data["interpreter_language"] = "Somali"
        path.write_text(yaml.safe_dump(data))
        cli("screen", "X123456", "--answers", str(path))

    built_once(build)
    return "X123456"


def test_suggest_json_contract(cli, screened):
    data = json.loads(cli("suggest", screened, "--json").stdout)
    assert data["crn"] == screened and data["screening"] == 1
    by_id = {s["pathway"]: s for s in data["suggestions"]}
    assert {"gp-registration", "alcohol-service"} <= set(by_id)
    for s in data["suggestions"]:
        assert set(s) >= {"pathway", "urgency", "reasons", "services", "for_person"}
        assert s["reasons"] and all(r["rule"] and r["because"] for r in s["reasons"])
    gp = by_id["gp-registration"]
    assert gp["urgency"] == "soon" and "No" in gp["reasons"][0]["because"]
    assert gp["services"] and all(
        "Cambridge" in s["areas"] or "CB1" in s["areas"] or "*" in s["areas"]
        for s in gp["services"]
    )
    urgencies = ["emergency", "same-day", "soon", "routine"]
    ranks = [urgencies.index(s["urgency"]) for s in data["suggestions"]]
    assert ranks == sorted(ranks)


def test_barrier_conflicts_are_shown(cli, screened):
    data = json.loads(cli("suggest", screened, "--json").stdout)
    conflicts = [c for s in data["suggestions"] for svc in s["services"] for c in svc["conflicts"]]
    assert any("Somali" in c for c in conflicts)
    assert any("times they said they cannot attend" in c for c in conflicts)


def test_open_referral_is_not_suggested_again(cli, screened):
    cli("refer", screened, "gp-registration", "--self-referral")
    data = json.loads(cli("suggest", screened, "--json").stdout)
    assert "gp-registration" not in {s["pathway"] for s in data["suggestions"]}
    opened = {s["pathway"]: s for s in data["already_open"]}
    assert opened["gp-registration"]["open_referral"]["status"] == "agreed"
    assert "Already open" in cli("suggest", screened).stdout


def test_refer_by_command_keeps_why_it_was_suggested(cli, screened):
    made = json.loads(cli("refer", screened, "gp-registration", "--self-referral", "--json").stdout)
    shown = json.loads(cli("referral", "show", str(made["id"]), "--json").stdout)
    assert shown["urgency"] == "soon"
    assert shown["reasons"] and "No" in str(shown["reasons"][0])
    # A pathway the rules never suggested has no reasons to keep.
    other = json.loads(cli("refer", screened, "dentist", "--self-referral", "--json").stdout)
    assert other["reasons"] == [] and other["urgency"] is None


def test_a_declined_pathway_says_when_they_said_no(cli, screened):
    cli("refer", screened, "gp-registration", "--declined", "--reason", "not-wanted-now")
    assert "--reason" in cli("refer", screened, "dentist", "--declined", expect=2).stderr
    data = json.loads(cli("suggest", screened, "--json").stdout)
    gp = {s["pathway"]: s for s in data["suggestions"]}["gp-registration"]
    assert gp["declined"]["reason"] == "not-wanted-now"
    assert "They said no to this on" in cli("suggest", screened).stdout


def test_suggest_needs_a_completed_screening(cli):
    add_person(cli, "Y123456")
    assert "no completed screening" in cli("suggest", "Y123456", expect=2).stderr
    assert "Give a CRN, or --all" in cli("suggest", expect=2).stderr
    assert "--office goes with --all" in cli("suggest", "Y123456", "--office", "x", expect=2).stderr


def test_suggest_all_counts(cli, screened, tmp_path):
    add_person(cli, "Y123456", sex="female", office="Hammersmith")
    cli("consent", "Y123456", "--purpose", "screening", "--given")
    cli(
        "screen",
        "Y123456",
        "--answers",
        str(negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=2)).replace(
            "answers.yaml", "answers.yaml"
        ),
        expect=None,
    )
    summary = json.loads(cli("suggest", "--all", "--json").stdout)
    assert summary["people"] >= 1
    assert summary["pathways"]["gp-registration"]["soon"] == 1
    only = json.loads(cli("suggest", "--all", "--office", "cambridge", "--json").stdout)
    assert only["people"] == 1
    assert "Suggested pathways" in cli("suggest", "--all").stdout


def test_snapshot_at_completion(cli, screened, db):
    rows = query(db, "select pathway_id, urgency, rules_id from suggestion where screening_id = 1")
    assert ("gp-registration", "soon", "probation-health-rules") in rows


def test_rules_env_override(cli, screened, tmp_path, monkeypatch):
    text = (
        Path(__file__).resolve().parents[2] / "src" / "probhealth" / "data" / "rules.yaml"
    ).read_text()
    custom = tmp_path / "rules.yaml"
    custom.write_text(
        text.replace(
            'urgency: soon\n    because: "Registered with a GP',
            'urgency: routine\n    because: "Registered with a GP',
        )
    )
    data = json.loads(cli("suggest", screened, "--rules", str(custom), "--json").stdout)
    assert {s["pathway"]: s["urgency"] for s in data["suggestions"]}["gp-registration"] == "routine"


def test_suggest_all_counts_emergencies_and_open_referrals(cli, tmp_path):
    """Issue 13 item 8: two emergency flags raised and referred at once (crisis support) were
    "0 with an emergency", and the already-open column was always "—" because a pathway whose
    referrals were all open had no row."""
    for crn in ("X100001", "X100002"):
        add_person(cli, crn, sex="male")
        cli("consent", crn, "--purpose", "screening", "--given")
        path = negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=3)
        sid = json.loads(cli("screen", crn, "--answers", str(path), "--json").stdout)["id"]
        cli("screening", "ack", str(sid), "--yes")
        cli("refer", crn, "crisis-support", "--self-referral")
    summary = json.loads(cli("suggest", "--all", "--json").stdout)
    assert summary["already_open"] == {"crisis-support": 2}
    assert summary["emergency_people"] == 2 and summary["emergency_not_referred"] == 0
    human = cli("suggest", "--all").stdout
    assert "2 with an emergency (0 with no referral open for it)" in human
    row = next(line for line in human.splitlines() if "crisis-support" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[0] == "crisis-support" and cells[-1] == "2"


def test_piped_tables_never_cut_an_id(cli, tmp_path, narrow):
    """Issue 13 item 11: at 80 columns (a pipe), ``mental-health-assessment`` was folded into
    three lines of the ``suggest --all`` table; id columns never wrap now."""
    add_person(cli, "X100001", sex="male")
    cli("consent", "X100001", "--purpose", "screening", "--given")
    path = negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=3)
    cli("screen", "X100001", "--answers", str(path))
    human = cli("suggest", "--all").stdout
    assert max(len(line) for line in human.splitlines()) <= 80
    assert "mental-health-assessment" in human and "crisis-support" in human
    cli("services", "load", str(SERVICES))
    service = "nat-nhs-111-mental-health"
    cli("refer", "X100001", "crisis-support", "--service", service, "--self-referral")
    listed = cli("referral", "list").stdout
    assert "X100001" in listed and max(len(line) for line in listed.splitlines()) <= 80
    # The list names the service (the id is in --json); its name wraps only between words.
    (row,) = json.loads(cli("referral", "list", "--json").stdout)
    assert row["service"] == service and row["service_name"]
    words = {w.strip(",") for line in listed.splitlines() for w in line.replace("│", " ").split()}
    assert set(row["service_name"].split()) <= words, listed


def test_each_suggestion_shows_its_whole_id_and_how_to_take_it_up(cli, tmp_path, narrow):
    """At 80 columns the panel title of "Mental health assessment (through the GP)" cut its
    id to "(mental-health-assess": the id a worker types into ``refer``. The title is now the
    urgency and name; the id comes whole, in the command that takes the pathway up."""
    add_person(cli, "X100001", sex="male")
    cli("consent", "X100001", "--purpose", "screening", "--given")
    path = negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=3, dentist_registered="no")
    cli("screen", "X100001", "--answers", str(path))
    cli("refer", "X100001", "crisis-support", "--self-referral")
    human = cli("suggest", "X100001").stdout
    assert max(len(line) for line in human.splitlines()) <= 80
    report = json.loads(cli("suggest", "X100001", "--json").stdout)
    open_ids = {s["pathway"] for s in report["already_open"]}
    assert open_ids == {"crisis-support"}
    for s in report["suggestions"]:
        pid = s["pathway"]
        if s.get("no_gp"):  # cannot be taken up until they have a GP; the id is still there
            assert f"Pathway id: {pid} " in human, pid
        else:
            assert f"Take it up: probhealth refer X100001 {pid} " in human, pid
    assert "Take it up: probhealth refer X100001 dentist " in human
    assert "Pathway id: crisis-support " in human  # already open: no command offered
    titles = "\n".join(line for line in human.splitlines() if line.startswith("╭"))
    for s in report["suggestions"] + report["already_open"]:
        assert f" {s['name']} ─" in titles and f"({s['pathway']}" not in titles, titles
