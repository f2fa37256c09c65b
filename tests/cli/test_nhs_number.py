"""The NHS number: optional, Modulus 11 checked (a wrong one is exit 2 naming the problem),
shown to the worker, carried in identifiable exports only."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from probhealth.errors import BadInput
from probhealth.validation import nhs_number, nhs_number_display
from tests.helpers import add_person


@pytest.mark.parametrize("value", ["943 476 5919", "9434765919", "943-476-5919", " 4010232137 "])
def test_valid_numbers_pass_and_are_kept_as_digits(value: str) -> None:
    assert nhs_number(value) == value.strip().replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("943 476 5918", "check digit"),  # last digit wrong
        ("934 476 5919", "check digit"),  # two digits swapped
        ("123 456 7890", "check digit"),  # check digit 10: never valid
        ("943 476 591", "10 digits"),
        ("943 476 59199", "10 digits"),
        ("94347659１9", "10 digits"),  # a full-width digit
        ("abc", "10 digits"),
    ],
)
def test_wrong_numbers_are_refused_naming_the_problem(value: str, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        nhs_number(value)


def test_display_groups_three_three_four() -> None:
    assert nhs_number_display("9434765919") == "943 476 5919"


def test_person_add_edit_show_and_clear(cli) -> None:
    result = cli(
        "person", "add", "--crn", "X123456", "--given", "Ann", "--family", "Smith",
        "--dob", "1990-01-31", "--sex", "female", "--nhs-number", "943 476 5918", expect=2,
    )  # fmt: skip
    assert "check digit" in result.stderr and result.stderr.count("\n") == 1
    add_person(cli, nhs_number="943 476 5919")
    data = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert data["nhs_number"] == "9434765919"
    assert "943 476 5919" in cli("person", "show", "X123456").stdout
    cli("person", "edit", "X123456", "--nhs-number", "401 023 2138", expect=2)
    cli("person", "edit", "X123456", "--nhs-number", "401 023 2137")
    assert json.loads(cli("person", "show", "X123456", "--json").stdout)["nhs_number"] == (
        "4010232137"
    )
    cli("person", "edit", "X123456", "--clear", "nhs_number")
    assert json.loads(cli("person", "show", "X123456", "--json").stdout)["nhs_number"] is None


def test_only_identifiable_exports_carry_it(cli, tmp_path: Path) -> None:
    add_person(cli, nhs_number="9434765919")
    cli("export", "people", "--out", str(tmp_path / "p.csv"))
    assert "9434765919" not in (tmp_path / "p.csv").read_text()
    cli("export", "people", "--identifiable", "--out", str(tmp_path / "i.csv"))
    with (tmp_path / "i.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["nhs_number"] == "9434765919"
