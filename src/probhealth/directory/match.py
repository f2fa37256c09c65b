"""Barrier conflicts: reasons a service may not work for this person, shown beside it.

Each check uses what the person told us (barriers, availability, language) and what the
directory says about the service. A conflict is a warning for the worker, never a filter: the
service is still listed, so the worker can decide (and, say, ring ahead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probhealth.directory.hours import Window, usable_times
from probhealth.directory.model import Service


@dataclass(frozen=True)
class PersonNeeds:
    """What matters for matching: from the person's record, barriers and latest answers."""

    unavailable: tuple[Window, ...] = ()
    needs_interpreter: bool = False
    language: str | None = None
    lacks_documents: bool = False
    share_consent: bool = False
    share_refused: str | None = None  # their last answer: "declined" or "withdrawn"


DOC_WORDS = {
    "photo-id": "photo ID",
    "proof-of-address": "proof of address",
    "nhs-number": "an NHS number",
    "referral-letter": "a referral letter",
}


REFUSED = {
    "declined": "they declined consent to share with services",
    "withdrawn": "they withdrew consent to share with services",
}


def consent_state(refused: str | None) -> str:
    """What is true of consent to share when it is not given: said no, or never asked."""
    return REFUSED.get(refused or "", "consent to share with services is not recorded")


def conflicts(service: Service, person: PersonNeeds) -> list[str]:
    found: list[str] = []
    if person.unavailable and service.hours and not usable_times(service.hours, person.unavailable):
        found.append("Open only at times they said they cannot attend")
    if person.needs_interpreter and not service.interpreters:
        spoken = {lang.casefold() for lang in service.languages}
        if not person.language:
            found.append("Does not offer interpreters")
        elif person.language.casefold() not in spoken:
            found.append(f"Does not list {person.language} or interpreters")
    if person.lacks_documents and service.documents_needed:
        docs = " or ".join(DOC_WORDS.get(d, d) for d in service.documents_needed)
        found.append(f"Asks for {docs}, which they said they do not have")
    if not service.self_referral and not person.share_consent:
        found.append(f"Needs a referral from you, and {consent_state(person.share_refused)}")
    return found


def availability_windows(
    chosen: Sequence[str] | None, windows: dict[str, tuple[Window, ...]]
) -> tuple[Window, ...]:
    if not chosen:
        return ()
    return tuple(w for key in chosen for w in windows.get(str(key), ()))
