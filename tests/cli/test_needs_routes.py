"""Needs without a route (issue 13, item 9): housing and money needs the screening finds get
pathways in the default rules, and ``need add`` records a need the screening did not find
(rules that look at the person's needs then suggest a route for it)."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person

CRN = "X123456"


@pytest.fixture
def person(cli, built_once):  # type: ignore[no-untyped-def]
    """A person who gave screening consent (made once a process, copied for each test)."""

    def build() -> None:
        add_person(cli, CRN, sex="male")
        cli("consent", CRN, "--purpose", "screening", "--given")

    built_once(build)
    return CRN


def suggested(cli) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = json.loads(cli("suggest", CRN, "--json").stdout)
    return {s["pathway"]: s["urgency"] for s in out["suggestions"]}


@pytest.mark.parametrize(
    ("housing", "urgency"),
    [("rough-sleeping", "same-day"), ("sofa-surfing", "soon"), ("temporary", "soon")],
)
def test_no_settled_home_suggests_housing_options(cli, person, tmp_path, housing, urgency):
    cli("screen", CRN, "--answers", str(negative_file(tmp_path, housing=housing)))
    assert suggested(cli)["housing-options"] == urgency


def test_money_worries_suggest_debt_and_benefits_advice(cli, person, tmp_path):
    cli("screen", CRN, "--answers", str(negative_file(tmp_path, money_worries="yes")))
    assert suggested(cli)["money-advice"] == "routine"


def test_a_settled_home_and_no_money_worries_suggest_neither(cli, person, tmp_path):
    cli("screen", CRN, "--answers", str(negative_file(tmp_path)))
    assert {"housing-options", "money-advice"}.isdisjoint(suggested(cli))


def test_need_add_records_a_need_the_screening_missed_and_rules_answer_it(cli, person, tmp_path):
    cli("screen", CRN, "--answers", str(negative_file(tmp_path)))
    record = json.loads(
        cli(
            "need", "add", CRN, "money", "--severity", "high", "--note", "rent arrears", "--json"
        ).stdout
    )
    assert (record["domain"], record["severity"], record["status"]) == (
        "money",
        "high",
        "identified",
    )
    listed = json.loads(cli("need", "list", CRN, "--json").stdout)
    assert "money" in {n["domain"] for n in listed}
    assert "money-advice" in suggested(cli)
    cli("need", "add", CRN, "housing")
    assert suggested(cli)["housing-options"] == "soon"
    again = cli("need", "add", CRN, "money", expect=2)
    assert "already has an open money need" in again.stderr
    bad = cli("need", "add", CRN, "astrology", expect=2)
    assert "Unknown need domain" in bad.stderr
    assert cli("need", "add", CRN, "money", "--severity", "huge", expect=2).stderr.count("\n") == 1
