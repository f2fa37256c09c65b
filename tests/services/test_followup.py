"""The post-screening dialogue without a terminal: each suggestion gets a decision (agreed and
how, declined and why, later), and a worker referral without consent to share asks, records a
yes as verbal consent and refers, or leaves the pathway on a no."""

from __future__ import annotations

import dataclasses

import pytest

from probhealth.errors import ConsentRequired
from probhealth.services import definitions, followup, guided, people, referrals, screening
from probhealth.taxonomy import URGENT
from tests.services.test_guided import FakeUI

CRN = "X123456"


class FakeFollowUp:
    """``followup.UI`` from a script: pathway id -> decision (default: later)."""

    def __init__(self, decisions: dict[str, str], *, consent: bool = False) -> None:
        self.decisions = decisions
        self.consent = consent
        self.events: list[str] = []
        self.offered: dict[str, tuple[str, ...]] = {}

    def suggestions(self, report, *, pending):  # type: ignore[no-untyped-def]
        self.events.append(f"suggestions:{len(report.suggestions)}:{pending}")

    def decide(self, s, choices):  # type: ignore[no-untyped-def]
        self.offered[s.pathway_id] = tuple(choices)
        answer = self.decisions.get(s.pathway_id, followup.LATER)
        assert answer in choices
        return answer

    def decline_reason(self, s):  # type: ignore[no-untyped-def]
        return "already-getting-help"

    def service(self, s, services):  # type: ignore[no-untyped-def]
        assert 0 < len(services) <= followup.MAX_SERVICES
        return None

    def consent_needed(self, exc):  # type: ignore[no-untyped-def]
        assert isinstance(exc, ConsentRequired)
        self.events.append("consent?")
        return self.consent

    def not_referred(self, s):  # type: ignore[no-untyped-def]
        self.events.append(f"not-referred:{s.pathway_id}")

    def referred(self, record):  # type: ignore[no-untyped-def]
        self.events.append(f"referred:{record.pathway_id}")

    def finished(self, recorded, *, left=0):  # type: ignore[no-untyped-def]
        self.events.append(f"finished:{recorded}")
        self.left = left


@pytest.fixture
def screened(store, built_once):  # type: ignore[no-untyped-def]
    """A person with a completed screening that suggests GP registration (no share consent),
    made once a process and copied for each test; its id."""

    def build() -> int:
        people.add_person(
            store,
            people.PersonInput(crn=CRN, given="Ann", family="Smith", dob="1990-01-31", sex="male"),
        )
        people.record_consent(store, CRN, purpose="screening", status="given")
        active = screening.begin(store, CRN, definitions.load_questionnaire())
        ui = FakeUI({"gp_registered": "no", "smoking_status": "current"})
        return guided.run(store, active, ui).id

    return built_once(build)


def open_referrals(store) -> dict[str, referrals.ReferralRecord]:  # type: ignore[no-untyped-def]
    return {r.pathway_id: r for r in referrals.listing(store, None, crn=CRN)}


def share_consent(store):  # type: ignore[no-untyped-def]
    return people.show_person(store, CRN).consent.get("share-with-services")


def test_suggestions_left_for_later_are_counted_for_the_worker(store, screened) -> None:
    ui = FakeFollowUp({})  # "decide later" to every one
    assert followup.offer(store, CRN, screened, ui) == 0
    assert ui.events[-1] == "finished:0" and ui.left == len(ui.offered) >= 2


def test_decline_and_self_referral_are_recorded_with_the_screening(store, screened) -> None:
    ui = FakeFollowUp({"gp-registration": followup.SELF, "stop-smoking": followup.DECLINE})
    assert followup.offer(store, CRN, screened, ui) == 2
    refs = open_referrals(store)
    assert refs["gp-registration"].status == "agreed" and refs["gp-registration"].self_referral
    assert refs["stop-smoking"].status == "declined-by-person"
    assert refs["stop-smoking"].closed_reason == "already-getting-help"
    assert all(r.reasons and r.urgency for r in refs.values())
    assert "consent?" not in ui.events  # a self-referral shares nothing
    assert ui.events[-1] == "finished:2"
    assert ui.left == len(ui.offered) - 2  # the rest were left for later
    # Asked again: what has an open referral is not offered twice.
    again = FakeFollowUp({})
    assert followup.offer(store, CRN, screened, again) == 0
    assert "gp-registration" not in again.offered


def test_worker_referral_asks_for_consent_and_a_yes_is_recorded(store, screened) -> None:
    ui = FakeFollowUp({"gp-registration": followup.WORKER}, consent=True)
    assert followup.offer(store, CRN, screened, ui) == 1
    assert ui.events[1:] == ["consent?", "referred:gp-registration", "finished:1"]
    consent = share_consent(store)
    assert consent is not None and (consent.status, consent.method) == ("given", "verbal")
    assert open_referrals(store)["gp-registration"].self_referral is False


def test_worker_referral_refused_consent_is_recorded_as_declined(store, screened) -> None:
    # Issue 13: "no" at a consent prompt is an answer, recorded as declined; no referral.
    ui = FakeFollowUp({"gp-registration": followup.WORKER}, consent=False)
    assert followup.offer(store, CRN, screened, ui) == 0
    assert ui.events[1:] == ["consent?", "not-referred:gp-registration", "finished:0"]
    consent = share_consent(store)
    assert consent is not None and (consent.status, consent.method) == ("declined", "verbal")
    assert open_referrals(store) == {}


def test_choices_follow_the_pathway(store, screened) -> None:
    ui = FakeFollowUp({})
    followup.offer(store, CRN, screened, ui)
    report_ids = set(ui.offered)
    assert ui.offered["gp-registration"] == (
        followup.SELF,
        followup.WORKER,
        followup.DECLINE,
        followup.LATER,
    )
    assert all(c[-2:] == (followup.DECLINE, followup.LATER) for c in ui.offered.values())
    assert report_ids  # something was offered


def test_with_consent_refused_raises_the_original_and_records_declined(store) -> None:
    people.add_person(
        store,
        people.PersonInput(crn=CRN, given="Ann", family="Smith", dob="1990-01-31", sex="male"),
    )
    q = definitions.load_questionnaire()
    asked: list[str] = []

    def agrees(exc: ConsentRequired) -> bool:
        asked.append(exc.message)
        return False

    with pytest.raises(ConsentRequired):
        people.with_consent(store, CRN, "screening", lambda: screening.begin(store, CRN, q), agrees)
    assert len(asked) == 1 and "consent to the health screening (screening)" in asked[0]
    assert people.show_person(store, CRN).consent["screening"].status == "declined"
    assert screening_count(store) == 0  # nothing started
    told: list[str] = []
    active = people.with_consent(
        store,
        CRN,
        "screening",
        lambda: screening.begin(store, CRN, q),
        lambda exc: True,
        lambda: told.append("recorded"),
    )
    assert active.screening_id and told == ["recorded"]
    assert people.show_person(store, CRN).consent["screening"].method == "verbal"


def screening_count(store) -> int:  # type: ignore[no-untyped-def]
    from probhealth.services import screening as screening_service

    return len(screening_service.list_for(store, CRN)[1])


def test_unacknowledged_lists_only_urgent_flags_nobody_acknowledged(store, screened) -> None:
    detail = screening.show(store, screened, audit_view=False)
    now = detail.started_at

    def flag(fid: str, severity: str, acked: bool) -> screening.FlagRecord:
        return screening.FlagRecord(
            fid, severity, fid, "", (), now, now if acked else None, "w" if acked else None
        )

    flags = (
        flag("a", "emergency", False),
        flag("b", "same-day", False),
        flag("c", "same-day", True),
        flag("d", "info", False),
        flag("e", "notice", False),
    )
    waiting = dataclasses.replace(detail, flags=flags).unacknowledged()
    assert [f.flag_id for f in waiting] == ["a", "b"]
    assert URGENT == ("emergency", "same-day")


def test_the_decisions_can_be_taken_up_again(store, screened) -> None:
    """Issue 13 item 6: after an interruption, ``offer`` for the latest screening asks only
    about suggestions with no decision recorded for it (a decline is not asked again)."""
    first = FakeFollowUp({"stop-smoking": followup.DECLINE})  # GP registration: later
    assert followup.offer(store, CRN, screened, first) == 1
    assert followup.pending_count(store, CRN) == (screened, len(first.offered) - 1)
    again = FakeFollowUp({"gp-registration": followup.SELF})
    assert followup.offer(store, CRN, None, again) == 1  # None: the latest screening
    assert "stop-smoking" not in again.offered and "gp-registration" in again.offered
    last = FakeFollowUp({})
    assert followup.offer(store, CRN, None, last) == 0
    assert "gp-registration" not in last.offered and "stop-smoking" not in last.offered


CONSENT_WARNING = "Needs a referral from you, and consent to share with services is not recorded"


class SeesServices(FakeFollowUp):
    """Records the warnings shown with each service at each choice, and picks the first."""

    def __init__(self, decisions: dict[str, str], *, consent: bool) -> None:
        super().__init__(decisions, consent=consent)
        self.warnings: dict[str, list[str]] = {}

    def service(self, s, services):  # type: ignore[no-untyped-def]
        self.warnings[s.pathway_id] = [w for m in services for w in m.conflicts]
        return services[0].service.id


@pytest.fixture
def in_cambridge(store, built_once):  # type: ignore[no-untyped-def]
    """A Cambridge person released 10 days ago who screened positive for hunger (food support
    and Reconnect suggested, both through services that need a referral from the worker), no
    consent to share; the screening's id."""
    from datetime import timedelta

    from probhealth import clock
    from probhealth.services import directory

    def build() -> int:
        directory.load_path(store, definitions.bundled_services_path(), definitions.load_rules())
        released = (clock.today() - timedelta(days=10)).isoformat()
        people.add_person(
            store,
            people.PersonInput(
                crn=CRN,
                given="Ann",
                family="Smith",
                dob="1990-01-31",
                sex="male",
                postcode="CB1 2AB",
                office="Cambridge",
                release_date=released,
            ),
        )
        people.record_consent(store, CRN, purpose="screening", status="given")
        active = screening.begin(store, CRN, definitions.load_questionnaire())
        return guided.run(store, active, FakeUI({"hvs_1": "often"})).id

    return built_once(build)


def test_consent_recorded_mid_dialogue_clears_the_later_warnings(store, in_cambridge) -> None:
    """User review: the warnings were worked out once, before the decisions; after consent to
    share was recorded at the first referral, the next service still said consent "is not
    recorded". Each service choice now shows what is true then."""
    worker = {"food-support": followup.WORKER, "reconnect": followup.WORKER}
    ui = SeesServices(worker, consent=True)
    assert followup.offer(store, CRN, in_cambridge, ui) == 2
    assert ui.warnings["food-support"] == [CONSENT_WARNING]  # not recorded yet: true
    assert ui.warnings["reconnect"] == []  # recorded at food support's referral
    assert ui.events.count("consent?") == 1


def test_consent_refused_mid_dialogue_still_stops_the_next_referral(store, in_cambridge) -> None:
    """Consent binds: a no at the first referral leaves the warning on the next service, and
    that referral asks again rather than sharing; a second no stops it too."""
    worker = {"food-support": followup.WORKER, "reconnect": followup.WORKER}
    ui = SeesServices(worker, consent=False)
    assert followup.offer(store, CRN, in_cambridge, ui) == 0
    assert ui.warnings["food-support"] == [CONSENT_WARNING]  # never asked: not recorded
    assert ui.warnings["reconnect"] == [  # their no at food support, as it is now
        "Needs a referral from you, and they declined consent to share with services"
    ]
    assert ui.events.count("consent?") == 2
    assert "not-referred:reconnect" in ui.events and open_referrals(store) == {}
    assert share_consent(store).status == "declined"
