"""Issue 13 item 6 with the real prompts, in a pseudo-terminal: ``screen`` for someone screened
already says when and asks; "no" starts nothing, "yes" starts a new screening."""

from __future__ import annotations

import sqlite3
import sys

import pexpect
import pytest

from tests.cli.test_screen import negative_file
from tests.cli.test_screen_pty import person_db  # noqa: F401
from tests.helpers import Cli
from tests.pty_driver import ANSI, SELECT, PtyScreen

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty"),
]
ASKED = r"Start a new screening now\?"


def statuses(db):  # type: ignore[no-untyped-def]
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("select status from screening order by id")]
    finally:
        con.close()


def test_screen_again_asks_at_a_real_terminal(person_db, tmp_path):  # noqa: F811
    Cli(person_db)("screen", "X123456", "--answers", str(negative_file(tmp_path)))
    run = PtyScreen(person_db, "X123456")
    run.child.expect(ASKED)
    assert "was last screened on" in ANSI.sub("", run.child.before or "")
    run.child.send("n\r")
    run.child.expect("No new screening started")
    run.child.expect(pexpect.EOF)
    run.child.close()
    assert run.child.exitstatus == 0 and statuses(person_db) == ["completed"]

    again = PtyScreen(person_db, "X123456")
    again.child.expect(ASKED)
    again.child.send("y\r")
    again.child.expect(SELECT)  # the first question of a new screening
    again.kill()
    assert statuses(person_db) == ["completed", "in-progress"]
