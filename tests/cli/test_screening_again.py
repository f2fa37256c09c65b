"""Issue 13 item 6 at the command line: ``screen`` after a completed screening says when and
asks; the same answers file twice the same day is refused (one line, exit 2, nothing written)
unless ``--new``; ``screening void`` keeps the screening, shows it as voided and exports it
with that status."""

from __future__ import annotations

import csv
import json

from tests.cli.test_screen import negative_file, person, policy, terminal  # noqa: F401
from tests.helpers import ScriptedAsker


def screenings(cli, crn="X123456"):  # type: ignore[no-untyped-def]
    return json.loads(cli("screening", "list", crn, "--json").stdout)


def test_the_same_answers_file_twice_is_refused_unless_new(cli, person, tmp_path):  # noqa: F811
    path = negative_file(tmp_path)
    cli("screen", person, "--answers", str(path))
    again = cli("screen", person, "--answers", str(path), expect=2)
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert "already saved for X123456 today (screening 1)" in lines[0]
    assert "--new" in again.stderr
    assert len(screenings(cli)) == 1
    cli("screen", person, "--answers", str(path), "--new")
    assert len(screenings(cli)) == 2


def test_screen_again_at_a_terminal_says_when_and_asks(cli, person, terminal, tmp_path):  # noqa: F811
    cli("screen", person, "--answers", str(negative_file(tmp_path)))
    asker = terminal(ScriptedAsker([False]))
    result = cli("screen", person)
    assert "was last screened on" in result.stderr and "(today)" in result.stderr
    assert asker.asked == [("confirm", "Start a new screening now?")]
    assert len(screenings(cli)) == 1  # no new screening
    asker = terminal(ScriptedAsker([True] + [policy()] * 60))
    cli("screen", person)
    assert [s["status"] for s in screenings(cli)] == ["completed", "completed"]
    asker = terminal(ScriptedAsker([policy()] * 60))
    cli("screen", person, "--new")  # asked for already: no question
    assert asker.asked[0][0] != "confirm" or "new screening" not in asker.asked[0][1]
    assert len(screenings(cli)) == 3


def test_void_at_the_command_line(cli, person, tmp_path):  # noqa: F811
    cli("screen", person, "--answers", str(negative_file(tmp_path)))
    bad = cli("screening", "void", "1", "--reason", "typo", expect=2)
    assert "use one of: wrong-person, entered-in-error, duplicate, other" in bad.stderr
    assert cli("screening", "void", "1", "--reason", "other", expect=2).stderr.count("\n") == 1
    done = cli("screening", "void", "1", "--reason", "wrong-person")
    assert "voided (wrong-person)" in done.stderr
    rows = screenings(cli)
    assert rows[0]["status"] == "voided" and rows[0]["voided"]["reason"] == "wrong-person"
    listed = [
        line.split("│")[2].strip()
        for line in cli("screening", "list", person).stdout.splitlines()
        if line.startswith("│")
    ]
    assert listed[:2] == ["voided", "wrong-person"]
    shown = cli("screening", "show", "1", "--no-answers").stdout
    assert "VOIDED" in shown
    out = tmp_path / "s.csv"
    cli("export", "screenings", "--out", str(out))
    with out.open(newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["voided"]
    # Nothing to suggest from, and no question before the next screening.
    assert "no completed screening" in cli("suggest", person, expect=2).stderr
    cli("screen", person, "--answers", str(negative_file(tmp_path)))  # not a duplicate now


def test_follow_up_takes_up_the_decisions_again(cli, person, terminal):  # noqa: F811
    """Stopped at the decisions after a screening: the message names ``follow-up``, which asks
    only what has no decision yet."""
    answers = policy({"gp_registered": "no", "smoking_status": "current"})

    def first(kind, message, choices):  # type: ignore[no-untyped-def]
        if "do they agree" in message:
            if "GP" in message:
                return "They do not want it"
            raise KeyboardInterrupt  # stopped at the next one
        if message == "Why not?":
            return "Does not want it now"
        return answers(kind, message, choices)

    terminal(ScriptedAsker([first] * 80))
    stopped = cli("screen", person, expect=130)
    assert "probhealth follow-up X123456" in stopped.stderr
    asked: list[str] = []

    def second(kind, message, choices):  # type: ignore[no-untyped-def]
        asked.append(message)
        titles = [t for _, t in choices]
        wanted = "Agreed: they will contact the service themselves"
        return wanted if wanted in titles else "Choose later"

    terminal(ScriptedAsker([second] * 10))
    cli("follow-up", person)
    refs = {r["pathway"]: r for r in json.loads(cli("referral", "list", person, "--json").stdout)}
    assert refs["gp-registration"]["status"] == "declined-by-person"
    assert refs["stop-smoking"]["status"] == "agreed"
    assert not any("GP" in m for m in asked if "do they agree" in m)
    terminal(ScriptedAsker([]))
    done = cli("follow-up", person)
    assert "Every suggestion has a decision recorded" in done.stderr


def test_follow_up_needs_a_terminal(cli, person, tmp_path):  # noqa: F811
    cli("screen", person, "--answers", str(negative_file(tmp_path)))
    result = cli("follow-up", person, expect=2)
    assert "needs a terminal" in result.stderr and "probhealth refer X123456" in result.stderr
