"""Issue 12: no disclosed risk is dropped. Each case from the issue, through
``screen --answers --json`` and ``suggest --json``."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person


@pytest.fixture
def person(cli):  # type: ignore[no-untyped-def]
    add_person(cli, sex="male")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    return "X123456"


def screen(cli, person, path):  # type: ignore[no-untyped-def]
    return json.loads(cli("screen", person, "--answers", str(path), "--json").stdout)


def suggest(cli, person):  # type: ignore[no-untyped-def]
    return json.loads(cli("suggest", person, "--json").stdout)


def test_phq9_with_item_9_declined_keeps_its_minimum_and_asks_about_item_9(cli, person, tmp_path):
    items = {f"phq9_{n}": 3 for n in range(1, 9)}
    data = screen(cli, person, negative_file(tmp_path, **items, phq9_9="prefer not to say"))
    partial = data["partial_scales"]["phq9"]
    assert partial["status"] == "incomplete" and partial["at_least"] == 24
    assert partial["at_most"] == 27 and partial["missing"] == ["phq9_9"]
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {"domain": "mental-health", "severity": "high"} in shown["needs"]
    could = {c["id"]: c for c in data["could_apply"]}
    assert "self_harm_thoughts" in could
    assert "ask again or use your judgement" in could["self_harm_thoughts"]["advice"]
    pathways = {s["pathway"] for s in suggest(cli, person)["suggestions"]}
    assert {"talking-therapies", "mental-health-assessment"} <= pathways
    human = cli("screening", "show", str(data["id"])).stdout
    assert "Could apply" in human and "at least 24" in human


def test_audit_32_with_item_10_declined_raises_dependence(cli, person, tmp_path):
    answers = {
        "auditc_1": 4,
        "auditc_2": 3,
        "auditc_3": 3,
        **{f"audit_{n}": 4 for n in range(4, 9)},
        "audit_9": 2,
        "audit_10": "prefer not to say",
        "alcohol_withdrawal": "no",
    }
    data = screen(cli, person, negative_file(tmp_path, **answers))
    assert data["partial_scales"]["audit"]["at_least"] == 32
    assert "alcohol_dependence_risk" in {f["id"] for f in data["flags"]}
    out = suggest(cli, person)
    alcohol = next(s for s in out["suggestions"] if s["pathway"] == "alcohol-service")
    assert alcohol["urgency"] == "same-day"


def test_six_dast_yes_with_item_3_declined_records_a_drugs_need(cli, person, tmp_path):
    yes = {f"dast10_{n}": "yes" for n in (1, 2, 4, 5, 6, 7)}
    no = {f"dast10_{n}": "no" for n in (8, 9, 10)}
    data = screen(
        cli,
        person,
        negative_file(tmp_path, drugs_any="yes", dast10_3="prefer not to say", **yes, **no),
    )
    assert data["partial_scales"]["dast10"]["at_least"] == 6
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {"domain": "drugs", "severity": "high"} in shown["needs"]
    assert "drug-service" in {s["pathway"] for s in suggest(cli, person)["suggestions"]}


def test_auditc_quantity_with_frequency_declined_is_not_silent(cli, person, tmp_path):
    data = screen(
        cli,
        person,
        negative_file(tmp_path, auditc_1="prefer not to say", auditc_2="10+", auditc_3=4),
    )
    partial = data["partial_scales"]["audit_c"]
    assert (partial["at_least"], partial["at_most"]) == (8, 12)
    assert "alcohol_dependence_risk" in {c["id"] for c in data["could_apply"]}
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert "alcohol" in {n["domain"] for n in shown["needs"]}
    out = suggest(cli, person)
    assert "alcohol-service" in {s["pathway"] for s in out["suggestions"]}


def test_a_partly_answered_threshold_shows_in_suggest_as_could_apply(cli, person, tmp_path):
    # PHQ-9 so far 8 with item 3 declined: 8 to 11, so it could be 10 or more.
    items = {"phq9_1": 2, "phq9_2": 1, **{f"phq9_{n}": 1 for n in range(4, 9)}, "phq9_9": 0}
    screen(cli, person, negative_file(tmp_path, phq9_3="prefer not to say", **items))
    out = suggest(cli, person)
    could = {c["pathway"]: c for c in out["could_apply"]}
    assert "talking-therapies" in could
    assert "could be 10 or more" in could["talking-therapies"]["advice"]
    assert "Could apply" in cli("suggest", person).stdout


def test_item_9_answered_on_paper_is_read_even_when_phq2_is_zero(cli, person, tmp_path):
    data = screen(cli, person, negative_file(tmp_path, phq9_1=0, phq9_2=0, phq9_9=3))
    flags = {f["id"]: f for f in data["flags"]}
    assert flags["self_harm_thoughts"]["severity"] == "emergency"
    assert "phq9_9" in data["ignored_answers"]
    out = suggest(cli, person)
    crisis = next(s for s in out["suggestions"] if s["pathway"] == "crisis-support")
    assert crisis["urgency"] == "emergency"
