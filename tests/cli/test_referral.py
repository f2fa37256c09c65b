"""Referrals followed until they close, and health-trainer goals.

The state machine is checked exhaustively: every (from, to) pair over the statuses, each
referral driven to ``from`` through allowed steps (with the reason or outcome each step
needs). Then: the history kept for each step, the consent gate at creation and at the step
that shares details, coded reasons and outcomes, follow-up dates, the due list against a fixed
clock, duplicates, and goals. A refused call must write nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from probhealth import clock, referral_states
from probhealth.cli.remedies import explain
from probhealth.errors import BadInput, ConsentRequired, NotFound
from probhealth.services import goals, people, referrals
from probhealth.services.definitions import load_rules
from tests.helpers import DbHandle, add_person, count, fingerprint, query, raises_saying

CRN = "X123456"
NOW = "2026-11-23T10:00:00"  # a Monday; GMT, so London's date is the UTC date
TODAY = date(2026, 11, 23)
CONSENT_HINT = "probhealth consent {crn} --purpose share-with-services --given"

# The extra arguments each step needs.
STEP_ARGS: dict[str, dict[str, str]] = {
    "withdrawn": {"reason": "lost-contact"},
    "declined-by-person": {"reason": "not-wanted-now"},
    "rejected-by-service": {"reason": "service-full"},
    "completed": {"outcome": "achieved"},
}
# Steps after ``refer`` (which leaves a referral "agreed") that reach each status.
ROUTE: dict[str, tuple[str, ...]] = {
    "agreed": (),
    "referred": ("referred",),
    "accepted": ("referred", "accepted"),
    "rejected-by-service": ("referred", "rejected-by-service"),
    "appointment-booked": ("referred", "accepted", "appointment-booked"),
    "attended": ("referred", "accepted", "appointment-booked", "attended"),
    "did-not-attend": ("referred", "accepted", "appointment-booked", "did-not-attend"),
    "completed": ("referred", "accepted", "completed"),
    "withdrawn": ("withdrawn",),
}
TABLES = ("referral", "referral_event", "goal", "goal_review", "audit_event")


# ------------------------------------------------------------------ helpers ------------
@pytest.fixture
def rules():
    return load_rules()


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    return TODAY


def add(store: Any, crn: str = CRN, *, consent: str | None = "given", trainer: bool = True) -> str:
    people.add_person(
        store,
        people.PersonInput(crn=crn, given="Ann", family="Smith", dob="1990-01-31", sex="female"),
    )
    if consent is not None:
        people.record_consent(store, crn, purpose="share-with-services", status=consent)
    if trainer:  # goals need it
        people.record_consent(store, crn, purpose="health-trainer", status="given")
    return crn


def counts(db: DbHandle) -> dict[str, int]:
    return {t: count(db, t) for t in TABLES}


def insert_suggested(store: Any, crn: str, pathway: str = "gp-registration") -> int:
    """``suggested`` is where every referral starts, but no command stores it: put one in."""
    from probhealth.store import people as people_repo
    from probhealth.store.models import Referral

    now = clock.now()
    with store.write() as session:
        person = people_repo.by_crn(session, crn)
        assert person is not None
        row = Referral(
            person_id=person.id,
            pathway_id=pathway,
            self_referral=False,
            status="suggested",
            follow_up_due=clock.today() + timedelta(days=14),
            created_by=store.actor,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def drive(store: Any, rules: Any, target: str, crn: str = CRN, pathway: str = "gp-registration"):
    """A worker referral driven to ``target`` through allowed steps only."""
    if target == "suggested":
        return insert_suggested(store, crn, pathway)
    if target == "declined-by-person":
        rec = referrals.refer(
            store, crn, pathway, rules, status="declined-by-person", reason="not-wanted-now"
        )
        assert rec.status == "declined-by-person"
        return rec.id
    rec = referrals.refer(store, crn, pathway, rules, self_referral=False)
    previous = rec.status
    for step in ROUTE[target]:
        assert step in referral_states.allowed(previous), (previous, step)
        rec = referrals.update(store, rec.id, rules, status=step, **STEP_ARGS.get(step, {}))
        previous = step
    assert rec.status == target
    return rec.id


def status_of(store: Any, rules: Any, referral_id: int) -> str:
    return referrals.show(store, referral_id, rules).status


# ------------------------------------------------------------------ (a) state machine --
def test_routes_cover_every_status() -> None:
    assert set(ROUTE) | {"suggested", "declined-by-person"} == set(referral_states.STATUSES)
    assert {"completed", "declined-by-person", "withdrawn"} == referral_states.CLOSED
    assert set(STEP_ARGS) - {"completed"} == set(referral_states.REASONS)


# Pathways used so that each referral of one person is on its own pathway (no duplicates).
SPARE_PATHWAYS = ("gp-registration", "dentist", "naloxone", "reconnect", "vaccination")


@pytest.mark.parametrize("frm", referral_states.STATUSES)
def test_every_transition(store, rules, db, frm: str) -> None:
    """All (frm, to) pairs: refused ones on one referral (it must not move), each allowed one
    on a fresh referral driven to ``frm``. Failures are collected so every bad pair shows."""
    add(store)
    allowed = referral_states.NEXT[frm]
    problems: list[str] = []
    rid = drive(store, rules, frm, pathway=SPARE_PATHWAYS[0])
    spare = iter(SPARE_PATHWAYS[1:])
    for to in referral_states.STATUSES:
        pair = f"{frm}->{to}"
        args = STEP_ARGS.get(to, {})
        if to in allowed:
            fresh = drive(store, rules, frm, pathway=next(spare))
            before = len(referrals.show(store, fresh, rules).events)
            try:
                rec = referrals.update(store, fresh, rules, status=to, **args)
            except BadInput as exc:
                problems.append(f"{pair}: refused: {exc}")
                continue
            if rec.status != to:
                problems.append(f"{pair}: status is {rec.status}")
            if (rec.events[-1].from_status, rec.events[-1].to_status) != (frm, to):
                problems.append(f"{pair}: last event {rec.events[-1]}")
            if len(rec.events) != before + 1:
                problems.append(f"{pair}: {len(rec.events) - before} events added")
            if (
                rec.is_open != (to in referral_states.OPEN)
                or rec.next_steps != (referral_states.NEXT[to])
            ):
                problems.append(f"{pair}: open={rec.is_open} next={rec.next_steps}")
            continue
        before_counts = counts(db)
        try:
            referrals.update(store, rid, rules, status=to, **args)
        except ConsentRequired as exc:
            problems.append(f"{pair}: refused for consent, not the state: {exc}")
            continue
        except BadInput as exc:
            message = exc.message
            nxt = ", ".join(allowed) if allowed else "none: it is closed"
            expected = (
                f"Referral {rid} is {frm}; it cannot move to {to}. Next steps allowed: {nxt}."
            )
            if message != expected:
                problems.append(f"{pair}: message {message!r}")
        else:
            problems.append(f"{pair}: allowed, but the state machine forbids it")
            break  # the referral has moved on; later pairs would be meaningless
        if counts(db) != before_counts:
            problems.append(f"{pair}: something was written on refusal")
    assert problems == []
    assert status_of(store, rules, rid) == frm


def test_unknown_status_is_refused(store, rules) -> None:
    add(store)
    rid = drive(store, rules, "agreed")
    with raises_saying(BadInput, "Unknown status 'finished'; statuses: suggested, agreed"):
        referrals.update(store, rid, rules, status="finished")
    # Case and spaces are forgiven for a known status.
    assert referrals.update(store, rid, rules, status="  Referred ").status == "referred"


def test_unknown_referral_is_not_found(store, rules) -> None:
    with raises_saying(NotFound, "No referral 999"):
        referrals.update(store, 999, rules, status="referred")
    with raises_saying(NotFound, "No referral 999"):
        referrals.show(store, 999, rules)


HUGE = 10**20  # more than SQLite's 64-bit INTEGER


def test_an_id_too_big_for_the_database_is_not_found(store, rules) -> None:
    add(store)
    with pytest.raises(NotFound):
        referrals.show(store, HUGE, rules)
    with pytest.raises(NotFound):
        referrals.update(store, HUGE, rules, status="referred")
    with pytest.raises(NotFound):
        goals.review(store, HUGE, progress="partly")


def test_an_id_too_big_for_the_database_through_the_cli(cli) -> None:
    wrong = []
    for args in (
        ("referral", "show", str(HUGE)),
        ("referral", "update", str(HUGE), "--status", "referred"),
        ("goal", "review", str(HUGE), "--progress", "partly"),
    ):
        result = cli(*args, expect=None)
        lines = result.stderr.splitlines()
        # Refused as bad input in one line: by the argument's range (CLI) or as not found (API).
        if result.exit_code != 2 or len(lines) != 1 or not lines[0].startswith("Error: "):
            wrong.append((args[:2], result.exit_code, result.stderr.splitlines()[:1]))
    assert wrong == []


def test_refused_transitions_through_the_cli(cli, db) -> None:
    add_person(cli)
    rid = json.loads(cli("refer", CRN, "dentist", "--json").stdout)["id"]
    before = fingerprint(db)
    result = cli("referral", "update", str(rid), "--status", "completed", expect=2)
    assert result.stderr.splitlines() == [
        f"Error: Referral {rid} is agreed; it cannot move to completed. "
        "Next steps allowed: referred, withdrawn."
    ]
    assert fingerprint(db) == before
    cli("referral", "update", str(rid), "--status", "withdrawn", "--reason", "moved-area")
    before = fingerprint(db)
    result = cli("referral", "update", str(rid), "--status", "referred", expect=2)
    assert result.stderr.splitlines() == [
        f"Error: Referral {rid} is withdrawn; it cannot move to referred. "
        "Next steps allowed: none: it is closed."
    ]
    assert fingerprint(db) == before
    shown = json.loads(cli("referral", "show", str(rid), "--json").stdout)
    assert (shown["status"], shown["next_steps"]) == ("withdrawn", [])


# ------------------------------------------------------------------ (b) history --------
def test_history_lists_every_step_in_order(store, rules, fixed_clock) -> None:
    add(store)
    rec = referrals.refer(store, CRN, "gp-registration", rules, self_referral=False, note="keen")
    rid = rec.id
    steps: list[dict[str, Any]] = [
        {"status": "referred", "event_date": "2026-11-10", "note": "sent by email"},
        {"status": "accepted", "event_date": "2026-11-12"},
        {"status": "appointment-booked", "event_date": "2026-11-20"},
        {"status": "did-not-attend", "event_date": "2026-11-20", "note": "bus cancelled"},
        {"status": "appointment-booked", "event_date": "2026-12-02"},  # ahead: allowed
        {"status": "withdrawn", "reason": "other", "note": "moved in with family"},
    ]
    for step in steps:
        referrals.update(store, rid, rules, **step)
    shown = referrals.show(store, rid, rules)
    events = shown.events
    assert [(e.from_status, e.to_status) for e in events] == [
        ("suggested", "agreed"),
        ("agreed", "referred"),
        ("referred", "accepted"),
        ("accepted", "appointment-booked"),
        ("appointment-booked", "did-not-attend"),
        ("did-not-attend", "appointment-booked"),
        ("appointment-booked", "withdrawn"),
    ]
    assert {e.recorded_by for e in events} == {"tester"}
    assert [e.event_date for e in events] == [
        TODAY,
        date(2026, 11, 10),
        date(2026, 11, 12),
        date(2026, 11, 20),
        date(2026, 11, 20),
        date(2026, 12, 2),
        TODAY,
    ]
    assert [e.note for e in events] == [
        "keen",
        "sent by email",
        None,
        None,
        "bus cancelled",
        None,
        "moved in with family",
    ]
    assert [e.reason for e in events] == [None] * 6 + ["other"]
    assert all(e.recorded_at == clock.now() for e in events)
    assert shown.status == "withdrawn"
    assert shown.closed_reason == "other"
    assert shown.follow_up_due is None
    # The JSON form carries the same history.
    history = shown.to_json()["history"]
    assert history[1] == {
        "from": "agreed",
        "to": "referred",
        "reason": None,
        "note": "sent by email",
        "date": "2026-11-10",
        "recorded_by": "tester",
        "recorded_at": "2026-11-23T10:00:00Z",
    }


def test_history_through_the_cli(cli, monkeypatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add_person(cli)
    rid = json.loads(cli("refer", CRN, "dentist", "--self-referral", "--json").stdout)["id"]
    cli("referral", "update", str(rid), "--status", "referred", "--date", "2026-11-20")
    cli("referral", "update", str(rid), "--status", "accepted", "--note", "rang them")
    cli("referral", "update", str(rid), "--status", "completed", "--outcome", "partly-achieved")
    shown = json.loads(cli("referral", "show", str(rid), "--json").stdout)
    assert [(h["from"], h["to"], h["date"]) for h in shown["history"]] == [
        ("suggested", "agreed", "2026-11-23"),
        ("agreed", "referred", "2026-11-20"),
        ("referred", "accepted", "2026-11-23"),
        ("accepted", "completed", "2026-11-23"),
    ]
    assert [h["note"] for h in shown["history"]] == [None, None, "rang them", None]
    assert {h["recorded_by"] for h in shown["history"]} == {"tester"}
    assert shown["outcome"] == "partly-achieved"
    assert shown["next_steps"] == []


@pytest.mark.parametrize(
    ("status", "day", "message"),
    [
        ("referred", "2026-11-24", "--date is in the future"),
        ("referred", "2025-11-01", "--date must be within a year"),
        ("appointment-booked", "2027-12-01", "--date must be within a year"),
        ("referred", "31/02/2026", "--date"),  # day first is read (issue 13); no 31 February
    ],
)
def test_bad_event_dates_are_refused(store, rules, db, fixed_clock, status, day, message):
    add(store)
    rid = drive(store, rules, "accepted" if status == "appointment-booked" else "agreed")
    before = counts(db)
    with raises_saying(BadInput, message):
        referrals.update(store, rid, rules, status=status, event_date=day)
    assert counts(db)["referral_event"] == before["referral_event"]


def test_attendance_cannot_come_before_the_appointment(store, rules, db, fixed_clock):
    add(store)
    rid = drive(store, rules, "accepted")
    referrals.update(store, rid, rules, status="appointment-booked", event_date="2026-11-25")
    before = counts(db)
    for status in ("attended", "did-not-attend"):
        with raises_saying(BadInput, "The appointment is on 2026-11-25"):
            referrals.update(store, rid, rules, status=status)  # today, 2026-11-23
    assert counts(db) == before
    # It moved earlier: book the new date, then attendance that day is accepted.
    referrals.update(store, rid, rules, status="appointment-booked", event_date="2026-11-23")
    assert referrals.update(store, rid, rules, status="attended").status == "attended"


# ------------------------------------------------------------------ (c) consent gate ---
def test_worker_referral_without_consent_is_refused(store, rules, db) -> None:
    add(store, consent=None)
    before = counts(db)
    with pytest.raises(ConsentRequired) as info:
        referrals.refer(store, CRN, "gp-registration", rules, self_referral=False)
    text = explain(info.value)
    assert CONSENT_HINT.format(crn=CRN) in text
    assert "--self-referral" in text  # gp-registration could be a self-referral instead
    assert info.value.exit_code == 2
    assert counts(db) == before


@pytest.mark.parametrize("consent", [None, "declined", "withdrawn"])
def test_pathway_that_cannot_self_refer_needs_consent(store, rules, db, consent) -> None:
    add(store, consent=consent)
    assert rules.pathway("reconnect").self_referral is False
    before = counts(db)
    with pytest.raises(ConsentRequired) as info:
        referrals.refer(store, CRN, "reconnect", rules)  # default route: a worker referral
    text = explain(info.value)
    assert CONSENT_HINT.format(crn=CRN) in text
    assert "--self-referral" not in text  # not offered where it is impossible
    assert counts(db) == before


def test_pathway_that_cannot_self_refer_refuses_self_referral(store, rules) -> None:
    add(store)
    with raises_saying(BadInput, "does not take self-referrals"):
        referrals.refer(store, CRN, "reconnect", rules, self_referral=True)


def test_worker_referral_with_consent_is_made(store, rules) -> None:
    add(store)
    rec = referrals.refer(store, CRN, "reconnect", rules)
    assert rec.self_referral is False
    assert rec.status == "agreed"


def test_self_referral_needs_no_consent(store, rules) -> None:
    add(store, consent=None)
    rec = referrals.refer(store, CRN, "gp-registration", rules, self_referral=True)
    assert rec.self_referral is True
    # ...and "referred" (the person made contact) needs none either.
    assert referrals.update(store, rec.id, rules, status="referred").status == "referred"


def test_default_route_of_a_self_referral_pathway_needs_no_consent(store, rules) -> None:
    add(store, consent=None)
    rec = referrals.refer(store, CRN, "gp-registration", rules)
    assert rec.self_referral is True


def test_declining_needs_no_consent(store, rules) -> None:
    add(store, consent=None)
    rec = referrals.refer(
        store, CRN, "reconnect", rules, status="declined-by-person", reason="not-wanted-now"
    )
    assert rec.status == "declined-by-person"
    assert rec.closed_reason == "not-wanted-now"
    assert rec.follow_up_due is None


def test_consent_for_another_purpose_does_not_count(store, rules, db) -> None:
    add(store, consent=None)
    for purpose in ("share-with-gp", "screening", "health-trainer"):
        people.record_consent(store, CRN, purpose=purpose, status="given")
    before = counts(db)
    with pytest.raises(ConsentRequired):
        referrals.refer(store, CRN, "reconnect", rules)
    assert counts(db) == before


@pytest.mark.parametrize("later", ["withdrawn", "declined"])
def test_sending_after_consent_is_withdrawn_is_refused(
    store, rules, db, fixed_clock, later
) -> None:
    # The clock is fixed, so "given" and the later decision share one instant: the later
    # record must still win.
    add(store)
    rid = drive(store, rules, "agreed")
    people.record_consent(store, CRN, purpose="share-with-services", status=later)
    before = counts(db)
    with pytest.raises(ConsentRequired) as info:
        referrals.update(store, rid, rules, status="referred")
    assert CONSENT_HINT.format(crn=CRN) in explain(info.value)
    assert counts(db) == before
    assert status_of(store, rules, rid) == "agreed"
    # Steps that share nothing are still allowed; giving consent again reopens the way.
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    assert referrals.update(store, rid, rules, status="referred").status == "referred"


def test_resending_after_rejection_checks_consent_again(store, rules, db) -> None:
    add(store)
    rid = drive(store, rules, "rejected-by-service")
    people.record_consent(store, CRN, purpose="share-with-services", status="withdrawn")
    before = counts(db)
    with pytest.raises(ConsentRequired):
        referrals.update(store, rid, rules, status="referred")
    assert counts(db) == before
    assert (
        referrals.update(store, rid, rules, status="withdrawn", reason="person-withdrew-consent")
    ).status == "withdrawn"


def test_refer_as_already_referred_needs_consent(store, rules, db) -> None:
    add(store, consent="withdrawn")
    before = counts(db)
    with pytest.raises(ConsentRequired):
        referrals.refer(store, CRN, "reconnect", rules, status="referred")
    assert counts(db) == before


def test_consent_gate_through_the_cli(cli, db) -> None:
    add_person(cli)
    before = fingerprint(db)
    result = cli("refer", CRN, "reconnect", expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: Referring X123456 to RECONNECT")
    assert CONSENT_HINT.format(crn=CRN) in lines[0]
    assert fingerprint(db) == before
    # A worker referral to a self-referral pathway: offered the other route.
    result = cli("refer", CRN, "gp-registration", "--worker-referral", expect=2)
    assert "(or make it a --self-referral)" in result.stderr
    assert fingerprint(db) == before
    result = cli("refer", CRN, "gp-registration", "--self-referral", "--referred", "--json")
    assert json.loads(result.stdout)["status"] == "referred"


def test_consent_withdrawn_then_send_through_the_cli(cli, db) -> None:
    add_person(cli)
    cli("consent", CRN, "--purpose", "share-with-services", "--given")
    rid = json.loads(cli("refer", CRN, "reconnect", "--json").stdout)["id"]
    cli("consent", CRN, "--purpose", "share-with-services", "--withdrawn")
    before = fingerprint(db)
    result = cli("referral", "update", str(rid), "--status", "referred", expect=2)
    assert f"Sending referral {rid}" in result.stderr
    assert CONSENT_HINT.format(crn=CRN) in result.stderr
    assert fingerprint(db) == before


# ------------------------------------------------------------------ (d) reasons --------
@pytest.mark.parametrize("status", sorted(referral_states.REASONS))
def test_coded_reason_is_required(store, rules, db, status) -> None:
    add(store)
    frm = {"withdrawn": "agreed", "declined-by-person": "suggested"}.get(status, "referred")
    rid = drive(store, rules, frm)
    codes = referral_states.REASONS[status]
    before = counts(db)
    with pytest.raises(BadInput) as info:
        referrals.update(store, rid, rules, status=status)
    said = f"Moving to {status} needs --reason, one of: {', '.join(codes)}."
    assert said in explain(info.value)
    with raises_saying(BadInput, f"Reason for {status} must be one of"):
        referrals.update(store, rid, rules, status=status, reason="bored")
    with raises_saying(BadInput, "Reason 'other' needs a --note"):
        referrals.update(store, rid, rules, status=status, reason="other")
    assert counts(db) == before
    assert status_of(store, rules, rid) == frm
    rec = referrals.update(store, rid, rules, status=status, reason="other", note="see notes")
    assert rec.status == status
    assert rec.closed_reason == "other"
    assert rec.events[-1].reason == "other"
    assert rec.events[-1].note == "see notes"


@pytest.mark.parametrize("status", sorted(referral_states.REASONS))
def test_every_coded_reason_is_accepted(store, rules, status) -> None:
    frm = {"withdrawn": "agreed", "declined-by-person": "suggested"}.get(status, "referred")
    for n, reason in enumerate(c for c in referral_states.REASONS[status] if c != "other"):
        crn = f"C{n:06d}"
        add(store, crn)
        rid = drive(store, rules, frm, crn=crn)
        rec = referrals.update(store, rid, rules, status=status, reason=reason.upper())
        assert (rec.closed_reason, rec.events[-1].reason) == (reason, reason), reason


def test_reason_from_another_step_is_refused(store, rules) -> None:
    add(store)
    rid = drive(store, rules, "agreed")
    # A code of rejected-by-service is not a code for withdrawn.
    with raises_saying(BadInput, "Reason for withdrawn must be one of"):
        referrals.update(store, rid, rules, status="withdrawn", reason="service-full")


def test_reason_on_a_step_without_reasons_is_refused(store, rules, db) -> None:
    add(store)
    rid = drive(store, rules, "referred")
    before = counts(db)
    with raises_saying(BadInput, "--reason is for withdrawn, declined-by-person"):
        referrals.update(store, rid, rules, status="accepted", reason="lost-contact")
    assert counts(db) == before


def test_declining_at_creation_needs_a_reason(store, rules, db) -> None:
    add(store)
    before = counts(db)
    with raises_saying(BadInput, "Moving to declined-by-person needs --reason"):
        referrals.refer(store, CRN, "dentist", rules, status="declined-by-person")
    with raises_saying(BadInput, "Reason 'other' needs a --note"):
        referrals.refer(store, CRN, "dentist", rules, status="declined-by-person", reason="other")
    assert counts(db) == before


@pytest.mark.parametrize("outcome", referral_states.OUTCOMES)
def test_completing_records_the_outcome(store, rules, outcome) -> None:
    add(store)
    rid = drive(store, rules, "attended")
    rec = referrals.update(store, rid, rules, status="completed", outcome=outcome)
    assert rec.outcome == outcome
    assert rec.to_json()["outcome"] == outcome


@pytest.mark.parametrize("outcome", [None, "great", ""])
def test_completing_needs_a_known_outcome(store, rules, db, outcome) -> None:
    add(store)
    rid = drive(store, rules, "accepted")
    before = counts(db)
    with raises_saying(BadInput, "Completing a referral needs --outcome, one of: achieved"):
        referrals.update(store, rid, rules, status="completed", outcome=outcome)
    assert counts(db) == before


@pytest.mark.parametrize(
    ("frm", "to"), [("referred", "accepted"), ("agreed", "withdrawn"), ("accepted", "attended")]
)
def test_outcome_on_another_step_is_refused(store, rules, db, frm, to) -> None:
    add(store)
    rid = drive(store, rules, frm)
    before = counts(db)
    with pytest.raises(BadInput) as info:
        referrals.update(store, rid, rules, status=to, outcome="achieved", **STEP_ARGS.get(to, {}))
    if to in referral_states.NEXT[frm]:
        assert "--outcome is only for --status completed." in explain(info.value)
    assert counts(db) == before


def test_reasons_through_the_cli(cli, db) -> None:
    add_person(cli)
    rid = json.loads(cli("refer", CRN, "dentist", "--json").stdout)["id"]
    before = fingerprint(db)
    result = cli("referral", "update", str(rid), "--status", "withdrawn", expect=2)
    assert "needs --reason, one of: needs-met-elsewhere" in result.stderr
    result = cli(
        "referral", "update", str(rid), "--status", "referred", "--outcome", "achieved", expect=2
    )
    assert "--outcome is only for --status completed." in result.stderr
    assert fingerprint(db) == before
    result = cli(
        "referral", "update", str(rid), "--status", "withdrawn", "--reason", "moved-area", "--json"
    )
    shown = json.loads(result.stdout)
    assert (shown["status"], shown["closed_reason"]) == ("withdrawn", "moved-area")
    assert shown["history"][-1]["reason"] == "moved-area"


# ------------------------------------------------------------------ (e) follow-up ------
@pytest.mark.parametrize("pathway", ["gp-registration", "dentist", "naloxone", "reconnect"])
def test_default_follow_up_is_the_pathway_interval(store, rules, fixed_clock, pathway) -> None:
    add(store)
    rec = referrals.refer(store, CRN, pathway, rules)
    days = rules.pathway(pathway).follow_up_days
    assert rec.follow_up_due == TODAY + timedelta(days=days)
    assert rec.overdue_days == -days


@pytest.mark.parametrize(
    ("value", "due"),
    [
        ("3", TODAY + timedelta(days=3)),
        ("0", TODAY),
        ("365", TODAY + timedelta(days=365)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-11-01", date(2026, 11, 1)),  # already overdue: allowed (catching up)
    ],
)
def test_follow_up_option(store, rules, fixed_clock, value, due) -> None:
    add(store)
    rec = referrals.refer(store, CRN, "gp-registration", rules, follow_up=value)
    assert rec.follow_up_due == due


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("366", "between 0 and 365"),
        ("2028-01-01", "within a year"),
        ("2025-01-01", "within a year"),
        ("soon", "--follow-up"),
        ("-3", "--follow-up"),
    ],
)
def test_bad_follow_up_is_refused(store, rules, db, fixed_clock, value, message) -> None:
    add(store)
    before = counts(db)
    with raises_saying(BadInput, message):
        referrals.refer(store, CRN, "gp-registration", rules, follow_up=value)
    assert counts(db) == before


def test_follow_up_with_other_digit_characters_is_refused(store, rules, db) -> None:
    # str.isdigit() is true for "²", but int("²") fails: this must be bad input (exit 2),
    # not an internal error.
    add(store)
    before = counts(db)
    for value in ("½", "²", "3²"):
        with raises_saying(BadInput, "--follow-up"):
            referrals.refer(store, CRN, "gp-registration", rules, follow_up=value)
    assert counts(db) == before


def test_follow_up_with_other_digit_characters_through_the_cli(cli) -> None:
    add_person(cli)
    result = cli("refer", CRN, "dentist", "--follow-up", "²", expect=2)
    assert result.stderr.startswith("Error: --follow-up")


def test_follow_up_on_update(store, rules, fixed_clock) -> None:
    add(store)
    rid = drive(store, rules, "agreed")
    rec = referrals.update(store, rid, rules, status="referred", follow_up="5")
    assert rec.follow_up_due == TODAY + timedelta(days=5)
    rec = referrals.update(store, rid, rules, status="accepted", follow_up="2026-12-24")
    assert rec.follow_up_due == date(2026, 12, 24)


def test_update_without_follow_up_uses_the_interval_from_the_step_date(
    store, rules, fixed_clock
) -> None:
    add(store)
    rid = drive(store, rules, "agreed")
    rec = referrals.update(store, rid, rules, status="referred", event_date="2026-11-20")
    assert rec.follow_up_due == date(2026, 11, 20) + timedelta(days=14)
    rec = referrals.update(store, rid, rules, status="accepted")
    assert rec.follow_up_due == TODAY + timedelta(days=14)


@pytest.mark.parametrize("day", [date(2026, 12, 2), date(2026, 11, 23), date(2026, 11, 18)])
def test_appointment_follow_up_is_the_day_after(store, rules, fixed_clock, day) -> None:
    add(store)
    rid = drive(store, rules, "accepted")
    rec = referrals.update(
        store, rid, rules, status="appointment-booked", event_date=day.isoformat()
    )
    assert rec.follow_up_due == day + timedelta(days=1)
    assert rec.events[-1].event_date == day


def test_appointment_with_explicit_follow_up(store, rules, fixed_clock) -> None:
    add(store)
    rid = drive(store, rules, "accepted")
    rec = referrals.update(
        store, rid, rules, status="appointment-booked", event_date="2026-12-02", follow_up="2"
    )
    assert rec.follow_up_due == TODAY + timedelta(days=2)


def test_appointment_without_a_date_is_today_and_followed_up_tomorrow(
    store, rules, fixed_clock
) -> None:
    # Issue 13 item 4: as the README says (it used to take the 14-day interval).
    add(store)
    rid = drive(store, rules, "accepted")
    rec = referrals.update(store, rid, rules, status="appointment-booked")
    assert rec.events[-1].event_date == TODAY
    assert rec.follow_up_due == TODAY + timedelta(days=1)


# ------------------------------------------------- issue 13 item 4: same day is same day --
@pytest.mark.parametrize(
    ("urgency", "days"), [("emergency", 0), ("same-day", 0), ("soon", 3), ("routine", 14)]
)
def test_follow_up_comes_from_the_urgency(store, rules, fixed_clock, urgency, days) -> None:
    add(store)
    rec = referrals.refer(store, CRN, "alcohol-service", rules, urgency=urgency)
    assert rules.pathway("alcohol-service").follow_up_days == 14
    assert rec.follow_up_due == TODAY + timedelta(days=days)


def test_a_same_day_suggestion_taken_up_by_command_is_due_today(cli, monkeypatch, tmp_path):
    # AUDIT 23 suggests the alcohol service (same day / emergency); referral list --due then
    # shows it that day, not 14 days later.
    from tests.cli.test_screen import negative_file

    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add_person(cli, sex="male")
    cli("consent", CRN, "--purpose", "screening", "--given")
    answers = negative_file(
        tmp_path,
        phq9_1=0,
        phq9_2=0,
        phq9_9=3,  # self-harm thoughts: an emergency flag
    )
    cli("screen", CRN, "--answers", str(answers))
    suggested = json.loads(cli("suggest", CRN, "--json").stdout)["suggestions"]
    urgent = next(s for s in suggested if s["urgency"] in ("emergency", "same-day"))
    cli("consent", CRN, "--purpose", "share-with-services", "--given")
    cli("consent", CRN, "--purpose", "share-with-gp", "--given")
    rec = json.loads(cli("refer", CRN, urgent["pathway"], "--json").stdout)
    assert rec["urgency"] == urgent["urgency"]
    assert rec["follow_up_due"] == TODAY.isoformat()
    due = json.loads(cli("referral", "list", "--due", "--json").stdout)
    assert rec["id"] in {r["id"] for r in due}


@pytest.mark.parametrize(
    ("today", "next_day"),
    [
        ("2026-11-23T10:00:00", date(2026, 11, 24)),  # Monday -> Tuesday
        ("2026-11-27T10:00:00", date(2026, 11, 30)),  # Friday -> Monday
        ("2026-11-28T10:00:00", date(2026, 11, 30)),  # Saturday -> Monday
    ],
)
def test_did_not_attend_is_followed_up_the_next_working_day(
    store, rules, monkeypatch, today, next_day
) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", today)
    add(store)
    rid = drive(store, rules, "accepted")
    referrals.update(store, rid, rules, status="appointment-booked")
    rec = referrals.update(store, rid, rules, status="did-not-attend")
    assert rec.follow_up_due == next_day


@pytest.mark.parametrize("target", sorted(referral_states.CLOSED))
def test_closing_clears_the_follow_up(store, rules, fixed_clock, target) -> None:
    add(store)
    rid = drive(store, rules, target)
    rec = referrals.show(store, rid, rules)
    assert rec.follow_up_due is None
    assert rec.overdue_days is None
    assert rec.next_steps == ()
    assert rec.to_json()["follow_up_due"] is None


def test_follow_up_through_the_cli(cli, monkeypatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add_person(cli)
    rec = json.loads(
        cli("refer", CRN, "dentist", "--referred", "--follow-up", "3", "--json").stdout
    )
    assert (rec["status"], rec["follow_up_due"]) == ("referred", "2026-11-26")
    rid = str(rec["id"])
    result = cli("referral", "update", rid, "--status", "accepted", "--follow-up", "2026-12-10")
    assert "follow up by 2026-12-10" in result.stderr
    result = cli(
        "referral",
        "update",
        rid,
        "--status",
        "appointment-booked",
        "--date",
        "2026-12-07",
        "--json",
    )
    assert json.loads(result.stdout)["follow_up_due"] == "2026-12-08"
    result = cli("refer", CRN, "naloxone", "--follow-up", "400", expect=2)
    assert "between 0 and 365" in result.stderr


# ------------------------------------------------------------------ (f) due list -------
def test_due_list_against_a_fixed_clock(store, rules, fixed_clock) -> None:
    made: dict[str, int] = {}
    for crn, pathway, follow_up in [
        ("A000001", "gp-registration", "2026-11-20"),  # 3 days overdue
        ("A000002", "gp-registration", "2026-11-23"),  # due today
        ("A000003", "gp-registration", "2026-11-24"),  # due tomorrow
        ("A000004", "gp-registration", "2026-11-01"),  # 22 days overdue
        ("A000004", "dentist", "2026-11-10"),
        ("A000005", "gp-registration", "2026-11-02"),  # will be completed
        ("A000006", "gp-registration", "2026-11-03"),  # will be withdrawn
    ]:
        if not any(key.startswith(crn) for key in made):
            add(store, crn)
        made[f"{crn}/{pathway}"] = referrals.refer(
            store, crn, pathway, rules, follow_up=follow_up
        ).id
    completed = made["A000005/gp-registration"]
    for step in ("referred", "accepted", "completed"):
        follow_up = None if step == "completed" else "2026-11-02"  # a closed referral has none
        referrals.update(
            store, completed, rules, status=step, follow_up=follow_up, **STEP_ARGS.get(step, {})
        )
    referrals.update(
        store, made["A000006/gp-registration"], rules, status="withdrawn", reason="moved-area"
    )
    referrals.refer(
        store, "A000001", "dentist", rules, status="declined-by-person", reason="cannot-attend"
    )
    due = referrals.listing(store, rules, due=True)
    assert [(r.crn, r.pathway_id, r.follow_up_due) for r in due] == [
        ("A000004", "gp-registration", date(2026, 11, 1)),
        ("A000004", "dentist", date(2026, 11, 10)),
        ("A000001", "gp-registration", date(2026, 11, 20)),
        ("A000002", "gp-registration", date(2026, 11, 23)),
    ]
    assert [r.overdue_days for r in due] == [22, 13, 3, 0]
    assert all(r.is_open for r in due)
    assert len(referrals.listing(store, rules)) == 8
    # One person's due referrals only.
    assert [r.pathway_id for r in referrals.listing(store, rules, crn="A000004", due=True)] == [
        "gp-registration",
        "dentist",
    ]
    assert referrals.listing(store, rules, crn="A000003", due=True) == []


def test_a_closed_referral_is_never_due(store, rules, monkeypatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add(store)
    done = drive(store, rules, "completed")
    gone = drive(store, rules, "withdrawn", pathway="dentist")
    declined = drive(store, rules, "declined-by-person", pathway="naloxone")
    # A year later, nothing closed has fallen due.
    monkeypatch.setenv("PROBHEALTH_NOW", "2027-11-23T10:00:00")
    assert referrals.listing(store, rules, due=True) == []
    statuses = {r.id: r.status for r in referrals.listing(store, rules, status="closed")}
    assert statuses == {done: "completed", gone: "withdrawn", declined: "declined-by-person"}


def test_due_uses_the_date_in_london(store, rules, monkeypatch) -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-07-01T12:00:00")
    add(store)
    referrals.refer(store, CRN, "gp-registration", rules, follow_up="2026-07-02")
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-07-01T22:59:00")
    assert referrals.listing(store, rules, due=True) == []
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-07-01T23:30:00")
    assert [r.follow_up_due for r in referrals.listing(store, rules, due=True)] == [
        date(2026, 7, 2)
    ]


def test_listing_by_status(store, rules) -> None:
    add(store)
    a = drive(store, rules, "accepted")
    w = drive(store, rules, "withdrawn", pathway="dentist")
    assert [r.id for r in referrals.listing(store, rules, status="open")] == [a]
    assert [r.id for r in referrals.listing(store, rules, status="withdrawn,accepted")] == [a, w]
    with raises_saying(BadInput, "Unknown status 'finished'"):
        referrals.listing(store, rules, status="finished")
    with pytest.raises(NotFound):
        referrals.listing(store, rules, crn="Q999999")


def test_due_list_through_the_cli(cli, monkeypatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add_person(cli)
    cli("refer", CRN, "naloxone", "--follow-up", "2026-11-22")
    cli("refer", CRN, "dentist", "--follow-up", "2026-11-05")
    cli("refer", CRN, "food-support", "--follow-up", "2026-11-24")  # tomorrow
    closed = json.loads(
        cli("refer", CRN, "gp-registration", "--follow-up", "2026-11-01", "--json").stdout
    )["id"]
    cli("referral", "update", str(closed), "--status", "withdrawn", "--reason", "lost-contact")
    rows = json.loads(cli("referral", "list", "--due", "--json").stdout)
    assert [(r["pathway"], r["follow_up_due"], r["overdue_days"]) for r in rows] == [
        ("dentist", "2026-11-05", 18),
        ("naloxone", "2026-11-22", 1),
    ]
    assert all(r["status"] == "agreed" and r["crn"] == CRN for r in rows)
    table = cli("referral", "list", "--due").stdout
    assert "Naloxone" in table
    assert "Food support" not in table


def test_lists_read_whole_at_80_columns(cli, monkeypatch, tmp_path, narrow) -> None:
    """At an 80-column terminal the id, CRN, status, follow-up date and lateness a worker
    reads (and types back) are never broken across lines, and a long service id does not
    squeeze the pathway's name into fragments (it sits under the pathway's name)."""
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    directory = tmp_path / "services.csv"
    directory.write_text(
        "id,name,fictional,pathways,areas,self_referral,how_to_refer,last_verified\n"
        "nat-a-rather-long-service-identifier,Line (fictional),yes,learning-disability-support,*,yes,"
        "Call.,2026-10-01\n",
        encoding="utf-8",
    )
    add_person(cli)
    cli("services", "load", str(directory))
    cli("consent", CRN, "--purpose", "share-with-services", "--given")
    rid = json.loads(
        cli(
            "refer",
            CRN,
            "learning-disability-support",
            "--service",
            "nat-a-rather-long-service-identifier",
            "--follow-up",
            "2026-11-05",
            "--json",
        ).stdout
    )["id"]
    for step in ("referred", "accepted"):
        cli("referral", "update", str(rid), "--status", step, "--follow-up", "2026-11-05")
    cli("referral", "update", str(rid), "--status", "appointment-booked", "--date", "2026-11-23")
    cli("refer", CRN, "dentist", "--declined", "--reason", "not-wanted-now")
    for args in (["referral", "list"], ["referral", "list", CRN], ["referral", "show", str(rid)]):
        shown = cli(*args).stdout
        lines = shown.splitlines()
        assert max(len(line) for line in lines) <= 80, shown
        for whole in ("appointment-booked", CRN):
            assert any(whole in line for line in lines), (whole, shown)
    listed = cli("referral", "list").stdout
    for whole in ("declined-by-person", "Learning disability or", "Line (fictional)"):
        assert whole in listed, (whole, listed)
    cli(
        "referral",
        "update",
        str(rid),
        "--status",
        "appointment-booked",
        "--date",
        "2026-11-23",
        "--follow-up",
        "2026-11-05",
    )
    due = cli("referral", "list", "--due").stdout
    assert "18 days late" in due and "2026-11-05" in due, due


def test_lists_and_show_name_the_service(cli, monkeypatch, tmp_path, narrow) -> None:
    """User review: referral list and show gave the service's id ("cam-food-bank") where the
    worker needs its name. The name comes from the directory; --json keeps the id and adds
    the name; a service no longer in the directory still shows its id."""
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    directory = tmp_path / "services.csv"
    header = "id,name,fictional,pathways,areas,self_referral,how_to_refer,last_verified\n"
    directory.write_text(
        header + "nat-ld-line,Learning disability advice line (fictional),yes,"
        "learning-disability-support,*,yes,Call.,2026-10-01\n",
        encoding="utf-8",
    )
    add_person(cli)
    cli("services", "load", str(directory))
    cli("consent", CRN, "--purpose", "share-with-services", "--given")
    made = cli("refer", CRN, "learning-disability-support", "--service", "nat-ld-line", "--json")
    rid = json.loads(made.stdout)["id"]
    assert json.loads(made.stdout)["service_name"] == "Learning disability advice line (fictional)"
    for args in (["referral", "list"], ["referral", "list", CRN]):
        shown = cli(*args).stdout
        assert max(len(line) for line in shown.splitlines()) <= 80, shown
        assert "Learning disability advice line" in shown and "nat-ld-line" not in shown, shown
    shown = cli("referral", "show", str(rid)).stdout
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    assert "Learning disability advice line (fictional) (nat-ld-line)" in " ".join(shown.split())
    (row,) = json.loads(cli("referral", "list", "--json").stdout)
    assert (row["service"], row["service_name"]) == (
        "nat-ld-line",
        "Learning disability advice line (fictional)",
    )
    one = json.loads(cli("referral", "show", str(rid), "--json").stdout)
    assert (one["service"], one["service_name"]) == (row["service"], row["service_name"])
    # Not in the directory any more (removed by hand): the id, so the worker can look it up.
    for table in ("service_pathway", "service_area"):
        query(cli.db, f"DELETE FROM {table} WHERE service_id = 'nat-ld-line'")
    query(cli.db, "DELETE FROM service WHERE id = 'nat-ld-line'")
    assert "nat-ld-line" in cli("referral", "list").stdout
    assert json.loads(cli("referral", "list", "--json").stdout)[0]["service_name"] is None


# ------------------------------------------------------------------ (g) duplicates -----
def test_second_open_referral_for_a_pathway_is_refused(store, rules, db) -> None:
    add(store)
    first = drive(store, rules, "accepted")
    before = counts(db)
    with pytest.raises(BadInput) as info:
        referrals.refer(store, CRN, "gp-registration", rules)
    assert f"already has an open referral {first} for Register with a GP (accepted)" in str(
        info.value
    )
    assert f"probhealth referral update {first} --status" in explain(info.value)
    with raises_saying(BadInput, "already has an open referral"):
        referrals.refer(store, CRN, " GP-Registration ", rules, self_referral=True)
    with raises_saying(BadInput, "already has an open referral"):
        referrals.refer(store, CRN, "gp-registration", rules, status="referred")
    assert counts(db) == before
    # Another pathway, or another person, is fine; so is a new one once the first is closed.
    referrals.refer(store, CRN, "dentist", rules)
    add(store, "B000002")
    referrals.refer(store, "B000002", "gp-registration", rules)
    referrals.update(store, first, rules, status="completed", outcome="not-achieved")
    again = referrals.refer(store, CRN, "gp-registration", rules)
    assert again.id != first and again.status == "agreed"


def test_duplicate_through_the_cli(cli, db) -> None:
    add_person(cli)
    cli("refer", CRN, "dentist")
    before = fingerprint(db)
    result = cli("refer", CRN, "dentist", expect=2)
    assert "already has an open referral 1" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert fingerprint(db) == before


def test_refer_refuses_unknown_things(store, rules, db) -> None:
    add(store)
    before = counts(db)
    with raises_saying(BadInput, "Unknown pathway 'gp'"):
        referrals.refer(store, CRN, "gp", rules)
    with raises_saying(NotFound, "No person with CRN Q999999"):
        referrals.refer(store, "q999999", "gp-registration", rules)
    with raises_saying(NotFound, "No service 'nowhere'"):
        referrals.refer(store, CRN, "gp-registration", rules, service_id="nowhere")
    with raises_saying(BadInput, "starts as agreed, referred or declined-by-person"):
        referrals.refer(store, CRN, "gp-registration", rules, status="completed")
    assert counts(db) == before


def test_refer_to_a_service_that_offers_the_pathway(cli, tmp_path) -> None:
    directory = tmp_path / "services.csv"
    directory.write_text(
        "id,name,fictional,pathways,areas,self_referral,how_to_refer,last_verified\n"
        "t-dentist,Tooth (fictional),yes,dentist,CB1,yes,Call.,2026-10-01\n"
        "t-gp,Surgery (fictional),yes,gp-registration;vaccination,CB1,yes,Call.,2026-10-01\n",
        encoding="utf-8",
    )
    add_person(cli)
    cli("services", "load", str(directory))
    result = cli("refer", CRN, "dentist", "--service", "t-gp", expect=2)
    assert "Service t-gp does not offer Find an NHS dentist." in result.stderr
    rec = json.loads(cli("refer", CRN, "dentist", "--service", "t-dentist", "--json").stdout)
    assert rec["service"] == "t-dentist"


# ------------------------------------------------------------------ (h) goals ----------
def test_goal_add_review_and_close(store, fixed_clock) -> None:
    add(store)
    goal = goals.add(
        store, CRN, "Register with a GP", domain="primary-care-access", target_date="2026-12-15"
    )
    assert goal.status == "active"
    assert goal.domain == "primary-care-access"
    assert goal.target_date == date(2026, 12, 15)
    assert goal.created_by == "tester"
    for progress in ("not-yet", "partly", " PARTLY "):
        goal = goals.review(store, goal.id, progress=progress, note="step by step")
        assert goal.status == "active"
    assert [r[0] for r in goal.reviews] == ["not-yet", "partly", "partly"]
    assert {r[2] for r in goal.reviews} == {"tester"}
    goal = goals.review(store, goal.id, progress="achieved")
    assert goal.status == "achieved"
    with raises_saying(BadInput, "is achieved; only active goals are reviewed"):
        goals.review(store, goal.id, progress="partly")


@pytest.mark.parametrize("progress", ["achieved", "dropped"])
def test_achieved_and_dropped_close_the_goal(store, progress) -> None:
    add(store)
    goal = goals.add(store, CRN, "Stop smoking", domain="smoking")
    closed = goals.review(store, goal.id, progress=progress, note="reviewed")
    assert closed.status == progress
    assert goals.list_for(store, CRN) == []
    listed = goals.list_for(store, CRN, include_closed=True)
    assert [(g.id, g.status) for g in listed] == [(goal.id, progress)]
    assert listed[0].reviews[0][:2] == (progress, "reviewed")


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("See a dentist", {"domain": "teeth"}, "Unknown domain 'teeth'"),
        ("See a dentist", {"target_date": "2026-11-22"}, "between today and three years ahead"),
        ("See a dentist", {"target_date": "2030-01-01"}, "between today and three years ahead"),
        ("See a dentist", {"target_date": "next week"}, "target-date"),
        ("   ", {}, "The goal is empty"),
        ("", {}, "The goal is empty"),
    ],
)
def test_bad_goals_are_refused(store, db, fixed_clock, text, options, message) -> None:
    add(store)
    before = counts(db)
    with raises_saying(BadInput, message):
        goals.add(store, CRN, text, **options)
    assert counts(db) == before


def test_goal_target_today_is_allowed(store, fixed_clock) -> None:
    add(store)
    assert goals.add(store, CRN, "Call the surgery", target_date="2026-11-23").target_date == TODAY


def test_bad_reviews_are_refused(store, db) -> None:
    add(store)
    goal = goals.add(store, CRN, "Walk daily")
    before = counts(db)
    with pytest.raises(
        BadInput, match="'progress' must be one of: achieved, partly, not-yet, dropped"
    ):
        goals.review(store, goal.id, progress="done")
    with raises_saying(NotFound, "No goal 99"):
        goals.review(store, 99, progress="partly")
    assert counts(db) == before
    with pytest.raises(NotFound):
        goals.add(store, "Q999999", "Walk daily")


def test_goals_list_with_and_without_all(store) -> None:
    add(store)
    a = goals.add(store, CRN, "First")
    b = goals.add(store, CRN, "Second", domain="dental")
    c = goals.add(store, CRN, "Third")
    goals.review(store, b.id, progress="dropped")
    goals.review(store, c.id, progress="partly")
    assert [g.id for g in goals.list_for(store, CRN)] == [a.id, c.id]
    assert [g.id for g in goals.list_for(store, CRN, include_closed=True)] == [
        a.id,
        b.id,
        c.id,
    ]


def test_goals_through_the_cli(cli, db, monkeypatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    add_person(cli)
    cli("consent", CRN, "--purpose", "health-trainer", "--given")
    goal = json.loads(
        cli(
            "goal",
            "add",
            CRN,
            "Register with a GP",
            "--domain",
            "primary-care-access",
            "--target-date",
            "2026-12-15",
            "--json",
        ).stdout
    )
    assert goal["status"] == "active" and goal["target_date"] == "2026-12-15"
    other = json.loads(cli("goal", "add", CRN, "See a dentist", "--json").stdout)
    before = fingerprint(db)
    result = cli("goal", "review", str(goal["id"]), "--progress", "meh", expect=2)
    assert "--progress must be one of" in result.stderr
    assert fingerprint(db) == before
    result = cli("goal", "review", str(goal["id"]), "--progress", "partly", "--note", "went once")
    assert "goal is active" in result.stderr
    reviewed = json.loads(
        cli("goal", "review", str(goal["id"]), "--progress", "achieved", "--json").stdout
    )
    assert reviewed["status"] == "achieved"
    assert [r["progress"] for r in reviewed["reviews"]] == ["partly", "achieved"]
    assert reviewed["reviews"][0]["note"] == "went once"
    assert reviewed["reviews"][0]["by"] == "tester"
    active = json.loads(cli("goal", "list", CRN, "--json").stdout)
    assert [g["id"] for g in active] == [other["id"]]
    everything = json.loads(cli("goal", "list", CRN, "--all", "--json").stdout)
    assert [g["id"] for g in everything] == [goal["id"], other["id"]]
    table = cli("goal", "list", CRN, "--all").stdout
    assert "Register with a GP" in table and "achieved" in table


def test_a_mistyped_word_gets_a_did_you_mean(cli, db) -> None:
    """A status, reason, outcome, sex, need domain or barrier type typed with a slip is
    refused on one line, with the nearest word, and nothing is changed."""
    add_person(cli)
    rid = json.loads(cli("refer", CRN, "dentist", "--self-referral", "--json").stdout)["id"]
    for step in ("referred", "accepted"):
        cli("referral", "update", str(rid), "--status", step)
    before = fingerprint(db)
    for args, meant in (
        (["referral", "update", str(rid), "--status", "atended"], "attended"),
        (
            ["referral", "update", str(rid), "--status", "withdrawn", "--reason", "moved"],
            "moved-area",
        ),
        (
            ["referral", "update", str(rid), "--status", "completed", "--outcome", "acheived"],
            "achieved",
        ),
        (["referral", "list", "--status", "opne"], "open"),
        (["barrier", "add", CRN, "transprot"], "transport"),
        (["need", "add", CRN, "housng"], "housing"),
        (
            [
                "person",
                "add",
                "--crn",
                "X654321",
                "--given",
                "A",
                "--family",
                "B",
                "--dob",
                "1990-01-01",
                "--sex",
                "femal",
            ],
            "female",
        ),
    ):
        err = cli(*args, expect=2).stderr
        assert err.strip().endswith(f"Did you mean {meant!r}?"), (args, err)
        assert len(err.strip().splitlines()) == 1, err
    assert fingerprint(db) == before


def test_a_step_or_review_names_whose_record_it_was(cli) -> None:
    """Referral and goal ids run across the caseload: ``goal review 1`` typed from the README
    reviewed another person's goal and said only "Goal 1 reviewed". Each confirmation now
    names the person (and the pathway), so a wrong id shows at once."""
    add_person(cli)
    cli("consent", CRN, "--purpose", "health-trainer", "--given")
    rid = json.loads(cli("refer", CRN, "dentist", "--self-referral", "--json").stdout)["id"]
    stepped = cli("referral", "update", str(rid), "--status", "referred").stderr
    assert f"Referral {rid} ({CRN}, Find an NHS dentist) is now referred;" in stepped
    assert f"set for {CRN}." in cli("goal", "add", CRN, "Walk daily").stderr
    gid = json.loads(cli("goal", "add", CRN, "See a dentist", "--json").stdout)["id"]
    reviewed = cli("goal", "review", str(gid), "--progress", "Partly").stderr
    assert f"Goal {gid} for {CRN} reviewed: partly (goal is active)." in reviewed
