"""An easy-read adjustment is recorded on the person (their communication needs), not as a
referral with a service and a follow-up date (issue 13, item 11)."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file, person, policy, terminal  # noqa: F401
from tests.helpers import ScriptedAsker

ENTRY = "Easy read and reading support (easy-read)"


@pytest.fixture
def reading_help(cli, person, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    cli("screen", person, "--answers", str(negative_file(tmp_path, sils_1="often")))
    data = json.loads(cli("suggest", person, "--json").stdout)
    assert "easy-read" in {s["pathway"] for s in data["suggestions"]}
    return person


def test_taking_up_easy_read_records_an_adjustment_not_a_referral(cli, reading_help):
    crn = reading_help
    cli("person", "edit", crn, "--communication-needs", "Prefers mornings")
    made = json.loads(cli("refer", crn, "easy-read", "--json").stdout)
    assert made["kind"] == "adjustment" and made["follow_up_due"] is None
    assert json.loads(cli("referral", "list", crn, "--json").stdout) == []
    shown = json.loads(cli("person", "show", crn, "--json").stdout)
    assert shown["communication_needs"] == f"Prefers mornings; {ENTRY}"
    data = json.loads(cli("suggest", crn, "--json").stdout)
    assert "easy-read" not in {s["pathway"] for s in data["suggestions"]}
    assert "easy-read" in {s["pathway"] for s in data["already_open"]}
    assert "In place: recorded on the person" in cli("suggest", crn).stdout
    batch = json.loads(cli("suggest", "--all", "--json").stdout)
    assert "easy-read" not in batch["pathways"] and batch["already_open"]["easy-read"] == 1
    again = cli("refer", crn, "easy-read")
    assert "already recorded" in again.stderr
    shown = json.loads(cli("person", "show", crn, "--json").stdout)
    assert shown["communication_needs"].count(ENTRY) == 1


def test_an_adjustment_has_no_follow_up_or_service(cli, reading_help):
    refused = cli("refer", reading_help, "easy-read", "--follow-up", "7", expect=2)
    assert "way of working, not a referral" in refused.stderr
    shown = json.loads(cli("person", "show", reading_help, "--json").stdout)
    assert shown["communication_needs"] is None


def test_the_guided_decision_records_it_on_the_person(cli, person, terminal):  # noqa: F811
    def decide(kind, message, choices):  # type: ignore[no-untyped-def]
        if "Easy read" in message and "do they agree" in message:
            return "Yes: I will work this way with them"
        return policy({"sils_1": "often"})(kind, message, choices)

    terminal(ScriptedAsker([decide] * 90))
    result = cli("screen", person)
    assert "recorded on X123456 as a way of working" in result.stderr
    assert json.loads(cli("referral", "list", person, "--json").stdout) == []
    shown = json.loads(cli("person", "show", person, "--json").stdout)
    assert ENTRY in shown["communication_needs"]
