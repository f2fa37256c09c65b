"""Where the person is and what stage they are at (issue 12): person fields ``nation``
(england | wales) and ``stage``, on person add/edit/show, import and export, and what they
change in the suggestions (England-only pathways in Wales, CSTR only before sentence)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person


def show(cli, crn: str = "X123456") -> dict:  # type: ignore[no-untyped-def]
    return json.loads(cli("person", "show", crn, "--json").stdout)  # type: ignore[no-any-return]


def pathways(cli, crn: str = "X123456") -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = json.loads(cli("suggest", crn, "--json").stdout)
    return {s["pathway"]: s["urgency"] for s in out["suggestions"]}


def test_add_edit_show_and_clear(cli) -> None:
    add_person(cli, nation="Wales", stage="licence")
    data = show(cli)
    assert (data["nation"], data["stage"]) == ("wales", "licence")
    assert "wales" in cli("person", "show", "X123456").stdout
    cli("person", "edit", "X123456", "--nation", "england", "--stage", "pre-sentence")
    assert (show(cli)["nation"], show(cli)["stage"]) == ("england", "pre-sentence")
    cli("person", "edit", "X123456", "--clear", "nation", "--clear", "stage")
    assert (show(cli)["nation"], show(cli)["stage"]) == (None, None)


def test_an_empty_nation_shows_the_default_it_falls_back_to(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_person(cli)
    assert show(cli)["nation"] is None  # the record stays empty
    assert "england (default)" in cli("person", "show", "X123456").stdout
    monkeypatch.setenv("PROBHEALTH_NATION", "wales")
    assert "wales (default)" in cli("person", "show", "X123456").stdout


@pytest.mark.parametrize(("option", "value"), [("--nation", "scotland"), ("--stage", "on-remand")])
def test_a_bad_value_is_one_line_and_changes_nothing(cli, option: str, value: str) -> None:
    add_person(cli, nation="england", stage="licence")
    result = cli("person", "edit", "X123456", option, value, expect=2)
    assert value in result.stderr and result.stderr.count("\n") == 1
    assert (show(cli)["nation"], show(cli)["stage"]) == ("england", "licence")


def test_import_and_export_carry_them(cli, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "crn,given_name,family_name,dob,sex,nation,stage\n"
        "A000001,Ann,Smith,1990-01-31,female,wales,community-order\n"
        "A000002,Bo,Lee,1985-02-02,male,,\n"
    )
    cli("import", "people", str(path))
    assert (show(cli, "A000001")["nation"], show(cli, "A000001")["stage"]) == (
        "wales",
        "community-order",
    )
    out = tmp_path / "p.csv"
    cli("export", "people", "--out", str(out))
    with out.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None and reader.fieldnames[-2:] == ["nation", "stage"]
        rows = list(reader)
    assert {(r["nation"], r["stage"]) for r in rows} == {("wales", "community-order"), ("", "")}


def _screen_mild_depression(cli, tmp_path: Path, crn: str) -> None:  # type: ignore[no-untyped-def]
    cli("consent", crn, "--purpose", "screening", "--given")
    items = {"phq9_1": 2, "phq9_2": 2, "phq9_3": 2, "phq9_4": 2, "phq9_5": 2}  # PHQ-9 10
    cli("screen", crn, "--answers", str(negative_file(tmp_path, **items)))


def test_wales_gets_its_own_mental_health_route(cli, tmp_path: Path) -> None:
    add_person(cli, sex="male", nation="wales")
    _screen_mild_depression(cli, tmp_path, "X123456")
    got = pathways(cli)
    assert got["primary-mental-health-wales"] == "soon"
    assert "talking-therapies" not in got


def test_england_by_default_or_from_the_environment(cli, tmp_path: Path, monkeypatch) -> None:
    add_person(cli, sex="male")
    _screen_mild_depression(cli, tmp_path, "X123456")
    assert pathways(cli)["talking-therapies"] == "soon"
    monkeypatch.setenv("PROBHEALTH_NATION", "wales")
    got = pathways(cli)
    assert "talking-therapies" not in got and "primary-mental-health-wales" in got


@pytest.mark.parametrize(("stage", "offered"), [("pre-sentence", True), ("licence", False)])
def test_cstr_assessment_only_before_sentence(cli, tmp_path: Path, stage: str, offered: bool):
    add_person(cli, sex="male", stage=stage)
    cli("consent", "X123456", "--purpose", "screening", "--given")
    yes = {f"dast10_{n}": "yes" for n in (1, 2, 4, 5, 6, 7, 9)}  # DAST-10 8 (item 3 "no": 1)
    answers = negative_file(tmp_path, drugs_any="yes", dast10_3="no", **yes)
    cli("screen", "X123456", "--answers", str(answers))
    assert ("cstr-assessment" in pathways(cli)) is offered


OFFICES = """
offices:
  - name: Cardiff
    nation: wales
  - name: Bristol
"""


def test_the_office_gives_the_default_nation(
    cli, tmp_path: Path, isolated_home: Path, monkeypatch
) -> None:
    """Issue 12: a person added without a nation takes their office's (office.yaml); an
    explicit nation wins; an office without one leaves it to PROBHEALTH_NATION, else England."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "office.yaml").write_text(OFFICES)
    monkeypatch.setenv("PROBHEALTH_NATION", "england")
    add_person(cli, "X100001", sex="male", office="cardiff")
    add_person(cli, "X100002", sex="male", office="Cardiff", nation="england")
    add_person(cli, "X100003", sex="male", office="Bristol")
    assert show(cli, "X100001")["nation"] == "wales"
    assert show(cli, "X100002")["nation"] == "england"
    assert show(cli, "X100003")["nation"] is None
    _screen_mild_depression(cli, tmp_path, "X100001")
    got = pathways(cli, "X100001")
    assert "primary-mental-health-wales" in got and "talking-therapies" not in got
    path = tmp_path / "people.csv"
    path.write_text(
        "crn,given_name,family_name,dob,sex,office,nation\n"
        "A000001,Ann,Smith,1990-01-31,female,Cardiff,\n"
        "A000002,Bo,Lee,1985-02-02,male,Cardiff,england\n"
        "A000003,Cy,Day,1985-02-02,male,Bristol,\n"
    )
    cli("import", "people", str(path))
    assert [show(cli, c)["nation"] for c in ("A000001", "A000002", "A000003")] == [
        "wales",
        "england",
        None,
    ]


def test_an_office_nation_must_be_england_or_wales(cli, isolated_home: Path) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "office.yaml").write_text("offices:\n  - name: Perth\n    nation: scotland\n")
    result = cli(
        "person",
        "add",
        "--crn",
        "X100009",
        "--given",
        "A",
        "--family",
        "B",
        "--dob",
        "1990-01-31",
        "--sex",
        "male",
        "--office",
        "Perth",
        expect=2,
    )
    assert "nation must be 'england' or 'wales'" in result.stderr
    assert result.stderr.count("\n") == 1
