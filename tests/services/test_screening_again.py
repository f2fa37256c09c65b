"""Issue 13 item 6: screening again. A new screening for someone screened before is never
started silently; the same answers saved twice the same day are refused as a duplicate; a
screening entered wrongly is voided with a coded reason (kept, shown as voided, not used)."""

from __future__ import annotations

import json

import pytest

from probhealth.errors import BadInput, Conflict
from probhealth.services import audit, definitions, guided, people, screening, suggest
from tests.services.test_guided import FakeUI

CRN = "X123456"
Q = definitions.load_questionnaire()


@pytest.fixture
def person(store, built_once):  # type: ignore[no-untyped-def]
    """A person who gave screening consent (made once a process, copied for each test)."""

    def build() -> None:
        people.add_person(
            store,
            people.PersonInput(crn=CRN, given="Ann", family="Smith", dob="1990-01-31", sex="male"),
        )
        people.record_consent(store, CRN, purpose="screening", status="given")

    built_once(build)
    return CRN


def run_guided(store, overrides=None, **kw):  # type: ignore[no-untyped-def]
    active = screening.begin(store, CRN, Q, **kw)
    return guided.run(store, active, FakeUI(overrides or {}))


def answers_of(store, screening_id):  # type: ignore[no-untyped-def]
    detail = screening.show(store, screening_id, audit_view=False)
    return {
        a.item_id: ("DECLINE" if a.declined else a.value) for a in detail.answers if not a.implied
    }


def test_a_second_screening_needs_asking_for(store, person) -> None:
    first = run_guided(store, {"gp_registered": "no"})
    with pytest.raises(screening.ScreenedBefore) as caught:
        screening.begin(store, CRN, Q)
    assert caught.value.screening_id == first.id
    assert "last screened on" in caught.value.message and "(today)" in caught.value.message
    assert [s.status for s in screening.list_for(store, CRN)[1]] == ["completed"]  # nothing started
    second = run_guided(store, new=True)
    assert second.id != first.id and second.status == "completed"


def test_an_unfinished_screening_still_resumes_without_asking(store, person) -> None:
    run_guided(store)
    active = screening.begin(store, CRN, Q, new=True)
    screening.release(store, active)
    again = screening.begin(store, CRN, Q)  # resumes: no question
    assert again.resumed and again.screening_id == active.screening_id


def test_the_same_answers_file_twice_the_same_day_is_a_duplicate(store, person) -> None:
    first = run_guided(store)
    data = answers_of(store, first.id)
    with pytest.raises(Conflict, match="already saved for X123456 today") as caught:
        screening.run_answers_file(store, CRN, Q, data, file="a.yaml")
    assert caught.value.exit_code == 2
    assert len(screening.list_for(store, CRN)[1]) == 1  # nothing written
    changed = {**data, "phq9_1": 1}
    other = screening.run_answers_file(store, CRN, Q, changed, file="b.yaml")  # not identical
    assert other.status == "completed"
    forced = screening.run_answers_file(store, CRN, Q, data, file="a.yaml", new=True)
    assert forced.status == "completed"
    assert len(screening.list_for(store, CRN)[1]) == 3


def test_void_keeps_the_screening_and_hides_it(store, person) -> None:
    first = run_guided(store, {"gp_registered": "no"})
    wrong = run_guided(store, {"smoking_status": "current"}, new=True)
    assert suggest.suggest_for(store, CRN, definitions.load_rules()).screening_id == wrong.id
    done = screening.void(store, wrong.id, reason="wrong-person")
    assert done.reason == "wrong-person"
    shown = screening.show(store, wrong.id, audit_view=False)
    assert shown.status == "voided" and shown.voided is not None
    assert shown.voided.reason == "wrong-person" and shown.answers  # kept
    assert shown.to_json()["voided"]["reason"] == "wrong-person"
    listed = {s.id: s for s in screening.list_for(store, CRN)[1]}
    assert listed[wrong.id].status == "voided" and listed[wrong.id].voided is not None
    # Suggestions and "last screened" use the screening before it.
    rules = definitions.load_rules()
    assert suggest.suggest_for(store, CRN, rules).screening_id == first.id
    with pytest.raises(screening.ScreenedBefore) as caught:
        screening.begin(store, CRN, Q)
    assert caught.value.screening_id == first.id
    # Audited with the code, and nothing of the person in the detail.
    events = audit.events(store, action="screening.void")
    assert len(events) == 1 and json.loads(events[0].detail)["reason"] == "wrong-person"


def test_void_of_the_only_screening_leaves_them_unscreened(store, person) -> None:
    only = run_guided(store, {"gp_registered": "no"})
    screening.void(store, only.id, reason="entered-in-error")
    with pytest.raises(BadInput, match="no completed screening"):
        suggest.suggest_for(store, CRN, definitions.load_rules())
    again = screening.begin(store, CRN, Q)  # no question: no screening counts
    assert not again.resumed
    summary = suggest.suggest_all(store, definitions.load_rules())
    assert summary.people == 0


def test_void_refusals(store, person) -> None:
    done = run_guided(store)
    with pytest.raises(BadInput, match="use one of: wrong-person, entered-in-error"):
        screening.void(store, done.id, reason="oops")
    with pytest.raises(BadInput, match="needs a"):
        screening.void(store, done.id, reason="other")
    screening.void(store, done.id, reason="other", note="Tested the tool with them")
    with pytest.raises(Conflict, match="is voided; only a completed one"):
        screening.void(store, done.id, reason="duplicate")
    active = screening.begin(store, CRN, Q)
    with pytest.raises(Conflict, match="in-progress"):
        screening.void(store, active.screening_id, reason="duplicate")
