"""Barrier conflicts between a service and what the person told us: each kind, and its
absence. A conflict is a warning beside the service, never a filter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from probhealth.directory.hours import parse_window
from probhealth.directory.match import PersonNeeds, availability_windows, conflicts
from probhealth.directory.model import Service, ServiceModel, from_model

HOURS_CONFLICT = "Open only at times they said they cannot attend"
CONSENT_CONFLICT = "Needs a referral from you, and consent to share with services is not recorded"
WEEKDAY_MORNINGS = (parse_window("mon-fri 00:00-12:00"),)
WEEKDAY_EVENINGS = (parse_window("mon-fri 17:00-24:00"),)
WEEKENDS = (parse_window("sat-sun 00:00-24:00"),)


def service(**fields: Any) -> Service:
    base: dict[str, Any] = {
        "id": "test-service",
        "name": "Test service (fictional)",
        "fictional": True,
        "pathways": ["gp-registration"],
        "areas": ["CB1"],
        "hours": ["mon-fri 09:00-12:00"],
        "self_referral": True,
        "how_to_refer": "Walk in.",
        "last_verified": date(2026, 10, 1),
    }
    base.update(fields)
    return from_model(ServiceModel(**base))


# Consent is recorded unless a test says otherwise, so each test sees only its own conflict.
def needs(**fields: Any) -> PersonNeeds:
    return PersonNeeds(**{"share_consent": True, **fields})


def test_no_conflicts_for_someone_with_no_barriers() -> None:
    assert conflicts(service(), needs()) == []
    assert conflicts(service(), PersonNeeds()) == []  # self-referral: consent not needed


# ------------------------------------------------------------------ hours --------------
def test_mornings_only_service_and_person_unavailable_weekday_mornings() -> None:
    found = conflicts(service(), needs(unavailable=WEEKDAY_MORNINGS))
    assert found == [HOURS_CONFLICT]


def test_an_evening_session_removes_the_hours_conflict() -> None:
    s = service(hours=["mon-fri 09:00-12:00", "tue 17:30-19:30"])
    assert conflicts(s, needs(unavailable=WEEKDAY_MORNINGS)) == []
    # ...unless the evenings are out too.
    assert conflicts(s, needs(unavailable=WEEKDAY_MORNINGS + WEEKDAY_EVENINGS)) == [HOURS_CONFLICT]


def test_a_slot_shorter_than_thirty_minutes_does_not_count() -> None:
    s = service(hours=["mon-fri 09:00-12:20"])
    assert conflicts(s, needs(unavailable=WEEKDAY_MORNINGS)) == [HOURS_CONFLICT]
    s = service(hours=["mon-fri 09:00-12:30"])
    assert conflicts(s, needs(unavailable=WEEKDAY_MORNINGS)) == []


def test_no_hours_conflict_when_unavailable_times_miss_the_service() -> None:
    assert conflicts(service(), needs(unavailable=WEEKENDS + WEEKDAY_EVENINGS)) == []


def test_no_hours_conflict_without_hours_or_without_unavailable_times() -> None:
    # A service with no listed hours (a website, say) cannot be judged; nor can a person who
    # gave no unavailable times.
    assert conflicts(service(hours=[]), needs(unavailable=WEEKDAY_MORNINGS)) == []
    assert conflicts(service(), needs(unavailable=())) == []


def test_availability_windows_from_chosen_options() -> None:
    windows = {"weekday-mornings": WEEKDAY_MORNINGS, "weekends": WEEKENDS}
    assert availability_windows(None, windows) == ()
    assert availability_windows([], windows) == ()
    assert availability_windows(["none"], windows) == ()
    assert availability_windows(["weekday-mornings", "weekends"], windows) == (
        WEEKDAY_MORNINGS + WEEKENDS
    )


# ------------------------------------------------------------------ interpreter --------
def test_needs_an_interpreter_in_a_language_the_service_does_not_list() -> None:
    s = service(languages=["English"], interpreters=False)
    found = conflicts(s, needs(needs_interpreter=True, language="Somali"))
    assert found == ["Does not list Somali or interpreters"]


def test_interpreters_offered_means_no_conflict() -> None:
    s = service(languages=["English"], interpreters=True)
    assert conflicts(s, needs(needs_interpreter=True, language="Somali")) == []
    assert conflicts(s, needs(needs_interpreter=True, language=None)) == []


@pytest.mark.parametrize("listed", ["Somali", "somali", "SOMALI"])
def test_language_listed_means_no_conflict(listed: str) -> None:
    s = service(languages=["English", listed], interpreters=False)
    assert conflicts(s, needs(needs_interpreter=True, language="Somali")) == []


def test_needs_an_interpreter_language_unknown() -> None:
    s = service(languages=["English"], interpreters=False)
    assert conflicts(s, needs(needs_interpreter=True)) == ["Does not offer interpreters"]


def test_language_matters_only_when_an_interpreter_is_needed() -> None:
    s = service(languages=["English"], interpreters=False)
    assert conflicts(s, needs(needs_interpreter=False, language="Somali")) == []


# ------------------------------------------------------------------ documents ----------
def test_lacks_documents_and_service_asks_for_them() -> None:
    s = service(documents_needed=["photo-id", "proof-of-address"])
    found = conflicts(s, needs(lacks_documents=True))
    assert found == ["Asks for photo ID or proof of address, which they said they do not have"]


def test_each_document_is_named() -> None:
    s = service(documents_needed=["nhs-number", "referral-letter"])
    (found,) = conflicts(s, needs(lacks_documents=True))
    assert "an NHS number" in found and "a referral letter" in found


def test_no_documents_needed_means_no_conflict() -> None:
    assert conflicts(service(documents_needed=[]), needs(lacks_documents=True)) == []


def test_documents_needed_but_person_has_them() -> None:
    assert conflicts(service(documents_needed=["photo-id"]), needs(lacks_documents=False)) == []


# ------------------------------------------------------------------ consent ------------
def test_worker_referral_service_without_share_consent() -> None:
    s = service(self_referral=False)
    assert conflicts(s, PersonNeeds(share_consent=False)) == [CONSENT_CONFLICT]


def test_worker_referral_service_with_share_consent() -> None:
    assert conflicts(service(self_referral=False), PersonNeeds(share_consent=True)) == []


@pytest.mark.parametrize(
    ("refused", "said"),
    [
        ("declined", "they declined consent to share with services"),
        ("withdrawn", "they withdrew consent to share with services"),
    ],
)
def test_a_no_to_sharing_is_named_not_called_unrecorded(refused: str, said: str) -> None:
    """User review: on the demo (everyone has an answer) a person who said no read "consent
    to share with services is not recorded", which was not true."""
    person = PersonNeeds(share_consent=False, share_refused=refused)
    assert conflicts(service(self_referral=False), person) == [
        f"Needs a referral from you, and {said}"
    ]


def test_self_referral_service_needs_no_consent() -> None:
    assert conflicts(service(self_referral=True), PersonNeeds(share_consent=False)) == []


# ------------------------------------------------------------------ together -----------
def test_every_conflict_at_once_in_a_fixed_order() -> None:
    s = service(
        self_referral=False,
        languages=["English"],
        interpreters=False,
        documents_needed=["photo-id"],
    )
    person = PersonNeeds(
        unavailable=WEEKDAY_MORNINGS,
        needs_interpreter=True,
        language="Tigrinya",
        lacks_documents=True,
        share_consent=False,
    )
    assert conflicts(s, person) == [
        HOURS_CONFLICT,
        "Does not list Tigrinya or interpreters",
        "Asks for photo ID, which they said they do not have",
        CONSENT_CONFLICT,
    ]
