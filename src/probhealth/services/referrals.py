"""Referrals followed until they close, and health-trainer goals.

A referral moves through the states in ``referral_states``; each step is kept as an event
(who, when it happened, coded reason, note). A referral that shares information with a
service needs the person's consent to share with it (``share-with-services``, or
``share-with-gp`` for a pathway routed through the GP), checked when it is made and again at the
step that sends details ("referred"); a self-referral does not. A pathway may need a purpose of
its own whoever makes contact (the health trainer: ``health-trainer``). Every open referral has
a follow-up date, so nothing is forgotten; a closed one never falls due.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from probhealth import clock, referral_states, validation
from probhealth.errors import BadInput, NotFound, Remedy
from probhealth.referral_states import adjustments_in_place
from probhealth.rules.model import Pathway, RuleSet
from probhealth.services import consent
from probhealth.services.people import require_person
from probhealth.store import audit
from probhealth.store import directory as dir_repo
from probhealth.store import people as people_repo
from probhealth.store import referrals as repo
from probhealth.store import suggestions as suggestions_repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Person, Referral, ReferralEvent
from probhealth.textsafe import clean_note


# ---------------------------------------------------------------- records ---------------
@dataclass(frozen=True)
class EventRecord:
    from_status: str | None
    to_status: str
    reason: str | None
    note: str | None
    event_date: date
    recorded_by: str
    recorded_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_status,
            "to": self.to_status,
            "reason": self.reason,
            "note": self.note,
            "date": self.event_date.isoformat(),
            "recorded_by": self.recorded_by,
            "recorded_at": clock.iso_utc(self.recorded_at),
        }


@dataclass(frozen=True)
class ReferralRecord:
    id: int
    crn: str
    pathway_id: str
    pathway_name: str
    service_id: str | None
    self_referral: bool
    status: str
    urgency: str | None
    follow_up_due: date | None
    outcome: str | None
    closed_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    reasons: tuple[str, ...] = ()
    events: tuple[EventRecord, ...] = ()
    service_name: str | None = None  # from the directory (None: no service, or not in it)

    @property
    def is_open(self) -> bool:
        return self.status in referral_states.OPEN

    @property
    def overdue_days(self) -> int | None:
        if self.follow_up_due is None or not self.is_open:
            return None
        return (clock.today() - self.follow_up_due).days

    @property
    def next_steps(self) -> tuple[str, ...]:
        return referral_states.allowed(self.status)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crn": self.crn,
            "pathway": self.pathway_id,
            "pathway_name": self.pathway_name,
            "service": self.service_id,
            "service_name": self.service_name,
            "self_referral": self.self_referral,
            "status": self.status,
            "urgency": self.urgency,
            "follow_up_due": self.follow_up_due.isoformat() if self.follow_up_due else None,
            "overdue_days": self.overdue_days,
            "outcome": self.outcome,
            "closed_reason": self.closed_reason,
            "next_steps": list(self.next_steps),
            "created_by": self.created_by,
            "created_at": clock.iso_utc(self.created_at),
            "updated_at": clock.iso_utc(self.updated_at),
            "reasons": list(self.reasons),
            "history": [e.to_json() for e in self.events],
        }


@dataclass(frozen=True)
class AdjustmentRecord:
    """A way of working (easy read) taken up: recorded on the person's communication needs,
    not as a referral; it has no service and no follow-up date."""

    crn: str
    pathway_id: str
    pathway_name: str
    communication_needs: str
    already: bool  # it was recorded before; nothing changed

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "kind": "adjustment",
            "pathway": self.pathway_id,
            "pathway_name": self.pathway_name,
            "communication_needs": self.communication_needs,
            "already_recorded": self.already,
            "follow_up_due": None,
        }


def _adjust(store: Store, crn: str, pathway: Pathway) -> AdjustmentRecord:
    with store.write() as session:
        person = require_person(session, crn)
        current = person.communication_needs or ""
        already = pathway.id in adjustments_in_place(current)
        if not already:
            entry = f"{pathway.name} ({pathway.id})"
            person.communication_needs = clean_note(
                f"{current.rstrip('. ')}; {entry}" if current.strip() else entry,
                "Communication needs",
                max_len=500,
            )
            person.updated_at = clock.now()
            session.add(person)
            audit.append(
                session,
                actor=store.actor,
                action="person.adjustment",
                entity="person",
                entity_id=person.id,
                detail={"pathway": pathway.id},
            )
        return AdjustmentRecord(
            person.crn, pathway.id, pathway.name, person.communication_needs or "", already
        )


def _record(
    row: Referral,
    person: Person,
    rules: RuleSet | None,
    events: list[ReferralEvent] | None = None,
    service_name: str | None = None,
) -> ReferralRecord:
    assert row.id is not None
    pathway = rules.pathway(row.pathway_id) if rules else None
    reasons = tuple(r.get("because", "") for r in json.loads(row.reasons or "[]"))
    return ReferralRecord(
        id=row.id,
        crn=person.crn,
        pathway_id=row.pathway_id,
        pathway_name=pathway.name if pathway else row.pathway_id,
        service_id=row.service_id,
        self_referral=row.self_referral,
        status=row.status,
        urgency=row.urgency,
        follow_up_due=row.follow_up_due,
        outcome=row.outcome,
        closed_reason=row.closed_reason,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reasons=reasons,
        service_name=service_name,
        events=tuple(
            EventRecord(
                e.from_status,
                e.to_status,
                e.reason,
                e.note,
                e.event_date,
                e.recorded_by,
                e.recorded_at,
            )
            for e in events or ()
        ),
    )


def to_records(
    session: Session, rows: Sequence[tuple[Referral, Person]], rules: RuleSet | None
) -> list[ReferralRecord]:
    """Records of rows read elsewhere (the ``today`` view), without their history."""
    names = dir_repo.names_of(session, (r.service_id for r, _ in rows))
    return [_record(r, p, rules, service_name=names.get(r.service_id or "")) for r, p in rows]


def _full_record(
    session: Session, row: Referral, person: Person, rules: RuleSet | None
) -> ReferralRecord:
    """One referral with its history and its service's name."""
    assert row.id is not None
    names = dir_repo.names_of(session, [row.service_id])
    return _record(
        row, person, rules, list(repo.events(session, row.id)), names.get(row.service_id or "")
    )


# ---------------------------------------------------------------- helpers ---------------
def _require_route_consent(
    session: Session,
    person: Person,
    pathway: Pathway | None,
    self_referral: bool,
    what: str,
    *,
    can_self_refer: bool,
) -> None:
    """Every consent the route needs (``consent.require``): a referral the worker sends needs
    consent to share with whoever it goes to; some pathways need their own purpose too."""
    purposes = (
        pathway.consent_purposes(self_referral)
        if pathway is not None
        else (() if self_referral else ("share-with-services",))
    )
    for purpose in purposes:
        consent.require(
            session,
            person,
            purpose,
            what,
            or_self_referral=can_self_refer and purpose.startswith("share-with"),
        )


# "Soon" means within a few days: follow up after this many (policy, not a published figure;
# UNVERIFIED, change it here) unless the pathway's own interval is shorter.
SOON_DAYS = 3


def default_follow_up_days(urgency: str | None, pathway: Pathway | None) -> int:
    """Days until the follow-up when none is given: emergency and same-day today, soon within
    a few days, routine (or not suggested) the pathway's interval."""
    interval = pathway.follow_up_days if pathway is not None else 14
    if urgency in ("emergency", "same-day"):
        return 0
    if urgency == "soon":
        return min(SOON_DAYS, interval)
    return interval


def next_working_day(day: date) -> date:
    """The next Monday-to-Friday after ``day`` (bank holidays are not known here)."""
    nxt = day + timedelta(days=1)
    while nxt.weekday() >= 5:
        nxt += timedelta(days=1)
    return nxt


def _follow_up(value: str | None, default_days: int, base: date) -> date:
    """The follow-up as a number of days or a date; default: the pathway's interval."""
    if value is None:
        return base + timedelta(days=default_days)
    text = value.strip()
    if text.isascii() and text.isdigit():
        days = int(text)
        if not 0 <= days <= 365:
            raise BadInput("{opt:follow-up} in days must be between 0 and 365.")
        return base + timedelta(days=days)
    day = validation.iso_date(text, "{opt:follow-up}")
    if day < base - timedelta(days=366) or day > base + timedelta(days=366):
        raise BadInput("{opt:follow-up} must be within a year of today.")
    return day


def decided_at(store: Store, screening_id: int) -> frozenset[str]:
    """Pathways with a decision recorded after this screening (agreed or declined, open or
    closed since): the follow-up step does not ask about them again."""
    with store.read() as session:
        return frozenset(repo.pathways_for_screening(session, screening_id))


# ---------------------------------------------------------------- referrals -------------
def refer(
    store: Store,
    crn: str,
    pathway_id: str,
    rules: RuleSet,
    *,
    service_id: str | None = None,
    self_referral: bool | None = None,
    note: str | None = None,
    follow_up: str | None = None,
    status: str = "agreed",
    reasons: list[dict[str, str]] | None = None,
    urgency: str | None = None,
    screening_id: int | None = None,
    reason: str | None = None,
) -> ReferralRecord | AdjustmentRecord:
    """Record that the person takes up a pathway (``agreed``), or declines it. An adjustment
    pathway (easy read) taken up is recorded on the person instead (``AdjustmentRecord``).

    A referral the worker sends (not a self-referral) shares the person's details, so it needs
    ``share-with-services`` consent; a self-referral ("make contact") does not."""
    pathway = rules.pathway(pathway_id.strip().lower())
    if pathway is None:
        hint = validation.did_you_mean(pathway_id, (p.id for p in rules.pathways))
        raise BadInput(f"Unknown pathway {pathway_id!r}.{hint}", remedy=Remedy.of("show-rules"))
    if status not in ("agreed", "declined-by-person", "referred"):
        raise BadInput("A new referral starts as agreed, referred or declined-by-person.")
    if pathway.adjustment and status != "declined-by-person":
        # A way of working, not a service: recorded on the person, with no follow-up date.
        if service_id is not None or follow_up is not None or self_referral is False:
            raise BadInput(
                f"{pathway.name} is a way of working, not a referral: it is recorded on the"
                " person, with no service, route or follow-up date."
            )
        return _adjust(store, crn, pathway)
    self_referral = _route(pathway, self_referral)
    clean = clean_note(note, "Note") if note else None
    if status == "declined-by-person":
        _check_reason(status, reason, clean)
    elif reason is not None:
        raise BadInput("A reason is only recorded when the person declines.")
    today = clock.today()
    # A follow-up given is checked now; the default waits for the urgency (below).
    due = (
        None
        if status == "declined-by-person" or follow_up is None
        else _follow_up(follow_up, pathway.follow_up_days, today)
    )
    now = clock.now()
    with store.write() as session:
        person = require_person(session, crn)
        if service_id is not None:
            _check_service(session, service_id, pathway)
        if status != "declined-by-person" and not self_referral and pathway.shares_with == "gp":
            _refuse_without_gp(session, person, pathway)
        if status != "declined-by-person":
            _require_route_consent(
                session,
                person,
                pathway,
                self_referral,
                f"Referring {person.crn} to {pathway.name}",
                can_self_refer=pathway.self_referral and not self_referral,
            )
            _refuse_second_open(session, person, pathway)
        if reasons is None and urgency is None and screening_id is None:
            # Taken up by command: keep why the rules suggested it, as the guided flow does.
            reasons, urgency, screening_id = _why_suggested(session, person, pathway)
        if due is None and status != "declined-by-person":
            # Same day means same day: the suggestion's urgency sets the default.
            due = today + timedelta(days=default_follow_up_days(urgency, pathway))
        closed = status in referral_states.CLOSED
        row = Referral(
            person_id=person.id,
            pathway_id=pathway.id,
            service_id=service_id,
            self_referral=self_referral,
            status=status,
            urgency=urgency,
            screening_id=screening_id,
            reasons=json.dumps(reasons or [], ensure_ascii=False),
            follow_up_due=due,
            closed_reason=reason if closed else None,
            created_by=store.actor,
            created_at=now,
            updated_at=now,
            closed_at=now if closed else None,
        )
        repo.add(session, row)
        assert row.id is not None
        _first_steps(session, row.id, status, clean, reason, today, store.actor, now)
        audit.append(
            session,
            actor=store.actor,
            action="referral.create",
            entity="referral",
            entity_id=row.id,
            detail={"pathway": pathway.id, "status": status, "self_referral": self_referral},
        )
        return _full_record(session, row, person, rules)


def _refuse_without_gp(session: Session, person: Person, pathway: Pathway) -> None:
    """A referral through the GP for someone whose screening says they have no GP is never
    sent as if they had one: the no-GP route instead (issue 13 item 4)."""
    from probhealth.services import suggest

    if suggest.has_no_gp(session, person):
        raise BadInput(
            f"{person.crn} has no GP (their latest screening says so), so {pathway.name} "
            f"cannot be sent through one. {suggest.no_gp_route(pathway)}",
            remedy=Remedy.of("register-gp-first", crn=person.crn),
        )


def _route(pathway: Pathway, self_referral: bool | None) -> bool:
    """Whether the person contacts the service themselves: as asked, else the pathway's usual
    route (themselves, unless the pathway shares information: a referral the worker sends)."""
    if self_referral is None:
        return pathway.self_referral and not pathway.shares_information
    if self_referral and not pathway.self_referral:
        raise BadInput(
            f"{pathway.name} does not take self-referrals; leave out {{opt:self-referral}}."
        )
    return self_referral


def _check_service(session: Session, service_id: str, pathway: Pathway) -> None:
    service = dir_repo.get(session, service_id)
    if service is None:
        raise NotFound(
            f"No service {service_id!r} in the directory.",
            remedy=Remedy.of("list-services", pathway=pathway.id),
        )
    if pathway.id not in json.loads(service.data).get("pathways", []):
        raise BadInput(f"Service {service_id} does not offer {pathway.name}.")


def _refuse_second_open(session: Session, person: Person, pathway: Pathway) -> None:
    for existing in repo.open_for(session, person.id):
        if existing.pathway_id == pathway.id:
            raise BadInput(
                f"{person.crn} already has an open referral {existing.id} for {pathway.name} ({existing.status}).",
                remedy=Remedy.of("update-referral", id=existing.id),
            )


def _why_suggested(
    session: Session, person: Person, pathway: Pathway
) -> tuple[list[dict[str, str]] | None, str | None, int | None]:
    """(reasons, urgency, screening) of the latest suggestion of the pathway, if any."""
    suggested = suggestions_repo.latest_suggestion(
        session, person_id=person.id, pathway_id=pathway.id
    )
    if suggested is None:
        return None, None, None
    reasons = [{"rule": r["rule"], "because": r["because"]} for r in json.loads(suggested.reasons)]
    return reasons, suggested.urgency, suggested.screening_id


def _first_steps(
    session: Session,
    referral_id: int,
    status: str,
    note: str | None,
    reason: str | None,
    today: date,
    actor: str,
    now: datetime,
) -> None:
    """The history of a new referral: suggested -> its status (via agreed when referred)."""
    path = ["agreed", "referred"] if status == "referred" else [status]
    previous = "suggested"
    for step in path:
        repo.add(
            session,
            ReferralEvent(
                referral_id=referral_id,
                from_status=previous,
                to_status=step,
                note=note,
                reason=reason if step == status else None,
                event_date=today,
                recorded_by=actor,
                recorded_at=now,
            ),
        )
        previous = step


def _check_reason(status: str, reason: str | None, note: str | None) -> None:
    codes = referral_states.REASONS.get(status)
    if codes is None:
        return
    if reason is None:
        raise BadInput(f"Moving to {status} needs {{opt:reason}}, one of: {', '.join(codes)}.")
    if reason not in codes:
        raise BadInput(
            f"Reason for {status} must be one of: {', '.join(codes)}."
            + validation.did_you_mean(reason, codes)
        )
    if reason == "other" and not note:
        raise BadInput("Reason 'other' needs a {opt:note} saying what happened.")


def require_referral(session: Session, referral_id: int) -> tuple[Referral, Person]:
    """The referral with this id and its person, or NotFound with a hint (inside a store
    session)."""
    row = repo.get(session, validation.record_id(referral_id, "referral"))
    if row is None:
        raise NotFound(f"No referral {referral_id}.", remedy=Remedy.of("list-referrals"))
    person = people_repo.by_id(session, row.person_id)
    assert person is not None
    return row, person


def update(
    store: Store,
    referral_id: int,
    rules: RuleSet,
    *,
    status: str,
    reason: str | None = None,
    note: str | None = None,
    event_date: str | None = None,
    outcome: str | None = None,
    follow_up: str | None = None,
) -> ReferralRecord:
    """Move a referral one step on; refuses steps the state machine does not allow."""
    status = status.strip().lower()
    if status not in referral_states.STATUSES:
        raise BadInput(
            f"Unknown status {status!r}; statuses: {', '.join(referral_states.STATUSES)}."
            + validation.did_you_mean(status, referral_states.STATUSES)
        )
    clean = clean_note(note, "Note") if note else None
    reason = reason.strip().lower() if reason else None
    today = clock.today()
    when = _event_day(event_date, status, today)
    now = clock.now()
    with store.write() as session:
        row, person = require_referral(session, referral_id)
        _check_step(session, row, status, reason, clean, outcome, follow_up, when)
        pathway = rules.pathway(row.pathway_id)
        if status in referral_states.SHARES_INFORMATION_AT and not row.self_referral:
            _require_route_consent(
                session,
                person,
                pathway,
                False,
                f"Sending referral {referral_id}",
                can_self_refer=False,
            )
        previous = row.status
        row.status = status
        row.updated_at = now
        if status in referral_states.CLOSED:
            row.follow_up_due = None
            row.closed_at = now
            row.outcome = outcome
            row.closed_reason = reason
        elif status == "appointment-booked" and follow_up is None:
            # Without a date the appointment is today; check attendance the day after.
            row.follow_up_due = when + timedelta(days=1)
        elif status == "did-not-attend" and follow_up is None:
            row.follow_up_due = next_working_day(today)  # a missed appointment is chased at once
        elif follow_up is None:
            base = when if when <= today else today
            row.follow_up_due = base + timedelta(days=default_follow_up_days(row.urgency, pathway))
        else:
            base = when if when <= today else today
            row.follow_up_due = _follow_up(
                follow_up, pathway.follow_up_days if pathway else 14, base
            )
        if status == "rejected-by-service":
            row.closed_reason = reason
        elif status not in referral_states.CLOSED:
            row.closed_reason = None  # re-opened (e.g. sent again after a rejection)
        session.add(row)
        repo.add(
            session,
            ReferralEvent(
                referral_id=referral_id,
                from_status=previous,
                to_status=status,
                reason=reason,
                note=clean,
                event_date=when,
                recorded_by=store.actor,
                recorded_at=now,
            ),
        )
        audit.append(
            session,
            actor=store.actor,
            action="referral.update",
            entity="referral",
            entity_id=referral_id,
            detail={"from": previous, "to": status, "reason": reason, "outcome": outcome},
        )
        return _full_record(session, row, person, rules)


def _event_day(event_date: str | None, status: str, today: date) -> date:
    """The day a step happened (default today): within a year, and ahead only for a booking."""
    when = validation.parse_date(event_date, "{opt:date}") or today
    if when > today + timedelta(days=366) or when < today - timedelta(days=366):
        raise BadInput("{opt:date} must be within a year of today.")
    if status != "appointment-booked" and when > today:
        raise BadInput("{opt:date} is in the future; only an appointment can be booked ahead.")
    return when


def _check_step(
    session: Session,
    row: Referral,
    status: str,
    reason: str | None,
    note: str | None,
    outcome: str | None,
    follow_up: str | None,
    when: date,
) -> None:
    """Refuse a step the state machine does not allow, or one missing what it needs."""
    allowed = referral_states.allowed(row.status)
    if status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none: it is closed"
        raise BadInput(
            f"Referral {row.id} is {row.status}; it cannot move to {status}. Next steps allowed: {nxt}."
        )
    _check_reason(status, reason, note)
    if reason and status not in referral_states.REASONS:
        raise BadInput(
            f"{{opt:reason}} is for {', '.join(referral_states.REASONS)}; use {{opt:note}} for other steps."
        )
    if follow_up is not None and status in referral_states.CLOSED:
        raise BadInput(
            f"A {status} referral is closed and has no follow-up; leave out {{opt:follow-up}}."
        )
    if status == "completed":
        if outcome not in referral_states.OUTCOMES:
            raise BadInput(
                f"Completing a referral needs {{opt:outcome}}, one of: {', '.join(referral_states.OUTCOMES)}."
                + (validation.did_you_mean(outcome, referral_states.OUTCOMES) if outcome else "")
            )
    elif outcome is not None:
        raise BadInput("{opt:outcome} is only for {opt:status} completed.")
    if status in ("attended", "did-not-attend") and row.status == "appointment-booked":
        assert row.id is not None
        booked = [
            e.event_date
            for e in repo.events(session, row.id)
            if e.to_status == "appointment-booked"
        ]
        if booked and when < booked[-1]:
            raise BadInput(
                f"The appointment is on {booked[-1]}; record {status} on or after that day "
                "({opt:date}), or, if it moved, book the new date with {opt:status} appointment-booked."
            )


def show(store: Store, referral_id: int, rules: RuleSet | None) -> ReferralRecord:
    with store.write() as session:
        row, person = require_referral(session, referral_id)
        audit.append(
            session,
            actor=store.actor,
            action="referral.show",
            entity="referral",
            entity_id=referral_id,
        )
        return _full_record(session, row, person, rules)


def listing(
    store: Store,
    rules: RuleSet | None,
    *,
    crn: str | None = None,
    due: bool = False,
    status: str | None = None,
    office: str | None = None,
    worker: str | None = None,
    history: bool = False,
) -> list[ReferralRecord]:
    """Referrals, filtered by person, follow-up due, status, the person's office and the
    worker who made them; with ``history`` each carries its events, as ``show`` does."""
    office = validation.filter_name(office, "{opt:office}")
    worker = validation.filter_name(worker, "{opt:worker}")
    statuses = None
    if status is not None:
        wanted = [s.strip().lower() for s in status.split(",") if s.strip()]
        for s in wanted:
            if s not in referral_states.STATUSES and s not in ("open", "closed"):
                raise BadInput(
                    f"Unknown status {s!r}; use open, closed or one of: {', '.join(referral_states.STATUSES)}."
                    + validation.did_you_mean(s, ("open", "closed", *referral_states.STATUSES))
                )
        statuses = sorted(
            {
                x
                for s in wanted
                for x in (
                    referral_states.OPEN
                    if s == "open"
                    else referral_states.CLOSED
                    if s == "closed"
                    else {s}
                )
            }
        )
    with store.write() as session:
        person_id = require_person(session, crn).id if crn else None
        rows = repo.listing(
            session,
            person_id=person_id,
            statuses=statuses,
            due_on_or_before=clock.today() if due else None,
            office=office,
            worker=worker,
        )
        events = repo.events_for(session, [r.id or 0 for r, _ in rows]) if history else {}
        names = dir_repo.names_of(session, (r.service_id for r, _ in rows))
        records = [
            _record(r, p, rules, events.get(r.id or 0, []), names.get(r.service_id or ""))
            for r, p in rows
        ]
        audit.append(
            session,
            actor=store.actor,
            action="referral.list",
            entity="referral",
            detail={
                "results": len(records),
                "due": due,
                "office_filter": office is not None,
                "worker_filter": worker is not None,
            },
        )
        return records
