"""The worker's day across the caseload (``today``): open safety flags first, then referral
follow-ups due today and overdue, health goals due, and people not yet screened. Each section
carries its full count and at most ``limit`` rows, so a big caseload stays readable; the lists
behind them (``referral list --due``, ``goal list --due``) show every row. A flag or a
follow-up is counted the same way as in those lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from probhealth import clock, validation
from probhealth.errors import BadInput
from probhealth.services import flags, goals, referrals
from probhealth.store import audit
from probhealth.store import caseload as repo

if TYPE_CHECKING:
    from probhealth.rules.model import RuleSet
    from probhealth.store.db import Store

LIMIT = 20  # rows shown per section by default
MAX_LIMIT = 100_000


@dataclass(frozen=True)
class Unscreened:
    crn: str
    name: str
    office: str | None
    added_at: datetime
    in_progress: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "name": self.name,
            "office": self.office,
            "added_at": clock.iso_utc(self.added_at),
            "screening_in_progress": self.in_progress,
        }


@dataclass(frozen=True)
class Section:
    """At most ``limit`` rows of a list, and how many there are in all."""

    rows: tuple[Any, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.total, "more": self.more, "rows": [r.to_json() for r in self.rows]}


@dataclass(frozen=True)
class Today:
    day: date
    limit: int | None
    open_flags: Section
    due_today: Section
    overdue: Section
    goals_due: Section
    not_screened: Section
    office: str | None = None  # the office asked for; None: the whole caseload

    @property
    def due(self) -> tuple[referrals.ReferralRecord, ...]:
        """Follow-ups overdue, then due today (oldest first), as ``referral list --due``."""
        return self.overdue.rows + self.due_today.rows

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "office": self.office,
            "limit": self.limit,
            "counts": {
                "open_flags": self.open_flags.total,
                "follow_ups_due_today": self.due_today.total,
                "follow_ups_overdue": self.overdue.total,
                "goals_due": self.goals_due.total,
                "not_screened": self.not_screened.total,
            },
            "open_flags": [f.to_json() for f in self.open_flags.rows],
            "follow_ups_due": [r.to_json() for r in self.due],
            "follow_ups_overdue": self.overdue.to_json(),
            "follow_ups_due_today": self.due_today.to_json(),
            "goals_due": self.goals_due.to_json(),
            "not_screened": self.not_screened.to_json(),
        }


def _office(session: Any, office: str | None) -> str | None:
    """The office named, checked against the caseload: a mistyped office would show an empty
    day, hiding open safety flags, so a name no person carries is refused with the nearest."""
    name = validation.filter_name(office, "{opt:office}")
    if name is None:
        return None
    known = repo.offices(session)
    if name.lower() not in known:
        raise BadInput(
            f"No one on the caseload belongs to office {name!r}."
            + (validation.did_you_mean(name, known) or " Check the name with person list.")
        )
    return name


def today(
    store: Store, rules: RuleSet | None, *, limit: int | None = LIMIT, office: str | None = None
) -> Today:
    """The day's work, across the caseload or for one office's people. ``limit`` caps the rows
    of each section (None: all of them)."""
    if limit is not None and not 0 < limit <= MAX_LIMIT:
        raise BadInput(f"{{opt:limit}} must be between 1 and {MAX_LIMIT:,} (0 for all).")
    day = clock.today()
    with store.write() as session:
        office = _office(session, office)
        open_now = flags.caseload_flags(session, office)
        on_day, late = repo.count_follow_ups(session, day, office)
        overdue = referrals.to_records(
            session, repo.follow_ups(session, before=day, limit=limit, office=office), rules
        )
        due_today = referrals.to_records(
            session, repo.follow_ups(session, on=day, limit=limit, office=office), rules
        )
        goals_due = goals.due_goals(session, limit=limit, office=office)
        unscreened = [
            Unscreened(p.crn, f"{p.given_name} {p.family_name}", p.office, p.created_at, busy)
            for p, busy in repo.not_screened(session, limit, office)
        ]
        result = Today(
            day,
            limit,
            Section(tuple(open_now[:limit] if limit else open_now), len(open_now)),
            Section(tuple(due_today), on_day),
            Section(tuple(overdue), late),
            Section(tuple(goals_due), goals.count_due(session, office)),
            Section(tuple(unscreened), repo.count_not_screened(session, office)),
            office,
        )
        audit.append(
            session,
            actor=store.actor,
            action="caseload.today",
            entity="person",
            detail={
                "open_flags": result.open_flags.total,
                "due_today": on_day,
                "overdue": late,
                "goals_due": result.goals_due.total,
                "not_screened": result.not_screened.total,
                "office_filter": office is not None,
            },
        )
    return result
