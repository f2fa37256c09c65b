"""After a guided screening: the suggested pathways, one decision each (agreed and how,
declined and why, or later), and consent asked for when a referral needs it.

The dialogue is independent of any terminal: the ``UI`` protocol is implemented by
``cli/followup.py`` (questionary + rich) and by fakes in the tests. A worker referral shares the
person's details; when consent to share is not recorded the UI shows why and asks, a yes is
recorded as verbal consent and the referral is made; a no leaves the pathway for later.

The dialogue can be taken up again (``probhealth follow-up CRN``) after an interruption: only
the suggestions of the latest screening with no decision recorded for it yet are asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from probhealth.errors import ConsentRequired

if TYPE_CHECKING:
    from probhealth.rules.model import RuleSet
    from probhealth.services.referrals import AdjustmentRecord, ReferralRecord
    from probhealth.services.suggest import PathwaySuggestion, ServiceMatch, SuggestReport
    from probhealth.store.db import Store

SELF = "self"  # agreed: they contact the service themselves (or, for an adjustment: yes)
WORKER = "worker"  # agreed: the worker refers them (shares their details)
DECLINE = "decline"
LATER = "later"
DECLINE_REASONS = (
    ("not-wanted-now", "Does not want it now"),
    ("already-getting-help", "Already getting help"),
    ("prefers-other-help", "Prefers other help"),
    ("cannot-attend", "Cannot get there or cannot attend"),
)
MAX_SERVICES = 9  # services offered to choose from for one pathway


class UI(Protocol):
    def suggestions(self, report: SuggestReport, *, pending: bool) -> None:
        """Show what the rules suggest (``pending``: some still need a decision)."""
        ...

    def decide(self, s: PathwaySuggestion, choices: Sequence[str]) -> str:
        """One of ``choices`` (``SELF``, ``WORKER``, ``DECLINE``, ``LATER``)."""
        ...

    def decline_reason(self, s: PathwaySuggestion) -> str:
        """A code from ``DECLINE_REASONS``."""
        ...

    def service(self, s: PathwaySuggestion, services: Sequence[ServiceMatch]) -> str | None:
        """The id of the service chosen, or None to choose later."""
        ...

    def consent_needed(self, exc: ConsentRequired) -> bool:
        """Say why consent is needed; True if the person agrees now (recorded as verbal)."""
        ...

    def not_referred(self, s: PathwaySuggestion) -> None: ...

    def referred(self, record: ReferralRecord | AdjustmentRecord) -> None: ...

    def finished(self, recorded: int, *, left: int = 0) -> None:
        """``recorded`` decisions made; ``left`` suggestions still without one (later)."""


def choices(s: PathwaySuggestion) -> tuple[str, ...]:
    """The decisions open for a suggestion, in the order to offer them."""
    if s.adjustment:
        return (SELF, DECLINE, LATER)
    # Through the GP for someone with no GP: never "I will refer them" (the no-GP route).
    worker = () if s.no_gp else (WORKER,)
    return ((SELF,) if s.self_referral else ()) + worker + (DECLINE, LATER)


def offer(
    store: Store, crn: str, screening_id: int | None, ui: UI, rules: RuleSet | None = None
) -> int:
    """Walk through the suggestions of the latest screening (``screening_id``: the one just
    completed; None: whichever is latest) that have no decision yet; returns how many
    decisions were recorded."""
    from probhealth.services import definitions, referrals, suggest

    rules = rules or definitions.load_rules()
    report = suggest.suggest_for(store, crn, rules)
    sid = report.screening_id if screening_id is None else screening_id
    assert sid is not None
    decided = referrals.decided_at(store, sid)
    pending = [s for s in report.suggestions if not s.open_referral and s.pathway_id not in decided]
    ui.suggestions(report, pending=bool(pending))
    if not pending:
        return 0
    recorded = sum(1 for s in pending if decide(store, crn, sid, rules, s, ui))
    ui.finished(recorded, left=len(pending) - recorded)
    return recorded


def pending_count(store: Store, crn: str, rules: RuleSet | None = None) -> tuple[int, int]:
    """(latest screening id, how many of its suggestions still need a decision)."""
    from probhealth.services import definitions, referrals, suggest

    rules = rules or definitions.load_rules()
    report = suggest.suggest_for(store, crn, rules)
    assert report.screening_id is not None
    decided = referrals.decided_at(store, report.screening_id)
    return report.screening_id, sum(
        1 for s in report.suggestions if not s.open_referral and s.pathway_id not in decided
    )


def decide(
    store: Store, crn: str, screening_id: int, rules: RuleSet, s: PathwaySuggestion, ui: UI
) -> bool:
    """One suggestion: ask, then record the decision; True when one was recorded."""
    from probhealth.services import people, referrals, suggest

    answer = ui.decide(s, choices(s))
    if answer == LATER:
        return False
    reasons = [{"rule": r.rule, "because": r.because} for r in s.reasons]
    if answer == DECLINE:
        referrals.refer(
            store,
            crn,
            s.pathway_id,
            rules,
            status="declined-by-person",
            reason=ui.decline_reason(s),
            reasons=reasons,
            urgency=s.urgency,
            screening_id=screening_id,
        )
        return True
    service_id = None
    # Worked out again now, not taken from the suggestions: consent recorded at an earlier
    # decision in this dialogue changes the warnings ("consent ... is not recorded").
    matched = () if s.adjustment else suggest.services_now(store, crn, s.pathway_id, rules)
    usable = [m for m in matched if "*" not in m.service.areas] or list(matched)
    if usable and not s.adjustment:
        service_id = ui.service(s, usable[:MAX_SERVICES])

    def refer() -> ReferralRecord | AdjustmentRecord:
        return referrals.refer(
            store,
            crn,
            s.pathway_id,
            rules,
            service_id=service_id,
            self_referral=answer == SELF,
            reasons=reasons,
            urgency=s.urgency,
            screening_id=screening_id,
        )

    try:
        record = people.with_consent(store, crn, "share-with-services", refer, ui.consent_needed)
    except ConsentRequired:
        ui.not_referred(s)
        return False
    ui.referred(record)
    return True
