"""The real interactive prompts, in a pseudo-terminal: a complete guided screening, and a
screening killed with SIGKILL that resumes at the first unanswered question."""

from __future__ import annotations

import random
import re
import sqlite3
import sys

import pexpect
import pytest

from tests.helpers import Cli, add_person
from tests.pty_driver import ANSI, PtyScreen

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


def db_answers(db, crn=None):  # type: ignore[no-untyped-def]
    con = sqlite3.connect(db)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        sql = "select a.item_id from answer a join screening s on s.id = a.screening_id join person p on p.id = s.person_id"
        if crn:
            sql += f" where p.crn = '{crn}'"
        return [r[0] for r in con.execute(sql + " order by a.answered_at, a.rowid")]
    finally:
        con.close()


def test_complete_guided_screening_with_real_prompts(person_db):
    run = PtyScreen(person_db, "X123456", overrides={"phq9_1": 1, "phq9_9": 1})
    run.finish()
    assert run.child.exitstatus == 0
    assert "EMERGENCY" in run.seen_text
    assert set(db_answers(person_db)) == set(run.answered)
    assert len(run.answered) >= 30


def test_sigkill_at_twenty_random_points_then_resume(db_path):
    """Reliability row 1, issue 6: kill -9 at 20 random points of guided screenings. Each
    time every confirmed answer is there (the one being typed may or may not be), nothing
    else, the database passes integrity_check, and the next run resumes at the first
    unanswered question. That resumed run is the one killed next, a few answers on (so kills
    land in new and in resumed sessions, early and deep in the questionnaire), until a
    person is past question 20; then the next person. (A new session per kill and another
    per resume was 40 process starts; this is about 25.)"""
    cli = Cli(db_path)
    rnd = random.Random(20261123)
    kills, people = 0, 0
    while kills < 20:
        crn = f"K{people:06d}"
        people += 1
        add_person(cli, crn, sex="male")
        cli("consent", crn, "--purpose", "screening", "--given")
        run, before = PtyScreen(db_path, crn), []
        while True:
            kill_after = rnd.randint(1, 10)
            while len(run.answered) < kill_after:
                run.step()
            run.kill()
            kills += 1
            confirmed = before + run.answered
            saved = db_answers(db_path, crn)
            assert saved[: len(confirmed)] == confirmed, (kills, kill_after)
            assert len(saved) in (len(confirmed), len(confirmed) + 1), (kills, kill_after)
            run, before = PtyScreen(db_path, crn), saved
            run.child.expect("Resuming screening")
            run.step()
            assert run.pending not in saved
            expected_next = next_unanswered(crn, saved)
            assert run.pending == expected_next, (kills, run.pending, expected_next)
            if kills == 20 or len(saved) > 20:  # 35 questions: a next run ends before them
                run.kill()
                break


def next_unanswered(crn, saved):  # type: ignore[no-untyped-def]
    """What the engine says comes next, given the saved answers (all negative answers)."""
    from datetime import date

    from probhealth.questionnaire import answers as A
    from probhealth.questionnaire.engine import PersonFacts, evaluate
    from tests.helpers import negative_answer
    from tests.pty_driver import Q

    answers = {i: A.parse(Q.item(i), negative_answer(Q.item(i))) for i in saved}
    item = evaluate(Q, answers, PersonFacts(36, "male"), date.today()).next_item()
    return item.id if item else None


def test_two_sessions_on_one_screening_never_overwrite_each_other(person_db):
    """Issue 13 item 1: a second `screen` on a screening open in another terminal says by
    whom, where and since when, and takes it over only with --take-over; the first session's
    next save is then refused with one line."""
    first = PtyScreen(person_db, "X123456")
    while len(first.answered) < 2:
        first.step()
    first.wait_for_prompt()  # its last answer is saved; it waits at the next question

    second = PtyScreen(person_db, "X123456")
    second.child.expect(pexpect.EOF)
    refused = ANSI.sub("", second.child.before or "")
    second.child.close()
    assert second.child.exitstatus == 2
    assert re.search(r"is open in another session \(by tester on .+ since ", refused), refused
    assert "--take-over" in refused

    taker = PtyScreen(person_db, "X123456", args=("--take-over",))
    taker.child.expect("Taken over from tester")
    taker.child.expect("Resuming screening")
    taker.step()  # answers the question the first session is looking at
    taker.wait_for_prompt()
    saved = db_answers(person_db)

    first.step()  # the first session answers the same question: refused, not overwritten
    first.child.expect(pexpect.EOF)
    first.child.close()
    assert first.child.exitstatus == 2
    assert "taken over in another session" in ANSI.sub("", first.child.before or "")
    assert db_answers(person_db) == saved
    taker.kill()
