"""Open safety flags stay in sight (issue 13, item 3).

A flag raised and not acknowledged (Ctrl-C at the acknowledgement, or an answers file), or
acknowledged with no action recorded since, shows on ``person show`` (red), in ``today``
across the caseload, and at the top of every command about that person.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person

CRN = "X123456"


@pytest.fixture
def flagged(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """An unacknowledged self-harm flag on CRN's screening (made once a process, copied);
    the screening's id."""

    def build() -> int:
        add_person(cli, CRN, sex="male")
        add_person(cli, "Y000001", given="Other", family="Person")
        for purpose in ("screening", "share-with-services"):
            cli("consent", CRN, "--purpose", purpose, "--given")
        answers = str(negative_file(tmp_path, phq9_9=3))
        data = json.loads(cli("screen", CRN, "--answers", answers, "--json").stdout)
        flag = next(f for f in data["flags"] if f["id"] == "self_harm_thoughts")
        assert flag["acknowledged"] is False
        return int(data["id"])

    return built_once(build)


def test_an_unacknowledged_flag_shows_on_person_show(cli, flagged):
    shown = json.loads(cli("person", "show", CRN, "--json").stdout)
    flags = {f["id"]: f for f in shown["open_flags"]}
    assert flags["self_harm_thoughts"]["open_because"] == "not acknowledged"
    assert flags["self_harm_thoughts"]["screening"] == flagged
    human = cli("person", "show", CRN).stdout
    assert "Open safety flags" in human and "not acknowledged" in human
    # Somebody else has none.
    assert json.loads(cli("person", "show", "Y000001", "--json").stdout)["open_flags"] == []


def test_the_caseload_view_lists_open_flags(cli, flagged):
    day = json.loads(cli("today", "--json").stdout)
    assert {(f["crn"], f["id"]) for f in day["open_flags"]} >= {(CRN, "self_harm_thoughts")}
    assert {f["crn"] for f in day["open_flags"]} == {CRN}
    assert "Open safety flags" in cli("today").stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["screening", "list", CRN],
        ["referral", "list", CRN],
        ["suggest", CRN, "--json"],
        ["need", "list", CRN],
        ["consent", CRN, "--purpose", "health-trainer", "--given"],
    ],
)
def test_every_command_about_the_person_shows_them_first(cli, flagged, argv):
    result = cli(*argv)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Open safety flag for {CRN}:") and "not acknowledged" in first
    if "--json" in argv:
        json.loads(result.stdout)  # stdout stays JSON only
    other = cli("screening", "list", "Y000001")
    assert "Open safety flag" not in other.stderr


def test_acknowledged_stays_open_until_an_action_is_recorded(cli, flagged):
    cli("screening", "ack", str(flagged), "--yes")
    open_now = json.loads(cli("person", "show", CRN, "--json").stdout)["open_flags"]
    assert {f["open_because"] for f in open_now} == {"no action recorded"}
    cli("refer", CRN, "crisis-support")
    assert json.loads(cli("person", "show", CRN, "--json").stdout)["open_flags"] == []
    assert json.loads(cli("today", "--json").stdout)["open_flags"] == []
    assert "Open safety flag" not in cli("referral", "list", CRN).stderr
