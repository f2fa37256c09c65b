"""Issue 13 item 4 (the rest): a pathway routed through the GP, for someone whose screening says
they have no GP, says so and offers the no-GP route (GP registration first, NHS 111) instead of
a referral through a GP they do not have: in the suggestion, its JSON, the decisions after the
screening, and ``refer`` itself. A GP registration completed since lifts it."""

from __future__ import annotations

import pytest

from probhealth.errors import BadInput
from probhealth.services import definitions, followup, guided, people, referrals, screening
from probhealth.services import suggest as suggest_service
from tests.services.test_followup import FakeFollowUp
from tests.services.test_guided import FakeUI

CRN = "X123456"
Q = definitions.load_questionnaire()
RULES = definitions.load_rules()
SEVERE_ANXIETY = {f"gad7_{n}": 3 for n in range(1, 8)}
PATHWAY = "mental-health-assessment"


def screened(store, gp: str):  # type: ignore[no-untyped-def]
    people.add_person(
        store,
        people.PersonInput(crn=CRN, given="Ann", family="Smith", dob="1990-01-31", sex="male"),
    )
    for purpose in ("screening", "share-with-gp"):
        people.record_consent(store, CRN, purpose=purpose, status="given")
    active = screening.begin(store, CRN, Q)
    return guided.run(store, active, FakeUI({"gp_registered": gp, **SEVERE_ANXIETY}))


def assessment(store):  # type: ignore[no-untyped-def]
    report = suggest_service.suggest_for(store, CRN, RULES)
    return next(s for s in report.suggestions if s.pathway_id == PATHWAY), report


@pytest.mark.parametrize("gp", ["no", "not sure"])
def test_no_gp_says_so_and_offers_the_no_gp_route(store, gp) -> None:
    screened(store, gp)
    s, report = assessment(store)
    route = RULES.pathway(PATHWAY).without_gp  # type: ignore[union-attr]
    assert route and "Register them with a GP first" in route and "NHS 111" in route
    assert s.no_gp == route
    as_json = next(x for x in report.to_json()["suggestions"] if x["pathway"] == PATHWAY)
    assert as_json["no_gp"] == {"route": route}
    # GP registration is suggested alongside: the route the worker takes first.
    assert "gp-registration" in {x.pathway_id for x in report.suggestions}
    ui = FakeFollowUp({})
    followup.offer(store, CRN, None, ui)
    assert followup.WORKER not in ui.offered[PATHWAY]  # never "I will refer them" through a GP
    with pytest.raises(BadInput, match="has no GP .* cannot be sent through one"):
        referrals.refer(store, CRN, PATHWAY, RULES)
    assert referrals.listing(store, None, crn=CRN) == []  # nothing written


def test_a_gp_registration_completed_since_lifts_it(store) -> None:
    screened(store, "no")
    reg = referrals.refer(store, CRN, "gp-registration", RULES, self_referral=True)
    for step in ("referred", "accepted"):
        referrals.update(store, reg.id, RULES, status=step)
    referrals.update(store, reg.id, RULES, status="completed", outcome="achieved")
    s, _ = assessment(store)
    assert s.no_gp is None
    made = referrals.refer(store, CRN, PATHWAY, RULES)
    assert made.pathway_id == PATHWAY and not made.self_referral


def test_with_a_gp_nothing_changes(store) -> None:
    screened(store, "yes")
    s, _ = assessment(store)
    assert s.no_gp is None
    ui = FakeFollowUp({})
    followup.offer(store, CRN, None, ui)
    assert followup.WORKER in ui.offered[PATHWAY]
    assert referrals.refer(store, CRN, PATHWAY, RULES).status == "agreed"
