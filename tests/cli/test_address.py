"""The person's postal address: optional, one line, shown to the worker, carried in referral
letters and identifiable exports only, never in the pseudonymised export or the shell history."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from probhealth.errors import BadInput
from probhealth.services import people
from probhealth.validation import person_fields
from tests.helpers import add_person

ADDRESS = "Flat 2, 14 Mill Road, Cambridge"


def test_add_edit_show_and_clear(cli) -> None:
    add_person(cli, address=ADDRESS, postcode="CB1 2AB")
    data = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert data["address"] == ADDRESS and data["postcode"] == "CB1 2AB"
    assert "14 Mill Road" in cli("person", "show", "X123456").stdout
    cli("person", "edit", "X123456", "--address", "3 Hills Road, Cambridge")
    data = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert data["address"] == "3 Hills Road, Cambridge"
    cli("person", "edit", "X123456", "--clear", "address")
    assert json.loads(cli("person", "show", "X123456", "--json").stdout)["address"] is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [("x" * 201, "longer than 200"), ("12 Mill Road\x00", "control character")],
)
def test_a_bad_address_is_refused_naming_the_problem(value: str, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        people.PersonInput(
            crn="X123456", given="Ann", family="Smith", dob="1990-01-31", sex="female",
            address=value,
        ).clean()  # fmt: skip


def test_a_bad_address_at_the_command_line_changes_nothing(cli) -> None:
    add_person(cli, address=ADDRESS)
    result = cli("person", "edit", "X123456", "--address", "a" * 201, expect=2)
    assert "Address" in result.stderr and result.stderr.count("\n") == 1
    assert json.loads(cli("person", "show", "X123456", "--json").stdout)["address"] == ADDRESS


def test_import_takes_an_optional_address_column() -> None:
    clean, errors = person_fields(
        {
            "crn": "X123456",
            "given_name": "Ann",
            "family_name": "Smith",
            "dob": "1990-01-31",
            "sex": "female",
            "address": ADDRESS,
        }  # fmt: skip
    )
    assert not errors and clean["address"] == ADDRESS


def test_only_identifiable_exports_carry_it(cli, tmp_path: Path) -> None:
    add_person(cli, address=ADDRESS)
    cli("export", "people", "--out", str(tmp_path / "p.csv"))
    assert "Mill Road" not in (tmp_path / "p.csv").read_text()
    cli("export", "people", "--identifiable", "--out", str(tmp_path / "i.csv"))
    with (tmp_path / "i.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["address"] == ADDRESS


def test_the_shell_keeps_address_lines_out_of_its_history_file() -> None:
    from probhealth.cli.shell import PRIVATE_OPTIONS

    assert "--address" in PRIVATE_OPTIONS
