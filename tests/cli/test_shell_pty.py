"""``probhealth shell`` at a real terminal (a pseudo-terminal driven by pexpect): what a worker
sees. Every step waits for what the screen shows, never for a fixed time."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import sys

import pexpect
import pytest

from tests.helpers import Cli, add_person
from tests.pty_driver import ANSI, SELECT, TEXT, probhealth_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty"),
]

PROMPT = r"probhealth \[probhealth\.db · tester\]>"
PASTE_OFF = re.escape("\x1b[?2004l")
PASTE_ON = re.escape("\x1b[?2004h")
ESC = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def typed(text: str) -> str:
    """A pattern for text as prompt_toolkit draws it: escapes may fall between characters."""
    return ESC.join(re.escape(ch) for ch in text)


@pytest.fixture
def person_db(db_path):  # type: ignore[no-untyped-def]
    cli = Cli(db_path)
    add_person(cli, sex="male")
    add_person(cli, "X123999", sex="male")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    return db_path


def spawn(db, *args: str, home=None) -> pexpect.spawn:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH")}
    env.update(
        {
            "PROBHEALTH_DB": str(db),
            "PROBHEALTH_USER": "tester",
            "TERM": "xterm",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "PROMPT_TOOLKIT_NO_CPR": "1",
        }
    )
    if home is not None:
        env["PROBHEALTH_HOME"] = str(home)
    cmd = probhealth_cmd()
    child = pexpect.spawn(
        cmd[0],
        [*cmd[1:], "shell", *args],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )
    child.expect(PROMPT)
    return child


def run(child: pexpect.spawn, line: str) -> str:
    """Type a line and press Enter; what the command printed (escapes removed), once the next
    prompt is on screen. prompt_toolkit switches bracketed paste off when a line is accepted
    and on again for the next prompt, which brackets the command's output."""
    child.send(line + "\r")
    child.expect(PASTE_OFF)
    child.expect(PASTE_ON)
    printed = child.before or ""
    child.expect(PROMPT)
    return ANSI.sub("", printed).replace("\r\n", "\n")


def leave(child: pexpect.spawn) -> None:
    child.send("\x04")  # Ctrl-D
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_tab_completes_a_crn_of_the_caseload(person_db):
    child = spawn(person_db)
    child.send("person show X1234")
    child.send("\t")
    child.expect(typed("X123456"))  # the only match is filled in
    assert "X123456" in run(child, "")
    leave(child)


def test_a_failing_command_returns_to_the_prompt(person_db):
    child = spawn(person_db)
    shown = run(child, "person show X999999")
    assert "Error: " in shown and "X999999" in shown
    assert "Traceback" not in shown
    shown = run(child, "referral update 42 --status nonsense")
    assert "Error: " in shown
    assert "CRN" in run(child, "person show X123456")
    leave(child)


def test_json_output_is_identical_to_the_one_shot_command(person_db):
    one_shot = Cli(person_db)("person", "show", "X123456", "--json").stdout
    child = spawn(person_db)
    shown = run(child, "person show X123456 --json")
    assert json.loads(shown) == json.loads(one_shot)
    assert shown.strip().splitlines() == one_shot.strip().splitlines()
    leave(child)


def test_ctrl_c_in_a_guided_screening_saves_stops_and_keeps_the_shell(person_db):
    child = spawn(person_db)
    child.send("screen X123456\r")
    child.expect(SELECT)  # the first question (a choice)
    child.send("1")
    child.send("\r")  # answered: saved at once
    child.expect(TEXT)  # the second question (the GP surgery, typed) is on screen
    child.send("\x03")  # Ctrl-C
    child.expect("Every answer given so far is saved. Carry on with: screen X123456")
    child.expect(PROMPT)
    con = sqlite3.connect(person_db)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert con.execute("select status from screening").fetchall() == [("in-progress",)]
        assert con.execute("select count(*) from answer").fetchone()[0] == 1
        # Nothing is held open: another writer gets the lock at once.
        con.execute("pragma busy_timeout = 0")
        con.execute("begin immediate")
        con.rollback()
    finally:
        con.close()
    child.send("screen X123456\r")
    child.expect("Resuming screening")
    child.expect(TEXT)  # the question it stopped at: the GP surgery's name
    child.send("\x03")
    child.expect(PROMPT)
    assert "CRN" in run(child, "person show X123456")  # the shell carries on
    leave(child)


def test_history_file_only_with_the_option_and_private(person_db, tmp_path):
    home = tmp_path / "home"
    child = spawn(person_db, home=home)
    run(child, "person show X123456")
    leave(child)
    assert not (home / "shell-history").exists()  # in memory only by default
    child = spawn(person_db, "--history", home=home)
    run(child, "person show X123456")
    run(child, "barrier add X123456 money --note 'rent arrears'")
    leave(child)
    path = home / "shell-history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "person show X123456" in text
    assert "rent arrears" not in text
    child = spawn(person_db, "--history", home=home)
    child.send("\x1b[A")  # up arrow: the last line kept
    child.expect(typed("person show X123456"))
    child.send("\x03")
    child.expect(PROMPT)
    leave(child)
