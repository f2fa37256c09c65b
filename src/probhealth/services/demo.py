"""Fictional data for trying the tool: the tour person and (later) synthetic caseloads.

Demo people have obviously invented names and CRNs starting with Z, which real CRNs do not
use in this tool's demo databases, so fiction is easy to spot and never mixed into real work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probhealth.errors import NotFound
from probhealth.services import people
from probhealth.store.db import Store

TOUR_CRN = "Z900001"
TOUR_PERSON = people.PersonInput(
    crn=TOUR_CRN,
    given="Sam",
    family="Sample (demo)",
    dob="1988-04-12",
    sex="male",
    postcode="CB1 2AB",
    office="Cambridge",
    language="English",
)


def sample_answers() -> Any:
    """The sample answers used when the demo runs without a terminal (fits the tour person)."""
    from probhealth.services import definitions

    return definitions.demo_answers()


@dataclass(frozen=True)
class TourSetup:
    person: people.PersonRecord
    created: bool


def tour_person(store: Store) -> TourSetup:
    """Make sure the fictional tour person exists with screening consent recorded."""
    created = False
    try:
        record = people.get_person(store, TOUR_CRN)
    except NotFound:
        people.add_person(store, TOUR_PERSON)
        created = True
    record = people.get_person(store, TOUR_CRN)
    if record.consent_status("screening") != "given":
        people.record_consent(
            store,
            TOUR_CRN,
            purpose="screening",
            status="given",
            method="verbal",
            note="Demo: fictional person",
        )
        record = people.get_person(store, TOUR_CRN)
    return TourSetup(record, created)
