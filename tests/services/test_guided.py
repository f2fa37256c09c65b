"""The guided loop: every answer saved at once, flags interrupt and are acknowledged, back
re-asks, Ctrl-C loses nothing and a second run resumes at the first unanswered item."""

from __future__ import annotations

import pytest

from probhealth.services import definitions, guided, people, screening
from probhealth.services.guided import ANSWER, BACK, DECLINE, Response
from tests.helpers import negative_answer, query


class FakeUI:
    def __init__(self, overrides=None, *, stop_after=None, back_at=None):  # type: ignore[no-untyped-def]
        self.overrides = dict(overrides or {})
        self.stop_after = stop_after
        self.back_at = set(back_at or ())
        self.asked: list[str] = []
        self.alerts: list[tuple[str, ...]] = []
        self.events: list[str] = []
        self.defaults: dict[str, object] = {}

    def started(self, active):  # type: ignore[no-untyped-def]
        self.events.append("resumed" if active.resumed else "started")

    def section(self, section, credits):  # type: ignore[no-untyped-def]
        self.events.append(f"section:{section.id}")

    def ask(self, item, progress, current, *, can_go_back, error):  # type: ignore[no-untyped-def]
        if self.stop_after is not None and len(self.asked) >= self.stop_after:
            raise KeyboardInterrupt
        self.asked.append(item.id)
        self.defaults[item.id] = current
        self.events.append(f"ask:{item.id}")
        if item.id in self.back_at:
            self.back_at.discard(item.id)
            return Response(BACK)
        value = self.overrides.get(item.id, negative_answer(item))
        if value == "DECLINE":
            return Response(DECLINE)
        return Response(ANSWER, value)

    def alert(self, flags):  # type: ignore[no-untyped-def]
        self.alerts.append(tuple(f.id for f in flags))
        self.events.append("alert:" + ",".join(f.id for f in flags))


@pytest.fixture
def person(store, built_once):  # type: ignore[no-untyped-def]
    """A person who gave screening consent (made once a process, copied for each test)."""

    def build() -> None:
        people.add_person(
            store,
            people.PersonInput(
                crn="X123456", given="Ann", family="Smith", dob="1990-01-31", sex="male"
            ),
        )
        people.record_consent(store, "X123456", purpose="screening", status="given")

    built_once(build)
    return "X123456"


def answers_in_db(db, screening_id):  # type: ignore[no-untyped-def]
    return {
        r[0]: r[1]
        for r in query(db, "select item_id, value from answer where screening_id=?", screening_id)
    }


def test_all_negative_run_completes(store, person, db):
    q = definitions.load_questionnaire()
    ui = FakeUI()
    detail = guided.run(store, screening.begin(store, person, q), ui)
    assert detail.status == "completed"
    assert len(ui.asked) <= 35
    assert ui.alerts == []
    assert len(answers_in_db(db, detail.id)) == len(ui.asked)


def test_emergency_flag_interrupts_before_the_next_question(store, person, db):
    q = definitions.load_questionnaire()
    ui = FakeUI({"phq9_1": 1, "phq9_9": 1})
    detail = guided.run(store, screening.begin(store, person, q), ui)
    i = ui.events.index("ask:phq9_9")
    assert ui.events[i + 1] == "alert:self_harm_thoughts"
    flag = next(f for f in detail.flags if f.flag_id == "self_harm_thoughts")
    assert (
        flag.severity == "emergency"
        and flag.acknowledged_by == "tester"
        and flag.acknowledged_at is not None
    )


def test_back_reasks_previous_with_its_answer(store, person):
    q = definitions.load_questionnaire()
    ui = FakeUI({"gp_registered": "no"}, back_at={"dentist_registered"})
    guided.run(store, screening.begin(store, person, q), ui)
    first = ui.asked.index("dentist_registered")
    assert ui.asked[first + 1] == "gp_registered"  # back from dentist goes to the GP question
    assert ui.defaults["gp_registered"] == "no"  # re-asked with the saved answer


def test_decline_is_stored_as_prefer_not_to_say(store, person, db):
    q = definitions.load_questionnaire()
    detail = guided.run(
        store, screening.begin(store, person, q), FakeUI({"head_injury": "DECLINE"})
    )
    view = next(a for a in detail.answers if a.item_id == "head_injury")
    assert view.declined and view.label == "Prefer not to say"


def test_interrupt_then_resume_at_first_unanswered(store, person, db):
    q = definitions.load_questionnaire()
    first = FakeUI(stop_after=7)
    with pytest.raises(KeyboardInterrupt):
        guided.run(store, screening.begin(store, person, q), first)
    active = screening.begin(store, person, q)
    assert active.resumed and len(active.answers) == 7
    second = FakeUI()
    detail = guided.run(store, active, second)
    assert second.events[0] == "resumed"
    assert second.asked[0] not in first.asked  # continues, does not start over
    assert detail.questions_asked == len(first.asked) + len(second.asked)


def test_unacknowledged_flag_is_shown_again_on_resume(store, person):
    q = definitions.load_questionnaire()
    active2 = screening.begin(store, person, q)
    # raise a flag and "crash" before the acknowledgement
    for item_id, value in [("phq9_1", 1), ("phq9_2", 0)]:
        screening.save_answer(store, active2, item_id, value)
    raised = screening.save_answer(store, active2, "phq9_9", 2)
    assert [f.id for f in raised] == ["self_harm_thoughts"]
    resumed = screening.begin(store, person, q)
    ui = FakeUI()
    guided.run(store, resumed, ui)
    assert ui.events[1] == "alert:self_harm_thoughts"


def test_restart_abandons_the_unfinished_screening(store, person):
    q = definitions.load_questionnaire()
    first = screening.begin(store, person, q)
    screening.save_answer(store, first, "gp_registered", "no")
    second = screening.begin(store, person, q, restart=True)
    assert second.screening_id != first.screening_id and not second.resumed and second.answers == {}
    assert second.set_aside == first.screening_id  # the worker is told which one was set aside
    _, rows = screening.list_for(store, person)
    assert [r.status for r in rows] == ["abandoned", "in-progress"]


def test_consent_required(store):
    people.add_person(
        store,
        people.PersonInput(crn="Y000001", given="B", family="C", dob="1980-01-01", sex="female"),
    )
    from probhealth.errors import ConsentRequired

    with pytest.raises(ConsentRequired):
        screening.begin(store, "Y000001", definitions.load_questionnaire())
    people.record_consent(store, "Y000001", purpose="screening", status="given")
    people.record_consent(store, "Y000001", purpose="screening", status="withdrawn")
    with pytest.raises(ConsentRequired):
        screening.begin(store, "Y000001", definitions.load_questionnaire())


def _as_another_session(store, screening_id: int) -> None:
    """Make the hold look like another live process's (this one's parent) on this computer."""
    import os

    from probhealth.store import screenings as repo

    with store.write() as session:
        row = repo.screening(session, screening_id)
        row.held_pid = os.getppid()
        session.add(row)


def test_a_screening_open_in_another_session_is_refused_then_taken_over(store, person):
    """Issue 13 item 1: one session at a time; a take-over is explicit and the first
    session's next save is refused, never a silent overwrite."""
    from probhealth.errors import Conflict

    q = definitions.load_questionnaire()
    first = screening.begin(store, person, q)
    screening.save_answer(store, first, "gp_registered", "yes")
    _as_another_session(store, first.screening_id)
    with pytest.raises(Conflict, match=r"open in another session \(by tester on .+ since ") as exc:
        screening.begin(store, person, q)
    assert exc.value.remedy is not None and exc.value.remedy.action == "take-over-screening"
    with pytest.raises(Conflict):
        screening.begin(store, person, q, restart=True)  # a restart would overwrite it too
    second = screening.begin(store, person, q, take_over=True)
    assert second.screening_id == first.screening_id and second.taken_from
    screening.save_answer(store, second, "gp_registered", "no")
    with pytest.raises(Conflict, match="taken over in another session"):
        screening.save_answer(store, first, "gp_practice", "Larkspur")
    assert second.answers["gp_registered"] == "no"


def test_a_hold_left_by_an_ended_process_is_not_in_the_way(store, person):
    from probhealth.store import screenings as repo

    q = definitions.load_questionnaire()
    first = screening.begin(store, person, q)
    with store.write() as session:
        row = repo.screening(session, first.screening_id)
        row.held_pid = 2**22 + 12345  # above Linux's pid_max: no such process
        session.add(row)
    again = screening.begin(store, person, q)
    assert again.resumed and again.taken_from is None
