"""Issue 13 item 7: a pathway completed as achieved is not suggested again for the pathway's
``resuggest_after_days`` (cancer screening by its programme interval), and when it is
suggested again it says when it was completed. ``suggest``, its JSON, the snapshot taken at
completion and ``suggest --all`` agree; safety routes are never held back."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from probhealth import clock
from probhealth.rules import engine
from probhealth.services import definitions, guided, people, referrals, screening, suggest
from probhealth.store import suggestions as suggestions_repo
from tests.services.test_guided import FakeUI

CRN = "X123456"
Q = definitions.load_questionnaire()
RULES = definitions.load_rules()
ANSWERS = {"bowel_screening_last": "never", "smoking_status": "current"}


@pytest.fixture
def person(store):  # type: ignore[no-untyped-def]
    people.add_person(
        store,
        people.PersonInput(crn=CRN, given="Ann", family="Smith", dob="1960-01-31", sex="male"),
    )
    people.record_consent(store, CRN, purpose="screening", status="given")
    return CRN


def screen(store, new=False):  # type: ignore[no-untyped-def]
    return guided.run(store, screening.begin(store, CRN, Q, new=new), FakeUI(ANSWERS))


def complete(store, pathway_id, outcome="achieved"):  # type: ignore[no-untyped-def]
    ref = referrals.refer(store, CRN, pathway_id, RULES, self_referral=True)
    for step in ("referred", "accepted"):
        referrals.update(store, ref.id, RULES, status=step)
    referrals.update(store, ref.id, RULES, status="completed", outcome=outcome)
    return ref.id


def by_id(items):  # type: ignore[no-untyped-def]
    return {s.pathway_id: s for s in items}


def test_completed_screening_is_held_back_for_its_interval(store, person, monkeypatch) -> None:
    screen(store)
    first = by_id(suggest.suggest_for(store, CRN, RULES).suggestions)
    assert first["bowel-screening"].completed_on is None
    complete(store, "bowel-screening")
    complete(store, "stop-smoking")  # no interval set: suggested again, saying when
    done_on = clock.today()
    second = screen(store, new=True)
    report = suggest.suggest_for(store, CRN, RULES)
    shown = by_id(report.suggestions)
    assert "bowel-screening" not in shown
    held = by_id(report.recently_completed)
    assert held["bowel-screening"].completed_on == done_on
    assert held["bowel-screening"].suggest_again_from == done_on + timedelta(days=730)
    assert shown["stop-smoking"].completed_on == done_on
    data = report.to_json()
    assert [s["pathway"] for s in data["recently_completed"]] == ["bowel-screening"]
    smoking = next(s for s in data["suggestions"] if s["pathway"] == "stop-smoking")
    assert smoking["completed_on"] == done_on.isoformat()
    # The snapshot at completion and the caseload batch agree.
    with store.read() as session:
        snap = {
            r.pathway_id for r in suggestions_repo.suggestions_for_screening(session, second.id)
        }
    assert "bowel-screening" not in snap and "stop-smoking" in snap
    batch = suggest.suggest_all(store, RULES)
    assert "bowel-screening" not in batch.by_pathway and "stop-smoking" in batch.by_pathway
    # Two years on, it is suggested again, saying when it was completed.
    later = clock.now() + timedelta(days=731)
    monkeypatch.setenv("PROBHEALTH_NOW", later.isoformat())
    again = by_id(suggest.suggest_for(store, CRN, RULES).suggestions)
    assert again["bowel-screening"].completed_on == done_on
    assert "bowel-screening" in suggest.suggest_all(store, RULES).by_pathway


def test_not_achieved_is_suggested_again_at_once(store, person) -> None:
    screen(store)
    complete(store, "bowel-screening", outcome="not-achieved")
    screen(store, new=True)
    shown = by_id(suggest.suggest_for(store, CRN, RULES).suggestions)
    assert shown["bowel-screening"].completed_on is None


def test_safety_routes_are_never_held_back() -> None:
    pathways = tuple(
        dataclasses.replace(p, resuggest_after_days=365) if p.id == "crisis-support" else p
        for p in RULES.pathways
    )
    rules = dataclasses.replace(RULES, pathways=pathways)
    today = date(2026, 6, 1)
    facts = engine.Facts(
        flag_severities=frozenset({"emergency"}),
        person={"age": 40, "sex": "male", "days_since_release": None, "nation": "england"},
        completed={"crisis-support": today - timedelta(days=10)},
    )
    outcome = engine.evaluate(rules, facts, today)
    crisis = next(s for s in outcome.suggestions if s.pathway.id == "crisis-support")
    assert crisis.urgency == "emergency" and crisis.completed_on == today - timedelta(days=10)
    assert not outcome.recently_completed


def test_the_bundled_rules_hold_cancer_screening_by_its_interval() -> None:
    days = {p.id: p.resuggest_after_days for p in RULES.pathways}
    assert days["bowel-screening"] == 730 and days["breast-screening"] == 1095
    assert days["nhs-health-check"] == 1825
    assert days["crisis-support"] is None  # safety: never held back
