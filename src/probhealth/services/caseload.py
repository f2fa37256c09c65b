"""The worker's day across the caseload (``today``): open safety flags first, then the
referral follow-ups due today or overdue. Read through the same services as each list, so a
flag or a follow-up is counted the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from probhealth import clock
from probhealth.services import flags, referrals

if TYPE_CHECKING:
    from probhealth.rules.model import RuleSet
    from probhealth.store.db import Store


@dataclass(frozen=True)
class Today:
    day: date
    open_flags: tuple[flags.OpenFlag, ...]
    due: tuple[referrals.ReferralRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "open_flags": [f.to_json() for f in self.open_flags],
            "follow_ups_due": [r.to_json() for r in self.due],
        }


def today(store: Store, rules: RuleSet | None) -> Today:
    return Today(
        clock.today(),
        tuple(flags.open_flags(store)),
        tuple(referrals.listing(store, rules, due=True)),
    )
