"""The bundled referral rules (``src/probhealth/data/rules.yaml``), rule by rule.

Every rule id in the file has a case below: facts that make it fire (with the pathway and
urgency it must give, and exactly which other rules fire alongside it) and near misses that
keep it quiet, with both sides of every numeric boundary. A rule added to the file without a
case here fails ``test_every_rule_has_a_case``.

Eligibility ages and windows are checked against the "Pathway facts" of
``/work/shared/reference/instruments.md``, written out here as plain predicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from probhealth import expr
from probhealth.rules.engine import Facts, Outcome, evaluate
from probhealth.rules.model import URGENCY_ORDER
from probhealth.services.definitions import (
    DEFAULT_RULES,
    bundled_path,
    load_questionnaire,
    load_rules,
)

# The bundled file, by path, so a PROBHEALTH_RULES in the environment cannot swap it.
RULES = load_rules(bundled_path(DEFAULT_RULES))
Q = load_questionnaire()
TODAY = date(2026, 11, 23)
RULE_IDS = {r.id for r in RULES.rules}


def label(item: str, value: Any) -> str:
    return Q.item(item).label_of(value)


def facts(
    answers: dict[str, Any] | None = None,
    scores: dict[str, int] | None = None,
    bands: dict[str, str] | None = None,
    flags: tuple[str, ...] = (),
    severities: tuple[str, ...] = (),
    age: int | None = 30,
    sex: str = "male",
    days: int | None = None,
    nation: str | None = None,
    stage: str | None = None,
    barriers: tuple[str, ...] = (),
    needs: tuple[str, ...] = (),
    open_referrals: tuple[str, ...] = (),
) -> Facts:
    """A 30-year-old man, not recently released, with nothing else known, unless told."""
    return Facts(
        answers=answers or {},
        scores=scores or {},
        bands=bands or {},
        flags=frozenset(flags),
        flag_severities=frozenset(severities),
        person={
            "age": age,
            "sex": sex,
            "days_since_release": days,
            "nation": nation,
            "stage": stage,
        },
        barriers=frozenset(barriers),
        needs=frozenset(needs),
        open_referrals=frozenset(open_referrals),
        consents=frozenset(),
    )


def run(f: Facts, lab: Any = None) -> Outcome:
    return evaluate(RULES, f, TODAY, label=lab)


def fired(out: Outcome) -> set[str]:
    return {r.rule for s in (*out.suggestions, *out.already_open) for r in s.reasons}


def by_pathway(out: Outcome) -> dict[str, Any]:
    return {s.pathway.id: s for s in out.suggestions}


def reason(out: Outcome, rule_id: str) -> Any:
    for s in out.suggestions:
        for r in s.reasons:
            if r.rule == rule_id:
                return s, r
    raise AssertionError(f"{rule_id} did not fire: {sorted(fired(out))}")


# ------------------------------------------------------------------------ cases --------
@dataclass(frozen=True)
class Fire:
    name: str
    facts: Facts
    also: frozenset[str] = frozenset()  # the other rules these facts must fire, exactly


@dataclass(frozen=True)
class Case:
    rule: str
    pathway: str
    urgency: str
    fire: tuple[Fire, ...]
    quiet: tuple[tuple[str, Facts], ...]
    notes: str = field(default="")


def F(name: str, f: Facts, *also: str) -> Fire:
    return Fire(name, f, frozenset(also))


HEART = {"long_term_conditions": ["heart"]}  # keeps the NHS Health Check rule out of the way
NO_CHECK = {"health_check_recent": "no"}  # no NHS Health Check in the last 5 years
PRE = "pre-sentence"  # CSTR assessments belong to the pre-sentence stage

CASES: tuple[Case, ...] = (
    # ---- housing and money (issue 13): needs that had no route
    Case(
        "rough-sleeping",
        "housing-options",
        "same-day",
        fire=(F("rough", facts({"housing": "rough-sleeping"})),),
        quiet=(
            (
                "sofa",
                facts(
                    {"housing": "sofa-surfing"},
                ),
            ),
            ("own", facts({"housing": "own"})),
        ),
    ),
    Case(
        "no-settled-home",
        "housing-options",
        "soon",
        fire=(
            F("sofa-surfing", facts({"housing": "sofa-surfing"})),
            F("temporary", facts({"housing": "temporary"})),
            F("need-recorded", facts(needs=("housing",))),
        ),
        quiet=(("own", facts({"housing": "own"})), ("family", facts({"housing": "family"}))),
    ),
    Case(
        "money-worries",
        "money-advice",
        "routine",
        fire=(
            F("answer", facts({"money_worries": "yes"})),
            F("need-recorded", facts(needs=("money",))),
        ),
        quiet=(("no", facts({"money_worries": "no"})), ("nothing", facts())),
    ),
    # ---- safety
    Case(
        "emergency-flag",
        "crisis-support",
        "emergency",
        fire=(
            F(
                "phq9_9",
                facts(flags=("self_harm_thoughts",), severities=("emergency",)),
                "self-harm-thoughts-assessment",
            ),
            F(
                "emergency-and-same-day",
                facts(
                    flags=("self_harm_recent", "food_insecurity"),
                    severities=("emergency", "same-day"),
                ),
                "hunger",
                "self-harm-recent-assessment",
            ),
        ),
        quiet=(
            (
                "same-day-only",
                facts(flags=("safeguarding",), severities=("same-day",)),
            ),
            ("nothing", facts()),
        ),
    ),
    Case(
        "acute-distress",
        "crisis-support",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("acute_distress",), severities=("same-day",)),
                "distress-assessment",
            ),
        ),
        quiet=(("other-same-day-flag", facts(flags=("safeguarding",), severities=("same-day",))),),
    ),
    # ---- safeguarding: the flag always gives the local procedure, whatever raised it
    Case(
        "safeguarding-flag",
        "safeguarding-referral",
        "same-day",
        fire=(
            F("worker-concern", facts(flags=("safeguarding",), severities=("same-day",))),
            F(
                "domestic-abuse",
                facts({"domestic_abuse": "yes"}, flags=("safeguarding",), severities=("same-day",)),
                "domestic-abuse",
            ),
        ),
        quiet=(("no-flag", facts({"worker_concerns": ["none"], "domestic_abuse": "no"})),),
    ),
    Case(
        "domestic-abuse",
        "domestic-abuse-support",
        "same-day",
        fire=(F("yes", facts({"domestic_abuse": "yes"})),),
        quiet=(
            ("no", facts({"domestic_abuse": "no"})),
            ("declined", facts({"domestic_abuse": expr.DECLINED})),
            ("other-safeguarding", facts(flags=("safeguarding",), severities=("same-day",))),
        ),
    ),
    # ---- primary care
    Case(
        "no-gp",
        "gp-registration",
        "soon",
        fire=(
            F("no", facts({"gp_registered": "no"})),
            F("not-sure", facts({"gp_registered": "not sure"})),
        ),
        quiet=(
            ("yes", facts({"gp_registered": "yes"})),
            ("missing", facts()),
            ("declined", facts({"gp_registered": expr.DECLINED})),
        ),
    ),
    Case(
        "no-gp-after-release",
        "gp-registration",
        "same-day",
        fire=(
            F(
                "flag",
                facts(
                    {"gp_registered": "no", "recent_custody": "yes"},
                    flags=("no_gp_after_release",),
                    severities=("same-day",),
                ),
                "no-gp",
            ),
        ),
        quiet=(("no-gp-without-custody", facts({"gp_registered": "no", "recent_custody": "no"})),),
    ),
    Case(
        "no-gp-medication",
        "gp-registration",
        "same-day",
        fire=(
            F(
                "no-gp",
                facts(
                    {"gp_registered": "not sure", "medication_supply": "no"},
                    flags=("no_medication",),
                    severities=("same-day",),
                ),
                "no-gp",
            ),
        ),
        quiet=(
            (
                "has-gp",
                facts(
                    {"gp_registered": "yes", "medication_supply": "no"},
                    flags=("no_medication",),
                    severities=("same-day",),
                ),
            ),
            ("enough-medicine", facts({"gp_registered": "no", "medication_supply": "yes"})),
        ),
    ),
    Case(
        "medication-has-gp",
        "gp-appointment",
        "same-day",
        fire=(
            F(
                "has-gp",
                facts(
                    {"gp_registered": "yes", "medication_supply": "no"},
                    flags=("no_medication",),
                    severities=("same-day",),
                ),
            ),
        ),
        quiet=(
            (
                "no-gp",
                facts(
                    {"gp_registered": "no", "medication_supply": "no"},
                    flags=("no_medication",),
                    severities=("same-day",),
                ),
            ),
            ("enough-medicine", facts({"gp_registered": "yes", "medication_supply": "yes"})),
        ),
    ),
    Case(
        "no-dentist",
        "dentist",
        "routine",
        fire=(
            F("no", facts({"dentist_registered": "no"})),
            F("not-sure", facts({"dentist_registered": "not sure"})),
        ),
        quiet=(("yes", facts({"dentist_registered": "yes"})), ("missing", facts())),
    ),
    # ---- mental health
    Case(
        "phq9-moderate",
        "talking-therapies",
        "soon",
        fire=(
            F(
                "phq9-10-age-18",
                facts(scores={"phq9": 10}, bands={"phq9": "moderate"}, age=18),
                "phq9-mild",
            ),
            F("phq9-14", facts(scores={"phq9": 14}), "phq9-mild"),
        ),
        quiet=(
            ("phq9-9", facts(scores={"phq9": 9})),
            ("age-17", facts(scores={"phq9": 10}, age=17)),
            ("age-unknown", facts(scores={"phq9": 10}, age=None)),
            (
                "emergency-flag",
                facts(
                    scores={"phq9": 10},
                    flags=("self_harm_thoughts",),
                    severities=("emergency",),
                ),
            ),
        ),
    ),
    Case(
        "gad7-caseness",
        "talking-therapies",
        "soon",
        fire=(
            F("gad7-8-age-18", facts(scores={"gad7": 8}, age=18), "gad7-mild"),
            F("gad7-14", facts(scores={"gad7": 14}), "gad7-mild"),
        ),
        quiet=(
            ("gad7-7", facts(scores={"gad7": 7})),
            ("age-17", facts(scores={"gad7": 8}, age=17)),
            (
                "emergency-flag",
                facts(
                    scores={"gad7": 8},
                    flags=("worker_concern_self_harm",),
                    severities=("emergency",),
                ),
            ),
        ),
    ),
    # less severe depression or anxiety: guided self-help (NICE NG222), routine
    Case(
        "phq9-mild",
        "talking-therapies",
        "routine",
        fire=(
            F("phq9-5-age-18", facts(scores={"phq9": 5}, bands={"phq9": "mild"}, age=18)),
            F("phq9-9", facts(scores={"phq9": 9})),
        ),
        quiet=(
            ("phq9-4", facts(scores={"phq9": 4})),
            ("age-17", facts(scores={"phq9": 7}, age=17)),
            (
                "emergency-flag",
                facts(scores={"phq9": 7}, flags=("self_harm_thoughts",), severities=("emergency",)),
            ),
        ),
    ),
    Case(
        "gad7-mild",
        "talking-therapies",
        "routine",
        fire=(
            F("gad7-5-age-18", facts(scores={"gad7": 5}, bands={"gad7": "mild"}, age=18)),
            F("gad7-7", facts(scores={"gad7": 7})),
        ),
        quiet=(
            ("gad7-4", facts(scores={"gad7": 4})),
            ("age-17", facts(scores={"gad7": 7}, age=17)),
            (
                "emergency-flag",
                facts(scores={"gad7": 6}, flags=("self_harm_recent",), severities=("emergency",)),
            ),
        ),
    ),
    # Wales: local primary mental health support instead of NHS Talking Therapies
    Case(
        "wales-primary-mental-health",
        "primary-mental-health-wales",
        "soon",
        fire=(
            F(
                "phq9-10",
                facts(scores={"phq9": 10}, nation="wales"),
                "wales-primary-mental-health-mild",
            ),
            F(
                "gad7-8",
                facts(scores={"gad7": 8}, nation="wales"),
                "wales-primary-mental-health-mild",
            ),
        ),
        quiet=(
            ("england", facts(scores={"phq9": 12}, nation="england")),
            ("phq9-9", facts(scores={"phq9": 9}, nation="wales")),
            ("age-17", facts(scores={"phq9": 12}, nation="wales", age=17)),
        ),
    ),
    Case(
        "wales-primary-mental-health-mild",
        "primary-mental-health-wales",
        "routine",
        fire=(F("gad7-5", facts(scores={"gad7": 5}, nation="wales")),),
        quiet=(
            ("england", facts(scores={"gad7": 6})),
            (
                "emergency",
                facts(
                    scores={"phq9": 7},
                    nation="wales",
                    flags=("self_harm_thoughts",),
                    severities=("emergency",),
                ),
            ),
        ),
    ),
    Case(
        "phq9-severe",
        "mental-health-assessment",
        "soon",
        fire=(
            F(
                "phq9-20",
                facts(scores={"phq9": 20}, stage="pre-sentence"),
                "phq9-moderate",
                "phq9-mild",
                "cstr-mental-health",
            ),
            F("phq9-20-age-17", facts(scores={"phq9": 20}, age=17)),
        ),
        quiet=(("phq9-19", facts(scores={"phq9": 19})),),
    ),
    Case(
        "gad7-severe",
        "mental-health-assessment",
        "soon",
        fire=(
            F(
                "gad7-15",
                facts(scores={"gad7": 15}, stage="pre-sentence"),
                "gad7-caseness",
                "gad7-mild",
                "cstr-mental-health",
            ),
            F("gad7-15-age-17", facts(scores={"gad7": 15}, age=17)),
        ),
        quiet=(("gad7-14", facts(scores={"gad7": 14})),),
    ),
    Case(
        "distress-assessment",
        "mental-health-assessment",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("acute_distress",), severities=("same-day",)),
                "acute-distress",
            ),
        ),
        quiet=(("no-flag", facts()),),
    ),
    Case(
        "moderately-severe-no-help",
        "mental-health-assessment",
        "soon",
        fire=(
            F(
                "phq9-15-no-help",
                facts({"mh_support": "no"}, scores={"phq9": 15}, stage="pre-sentence"),
                "phq9-moderate",
                "phq9-mild",
                "cstr-mental-health",
            ),
            F("phq9-15-no-help-age-17", facts({"mh_support": "no"}, scores={"phq9": 15}, age=17)),
        ),
        quiet=(
            ("phq9-14", facts({"mh_support": "no"}, scores={"phq9": 14})),
            ("has-help", facts({"mh_support": "yes"}, scores={"phq9": 15})),
            ("help-not-asked", facts(scores={"phq9": 15})),
        ),
    ),
    # suicide or self-harm: crisis support first, and a same-day mental health assessment
    # instead of Talking Therapies (not a crisis service), whatever the scores
    Case(
        "self-harm-thoughts-assessment",
        "mental-health-assessment",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("self_harm_thoughts",), severities=("emergency",)),
                "emergency-flag",
            ),
            F(
                "flag-with-phq9-13",
                facts(
                    scores={"phq9": 13},
                    flags=("self_harm_thoughts",),
                    severities=("emergency",),
                ),
                "emergency-flag",
            ),
        ),
        quiet=(
            ("no-flag-phq9-13", facts(scores={"phq9": 13})),
            (
                "other-emergency-flag",
                facts(flags=("self_harm_recent",), severities=("emergency",)),
            ),
        ),
    ),
    Case(
        "self-harm-recent-assessment",
        "mental-health-assessment",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("self_harm_recent",), severities=("emergency",)),
                "emergency-flag",
            ),
        ),
        quiet=(("no-flag", facts({"self_harm_recent": "no"})),),
    ),
    Case(
        "worker-concern-self-harm-assessment",
        "mental-health-assessment",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("worker_concern_self_harm",), severities=("emergency",)),
                "emergency-flag",
            ),
        ),
        quiet=(("no-flag", facts({"worker_concerns": ["others"]})),),
    ),
    Case(
        "past-attempt-thoughts-assessment",
        "mental-health-assessment",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("past_attempt_with_thoughts",), severities=("emergency",)),
                "emergency-flag",
            ),
        ),
        quiet=(
            (
                "past-attempt-only",
                facts({"suicide_attempt_ever": "yes"}, flags=("past_suicide_attempt",)),
            ),
        ),
    ),
    # serious mental illness: continuity of care (NICE NG66)
    Case(
        "smi-continuity",
        "mental-health-continuity",
        "routine",
        fire=(
            F(
                "smi-in-touch",
                facts({"long_term_conditions": ["smi"], "mh_team_contact": "yes"}),
            ),
        ),
        quiet=(("other-condition", facts({"long_term_conditions": ["pain"]})),),
    ),
    Case(
        "smi-no-contact",
        "mental-health-continuity",
        "soon",
        fire=(
            F(
                "no-team",
                facts(
                    {"long_term_conditions": ["smi"], "mh_team_contact": "no", "mh_medicine": "yes"}
                ),
                "smi-continuity",
            ),
            F(
                "no-medicine",
                facts(
                    {
                        "long_term_conditions": ["smi", "pain"],
                        "mh_team_contact": "yes",
                        "mh_medicine": "not sure",
                    }
                ),
                "smi-continuity",
            ),
        ),
        quiet=(
            (
                "in-touch-with-medicine",
                facts(
                    {
                        "long_term_conditions": ["smi"],
                        "mh_team_contact": "yes",
                        "mh_medicine": "yes",
                    }
                ),
            ),
            (
                "not-prescribed",
                facts(
                    {
                        "long_term_conditions": ["smi"],
                        "mh_team_contact": "yes",
                        "mh_medicine": "none-prescribed",
                    }
                ),
            ),
            ("no-smi", facts({"long_term_conditions": ["pain"], "mh_team_contact": "no"})),
        ),
    ),
    # ---- alcohol
    # NICE CG115: the full AUDIT decides; AUDIT-C alone only when the AUDIT is not complete
    Case(
        "audit-increasing-risk",
        "alcohol-brief-advice",
        "routine",
        fire=(
            F("audit-8", facts(scores={"audit": 8}, bands={"audit": "increasing risk"})),
            F("audit-15", facts(scores={"audit": 15}, bands={"audit": "increasing risk"})),
        ),
        quiet=(
            ("audit-7", facts(scores={"audit": 7}, bands={"audit": "lower risk"})),
            ("audit-16", facts(scores={"audit": 16}, bands={"audit": "higher risk"})),
        ),
    ),
    Case(
        "auditc-increasing-risk",
        "alcohol-brief-advice",
        "routine",
        fire=(
            F("auditc-5", facts(scores={"audit_c": 5}, bands={"audit_c": "increasing risk"})),
            F("auditc-7", facts(scores={"audit_c": 7})),
        ),
        quiet=(
            ("auditc-4", facts(scores={"audit_c": 4}, bands={"audit_c": "lower risk"})),
            ("auditc-8", facts(scores={"audit_c": 8})),
            (
                "full-audit-lower-risk",
                facts(scores={"audit_c": 6, "audit": 7}, bands={"audit": "lower risk"}),
            ),
        ),
    ),
    Case(
        "auditc-higher-risk",
        "alcohol-service",
        "soon",
        fire=(
            F("auditc-8", facts(scores={"audit_c": 8}, bands={"audit_c": "higher risk"})),
            F("auditc-10", facts(scores={"audit_c": 10})),
        ),
        quiet=(
            ("auditc-7", facts(scores={"audit_c": 7})),
            (
                "full-audit-increasing",
                facts(scores={"audit_c": 9, "audit": 12}, bands={"audit": "increasing risk"}),
                # the full AUDIT decides: brief advice, not the service
            ),
        ),
    ),
    Case(
        "audit-higher-risk",
        "alcohol-service",
        "soon",
        fire=(
            F(
                "audit-16",
                facts(scores={"audit": 16}, bands={"audit": "higher risk"}),
            ),
            F("audit-19", facts(scores={"audit": 19})),
        ),
        quiet=(("audit-15", facts(scores={"audit": 15})),),
    ),
    Case(
        "alcohol-dependence",
        "alcohol-service",
        "same-day",
        fire=(
            F(
                "flag",
                facts(
                    flags=("alcohol_dependence_risk",),
                    severities=("same-day",),
                    stage="pre-sentence",
                ),
                "cstr-alcohol",
                "alcohol-dependence-gp",
            ),
            F(
                "flag-age-17",
                facts(flags=("alcohol_dependence_risk",), severities=("same-day",), age=17),
                "alcohol-dependence-gp",
            ),
        ),
        quiet=(("high-auditc-no-flag", facts(scores={"audit_c": 10})),),
    ),
    Case(
        "alcohol-dependence-gp",
        "alcohol-withdrawal-gp",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("alcohol_dependence_risk",), severities=("same-day",), age=17),
                "alcohol-dependence",
            ),
        ),
        quiet=(("audit-19", facts(scores={"audit": 19})),),
    ),
    # ---- drugs
    Case(
        "dast-moderate",
        "drug-service",
        "soon",
        fire=(
            F("dast-3", facts(scores={"dast10": 3}, bands={"dast10": "moderate"})),
            F("dast-5", facts(scores={"dast10": 5})),
        ),
        quiet=(("dast-2", facts(scores={"dast10": 2})),),
    ),
    Case(
        "injecting",
        "drug-service",
        "soon",
        fire=(F("yes", facts({"drugs_any": "yes", "drugs_inject": "yes"}), "injected-bbv"),),
        quiet=(("no", facts({"drugs_any": "yes", "drugs_inject": "no"})),),
    ),
    Case(
        "injected-bbv",
        "bbv-testing",
        "routine",
        fire=(
            F("yes-no-drugs-now", facts({"drugs_any": "no", "drugs_inject": "yes"}), "injecting"),
        ),
        quiet=(
            ("no", facts({"drugs_any": "yes", "drugs_inject": "no"})),
            ("declined", facts({"drugs_inject": expr.DECLINED})),
        ),
    ),
    Case(
        "overdose-risk",
        "drug-service",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("post_release_overdose_risk",), severities=("same-day",)),
                "overdose-risk-naloxone",
            ),
        ),
        quiet=(("no-flag", facts({"drugs_types": ["benzos"]}, days=60)),),
    ),
    Case(
        "opioids-naloxone",
        "naloxone",
        "soon",
        fire=(
            F("heroin", facts({"drugs_types": ["heroin"]})),
            F("substitute", facts({"drugs_types": ["cannabis", "opioid-substitute"]})),
            F("overdose", facts({"overdose_recent": "yes"})),
        ),
        quiet=(
            ("other-drugs", facts({"drugs_types": ["cannabis", "cocaine", "benzos"]})),
            ("none", facts({"drugs_types": ["none"], "overdose_recent": "no"})),
        ),
    ),
    Case(
        "overdose-risk-naloxone",
        "naloxone",
        "same-day",
        fire=(
            F(
                "flag",
                facts(flags=("post_release_overdose_risk",), severities=("same-day",)),
                "overdose-risk",
            ),
        ),
        quiet=(("no-flag", facts({"drugs_types": ["benzos"]})),),
    ),
    Case(
        "substitution-naloxone",
        "naloxone",
        "soon",
        fire=(F("prescribed", facts({"opioid_substitution": "yes"})),),
        quiet=(("no", facts({"opioid_substitution": "no", "drugs_types": ["cannabis"]})),),
    ),
    Case(
        "custody-opioids-naloxone",
        "naloxone",
        "same-day",
        fire=(
            F(
                "day-minus-84-heroin",
                facts({"drugs_types": ["heroin"]}, days=-84),
                "opioids-naloxone",
            ),
            F(
                "day-minus-1-substitution",
                facts({"opioid_substitution": "yes"}, days=-1),
                "substitution-naloxone",
            ),
        ),
        quiet=(
            ("day-minus-85", facts({"drugs_types": ["heroin"]}, days=-85)),
            ("released", facts({"opioid_substitution": "no", "drugs_types": ["benzos"]}, days=-5)),
            ("no-date", facts({"drugs_types": ["cocaine"]})),
        ),
    ),
    # ---- long-term conditions and head injury
    Case(
        "condition-no-gp-or-medicine",
        "long-term-condition-review",
        "soon",
        fire=(
            F(
                "diabetes-no-gp",
                facts({"long_term_conditions": ["diabetes"], "gp_registered": "no"}),
                "no-gp",
            ),
            F(
                "heart-medicine-running-out",
                facts(
                    {
                        "long_term_conditions": ["heart"],
                        "gp_registered": "yes",
                        "medication_supply": "not sure",
                    },
                    flags=("no_medication",),
                    severities=("same-day",),
                ),
                "medication-has-gp",
            ),
        ),
        quiet=(
            (
                "gp-and-medicine",
                facts(
                    {
                        "long_term_conditions": ["epilepsy"],
                        "gp_registered": "yes",
                        "medication_supply": "yes",
                    }
                ),
            ),
            ("no-condition", facts({"long_term_conditions": ["none"], "gp_registered": "no"})),
        ),
    ),
    Case(
        "head-injury-problems",
        "brain-injury-support",
        "routine",
        fire=(F("yes", facts({"head_injury": "yes", "head_injury_problems": "yes"})),),
        quiet=(
            ("no-problems", facts({"head_injury": "yes", "head_injury_problems": "no"})),
            ("no-injury", facts({"head_injury": "no"})),
        ),
    ),
    # ---- smoking, sexual health
    Case(
        "smokes",
        "stop-smoking",
        "routine",
        fire=(
            F(
                "current",
                facts({"smoking_status": "current"}, {"hsi": 3}, {"hsi": "medium dependence"}),
            ),
        ),
        quiet=(
            ("ex", facts({"smoking_status": "ex"})),
            ("never", facts({"smoking_status": "never"})),
        ),
    ),
    Case(
        "wants-sexual-health",
        "sexual-health",
        "routine",
        fire=(F("yes", facts({"sexual_health_help": "yes"})),),
        quiet=(("no", facts({"sexual_health_help": "no"})),),
    ),
    # ---- screening and prevention
    Case(
        "bowel-due",
        "bowel-screening",
        "routine",
        fire=(
            F("age-50-never", facts({**HEART, "bowel_screening_last": "never"}, age=50)),
            F("age-74-over-2", facts({**HEART, "bowel_screening_last": "over-2-years"}, age=74)),
            F("not-sure", facts({**HEART, "bowel_screening_last": "not sure"}, age=60)),
            F(
                "woman-50",
                facts(
                    {"bowel_screening_last": "never", "health_check_recent": "no"},
                    age=50,
                    sex="female",
                ),
                "health-check-age",
            ),
        ),
        quiet=(
            ("age-49", facts({**HEART, "bowel_screening_last": "never"}, age=49)),
            ("age-75", facts({**HEART, "bowel_screening_last": "never"}, age=75)),
            ("recent", facts({**HEART, "bowel_screening_last": "within-2-years"}, age=60)),
        ),
    ),
    Case(
        "breast-due",
        "breast-screening",
        "routine",
        fire=(
            F("age-50", facts({**HEART, "breast_screening_last": "never"}, age=50, sex="female")),
            F(
                "age-70",
                facts({**HEART, "breast_screening_last": "over-3-years"}, age=70, sex="female"),
            ),
            F(
                "not-sure",
                facts({**HEART, "breast_screening_last": "not sure"}, age=60, sex="female"),
            ),
        ),
        quiet=(
            ("age-49", facts({**HEART, "breast_screening_last": "never"}, age=49, sex="female")),
            ("age-71", facts({**HEART, "breast_screening_last": "never"}, age=71, sex="female")),
            ("male-50", facts({**HEART, "breast_screening_last": "never"}, age=50, sex="male")),
            (
                "recent",
                facts({**HEART, "breast_screening_last": "within-3-years"}, age=60, sex="female"),
            ),
        ),
    ),
    Case(
        "cervical-due",
        "cervical-screening",
        "routine",
        fire=(
            F("age-25", facts({"cervical_screening_last": "never"}, age=25, sex="female")),
            F(
                "age-64",
                facts({**HEART, "cervical_screening_last": "over-5-years"}, age=64, sex="female"),
            ),
            F(
                "not-sure-intersex",
                facts({"cervical_screening_last": "not sure"}, age=30, sex="intersex"),
            ),
        ),
        quiet=(
            ("age-24", facts({"cervical_screening_last": "never"}, age=24, sex="female")),
            ("age-65", facts({**HEART, "cervical_screening_last": "never"}, age=65, sex="female")),
            (
                "3-5-years-age-50",
                facts({**HEART, "cervical_screening_last": "3-5-years"}, age=50, sex="female"),
            ),
        ),
    ),
    # 25-49: a test 3 to 5 years ago was before July 2025, on 3-yearly recall (instruments.md)
    Case(
        "cervical-due-under-50",
        "cervical-screening",
        "routine",
        fire=(
            F("age-25", facts({"cervical_screening_last": "3-5-years"}, age=25, sex="female")),
            F(
                "age-49",
                facts({**HEART, "cervical_screening_last": "3-5-years"}, age=49, sex="female"),
            ),
        ),
        quiet=(
            ("age-50", facts({**HEART, "cervical_screening_last": "3-5-years"}, age=50)),
            ("age-24", facts({"cervical_screening_last": "3-5-years"}, age=24, sex="female")),
            ("recent", facts({"cervical_screening_last": "within-3-years"}, age=30)),
        ),
    ),
    Case(
        "aaa-due",
        "aaa-screening",
        "routine",
        fire=(
            F("male-65", facts({**HEART, "aaa_screening": "no"}, age=65)),
            F("male-80-not-sure", facts({"aaa_screening": "not sure"}, age=80)),
        ),
        quiet=(
            ("male-64", facts({**HEART, "aaa_screening": "no"}, age=64)),
            ("female-65", facts({**HEART, "aaa_screening": "no"}, age=65, sex="female")),
            ("screened", facts({**HEART, "aaa_screening": "yes"}, age=65)),
        ),
    ),
    Case(
        "lung-check-age",
        "lung-health-check",
        "routine",
        fire=(
            F("current-55", facts({**HEART, "smoking_status": "current"}, age=55), "smokes"),
            F("ex-74", facts({**HEART, "smoking_status": "ex"}, age=74)),
        ),
        quiet=(
            ("age-54", facts({**HEART, "smoking_status": "ex"}, age=54)),
            ("age-75", facts({**HEART, "smoking_status": "ex"}, age=75)),
            ("never-smoked", facts({**HEART, "smoking_status": "never"}, age=60)),
            ("unknown", facts(HEART, age=60)),
        ),
    ),
    Case(
        "health-check-age",
        "nhs-health-check",
        "routine",
        fire=(
            F("age-40", facts(NO_CHECK, age=40)),
            F("age-74-not-sure", facts({"health_check_recent": "not sure"}, age=74)),
            F("no-conditions", facts({**NO_CHECK, "long_term_conditions": ["none"]}, age=50)),
            F(
                "other-condition",
                facts({**NO_CHECK, "long_term_conditions": ["pain", "epilepsy"]}, age=50),
            ),
            F("no-statin", facts({**NO_CHECK, "statins": "no"}, age=50)),
        ),
        quiet=(
            ("age-39", facts(NO_CHECK, age=39)),
            ("age-75", facts(NO_CHECK, age=75)),
            ("checked", facts({"health_check_recent": "yes"}, age=50)),
            ("not-asked", facts(age=50)),
            ("heart", facts({**NO_CHECK, "long_term_conditions": ["pain", "heart"]}, age=50)),
            ("diabetes", facts({**NO_CHECK, "long_term_conditions": ["diabetes"]}, age=50)),
            ("stroke", facts({**NO_CHECK, "long_term_conditions": ["stroke"]}, age=50)),
            ("kidney", facts({**NO_CHECK, "long_term_conditions": ["kidney"]}, age=50)),
            ("statin", facts({**NO_CHECK, "statins": "yes"}, age=50)),
            ("age-unknown", facts(NO_CHECK, age=None)),
        ),
    ),
    Case(
        "wants-vaccines",
        "vaccination",
        "routine",
        fire=(F("yes", facts({"vaccines_help": "yes"})),),
        quiet=(("no", facts({"vaccines_help": "no"})),),
    ),
    # ---- after custody
    Case(
        "reconnect-window",
        "reconnect",
        "soon",
        fire=(
            F("day-28-age-18", facts(age=18, days=28, needs=("drugs",))),
            F("release-day", facts(days=0, needs=("physical-health",))),
        ),
        quiet=(
            ("day-29", facts(days=29, needs=("drugs",))),
            ("before-release", facts(days=-1, needs=("drugs",))),
            ("age-17", facts(age=17, days=10, needs=("drugs",))),
            ("no-needs", facts(days=10)),
            ("not-released", facts(days=None, needs=("drugs",))),
        ),
    ),
    Case(
        "reconnect-before-release",
        "reconnect",
        "soon",
        fire=(
            F(
                "day-minus-84",
                facts(days=-84, needs=("mental-health", "housing")),
                "no-settled-home",
            ),
            F("day-minus-1", facts(days=-1, needs=("drugs",))),
        ),
        quiet=(
            ("day-minus-85", facts(days=-85, needs=("drugs",))),
            ("released", facts(days=0, needs=("drugs",))),
            ("age-17", facts(age=17, days=-10, needs=("drugs",))),
            ("no-needs", facts(days=-10)),
        ),
    ),
    # ---- CSTR
    Case(
        "cstr-drugs",
        "cstr-assessment",
        "routine",
        fire=(F("dast-6-age-18", facts(scores={"dast10": 6}, age=18, stage=PRE), "dast-moderate"),),
        quiet=(
            ("dast-5", facts(scores={"dast10": 5}, stage=PRE)),
            ("age-17", facts(scores={"dast10": 6}, age=17, stage=PRE)),
            ("licence", facts(scores={"dast10": 9}, stage="licence")),
            ("stage-unknown", facts(scores={"dast10": 9})),
        ),
    ),
    Case(
        "cstr-alcohol",
        "cstr-assessment",
        "routine",
        fire=(
            F(
                "audit-20-age-18",
                facts(scores={"audit": 20}, age=18, stage=PRE),
                "audit-higher-risk",
            ),
            F(
                "dependence-flag",
                facts(flags=("alcohol_dependence_risk",), severities=("same-day",), stage=PRE),
                "alcohol-dependence",
                "alcohol-dependence-gp",
            ),
        ),
        quiet=(
            ("audit-19", facts(scores={"audit": 19}, stage=PRE)),
            ("age-17", facts(scores={"audit": 20}, age=17, stage=PRE)),
            ("community-order", facts(scores={"audit": 25}, stage="community-order")),
        ),
    ),
    Case(
        "cstr-mental-health",
        "cstr-assessment",
        "routine",
        fire=(
            F(
                "phq9-15-age-18",
                facts(scores={"phq9": 15}, age=18, stage=PRE),
                "phq9-moderate",
                "phq9-mild",
            ),
            F(
                "gad7-15",
                facts(scores={"gad7": 15}, stage=PRE),
                "gad7-caseness",
                "gad7-mild",
                "gad7-severe",
            ),
        ),
        quiet=(
            ("both-14", facts(scores={"phq9": 14, "gad7": 14}, stage=PRE)),
            ("age-17", facts(scores={"phq9": 15, "gad7": 15}, age=17, stage=PRE)),
            ("licence", facts(scores={"phq9": 20}, stage="licence")),
        ),
    ),
    # ---- learning, food, pregnancy, barriers, reading
    Case(
        "learning-difficulty",
        "learning-disability-support",
        "routine",
        fire=(
            F("ld-yes", facts({"learning_difficulty": "yes"}), "reading-help"),
            F("ld-not-sure", facts({"learning_difficulty": "not sure"})),
            F("told", facts({"learning_difficulty": "no", "autism_adhd": "told"})),
            F("think", facts({"autism_adhd": "think"})),
        ),
        quiet=(("both-no", facts({"learning_difficulty": "no", "autism_adhd": "no"})),),
    ),
    Case(
        "hunger",
        "food-support",
        "same-day",
        fire=(F("flag", facts(flags=("food_insecurity",), severities=("same-day",))),),
        quiet=(("no-flag", facts({"hvs_1": "never", "hvs_2": "never"})),),
    ),
    Case(
        "pregnant",
        "maternity",
        "soon",
        fire=(F("yes", facts({"pregnancy": "yes"}, sex="female")),),
        quiet=(
            ("not-sure", facts({"pregnancy": "not sure"}, sex="female")),
            ("no", facts({"pregnancy": "no"}, sex="female")),
        ),
    ),
    Case(
        "pregnant-substances",
        "maternity",
        "same-day",
        fire=(
            F(
                "flag",
                facts(
                    {"pregnancy": "yes", "drugs_any": "yes"},
                    flags=("pregnancy_substance_use",),
                    severities=("same-day",),
                    sex="female",
                ),
                "pregnant",
            ),
        ),
        quiet=(("pregnant-no-flag", facts({"pregnancy": "yes"}, sex="female")),),
    ),
    Case(
        "several-barriers",
        "health-trainer",
        "routine",
        fire=(
            F("two-barriers", facts(barriers=("money", "transport"))),
            F(
                "needs-and-poor-treatment",
                facts(
                    barriers=("previous-poor-treatment",),
                    needs=("drugs", "housing", "money"),
                ),
                "no-settled-home",
                "money-worries",
            ),
        ),
        quiet=(
            ("one-barrier", facts(barriers=("money",))),
            ("three-needs-other-barrier", facts(barriers=("money",), needs=("a", "b", "c"))),
            (
                "two-needs-poor-treatment",
                facts(barriers=("previous-poor-treatment",), needs=("drugs", "housing")),
            ),
        ),
    ),
    Case(
        "reading-help",
        "easy-read",
        "same-day",  # a positive SILS is a same-day flag in instruments.md
        fire=(
            F("low-literacy", facts({"sils_1": "often"}, barriers=("low-literacy",))),
            F("ld-yes", facts({"learning_difficulty": "yes"}), "learning-difficulty"),
        ),
        quiet=(
            ("other-barrier", facts({"sils_1": "rarely"}, barriers=("money",))),
            ("ld-not-sure", facts({"learning_difficulty": "not sure"})),
        ),
    ),
)

CASE_BY_RULE = {c.rule: c for c in CASES}
FIRE_PARAMS = [pytest.param(c, f, id=f"{c.rule}[{f.name}]") for c in CASES for f in c.fire]
QUIET_PARAMS = [pytest.param(c, f, id=f"{c.rule}[{n}]") for c in CASES for n, f in c.quiet]


def test_every_rule_has_a_case() -> None:
    assert len(CASE_BY_RULE) == len(CASES), "a rule id has two cases"
    assert set(CASE_BY_RULE) == RULE_IDS
    assert all(c.fire and c.quiet for c in CASES)


def test_bundled_file_shape() -> None:
    assert len(RULES.rules) == 65
    assert len({p.id for p in RULES.pathways}) == 36


@pytest.mark.parametrize("case", [pytest.param(c, id=c.rule) for c in CASES])
def test_rule_pathway_and_urgency_as_written(case: Case) -> None:
    rule = next(r for r in RULES.rules if r.id == case.rule)
    assert (rule.pathway, rule.urgency) == (case.pathway, case.urgency)


@pytest.mark.parametrize(("case", "fire"), FIRE_PARAMS)
def test_rule_fires(case: Case, fire: Fire) -> None:
    out = run(fire.facts)
    assert fired(out) == {case.rule} | fire.also
    suggestion, why = reason(out, case.rule)
    assert suggestion.pathway.id == case.pathway
    assert why.urgency == case.urgency
    assert why.because.strip()
    assert "{" not in why.because and "}" not in why.because


@pytest.mark.parametrize(("case", "quiet"), QUIET_PARAMS)
def test_rule_quiet(case: Case, quiet: Facts) -> None:
    assert case.rule not in fired(run(quiet))


def test_nothing_fires_for_nothing_known() -> None:
    out = run(facts(age=None, sex="unknown"))
    assert out.suggestions == () and out.already_open == ()


# ------------------------------------------------------------------- safety -------------
EMERGENCY_FLAGS = [f.id for f in Q.flags if f.severity == "emergency"]
NON_EMERGENCY_FLAGS = [f.id for f in Q.flags if f.severity != "emergency"]

# Facts that give several other suggestions, same-day ones among them.
BUSY = {
    "answers": {"gp_registered": "no", "recent_custody": "yes", "dentist_registered": "no"},
    "scores": {"phq9": 22, "audit_c": 6},
    "flags": ("no_gp_after_release", "food_insecurity", "acute_distress"),
}


def test_the_questionnaire_has_emergency_flags() -> None:
    assert {"self_harm_thoughts", "self_harm_recent", "worker_concern_self_harm"} <= set(
        EMERGENCY_FLAGS
    )


@pytest.mark.parametrize("flag", EMERGENCY_FLAGS)
def test_emergency_flag_alone_gives_crisis_support_first(flag: str) -> None:
    out = run(facts(flags=(flag,), severities=("emergency",)))
    first = out.suggestions[0]
    assert (first.pathway.id, first.urgency) == ("crisis-support", "emergency")
    assert first.reasons[0].rule == "emergency-flag"


@pytest.mark.parametrize("flag", EMERGENCY_FLAGS)
def test_emergency_flag_comes_first_among_other_suggestions(flag: str) -> None:
    out = run(
        facts(
            BUSY["answers"],
            BUSY["scores"],
            flags=(*BUSY["flags"], flag),
            severities=("emergency", "same-day"),
        )
    )
    assert len(out.suggestions) > 4
    first = out.suggestions[0]
    assert (first.pathway.id, first.urgency) == ("crisis-support", "emergency")
    # acute distress (same-day) is a second reason, after the emergency one
    assert [r.rule for r in first.reasons] == ["emergency-flag", "acute-distress"]
    assert [s.pathway.id for s in out.suggestions].count("crisis-support") == 1
    assert all(s.urgency != "emergency" for s in out.suggestions[1:])
    # talking therapies is not a crisis service: not offered while an emergency flag is raised
    assert "talking-therapies" not in by_pathway(out)
    assert by_pathway(out)["mental-health-assessment"].urgency == "same-day"


@pytest.mark.parametrize("flag", [f for f in NON_EMERGENCY_FLAGS if f != "acute_distress"])
def test_no_crisis_support_without_an_emergency_flag(flag: str) -> None:
    out = run(facts(flags=(flag,), severities=("same-day",)))
    assert "crisis-support" not in by_pathway(out)


def test_no_crisis_support_for_high_scores_alone() -> None:
    out = run(facts(scores={"phq9": 27, "gad7": 21, "audit": 40, "dast10": 10}))
    assert "crisis-support" not in by_pathway(out)
    assert by_pathway(out)["talking-therapies"].urgency == "soon"


def test_acute_distress_alone_gives_same_day_crisis_support() -> None:
    out = run(facts(flags=("acute_distress",), severities=("same-day",)))
    crisis = by_pathway(out)["crisis-support"]
    assert crisis.urgency == "same-day"
    assert [r.rule for r in crisis.reasons] == ["acute-distress"]


def test_talking_therapies_returns_once_the_emergency_is_gone() -> None:
    scores = {"phq9": 12, "gad7": 9}
    with_flag = run(facts(scores=scores, flags=("self_harm_recent",), severities=("emergency",)))
    without = run(facts(scores=scores))
    assert "talking-therapies" not in by_pathway(with_flag)
    tt = by_pathway(without)["talking-therapies"]
    assert {r.rule for r in tt.reasons} == {
        "phq9-moderate",
        "gad7-caseness",
        "phq9-mild",
        "gad7-mild",
    }


SELF_HARM_FLAGS = {
    "self_harm_thoughts": "thoughts of being better off dead or of self-harm",
    "self_harm_recent": "self-harm in the last month",
    "worker_concern_self_harm": "you are worried about suicide or self-harm",
    "past_attempt_with_thoughts": "a past suicide attempt and thoughts of self-harm now",
}


def test_every_emergency_flag_is_a_self_harm_flag() -> None:
    # The assessment rules name each flag; a new emergency flag needs its own rule (or this
    # test and the rules changed together).
    assert set(EMERGENCY_FLAGS) == set(SELF_HARM_FLAGS)


@pytest.mark.parametrize("flag", sorted(SELF_HARM_FLAGS))
def test_self_harm_flag_with_moderate_phq9_keeps_a_mental_health_pathway(flag: str) -> None:
    # PHQ-9 13 alone gives Talking Therapies; with a self-harm flag that is not a crisis
    # service, so the same-day mental health assessment takes its place: never both, never
    # neither.
    out = run(
        facts(
            scores={"phq9": 13},
            bands={"phq9": "moderate"},
            flags=(flag,),
            severities=("emergency",),
        )
    )
    pathways = by_pathway(out)
    assert [s.pathway.id for s in out.suggestions][:2] == [
        "crisis-support",
        "mental-health-assessment",
    ]
    assert pathways["crisis-support"].urgency == "emergency"
    assert "talking-therapies" not in pathways
    mha = pathways["mental-health-assessment"]
    assert mha.urgency == "same-day"
    assert len(mha.reasons) == 1
    assert mha.reasons[0].because == f"Safety flag: {SELF_HARM_FLAGS[flag]}" + (
        " (PHQ-9 item 9)" if flag == "self_harm_thoughts" else ""
    )


@pytest.mark.parametrize("flag", sorted(SELF_HARM_FLAGS))
@pytest.mark.parametrize(
    "scores",
    [{}, {"phq9": 9}, {"phq9": 13}, {"gad7": 8}, {"phq9": 27, "gad7": 21}],
    ids=["no-scores", "phq9-9", "phq9-13", "gad7-8", "severe"],
)
def test_self_harm_flag_never_gives_talking_therapies_and_always_an_assessment(
    flag: str, scores: dict[str, int]
) -> None:
    pathways = by_pathway(run(facts(scores=scores, flags=(flag,), severities=("emergency",))))
    assert "talking-therapies" not in pathways
    assert pathways["mental-health-assessment"].urgency == "same-day"


@pytest.mark.parametrize("answer", ["sometimes", "often", "always"])
def test_positive_literacy_screen_suggests_easy_read(answer: str) -> None:
    # From the questionnaire's own barrier rule to the rules file: a positive SILS gives the
    # low-literacy barrier, and that gives the easy-read way of working.
    from probhealth.questionnaire.engine import PersonFacts
    from probhealth.questionnaire.engine import evaluate as screen

    ev = screen(Q, {"sils_1": answer}, PersonFacts(age=30, sex="male"), TODAY)
    assert "low-literacy" in ev.barriers
    out = run(facts({"sils_1": answer}, barriers=tuple(ev.barriers)), label)
    easy_read = by_pathway(out)["easy-read"]
    assert easy_read.pathway.adjustment is True
    assert [r.because for r in easy_read.reasons] == [
        f"Needs help with reading (SILS: {Q.item('sils_1').label_of(answer)})"
    ]


def test_same_day_severity_does_not_suppress_talking_therapies() -> None:
    out = run(facts(scores={"phq9": 10}, flags=("food_insecurity",), severities=("same-day",)))
    assert "talking-therapies" in by_pathway(out)


# ------------------------------------------------------------ already open --------------
def test_open_referral_is_reported_as_already_open() -> None:
    out = run(
        facts(
            {"gp_registered": "no", "dentist_registered": "no"},
            open_referrals=("gp-registration",),
        )
    )
    assert "gp-registration" not in {s.pathway.id for s in out.suggestions}
    assert [s.pathway.id for s in out.already_open] == ["gp-registration"]
    assert [r.rule for r in out.already_open[0].reasons] == ["no-gp"]
    assert [s.pathway.id for s in out.suggestions] == ["dentist"]


def test_open_referral_for_a_pathway_that_did_not_fire_is_ignored() -> None:
    out = run(facts({"dentist_registered": "no"}, open_referrals=("gp-registration",)))
    assert out.already_open == ()
    assert [s.pathway.id for s in out.suggestions] == ["dentist"]


def test_open_crisis_referral_keeps_its_urgency_in_already_open() -> None:
    out = run(
        facts(
            flags=("self_harm_thoughts",),
            severities=("emergency",),
            open_referrals=("crisis-support",),
        )
    )
    assert [(s.pathway.id, s.urgency) for s in out.suggestions] == [
        ("mental-health-assessment", "same-day")
    ]
    assert [(s.pathway.id, s.urgency) for s in out.already_open] == [
        ("crisis-support", "emergency")
    ]


# ------------------------------------------------------------------ urgency -------------
def test_gp_registration_takes_the_most_urgent_reason() -> None:
    out = run(
        facts(
            {"gp_registered": "no", "recent_custody": "yes"},
            flags=("no_gp_after_release",),
            severities=("same-day",),
        )
    )
    gp = by_pathway(out)["gp-registration"]
    assert gp.urgency == "same-day"
    assert [(r.rule, r.urgency) for r in gp.reasons] == [
        ("no-gp-after-release", "same-day"),
        ("no-gp", "soon"),
    ]


def test_alcohol_reasons_most_urgent_first() -> None:
    out = run(
        facts(
            scores={"audit_c": 12, "audit": 30},
            bands={"audit_c": "possible dependence", "audit": "possible dependence"},
            flags=("alcohol_dependence_risk",),
            severities=("same-day",),
        )
    )
    alcohol = by_pathway(out)["alcohol-service"]
    assert alcohol.urgency == "same-day"
    # the full AUDIT is complete, so AUDIT-C alone does not add a reason
    assert [r.rule for r in alcohol.reasons] == ["alcohol-dependence", "audit-higher-risk"]
    assert by_pathway(out)["alcohol-withdrawal-gp"].urgency == "same-day"


def test_mental_health_assessment_same_day_beats_soon() -> None:
    out = run(
        facts(
            {"mh_support": "no"},
            {"phq9": 24, "gad7": 18},
            flags=("acute_distress",),
            severities=("same-day",),
        )
    )
    mha = by_pathway(out)["mental-health-assessment"]
    assert mha.urgency == "same-day"
    assert [r.rule for r in mha.reasons][0] == "distress-assessment"
    assert {r.rule for r in mha.reasons} == {
        "distress-assessment",
        "phq9-severe",
        "gad7-severe",
        "moderately-severe-no-help",
    }


def test_suggestions_are_sorted_most_urgent_first() -> None:
    out = run(
        facts(
            BUSY["answers"],
            BUSY["scores"],
            flags=BUSY["flags"],
            severities=("same-day",),
            age=60,
        )
    )
    ranks = [URGENCY_ORDER[s.urgency] for s in out.suggestions]
    assert ranks == sorted(ranks)
    for s in out.suggestions:
        assert s.urgency == s.reasons[0].urgency
        assert [URGENCY_ORDER[r.urgency] for r in s.reasons] == sorted(
            URGENCY_ORDER[r.urgency] for r in s.reasons
        )


# ------------------------------------------------------------------ because -------------
def test_auditc_because_shows_score_and_that_the_audit_is_not_complete() -> None:
    _, why = reason(
        run(facts(scores={"audit_c": 5}, bands={"audit_c": "increasing risk"})),
        "auditc-increasing-risk",
    )
    assert why.because == "AUDIT-C score 5 (5 to 7), full AUDIT not complete"


def test_missing_band_renders_as_not_answered() -> None:
    _, why = reason(run(facts(scores={"phq9": 10})), "phq9-moderate")
    assert why.because == "PHQ-9 score 10 (not answered; 10 or more)"


def test_no_gp_because_uses_the_label() -> None:
    out = run(facts({"gp_registered": "not sure"}), lab=label)
    _, why = reason(out, "no-gp")
    assert why.because == "Registered with a GP: Not sure"
    _, raw = reason(run(facts({"gp_registered": "no"})), "no-gp")
    assert raw.because == "Registered with a GP: no"


def test_because_texts_render_the_evidence() -> None:
    _, phq = reason(run(facts(scores={"phq9": 10}, bands={"phq9": "moderate"})), "phq9-moderate")
    assert phq.because == "PHQ-9 score 10 (moderate; 10 or more)"
    _, gad = reason(run(facts(scores={"gad7": 8})), "gad7-caseness")
    assert gad.because == "GAD-7 score 8 (8 or more)"
    _, dast = reason(
        run(facts(scores={"dast10": 3}, bands={"dast10": "moderate"})), "dast-moderate"
    )
    assert dast.because == "DAST-10 score 3 (3 or more: moderate)"
    _, bowel = reason(
        run(facts({**HEART, "bowel_screening_last": "over-2-years"}, age=62), lab=label),
        "bowel-due",
    )
    assert bowel.because == "Aged 62; last bowel screening: More than 2 years ago"
    _, smoke = reason(
        run(facts({"smoking_status": "current"}, {"hsi": 5}, {"hsi": "high dependence"})),
        "smokes",
    )
    assert smoke.because == "Smokes now (Heaviness of Smoking Index 5: high dependence)"
    _, ld = reason(
        run(facts({"learning_difficulty": "not sure"}), lab=label), "learning-difficulty"
    )
    assert ld.because == "Learning difficulty: Not sure; autism or ADHD: not answered"


def test_declined_answer_renders_as_prefer_not_to_say() -> None:
    out = run(facts({"learning_difficulty": "yes", "autism_adhd": expr.DECLINED}), lab=label)
    _, why = reason(out, "learning-difficulty")
    assert why.because == "Learning difficulty: Yes; autism or ADHD: prefer not to say"


# ------------------------------------------------- eligibility against the source -------
# instruments.md, "Pathway facts": written out independently of rules.yaml.
def bowel_eligible(age: int, sex: str) -> bool:
    return 50 <= age <= 74  # everyone aged 50-74


def breast_eligible(age: int, sex: str) -> bool:
    return sex == "female" and 50 <= age < 71  # from 50 up to the 71st birthday


def cervical_eligible(age: int, sex: str) -> bool:
    return 25 <= age <= 64


def aaa_eligible(age: int, sex: str) -> bool:
    return sex == "male" and age >= 65  # invited at 65; older men never screened self-refer


def lung_eligible(age: int, sex: str) -> bool:
    return 55 <= age <= 74  # current or former smokers


def health_check_eligible(age: int, sex: str) -> bool:
    return 40 <= age <= 74  # without heart disease or diabetes


ELIGIBILITY = [
    ("bowel-due", {"bowel_screening_last": "never"}, bowel_eligible),
    ("breast-due", {"breast_screening_last": "never"}, breast_eligible),
    ("cervical-due", {"cervical_screening_last": "never"}, cervical_eligible),
    ("aaa-due", {"aaa_screening": "no"}, aaa_eligible),
    ("lung-check-age", {"smoking_status": "ex"}, lung_eligible),
    (
        "health-check-age",
        {"long_term_conditions": ["none"], "health_check_recent": "no"},
        health_check_eligible,
    ),
]


@pytest.mark.parametrize(
    ("rule", "answers", "eligible"), [pytest.param(*e, id=e[0]) for e in ELIGIBILITY]
)
def test_screening_eligibility_matches_source(rule: str, answers: dict, eligible: Any) -> None:
    wrong = [
        (age, sex)
        for sex in ("female", "male", "intersex")
        for age in range(16, 96)
        if (rule in fired(run(facts(answers, age=age, sex=sex)))) != eligible(age, sex)
    ]
    assert wrong == []


def test_lung_check_never_for_people_who_never_smoked() -> None:
    for age in range(16, 96):
        assert "lung-check-age" not in fired(run(facts({"smoking_status": "never"}, age=age)))


@pytest.mark.parametrize("condition", ["heart", "diabetes", "stroke", "kidney"])
def test_health_check_excludes_heart_disease_stroke_diabetes_and_kidney_disease(
    condition: str,
) -> None:
    for age in range(40, 75):
        out = run(facts({**NO_CHECK, "long_term_conditions": ["pain", condition]}, age=age))
        assert "health-check-age" not in fired(out)


def reconnect_eligible(age: int, days: int) -> bool:
    # 18+, referral up to 12 weeks (84 days) before or 28 days after release
    return age >= 18 and -84 <= days <= 28


def test_reconnect_window_matches_source() -> None:
    wrong = [
        (age, days)
        for age in (16, 17, 18, 19, 40)
        for days in range(-120, 60)
        if bool(
            {"reconnect-window", "reconnect-before-release"}
            & fired(run(facts(age=age, days=days, needs=("drugs",))))
        )
        != reconnect_eligible(age, days)
    ]
    assert wrong == []


def test_reconnect_needs_a_health_need() -> None:
    for days in range(-84, 29):
        assert not {"reconnect-window", "reconnect-before-release"} & fired(run(facts(days=days)))


def test_reconnect_because_shows_the_days() -> None:
    _, why = reason(run(facts(days=12, needs=("drugs",))), "reconnect-window")
    assert why.because == "Released 12 days ago, with health needs"


@pytest.mark.parametrize(
    ("rule", "scores"),
    [
        ("phq9-moderate", {"phq9": 10}),
        ("gad7-caseness", {"gad7": 8}),
        ("cstr-drugs", {"dast10": 6}),
        ("cstr-alcohol", {"audit": 20}),
        ("cstr-mental-health", {"phq9": 15}),
    ],
)
def test_adults_only(rule: str, scores: dict[str, int]) -> None:
    # Talking Therapies: 18+; CSTRs: adults 18+ (instruments.md), at the pre-sentence stage
    for age in range(10, 90):
        out = run(facts(scores=scores, age=age, stage=PRE))
        assert (rule in fired(out)) == (age >= 18), age


@pytest.mark.parametrize(
    ("rule", "answers", "scores", "days"),
    [
        ("health-check-age", {"health_check_recent": "no"}, {}, None),
        ("phq9-moderate", {}, {"phq9": 12}, None),
        ("phq9-mild", {}, {"phq9": 6}, None),
        ("gad7-caseness", {}, {"gad7": 9}, None),
        ("reconnect-window", {}, {}, 10),
        ("reconnect-before-release", {}, {}, -10),
        ("cervical-due-under-50", {"cervical_screening_last": "3-5-years"}, {}, None),
    ],
)
def test_england_only_pathways_are_not_suggested_in_wales(
    rule: str, answers: dict[str, Any], scores: dict[str, int], days: int | None
) -> None:
    # NHS Health Check, NHS Talking Therapies and RECONNECT are England only; Wales recalls
    # HPV-negative cervical screening at 5 years since 2022 (instruments.md) [WLS].
    base = {"answers": answers, "scores": scores, "days": days, "age": 45, "needs": ("drugs",)}
    assert rule in fired(run(facts(**base, nation="england")))  # type: ignore[arg-type]
    assert rule in fired(run(facts(**base)))  # type: ignore[arg-type]  # england by default
    assert rule not in fired(run(facts(**base, nation="wales")))  # type: ignore[arg-type]


def test_cstr_only_at_the_pre_sentence_stage() -> None:
    import probhealth.validation as v

    for stage in (*v.STAGES, None):
        out = fired(run(facts(scores={"dast10": 8, "phq9": 20, "audit": 25}, stage=stage)))
        got = {"cstr-drugs", "cstr-mental-health", "cstr-alcohol"} & out
        assert bool(got) == (stage == "pre-sentence"), stage
