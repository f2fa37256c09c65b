"""Skip logic and scoring invariants of the default questionnaire."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probhealth import expr
from probhealth.questionnaire import answers as A
from probhealth.questionnaire.engine import PersonFacts, evaluate
from probhealth.services.definitions import load_questionnaire
from tests.helpers import negative_answer

TODAY = date(2026, 11, 23)
Q = load_questionnaire()
PROFILES = [
    PersonFacts(18, "male"),
    PersonFacts(30, "female"),
    PersonFacts(45, "intersex"),
    PersonFacts(50, "female"),
    PersonFacts(55, "female"),
    PersonFacts(64, "female"),
    PersonFacts(65, "male"),
    PersonFacts(74, "male"),
    PersonFacts(80, "female"),
    PersonFacts(40, "not-stated"),
]


def walk(person, choose, start=None):  # type: ignore[no-untyped-def]
    answers = dict(start or {})
    while True:
        ev = evaluate(Q, answers, person, TODAY)
        item = ev.next_item()
        if item is None:
            return answers, ev
        answers[item.id] = A.parse(item, choose(item))


@pytest.mark.parametrize("person", PROFILES, ids=lambda p: f"{p.sex}-{p.age}")
def test_all_negative_person_is_asked_at_most_40_questions(person):
    # v3 asks everyone PHQ-9 item 9, a past suicide attempt, injecting and domestic abuse
    # (v2: at most 35), and people aged 40-74 about an NHS Health Check.
    answers, ev = walk(person, negative_answer)
    assert len(answers) <= 40, len(answers)
    assert ev.flags == () and ev.needs == () and ev.barriers == ()


def test_all_positive_person_count():
    def positive(item):  # type: ignore[no-untyped-def]
        if item.type == "multi":
            return [o.value for o in item.options if o.value not in item.exclusive]
        if item.type == "text":
            return "something"
        if item.type == "date":
            return "2026-11-10"
        if item.id in ("gp_registered", "dentist_registered"):
            return "no"
        if item.id == "smoking_status":
            return "current"
        if item.type == "yesno":
            return "yes"
        return (
            max(item.options, key=lambda o: o.score if o.score is not None else -1).value
            if item.options[0].score is not None
            else item.options[-2].value
        )

    answers, ev = walk(PersonFacts(55, "female"), positive)
    assert 90 > len(answers) > 60
    assert {f.id for f in ev.flags} >= {
        "self_harm_thoughts",
        "self_harm_recent",
        "alcohol_dependence_risk",
        "food_insecurity",
    }


@pytest.mark.parametrize(
    ("trigger", "shows"),
    [
        (
            {"phq9_1": 2, "phq9_2": 1},
            {
                "phq9_3",
                "phq9_4",
                "phq9_5",
                "phq9_6",
                "phq9_7",
                "phq9_8",
                "phq9_10",
                "mh_support",
            },
        ),
        (
            {"gad7_1": 1, "gad7_2": 2},
            {"gad7_3", "gad7_4", "gad7_5", "gad7_6", "gad7_7", "mh_support"},
        ),
        (
            {"auditc_1": 2, "auditc_2": 2, "auditc_3": 1},
            {
                "audit_4",
                "audit_5",
                "audit_6",
                "audit_7",
                "audit_8",
                "audit_9",
                "audit_10",
                "alcohol_withdrawal",
            },
        ),
        (
            {"drugs_any": "yes"},
            {f"dast10_{n}" for n in range(1, 11)}
            | {"drugs_types", "overdose_recent", "opioid_substitution"},
        ),
        ({"smoking_status": "current"}, {"hsi_1", "hsi_2"}),
        ({"recent_custody": "yes"}, {"release_date", "vaccines_help", "opioid_substitution"}),
        ({"repeat_medication": "yes"}, {"medication_supply", "opioid_substitution"}),
        ({"head_injury": "yes"}, {"head_injury_problems"}),
        ({"interpreter": "yes"}, {"interpreter_language"}),
    ],
)
def test_each_follow_up_block_appears_exactly_when_triggered(trigger, shows):
    person = PersonFacts(30, "male")
    below = {k: (0 if isinstance(v, int) else "no") for k, v in trigger.items()}
    if "smoking_status" in trigger:
        below = {"smoking_status": "never"}
    _, ev_on = walk(person, negative_answer, {k: A.parse(Q.item(k), v) for k, v in trigger.items()})
    _, ev_off = walk(person, negative_answer, {k: A.parse(Q.item(k), v) for k, v in below.items()})
    assert shows <= set(ev_on.visible)
    assert not (shows & set(ev_off.visible))


@pytest.mark.parametrize("phq", [(0, 0), (1, 0), (0, 1), (2, 1), (1, 1), (3, 3)])
def test_item_9_and_a_past_attempt_are_asked_of_everyone(phq):
    # v3: item 9 whatever the PHQ-2 (v2 skipped it at PHQ-2 = 0) [R12b].
    ev = evaluate(Q, {"phq9_1": phq[0], "phq9_2": phq[1]}, PersonFacts(30, "male"), TODAY)
    assert "phq9_9" in ev.visible and "suicide_attempt_ever" in ev.visible
    assert ("phq9_3" in ev.visible) is (sum(phq) >= 3)


def test_item_9_asked_when_phq2_declined():
    ev = evaluate(Q, {"phq9_1": expr.DECLINED, "phq9_2": 0}, PersonFacts(30, "male"), TODAY)
    assert "phq9_9" in ev.visible and ev.scores["phq2"].value is None


@pytest.mark.parametrize(
    ("person", "items"),
    [
        (PersonFacts(49, "female"), {"cervical_screening_last", "pregnancy"}),
        (
            PersonFacts(50, "female"),
            {"cervical_screening_last", "bowel_screening_last", "breast_screening_last"},
        ),
        (PersonFacts(71, "female"), {"bowel_screening_last", "vaccines_help"}),
        (PersonFacts(65, "male"), {"bowel_screening_last", "aaa_screening", "vaccines_help"}),
        (PersonFacts(24, "female"), {"pregnancy"}),
        (PersonFacts(49, "male"), set()),
    ],
)
def test_screening_questions_by_age_and_sex(person, items):
    prevention = {
        "bowel_screening_last",
        "breast_screening_last",
        "cervical_screening_last",
        "aaa_screening",
        "pregnancy",
        "vaccines_help",
    }
    _, ev = walk(person, negative_answer)
    assert set(ev.visible) & prevention == items


def test_post_release_overdose_flag_uses_release_window():
    base = {
        "drugs_any": "yes",
        "drugs_types": ["heroin"],
        "overdose_recent": "no",
        "recent_custody": "yes",
    }
    soon = evaluate(
        Q, {**base, "release_date": date(2026, 11, 1)}, PersonFacts(30, "male"), TODAY
    )  # 22 days
    last_day = evaluate(
        Q, {**base, "release_date": date(2026, 9, 28)}, PersonFacts(30, "male"), TODAY
    )  # 56 days: 8 weeks
    later = evaluate(
        Q, {**base, "release_date": date(2026, 9, 27)}, PersonFacts(30, "male"), TODAY
    )  # 57 days
    assert "post_release_overdose_risk" in {f.id for f in soon.flags}
    assert "post_release_overdose_risk" in {f.id for f in last_day.flags}
    assert "post_release_overdose_risk" not in {f.id for f in later.flags}


def _strategy_for(item):  # type: ignore[no-untyped-def]
    options = [o.value for o in item.options]
    if item.type in ("single", "yesno"):
        return st.sampled_from(options)
    if item.type == "multi":
        plain = [v for v in options if v not in item.exclusive]
        return st.one_of(
            st.lists(st.sampled_from(plain), min_size=1, unique=True), st.just(list(item.exclusive))
        )
    if item.type == "integer":
        return st.integers(item.min, item.max)
    if item.type == "date":
        return st.dates(date(1990, 1, 1), TODAY).map(lambda d: d.isoformat())
    return st.text(alphabet="abc XYZ'-", min_size=1, max_size=20).filter(str.strip)


@pytest.mark.slow
@given(st.data(), st.sampled_from(PROFILES))
def test_random_valid_answers_never_crash_and_scores_stay_in_range(data, person):
    answers: dict[str, object] = {}
    for _ in range(len(Q.items)):
        ev = evaluate(Q, answers, person, TODAY)
        item = ev.next_item()
        if item is None:
            break
        if item.optional and data.draw(st.integers(0, 9)) == 0:
            answers[item.id] = expr.DECLINED
        else:
            answers[item.id] = A.parse(item, data.draw(_strategy_for(item)), today=TODAY)
    ev = evaluate(Q, answers, person, TODAY)
    assert ev.complete
    for scale in Q.scales:
        result = ev.scores[scale.id]
        if result.value is not None:
            assert scale.min <= result.value <= scale.max
            assert result.band is not None
    if isinstance(answers.get("phq9_9"), int) and answers["phq9_9"] >= 1:
        assert "self_harm_thoughts" in {f.id for f in ev.flags}
