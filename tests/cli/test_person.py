"""``person add|list|show|edit`` through the real CLI, including every bad-input case."""

from __future__ import annotations

import json

import pytest

from tests.helpers import add_person, count, fingerprint


def test_add_then_show_json(cli):
    cli(
        "person",
        "add",
        "--crn",
        "x123456",
        "--given",
        "Ann",
        "--family",
        "Smith",
        "--dob",
        "1990-01-31",
        "--sex",
        "female",
    )
    result = cli("person", "show", "X123456", "--json")
    data = json.loads(result.stdout)
    assert data["crn"] == "X123456"
    assert (data["given_name"], data["family_name"], data["dob"], data["sex"]) == (
        "Ann",
        "Smith",
        "1990-01-31",
        "female",
    )
    assert data["consent"] == {}


def test_duplicate_crn_is_refused_in_one_line(cli, db):
    add_person(cli)
    before = count(db, "person")
    result = cli(
        "person",
        "add",
        "--crn",
        "X123456",
        "--given",
        "Bob",
        "--family",
        "Jones",
        "--dob",
        "1980-02-02",
        "--sex",
        "male",
        expect=2,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "already exists" in lines[0]
    assert count(db, "person") == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--crn", "123", "one letter followed by six digits"),
        ("--crn", "XX12345", "one letter followed by six digits"),
        ("--dob", "01/31/1990", "not a real date"),  # never read as MM/DD
        ("--dob", "1990-02-30", "not a real date"),
        ("--dob", "2999-01-01", "in the future"),
        ("--dob", "1850-01-01", "between 18 and 120"),
        ("--dob", "2024-01-01", "adult probation (18 or over)"),
        ("--dob", "2010-06-01", "adult probation (18 or over)"),
        ("--release-date", "2999-01-01", "Release date is in the future"),
        ("--sex", "f", "Sex must be one of"),
        ("--given", "An\u202en", "invisible or control character"),
        ("--given", "Ann\u200b", "invisible or control character"),
        ("--family", "Smith\x1b[2J", "invisible or control character"),
        ("--family", "   ", "is empty"),
        ("--postcode", "NOT A POSTCODE", "UK postcode"),
        ("--release-date", "yesterday", "YYYY-MM-DD"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(cli, db, option, value, message):
    values = {
        "--crn": "X123456",
        "--given": "Ann",
        "--family": "Smith",
        "--dob": "1990-01-31",
        "--sex": "female",
    }
    values[option] = value
    args = ["person", "add"] + [x for pair in values.items() for x in pair]
    before = fingerprint(db)
    result = cli(*args, expect=2)
    assert message in result.stderr
    assert len([x for x in result.stderr.splitlines() if x.strip()]) == 1
    assert fingerprint(db) == before


def test_normalises_crn_postcode_and_name(cli):
    cli(
        "person",
        "add",
        "--crn",
        " y654321 ",
        "--given",
        "Jose\u0301",
        "--family",
        "O'Brien",
        "--dob",
        "1975-06-15",
        "--sex",
        "MALE",
        "--postcode",
        "cb12ab",
        "--office",
        "Cambridge",
    )
    data = json.loads(cli("person", "show", "y654321", "--json").stdout)
    assert data["crn"] == "Y654321"
    assert data["given_name"] == "Jos\u00e9"  # stored NFC
    assert data["postcode"] == "CB1 2AB"
    assert data["sex"] == "male"


def test_list_filters_and_search(cli):
    add_person(cli, "A000001", given="Ann", family="Smith", office="Cambridge")
    add_person(cli, "A000002", given="Bob", family="Jones", office="Hammersmith")
    add_person(cli, "A000003", given="José", family="García", office="Cambridge")
    everyone = json.loads(cli("person", "list", "--json").stdout)
    assert [p["crn"] for p in everyone] == ["A000003", "A000002", "A000001"]  # by family name
    cambridge = json.loads(cli("person", "list", "--office", "cambridge", "--json").stdout)
    assert {p["crn"] for p in cambridge} == {"A000001", "A000003"}
    assert [
        p["crn"]
        for p in json.loads(cli("person", "list", "--search", "JOSE\u0301", "--json").stdout)
    ] == ["A000003"]
    assert [
        p["crn"] for p in json.loads(cli("person", "list", "--search", "a000002", "--json").stdout)
    ] == ["A000002"]
    # SQL-looking and LIKE-wildcard searches are literal text
    assert json.loads(cli("person", "list", "--search", "' OR 1=1 --", "--json").stdout) == []
    assert json.loads(cli("person", "list", "--search", "%", "--json").stdout) == []
    table = cli("person", "list").stdout
    assert "Ann Smith" in table and "3 people" in table


def test_edit_changes_and_clears_fields(cli):
    add_person(cli, postcode="CB1 2AB", office="Cambridge")
    cli(
        "person",
        "edit",
        "X123456",
        "--office",
        "Ilfracombe",
        "--clear",
        "postcode",
        "--needs-interpreter",
        "--language",
        "Polish",
    )
    data = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert data["office"] == "Ilfracombe" and data["postcode"] is None
    assert data["needs_interpreter"] is True and data["language"] == "Polish"


def test_edit_refuses_bad_values_and_unknown_person(cli, db):
    add_person(cli)
    add_person(cli, "B111111", given="Bob", family="Jones")
    before = fingerprint(db)
    assert (
        "already has CRN" in cli("person", "edit", "X123456", "--crn", "B111111", expect=2).stderr
    )
    assert (
        "No person with CRN" in cli("person", "edit", "Q999999", "--office", "x", expect=2).stderr
    )
    assert "Cannot clear" in cli("person", "edit", "X123456", "--clear", "dob", expect=2).stderr
    assert fingerprint(db) == before


def test_show_unknown_person(cli):
    result = cli("person", "show", "Z999999", expect=2)
    assert "No person with CRN Z999999" in result.stderr


def test_mixed_script_name_is_flagged_not_refused(cli):
    result = cli(
        "person",
        "add",
        "--crn",
        "X123456",
        "--given",
        "Ann",
        "--family",
        "Sm\u0456th",
        "--dob",
        "1990-01-31",
        "--sex",
        "female",
    )
    assert "mixes writing systems" in result.stderr


def test_markup_in_names_is_shown_literally(cli):
    add_person(cli, given="[bold]Ann[/]", family="[link=file:///etc/passwd]Smith[/link]")
    shown = cli("person", "show", "X123456").stdout
    assert "[bold]Ann[/]" in shown
    assert "\x1b" not in shown


def test_dates_as_people_write_them(cli):
    # Issue 13 item 10: DD/MM/YYYY is read day first; YYYY-MM-DD still works.
    cli(
        "person", "add", "--crn", "X123456", "--given", "Ann", "--family", "Smith",
        "--dob", "31/01/1990", "--sex", "female", "--release-date", "2/3/2026",
    )  # fmt: skip
    shown = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert shown["dob"] == "1990-01-31" and shown["release_date"] == "2026-03-02"
    cli("person", "edit", "X123456", "--dob", "1990-01-30")
    assert json.loads(cli("person", "show", "X123456", "--json").stdout)["dob"] == "1990-01-30"


def test_person_list_keeps_office_and_postcode_whole_at_80_columns(cli, narrow) -> None:
    """ "Middlesbrough" was folded into "Middlesbroug / h"; a long name now wraps between its
    words instead, and the office, postcode and date of birth stay whole."""
    add_person(
        cli,
        "X100001",
        given="Morgan",
        family="Placeholder-Smith",
        office="Middlesbrough",
        postcode="TS1 2JK",
    )
    shown = cli("person", "list").stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    for whole in ("Middlesbrough", "TS1 2JK", "X100001", "Morgan"):
        assert any(whole in line for line in lines), (whole, shown)
