"""After a guided screening, in the terminal: the ``services.followup`` dialogue's UI (the
suggestions shown with rich, each decision asked with the asker). Imported only by
``screen``/``demo``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from probhealth.cli import output, render
from probhealth.cli.asker import Asker
from probhealth.cli.remedies import explain
from probhealth.services import followup

if TYPE_CHECKING:
    from probhealth.errors import ConsentRequired
    from probhealth.rules.model import RuleSet
    from probhealth.services.referrals import AdjustmentRecord, ReferralRecord
    from probhealth.services.suggest import PathwaySuggestion, ServiceMatch, SuggestReport
    from probhealth.store.db import Store

_CHOICES = {
    followup.SELF: "Agreed: they will contact the service themselves",
    followup.WORKER: "Agreed: I will refer them (shares their details)",
    followup.DECLINE: "They do not want it",
    followup.LATER: "Decide later",
}
_ADJUSTMENT = "Yes: I will work this way with them"
_CONSENT_QUESTIONS = {
    "": "Do they agree to you sharing their details with this service?",
    "share-with-gp": "Do they agree to you sharing their details with their GP?",
    "health-trainer": "Do they agree to work with a health trainer?",
}


class TerminalFollowUp:
    """``followup.UI`` in the terminal."""

    def __init__(self, crn: str, asker: Asker) -> None:
        self.crn = crn
        self.asker = asker

    def suggestions(self, report: SuggestReport, *, pending: bool) -> None:
        out = output.out()
        out.print()
        render.print_renderable(render.suggestions(report, take_up=not pending))
        if pending:
            out.print()
            out.print(render.t("Now, with the person: for each suggestion, do they agree?", "bold"))
        elif report.suggestions:
            output.info("Every suggestion has a decision recorded (see probhealth referral list).")

    def decide(self, s: PathwaySuggestion, choices: Sequence[str]) -> str:
        if s.no_gp:
            output.warn(f"{s.name}: {s.no_gp}")
        titles = [
            (c, _ADJUSTMENT if s.adjustment and c == followup.SELF else _CHOICES[c])
            for c in choices
        ]
        return self.asker.select(
            f"{s.name} ({s.urgency}): do they agree?", titles, default=followup.LATER
        )

    def decline_reason(self, s: PathwaySuggestion) -> str:
        reasons = list(followup.DECLINE_REASONS)
        return self.asker.select("Why not?", reasons, default=reasons[0][0])

    def service(self, s: PathwaySuggestion, services: Sequence[ServiceMatch]) -> str | None:
        # A choice is one line that questionary cuts at the screen's edge ("⚠ Needs a referral
        # from you, an"): each warning is printed in full first, the choice is only marked.
        for m in services:
            if m.conflicts:
                warning = f"⚠ {m.service.name}: {'; '.join(m.conflicts)}"
                output.out().print(render.t(warning, "yellow"))
        options = [
            (m.service.id, m.service.name + ("  ⚠ (see above)" if m.conflicts else ""))
            for m in services
        ]
        picked = self.asker.select(
            "Which service?", [*options, ("", "Choose later")], default=options[0][0]
        )
        return picked or None

    def consent_needed(self, exc: ConsentRequired) -> bool:
        output.warn(explain(exc))
        question = _CONSENT_QUESTIONS.get(exc.purpose or "", _CONSENT_QUESTIONS[""])
        return self.asker.confirm(f"{question} Record their answer", default=False)

    def not_referred(self, s: PathwaySuggestion) -> None:
        output.info(
            "Not referred; their answer is recorded (probhealth consent "
            f"{self.crn} --history). They can still contact the service themselves."
        )

    def referred(self, record: ReferralRecord | AdjustmentRecord) -> None:
        from probhealth.services.referrals import AdjustmentRecord

        if isinstance(record, AdjustmentRecord):
            output.ok(f"{record.pathway_name}: recorded on {record.crn} as a way of working.")
            return
        output.ok(
            f"Referral {record.id}: {record.pathway_name}, follow up by {record.follow_up_due}."
        )

    def finished(self, recorded: int, *, left: int = 0) -> None:
        if recorded:
            output.ok(
                f"Recorded {recorded} decision{'s' if recorded != 1 else ''}. See them with: probhealth referral list {self.crn}"
            )
        if left:  # "decide later" must not be forgotten: say how to take them up again
            output.info(
                f"{left} suggestion{'s' if left != 1 else ''} left to decide later."
                f" Take {'them' if left != 1 else 'it'} up with: probhealth follow-up {self.crn}"
            )


def offer(
    store: Store, crn: str, screening_id: int | None, asker: Asker, rules: RuleSet | None = None
) -> int:
    """Walk through the suggestions in the terminal; returns how many decisions were recorded."""
    return followup.offer(store, crn, screening_id, TerminalFollowUp(crn, asker), rules)
