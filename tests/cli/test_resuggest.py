"""Issue 13 item 7 at the command line: after a referral is completed as achieved, ``suggest``
and ``suggest --json`` hold a screening pathway back for its interval and say when it was
completed; a pathway with no interval is suggested again with "Completed on"."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml

from probhealth import clock
from probhealth.questionnaire import answers as A
from probhealth.questionnaire.engine import PersonFacts, evaluate
from probhealth.services.definitions import load_questionnaire
from tests.helpers import add_person, negative_answer

Q = load_questionnaire()


def answers_file(tmp_path, age, **overrides):  # type: ignore[no-untyped-def]
    person = PersonFacts(age, "male")
    answers = dict(overrides)
    parsed = {k: A.parse(Q.item(k), v) for k, v in overrides.items()}
    while (item := evaluate(Q, parsed, person, date.today()).next_item()) is not None:
        answers[item.id] = negative_answer(item)
        parsed[item.id] = A.parse(item, answers[item.id])
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers, allow_unicode=True))
    return path


@pytest.mark.slow
def test_suggest_after_completion(cli, tmp_path):  # type: ignore[no-untyped-def]
    add_person(cli, "X123456", sex="male", dob="1960-01-31")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    age = clock.age_on(date(1960, 1, 31), clock.today())
    answers = answers_file(tmp_path, age, bowel_screening_last="never", smoking_status="current")
    cli("screen", "X123456", "--answers", str(answers))
    for n, pathway in enumerate(("bowel-screening", "stop-smoking"), start=1):
        cli("refer", "X123456", pathway, "--self-referral")
        for step in ("referred", "accepted"):
            cli("referral", "update", str(n), "--status", step)
        cli("referral", "update", str(n), "--status", "completed", "--outcome", "achieved")
    cli("screen", "X123456", "--answers", str(answers), "--new")
    data = json.loads(cli("suggest", "X123456", "--json").stdout)
    today = clock.today()
    assert "bowel-screening" not in [s["pathway"] for s in data["suggestions"]]
    held = data["recently_completed"][0]
    assert held["pathway"] == "bowel-screening" and held["completed_on"] == today.isoformat()
    smoking = next(s for s in data["suggestions"] if s["pathway"] == "stop-smoking")
    assert smoking["completed_on"] == today.isoformat()
    text = cli("suggest", "X123456").stdout
    assert f"Completed on {today.strftime('%d/%m/%Y')}" in text
    assert "Completed recently (not suggested again yet)" in text
    everyone = json.loads(cli("suggest", "--all", "--json").stdout)
    assert "bowel-screening" not in everyone["pathways"]
