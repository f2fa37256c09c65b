"""``consent``: recorded with history, the latest decision is current, bad input refused."""

from __future__ import annotations

import json

import pytest

from tests.helpers import add_person, fingerprint


def test_consent_history_is_kept_and_latest_is_current(cli):
    add_person(cli)
    cli("consent", "X123456", "--purpose", "screening", "--given", "--method", "verbal")
    cli(
        "consent",
        "X123456",
        "--purpose",
        "share-with-services",
        "--given",
        "--method",
        "written",
        "--note",
        "signed form",
    )
    cli("consent", "X123456", "--purpose", "screening", "--withdrawn")
    shown = json.loads(cli("person", "show", "X123456", "--json").stdout)
    assert shown["consent"]["screening"]["status"] == "withdrawn"
    assert shown["consent"]["share-with-services"]["status"] == "given"
    assert shown["consent"]["screening"]["recorded_by"] == "tester"
    history = json.loads(
        cli("consent", "X123456", "--purpose", "screening", "--history", "--json").stdout
    )
    assert [(h["purpose"], h["status"]) for h in history] == [
        ("screening", "given"),
        ("screening", "withdrawn"),
    ]
    everything = json.loads(cli("consent", "X123456", "--history", "--json").stdout)
    assert [h["status"] for h in everything] == ["given", "given", "withdrawn"]
    human = cli("person", "show", "X123456").stdout
    assert "withdrawn" in human and "health-trainer" in human


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purpose", "marketing", "--given"], "Purpose must be one of"),
        (["--given"], "Say which --purpose"),
        (["--purpose", "marketing", "--history"], "Purpose must be one of"),
        (["--purpose", "screening"], "exactly one of"),
        (["--purpose", "screening", "--given", "--declined"], "exactly one of"),
        (["--purpose", "screening", "--given", "--method", "telepathy"], "Method must be one of"),
        (["--purpose", "screening", "--given", "--note", "bad\x07note"], "control character"),
    ],
)
def test_bad_consent_input(cli, db, args, message):
    add_person(cli)
    before = fingerprint(db)
    result = cli("consent", "X123456", *args, expect=2)
    assert message in result.stderr
    assert fingerprint(db) == before


def test_consent_for_unknown_person(cli):
    assert (
        "No person with CRN"
        in cli("consent", "Q000000", "--purpose", "screening", "--given", expect=2).stderr
    )
