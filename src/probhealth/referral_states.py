"""The closed-loop referral states (after the Gravity SDOH referral Task and HMPPS Refer &
Monitor), pure data: which step may follow which, and which steps need a coded reason.

    suggested -> agreed | declined-by-person | withdrawn
    agreed -> referred | withdrawn
    referred -> accepted | rejected-by-service | withdrawn
    accepted -> appointment-booked | completed | withdrawn
    appointment-booked -> attended | did-not-attend | appointment-booked | withdrawn  (moved)
    did-not-attend -> appointment-booked | completed | withdrawn
    attended -> appointment-booked | completed | withdrawn
    rejected-by-service -> referred | withdrawn        (try again, perhaps elsewhere)
    completed, declined-by-person, withdrawn: closed

A self-referral follows the same path: "referred" then means the person made contact.
"""

from __future__ import annotations

import re
from typing import Final

NEXT: Final[dict[str, tuple[str, ...]]] = {
    "suggested": ("agreed", "declined-by-person", "withdrawn"),
    "agreed": ("referred", "withdrawn"),
    "referred": ("accepted", "rejected-by-service", "withdrawn"),
    "accepted": ("appointment-booked", "completed", "withdrawn"),
    "appointment-booked": ("attended", "did-not-attend", "appointment-booked", "withdrawn"),
    "did-not-attend": ("appointment-booked", "completed", "withdrawn"),
    "attended": ("appointment-booked", "completed", "withdrawn"),
    "rejected-by-service": ("referred", "withdrawn"),
    "completed": (),
    "declined-by-person": (),
    "withdrawn": (),
}
STATUSES: Final = tuple(NEXT)
CLOSED: Final = frozenset(s for s, nxt in NEXT.items() if not nxt)
OPEN: Final = frozenset(STATUSES) - CLOSED

# Coded reasons (after HMPPS R&M's withdrawal reasons, grouped). A reason is required for
# these steps; "other" always needs a note as well.
REASONS: Final[dict[str, tuple[str, ...]]] = {
    "withdrawn": (
        "needs-met-elsewhere",
        "returned-to-custody",
        "moved-area",
        "person-withdrew-consent",
        "no-longer-eligible",
        "lost-contact",
        "service-unavailable",
        "entered-in-error",
        "other",
    ),
    "declined-by-person": (
        "not-wanted-now",
        "already-getting-help",
        "prefers-other-help",
        "cannot-attend",
        "other",
    ),
    "rejected-by-service": (
        "not-eligible",
        "out-of-area",
        "service-full",
        "incomplete-referral",
        "other",
    ),
}
OUTCOMES: Final = ("achieved", "partly-achieved", "not-achieved")
SHARES_INFORMATION_AT: Final = frozenset({"referred"})  # the step at which details leave us


def allowed(current: str) -> tuple[str, ...]:
    return NEXT.get(current, ())


ADJUSTMENT_MARK = re.compile(r"\(([a-z0-9][a-z0-9-]*)\)")


def adjustments_in_place(communication_needs: str | None) -> set[str]:
    """Pathway ids of the adjustments (easy read) recorded on a person, as ``Name (pathway-id)``
    in their communication needs: the suggestions treat them as already in place."""
    return set(ADJUSTMENT_MARK.findall(communication_needs or ""))
