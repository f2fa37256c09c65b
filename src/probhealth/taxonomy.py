"""The fixed vocabularies of the domain: need domains and severities, barrier types.

Questionnaires and rules files may only use these words, so that exports line up and a
typo in a file fails at load time. Labels are what a worker sees.
"""

from __future__ import annotations

from typing import Literal

# Safety flag severities. notice: not a risk (reading help, food); shown at the end with its
# adjustment, never stopping the screening like a safety flag.
Severity = Literal["emergency", "same-day", "info", "notice"]
SEVERITY_ORDER = {"emergency": 0, "same-day": 1, "info": 2, "notice": 3}
# Urgent: the screening stops until the worker acknowledges the flag, and one left
# unacknowledged is shown wherever it cannot be missed.
URGENT: tuple[Severity, ...] = ("emergency", "same-day")

NEED_DOMAINS: dict[str, str] = {
    "mental-health": "Mental health",
    "self-harm-risk": "Risk of suicide or self-harm",
    "alcohol": "Alcohol",
    "drugs": "Drugs",
    "smoking": "Smoking",
    "physical-health": "Physical health and long-term conditions",
    "medication": "Medication supply",
    "sexual-health": "Sexual health",
    "learning-disability-neurodiversity": "Learning disability and neurodiversity",
    "screening-prevention": "Screening and prevention (cancer screening, health checks, vaccines)",
    "primary-care-access": "Access to primary care (GP)",
    "dental": "Dental health",
    "food": "Food",
    "housing": "Housing",
    "money": "Money",
    "maternity": "Pregnancy and maternity",
    "head-injury": "Head injury",
    "safeguarding": "Safeguarding",
}
NEED_SEVERITIES = ("low", "moderate", "high")
NEED_STATUSES = ("identified", "being-addressed", "met", "declined")

BARRIER_TYPES: dict[str, str] = {
    "low-literacy": "Low literacy (needs help with reading)",
    "low-health-literacy": "Low health literacy",
    "money": "Money or cost",
    "competing-priorities": "Competing priorities",
    "stigma": "Stigma",
    "previous-poor-treatment": "Previous poor treatment by services",
    "not-registered-gp": "Not registered with a GP",
    "no-fixed-address": "No fixed address",
    "transport": "Transport",
    "opening-times": "Opening times",
    "language": "Language (needs an interpreter)",
    "digital-exclusion": "Digital exclusion (no phone, or no internet access)",
    "caring-responsibilities": "Caring responsibilities",
    "no-id-documents": "No ID documents",
}
