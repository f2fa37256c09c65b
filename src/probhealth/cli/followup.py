"""After a guided screening: show the suggested pathways and record, for each, whether the
person agrees (and how), declines, or will decide later. Imported only by ``screen``/``demo``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from probhealth.cli import output, render
from probhealth.cli.asker import Asker
from probhealth.cli.remedies import words
from probhealth.errors import ConsentRequired

if TYPE_CHECKING:
    from probhealth.rules.model import RuleSet
    from probhealth.services.suggest import PathwaySuggestion, SuggestReport
    from probhealth.store.db import Store

SELF = "self"
WORKER = "worker"
DECLINE = "decline"
LATER = "later"
DECLINE_REASONS = (
    ("not-wanted-now", "Does not want it now"),
    ("already-getting-help", "Already getting help"),
    ("prefers-other-help", "Prefers other help"),
    ("cannot-attend", "Cannot get there or cannot attend"),
)


def offer(store: Store, crn: str, screening_id: int, rules: RuleSet, asker: Asker) -> int:
    """Walk through the suggestions; returns how many decisions were recorded."""
    from probhealth.services import suggest

    report = suggest.suggest_for(store, crn, rules)
    out = output.out()
    out.print()
    render.print_renderable(render.suggestions(report))
    pending = [s for s in report.suggestions if not s.open_referral]
    if not pending:
        return 0
    out.print()
    out.print(Text("Now, with the person: for each suggestion, do they agree?", style="bold"))
    recorded = 0
    for s in pending:
        if _decide(store, crn, screening_id, rules, report, s, asker):
            recorded += 1
    if recorded:
        output.ok(
            f"Recorded {recorded} decision{'s' if recorded != 1 else ''}. See them with: probhealth referral list {crn}"
        )
    return recorded


def _decide(
    store: Store,
    crn: str,
    screening_id: int,
    rules: RuleSet,
    report: SuggestReport,
    s: PathwaySuggestion,
    asker: Asker,
) -> bool:
    from probhealth.services import people, referrals

    choices: list[tuple[str, str]] = []
    if s.adjustment:
        choices.append((SELF, "Yes: I will work this way with them"))
    else:
        if s.self_referral:
            choices.append((SELF, "Agreed: they will contact the service themselves"))
        choices.append((WORKER, "Agreed: I will refer them (shares their details)"))
    choices += [(DECLINE, "They do not want it"), (LATER, "Decide later")]
    answer = asker.select(f"{s.name} ({s.urgency}): do they agree?", choices, default=LATER)
    if answer == LATER:
        return False
    reasons = [{"rule": r.rule, "because": r.because} for r in s.reasons]
    if answer == DECLINE:
        reason = asker.select("Why not?", list(DECLINE_REASONS), default=DECLINE_REASONS[0][0])
        referrals.refer(
            store,
            crn,
            s.pathway_id,
            rules,
            status="declined-by-person",
            reason=reason,
            reasons=reasons,
            urgency=s.urgency,
            screening_id=screening_id,
        )
        return True
    service_id = None
    usable = [m for m in s.services if "*" not in m.service.areas] or list(s.services)
    if usable and not s.adjustment:
        options = [
            (m.service.id, m.service.name + (f"  ⚠ {m.conflicts[0]}" if m.conflicts else ""))
            for m in usable[:9]
        ]
        picked = asker.select(
            "Which service?", [*options, ("", "Choose later")], default=options[0][0]
        )
        service_id = picked or None
    self_referral = answer == SELF

    def refer() -> referrals.ReferralRecord:
        return referrals.refer(
            store,
            crn,
            s.pathway_id,
            rules,
            service_id=service_id,
            self_referral=self_referral,
            reasons=reasons,
            urgency=s.urgency,
            screening_id=screening_id,
        )

    try:
        record = refer()
    except ConsentRequired as exc:
        output.warn(words(exc.message))
        if not asker.confirm(
            "Do they agree to you sharing their details with this service? Record that consent",
            default=False,
        ):
            output.info(
                "Not referred. You can refer later, or they can contact the service themselves."
            )
            return False
        people.record_consent(
            store, crn, purpose="share-with-services", status="given", method="verbal"
        )
        record = refer()
    output.ok(f"Referral {record.id}: {record.pathway_name}, follow up by {record.follow_up_due}.")
    return True
