"""Partly answered scales and declined answers never hide a risk (issue 12): every flag the
complete answers raise is raised, or shown as "could apply", when any subset is declined."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probhealth import expr
from probhealth.questionnaire import answers as A
from probhealth.questionnaire.engine import PersonFacts, evaluate
from probhealth.services.definitions import load_questionnaire

TODAY = date(2026, 11, 23)
Q = load_questionnaire()


@st.composite
def full_answers(draw):  # type: ignore[no-untyped-def]
    """An answer to every item, whether or not the skip logic would ask it (a paper form)."""
    out = {}
    for item in Q.items:
        if item.type in ("single", "yesno"):
            raw = draw(st.sampled_from([o.value for o in item.options]))
        elif item.type == "multi":
            plain = [o.value for o in item.options if o.value not in item.exclusive]
            if item.exclusive and draw(st.booleans()):
                raw = [item.exclusive[0]]
            else:
                raw = draw(st.lists(st.sampled_from(plain), min_size=1, unique=True))
        elif item.type == "date":
            raw = (TODAY - timedelta(days=draw(st.integers(0, 400)))).isoformat()
        elif item.type == "integer":
            raw = draw(st.integers(item.min or 0, item.max or 0))
        else:
            raw = "something"
        out[item.id] = A.parse(item, raw, today=TODAY)
    return out


PEOPLE = st.sampled_from(
    [PersonFacts(30, "female"), PersonFacts(45, "male"), PersonFacts(20, "male")]
)


@given(full_answers(), st.data(), PEOPLE)
def test_declines_never_silence_a_flag(answers, data, person):  # type: ignore[no-untyped-def]
    complete = {f.id for f in evaluate(Q, answers, person, TODAY).flags}
    optional = [i.id for i in Q.items if i.optional]
    declined = data.draw(st.lists(st.sampled_from(optional), unique=True, max_size=12))
    partial = {**answers, **dict.fromkeys(declined, expr.DECLINED)}
    ev = evaluate(Q, partial, person, TODAY)
    seen = {f.id for f in ev.flags} | {u.flag.id for u in ev.uncertain}
    assert complete <= seen, (complete - seen, declined)


@pytest.mark.parametrize(
    ("op", "threshold", "expected"),
    [
        (">=", 5, True),
        (">=", 8, expr.UNKNOWN),
        (">=", 13, False),
        ("<", 5, False),
        ("<", 9, expr.UNKNOWN),
        ("==", 20, False),
    ],
)
def test_range_thresholds(op, threshold, expected):  # type: ignore[no-untyped-def]
    scope = expr.Scope(fields={"scores": frozenset({"s"})})
    compiled = expr.compile_expr(f"scores.s {op} {threshold}", scope)
    env = expr.Env({"scores": {"s": expr.Range(6, 12)}})
    assert compiled.truth(env) is expected
    assert compiled.test(env) is (expected is True)


def test_kleene_logic():  # type: ignore[no-untyped-def]
    scope = expr.Scope(fields={"scores": frozenset({"s"}), "answers": frozenset({"a"})})
    env = expr.Env(
        {"scores": {"s": expr.Range(6, 12)}, "answers": {"a": expr.DECLINED}}, kleene=True
    )

    def truth(text: str) -> object:
        return expr.compile_expr(text, scope).truth(env)

    assert truth("scores.s >= 10 or scores.s >= 3") is True
    assert truth("scores.s >= 10 and scores.s >= 20") is False
    assert truth("scores.s >= 10 and scores.s >= 3") is expr.UNKNOWN
    assert truth("not scores.s >= 10") is expr.UNKNOWN
    assert truth('answers.a == "yes"') is expr.UNKNOWN
    assert truth('answers.a in ["yes"]') is expr.UNKNOWN
    assert truth('any_of(answers.a, ["yes"])') is expr.UNKNOWN
    plain = expr.Env({"answers": {"a": expr.DECLINED}})  # show_if: a declined answer is false
    assert expr.compile_expr('answers.a == "yes"', scope).truth(plain) is False
    assert expr.compile_expr('not (answers.a == "yes")', scope).truth(plain) is True


def test_declined_release_date_with_recent_custody_is_not_silent():  # type: ignore[no-untyped-def]
    answers = {"recent_custody": "yes", "release_date": expr.DECLINED, "drugs_any": "yes"}
    answers["drugs_types"] = ["heroin"]
    ev = evaluate(Q, answers, PersonFacts(30, "male"), TODAY)
    seen = {f.id for f in ev.flags} | {u.flag.id for u in ev.uncertain}
    assert "post_release_overdose_risk" in seen
