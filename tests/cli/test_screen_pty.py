"""The real interactive prompts, in a pseudo-terminal: a complete guided screening, and a
screening killed with SIGKILL that resumes at the first unanswered question."""

from __future__ import annotations

import random
import sqlite3
import sys

import pytest

from tests.helpers import Cli, add_person
from tests.pty_driver import PtyScreen

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty"),
]


@pytest.fixture
def person_db(db_path):  # type: ignore[no-untyped-def]
    cli = Cli(db_path)
    add_person(cli, sex="male")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    return db_path


def db_answers(db):  # type: ignore[no-untyped-def]
    con = sqlite3.connect(db)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        return [r[0] for r in con.execute("select item_id from answer order by answered_at, rowid")]
    finally:
        con.close()


def test_complete_guided_screening_with_real_prompts(person_db):
    run = PtyScreen(person_db, "X123456", overrides={"phq9_1": 1, "phq9_9": 1})
    run.finish()
    assert run.child.exitstatus == 0
    assert "EMERGENCY" in run.seen_text
    assert set(db_answers(person_db)) == set(run.answered)
    assert len(run.answered) >= 30


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_mid_screening_then_resume(person_db, seed):
    kill_after = random.Random(seed).randint(1, 25)
    run = PtyScreen(person_db, "X123456")
    while len(run.answered) < kill_after:
        assert run.step() == "answer" or run.answered
    # The answer just typed may or may not have reached the database: both are allowed.
    run.kill()
    saved = db_answers(person_db)
    assert run.answered == saved[: len(run.answered)]
    assert len(saved) in (len(run.answered), len(run.answered) + 1)
    resumed = PtyScreen(person_db, "X123456")
    resumed.child.expect("Resuming screening")
    resumed.step()
    first_question = resumed.pending
    assert first_question not in saved
    resumed.finish()
    final = db_answers(person_db)
    assert final[: len(saved)] == saved
    assert first_question == final[len(saved)]
