"""Consent binds: the one check every action that needs a purpose makes before it writes.

A purpose counts only when its latest decision is ``given``; declined, withdrawn or never
asked all stop the action with one line naming the purpose and the state, and nothing is
written (callers check inside their write transaction, before adding anything).

Which action needs which purpose:

- a screening (guided or from an answers file): ``screening``;
- a referral the worker sends: ``share-with-services``, or ``share-with-gp`` for a pathway
  routed through the GP (the pathway's ``shares_with``), at creation and again at "referred";
- a pathway's own ``needs_consent`` whoever makes contact (health trainer: ``health-trainer``);
- health-trainer goals and their reviews: ``health-trainer``;
- a referral letter: ``share-with-gp`` or ``share-with-services`` by recipient.
"""

from __future__ import annotations

from probhealth.errors import ConsentRequired, Remedy
from probhealth.store import people as people_repo
from probhealth.store.db import Session
from probhealth.store.models import Consent, Person

# What each purpose lets us do, as it reads after "consent to".
PURPOSE_WORDS = {
    "screening": "the health screening",
    "share-with-gp": "sharing their details with their GP",
    "share-with-services": "sharing their details with services",
    "health-trainer": "working with a health trainer",
}


def state(session: Session, person: Person, purpose: str) -> str | None:
    """The current decision for ``purpose`` (None: never asked)."""
    current = people_repo.current_consents(session, person.id).get(purpose)
    return current.status if current is not None else None


def state_words(status: str | None) -> str:
    return "is not recorded" if status is None else f"was {status}"


def require(
    session: Session,
    person: Person,
    purpose: str,
    action: str,
    *,
    hint: str | None = None,
    or_self_referral: bool = False,
) -> Consent:
    """The ``given`` decision for ``purpose``, or :class:`ConsentRequired` naming what is missing.

    ``action`` says what was being done ("Adding a goal for X123456")."""
    current = people_repo.current_consents(session, person.id).get(purpose)
    if current is not None and current.status == "given":
        return current
    status = current.status if current is not None else None
    raise ConsentRequired(
        f"{action} needs consent to {PURPOSE_WORDS[purpose]} ({purpose}), and for "
        f"{person.crn} it {state_words(status)}; nothing was changed.",
        hint=hint,
        remedy=Remedy.of(
            "record-consent",
            crn=person.crn,
            purpose=purpose,
            or_self_referral="yes" if or_self_referral else None,
        ),
        purpose=purpose,
        status=status,
    )
