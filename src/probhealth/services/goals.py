"""Health goals a health trainer sets with a person, and their reviews.

Working with a health trainer is voluntary: adding or reviewing a goal needs the person's
``health-trainer`` consent, given (``services.consent``); otherwise nothing is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from probhealth import clock, taxonomy, validation
from probhealth.errors import BadInput, NotFound, Remedy
from probhealth.services import consent
from probhealth.services.people import listed_for, require_person
from probhealth.store import audit
from probhealth.store import goals as goals_repo
from probhealth.store import people as people_repo
from probhealth.store.models import Goal, GoalReview, Person
from probhealth.textsafe import clean_note
from probhealth.validation import parse_date

if TYPE_CHECKING:
    from probhealth.store.db import Session, Store

GOAL_PROGRESS = ("achieved", "partly", "not-yet", "dropped")


@dataclass(frozen=True)
class GoalRecord:
    id: int
    crn: str
    text: str
    domain: str | None
    target_date: date | None
    status: str
    created_by: str
    created_at: datetime
    reviews: tuple[tuple[str, str | None, str, datetime], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crn": self.crn,
            "text": self.text,
            "domain": self.domain,
            "target_date": self.target_date.isoformat() if self.target_date else None,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": clock.iso_utc(self.created_at),
            "reviews": [
                {"progress": p, "note": n, "by": b, "at": clock.iso_utc(a)}
                for p, n, b, a in self.reviews
            ],
        }


def _goal_record(row: Goal, person: Person, reviews: list[GoalReview]) -> GoalRecord:
    assert row.id is not None
    return GoalRecord(
        row.id,
        person.crn,
        row.text,
        row.domain,
        row.target_date,
        row.status,
        row.created_by,
        row.created_at,
        tuple((r.progress, r.note, r.reviewed_by, r.reviewed_at) for r in reviews),
    )


def add(
    store: Store, crn: str, text: str, *, domain: str | None = None, target_date: str | None = None
) -> GoalRecord:
    clean = clean_note(text, "Goal", max_len=300)
    if not clean:
        raise BadInput("The goal is empty; write what the person wants to do.")
    if domain is not None and domain not in taxonomy.NEED_DOMAINS:
        raise BadInput(
            f"Unknown domain {domain!r}; use one of: {', '.join(taxonomy.NEED_DOMAINS)}."
            + validation.did_you_mean(domain, taxonomy.NEED_DOMAINS)
        )
    target = parse_date(target_date, "{opt:target-date}")
    today = clock.today()
    if target is not None and not today <= target <= today + timedelta(days=3 * 366):
        raise BadInput("{opt:target-date} must be between today and three years ahead.")
    now = clock.now()
    with store.write() as session:
        person = require_person(session, crn)
        consent.require(session, person, "health-trainer", f"Adding a goal for {person.crn}")
        row = Goal(
            person_id=person.id,
            text=clean,
            domain=domain,
            target_date=target,
            status="active",
            created_by=store.actor,
            created_at=now,
            updated_at=now,
        )
        goals_repo.add(session, row)
        audit.append(
            session,
            actor=store.actor,
            action="goal.add",
            entity="goal",
            entity_id=row.id,
            detail={"domain": domain},
        )
        return _goal_record(row, person, [])


def review(store: Store, goal_id: int, *, progress: str, note: str | None = None) -> GoalRecord:
    progress = progress.strip().lower()
    if progress not in GOAL_PROGRESS:
        raise BadInput(f"{{opt:progress}} must be one of: {', '.join(GOAL_PROGRESS)}.")
    clean = clean_note(note, "Note") if note else None
    now = clock.now()
    with store.write() as session:
        row = goals_repo.goal(session, validation.record_id(goal_id, "goal"))
        if row is None:
            raise NotFound(f"No goal {goal_id}.", remedy=Remedy.of("list-goals"))
        if row.status != "active":
            raise BadInput(f"Goal {goal_id} is {row.status}; only active goals are reviewed.")
        person = people_repo.by_id(session, row.person_id)
        assert person is not None
        consent.require(session, person, "health-trainer", f"Reviewing goal {goal_id}")
        goals_repo.add(
            session,
            GoalReview(
                goal_id=goal_id,
                progress=progress,
                note=clean,
                reviewed_by=store.actor,
                reviewed_at=now,
            ),
        )
        if progress in ("achieved", "dropped"):
            row.status = progress
        row.updated_at = now
        session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="goal.review",
            entity="goal",
            entity_id=goal_id,
            detail={"progress": progress},
        )
        return _goal_record(row, person, list(goals_repo.reviews(session, goal_id)))


def list_for(
    store: Store, crn: str, *, include_closed: bool = False, due: bool = False
) -> list[GoalRecord]:
    today = clock.today()

    def read(session: Session, person: Person) -> list[GoalRecord]:
        return [
            _goal_record(g, person, list(goals_repo.reviews(session, g.id or 0)))
            for g in goals_repo.goals_for(session, person.id, include_closed=include_closed)
            if not due or (g.status == "active" and g.target_date and g.target_date <= today)
        ]

    return listed_for(store, crn, "goal.list", read)


def caseload(
    store: Store,
    *,
    due: bool = False,
    include_closed: bool = False,
    office: str | None = None,
) -> list[GoalRecord]:
    """Goals across the caseload (a health trainer's day): with ``due``, the active goals whose
    target date is today or past, oldest first."""
    if office is not None and (not office.strip() or not office.isprintable()):
        raise BadInput("{opt:office} needs an office name.")
    with store.write() as session:
        if due:
            out = due_goals(session, office=office)
        else:
            rows = goals_repo.caseload_goals(session, include_closed=include_closed, office=office)
            out = _with_reviews(session, rows)
        audit.append(
            session,
            actor=store.actor,
            action="goal.list",
            entity="goal",
            detail={"results": len(out), "due": due, "office_filter": office is not None},
        )
        return out


def _with_reviews(session: Session, rows: Sequence[tuple[Goal, Person]]) -> list[GoalRecord]:
    reviews = goals_repo.reviews_for(session, [g.id or 0 for g, _ in rows])
    return [_goal_record(g, p, reviews.get(g.id or 0, [])) for g, p in rows]


def due_goals(
    session: Session, *, limit: int | None = None, office: str | None = None
) -> list[GoalRecord]:
    """Active goals whose target date is today or past, oldest target first (``today``)."""
    rows = goals_repo.caseload_goals(
        session, due_on_or_before=clock.today(), office=office, limit=limit
    )
    return _with_reviews(session, rows)


def count_due(session: Session, office: str | None = None) -> int:
    return goals_repo.count_due(session, clock.today(), office)
