"""Synthetic caseloads for demos, tests and benchmarks (``probhealth demo --people N``).

Every person is fictional: invented names (family names such as "Example" or "Placeholder")
and CRNs starting with Z. Answers follow plausible distributions for people on probation
(more smoking, low mood, risky drinking and drug use, and gaps in GP registration than in the
general population), drawn from a few latent traits per person so that answers hang together.
Screenings are run through the real questionnaire engine and rules; referrals move along the
real state machine. Rows are written in bulk, a few hundred people per transaction.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from probhealth import clock, expr, referral_states
from probhealth.questionnaire import answers as answer_parsing
from probhealth.questionnaire.engine import Evaluation, PersonFacts, evaluate
from probhealth.questionnaire.model import Item, Questionnaire
from probhealth.rules import engine as rules_engine
from probhealth.rules.model import RuleSet
from probhealth.store import audit, bulk
from probhealth.store.db import Store
from probhealth.store.models import (
    Answer,
    Barrier,
    Consent,
    Flag,
    Goal,
    GoalReview,
    Need,
    Person,
    Referral,
    ReferralEvent,
    Score,
    Screening,
    Suggestion,
)
from probhealth.textsafe import search_key

# Every table demo data fills, parents before children (the order rows are inserted in).
_INSERT_ORDER = (
    Person,
    Consent,
    Screening,
    Answer,
    Score,
    Flag,
    Need,
    Barrier,
    Suggestion,
    Referral,
    ReferralEvent,
    Goal,
    GoalReview,
)

GIVEN = (
    "Alex",
    "Sam",
    "Jo",
    "Chris",
    "Pat",
    "Lee",
    "Ash",
    "Robin",
    "Jamie",
    "Casey",
    "Morgan",
    "Kit",
    "Rowan",
    "Sasha",
    "Taylor",
    "Drew",
)
FAMILY = (
    "Example",
    "Sample",
    "Placeholder",
    "Fictional",
    "Madeup",
    "Demo",
    "Mockford",
    "Pretend",
    "Testwell",
    "Dummy",
    "Imaginary",
    "Invented",
)
OFFICES = {
    "Cambridge": ("CB1 2AB", "CB2 3CD", "CB4 1EF", "CB5 8GH"),
    "Middlesbrough": ("TS1 2JK", "TS3 6LM", "TS4 2NP", "TS5 4QR"),
    "Ilfracombe": ("EX34 9ST", "EX34 8UV", "EX33 1WX"),
    "Hammersmith": ("W6 9YZ", "W12 7AB", "W14 0CD"),
}
BATCH = 250
# Answer weights for items whose first option is not the usual answer.
WEIGHTS: dict[str, dict[str, float]] = {
    "dentist_registered": {"yes": 0.6, "no": 0.25, "not sure": 0.15},
    "medication_supply": {"yes": 0.85, "no": 0.1, "not sure": 0.05},
    "pregnancy": {"no": 0.93, "yes": 0.04, "not sure": 0.03},
    "learning_difficulty": {"no": 0.78, "yes": 0.12, "not sure": 0.10},
    "autism_adhd": {"no": 0.84, "told": 0.08, "think": 0.08},
    "alcohol_withdrawal": {"no": 0.85, "shakes": 0.12, "fits": 0.03},
    "phone_internet": {"both": 0.6, "phone-only": 0.25, "internet-only": 0.05, "neither": 0.1},
    "housing": {
        "own": 0.35,
        "family": 0.25,
        "approved-premises": 0.12,
        "temporary": 0.1,
        "sofa-surfing": 0.1,
        "rough-sleeping": 0.03,
        "other": 0.05,
    },
    "aaa_screening": {"yes": 0.5, "no": 0.35, "not sure": 0.15},
}


@dataclass(frozen=True)
class Report:
    people: int
    screenings: int
    referrals: int
    first_crn: str
    last_crn: str


class _Traits:
    """A fictional person's latent health picture: 0 (none) .. 1 (severe)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.mood = rnd.betavariate(1.3, 3.0)
        self.anxiety = min(1.0, self.mood * 0.7 + rnd.betavariate(1.2, 4.0) * 0.5)
        self.drinks = rnd.random() > 0.35
        self.alcohol = rnd.betavariate(1.2, 3.0) if self.drinks else 0.0
        self.drugs = rnd.random() < 0.35
        self.drug_level = rnd.betavariate(1.5, 2.5) if self.drugs else 0.0
        self.smokes = rnd.choices(("current", "ex", "never"), (0.6, 0.2, 0.2))[0]
        self.no_gp = rnd.random() < 0.2
        self.hungry = rnd.random() < 0.2
        self.reads = rnd.random() < 0.25
        self.crisis = rnd.random() < 0.04


def _scored(item: Item, level: float, rnd: random.Random) -> Any:
    values = sorted(o.value for o in item.options)
    index = min(len(values) - 1, max(0, int(round(level * (len(values) - 1) + rnd.gauss(0, 0.6)))))
    return values[index]


def _chooser(t: _Traits, rnd: random.Random, today: date) -> Callable[[Item, dict[str, Any]], Any]:
    def pick(item: Item, so_far: dict[str, Any]) -> Any:
        i = item.id
        if i == "phq9_9":
            return 1 if t.crisis else (_scored(item, t.mood * 0.4, rnd) if t.mood > 0.7 else 0)
        if i.startswith("phq9_") and i != "phq9_10":
            return _scored(item, t.mood, rnd)
        if i.startswith("gad7_"):
            return _scored(item, t.anxiety, rnd)
        if i == "auditc_1":
            return _scored(item, t.alcohol, rnd) if t.drinks else 0
        if (
            i.startswith(("auditc_", "audit_"))
            and item.type == "single"
            and item.options[0].score is not None
        ):
            return _scored(item, t.alcohol, rnd)
        if i == "drugs_any":
            return "yes" if t.drugs else "no"
        if i.startswith("dast10_"):
            yes = rnd.random() < t.drug_level
            return ("no" if yes else "yes") if i == "dast10_3" else ("yes" if yes else "no")
        if i == "drugs_types":
            pool = [
                "heroin",
                "benzos",
                "cannabis",
                "cocaine",
                "spice",
                "gabapentinoids",
                "stimulants",
            ]
            return sorted(rnd.sample(pool, k=rnd.randint(1, 3)))
        if i == "smoking_status":
            return t.smokes
        if i.startswith("hsi_"):
            return _scored(item, rnd.random(), rnd)
        if i == "gp_registered":
            return rnd.choice(("no", "not sure")) if t.no_gp else "yes"
        if i == "gp_practice":
            return "Fictional Surgery"
        if i in ("hvs_1", "hvs_2"):
            return rnd.choice(("often", "sometimes")) if t.hungry else "never"
        if i == "sils_1":
            return (
                rnd.choice(("sometimes", "often", "always"))
                if t.reads
                else rnd.choice(("never", "rarely"))
            )
        if i == "self_harm_recent":
            return "yes" if t.crisis and rnd.random() < 0.5 else "no"
        if i == "worker_concerns":
            return ["self-harm"] if t.crisis and rnd.random() < 0.3 else ["none"]
        if i in WEIGHTS:
            options, weights = zip(*WEIGHTS[i].items(), strict=True)
            return rnd.choices(options, weights)[0]
        if i == "phq9_10":
            return ("not-difficult", "somewhat", "very", "extremely")[min(3, int(t.mood * 4))]
        if item.type == "date":
            return today - timedelta(days=rnd.randint(3, 330))
        if item.type == "text":
            return "Fictional"
        if item.type == "integer":
            return rnd.randint(item.min or 0, item.max or 0)
        if item.type == "multi":
            if item.exclusive and rnd.random() < 0.7:
                return [item.exclusive[0]]
            plain = [o.value for o in item.options if o.value not in item.exclusive]
            return sorted(
                rnd.sample(plain, k=min(len(plain), rnd.randint(1, 2))),
                key=lambda v: [o.value for o in item.options].index(v),
            )
        if item.type == "yesno":
            return "yes" if rnd.random() < 0.2 else "no"
        if item.options and item.options[0].score is not None:
            return _scored(item, rnd.random() * 0.5, rnd)
        first = item.options[0].value
        return first if rnd.random() < 0.7 else rnd.choice([o.value for o in item.options])

    return pick


def _next_id(session: Any, model: Any) -> int:
    return int(session.execute(select(func.coalesce(func.max(col(model.id)), 0))).scalar_one()) + 1


def _first_free_crn(session: Any) -> int:
    top = session.execute(
        select(func.max(col(Person.crn))).where(col(Person.crn).like("Z%"))
    ).scalar_one()
    return int(top[1:]) + 1 if top else 100001


def generate(
    store: Store,
    q: Questionnaire,
    rules: RuleSet,
    n: int,
    *,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    rnd = random.Random(seed)
    today = clock.today()
    from probhealth.screening import register_questionnaire

    with store.write() as session:
        register_questionnaire(session, q)
    made = screenings = referrals = 0
    first = last = ""
    while made < n:
        size = min(BATCH, n - made)
        with store.write() as session:
            base = _first_free_crn(session)
            if base + size > 999_999:
                from probhealth.errors import BadInput

                raise BadInput("No free demo CRNs are left (Z100001-Z999999).")
            ids = {
                m: _next_id(session, m)
                for m in (
                    Screening,
                    Need,
                    Barrier,
                    Referral,
                    ReferralEvent,
                    Goal,
                    GoalReview,
                    Consent,
                    Suggestion,
                )
            }
            rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in _INSERT_ORDER}
            for k in range(size):
                crn = f"Z{base + k:06d}"
                first = first or crn
                last = crn
                counts = _one(rnd, q, rules, today, crn, rows, ids, session)
                screenings += counts[0]
                referrals += counts[1]
            for model in _INSERT_ORDER:  # parents before children
                bulk.insert_rows(session, model, rows[model])
            audit.append(
                session,
                actor=store.actor,
                action="demo.generate",
                entity="person",
                detail={"people": size, "fictional": True},
            )
        made += size
        if progress is not None:
            progress(made, n)
    return Report(made, screenings, referrals, first, last)


def _one(
    rnd: random.Random,
    q: Questionnaire,
    rules: RuleSet,
    today: date,
    crn: str,
    rows: dict[Any, list[dict[str, Any]]],
    ids: dict[Any, int],
    session: Any,
) -> tuple[int, int]:
    t = _Traits(rnd)
    now = clock.now()
    pid = str(uuid.uuid4())
    office = rnd.choice(tuple(OFFICES))
    age = min(80, max(19, int(rnd.gauss(36, 11))))
    dob = today - timedelta(days=age * 365 + rnd.randint(0, 364))
    sex = rnd.choices(("male", "female", "intersex", "not-stated"), (0.85, 0.13, 0.01, 0.01))[0]
    given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
    released = today - timedelta(days=rnd.randint(1, 330)) if rnd.random() < 0.35 else None
    created = now - timedelta(days=rnd.randint(30, 400))
    rows[Person].append(
        {
            "id": pid,
            "crn": crn,
            "given_name": given,
            "family_name": family,
            "name_key": search_key(f"{given} {family}"),
            "dob": dob,
            "sex": sex,
            "postcode": rnd.choice(OFFICES[office]),
            "office": office,
            "language": "English",
            "needs_interpreter": rnd.random() < 0.05,
            "communication_needs": None,
            "release_date": released,
            "created_at": created,
            "updated_at": created,
        }
    )
    consents = {
        "screening": "given",
        "share-with-services": "given" if rnd.random() < 0.7 else "declined",
    }
    if rnd.random() < 0.3:
        consents["health-trainer"] = "given"
    for purpose, status in consents.items():
        rows[Consent].append(
            {
                "id": ids[Consent],
                "person_id": pid,
                "purpose": purpose,
                "status": status,
                "method": "verbal",
                "note": None,
                "recorded_by": "demo",
                "recorded_at": created,
            }
        )
        ids[Consent] += 1
    if rnd.random() < 0.08:
        return 0, 0  # consented but not screened yet
    sid = ids[Screening]
    ids[Screening] += 1
    started = created + timedelta(days=rnd.randint(0, 25), minutes=rnd.randint(0, 600))
    screened_on = clock.to_london(started).date()
    answers: dict[str, Any] = {}
    if released is not None:
        answers["recent_custody"] = "yes"
        answers["release_date"] = released
    ev = evaluate(
        q,
        answers,
        PersonFacts(age=clock.age_on(dob, screened_on), sex=sex, release_date=released),
        screened_on,
        choose=_chooser(t, rnd, screened_on),
    )
    finished = started + timedelta(minutes=rnd.randint(9, 25))
    rows[Screening].append(
        {
            "id": sid,
            "person_id": pid,
            "questionnaire_id": q.id,
            "questionnaire_version": q.version,
            "questionnaire_hash": q.content_hash,
            "status": "completed",
            "setting": "demo",
            "started_by": "demo",
            "started_at": started,
            "updated_at": finished,
            "completed_at": finished,
            "abandoned_at": None,
        }
    )
    for n, (item_id, value) in enumerate(ev.answers.items()):
        declined = value is expr.DECLINED
        rows[Answer].append(
            {
                "screening_id": sid,
                "item_id": item_id,
                "hidden": False,
                "declined": declined,
                "value": None if declined else json.dumps(answer_parsing.to_storage(value)),
                "answered_by": "demo",
                "answered_at": started + timedelta(seconds=20 * n),
            }
        )
    for scale_id, result in ev.scores.items():
        if result.value is not None:
            rows[Score].append(
                {
                    "screening_id": sid,
                    "scale_id": scale_id,
                    "value": result.value,
                    "band": result.band,
                }
            )
    for f in ev.flags:
        ack = f.severity in ("emergency", "same-day") and rnd.random() < 0.95
        rows[Flag].append(
            {
                "screening_id": sid,
                "flag_id": f.id,
                "severity": f.severity,
                "title": f.title,
                "raised_at": started,
                "acknowledged_at": started if ack else None,
                "acknowledged_by": "demo" if ack else None,
            }
        )
    for need in ev.needs:
        rows[Need].append(
            {
                "id": ids[Need],
                "person_id": pid,
                "screening_id": sid,
                "domain": need.domain,
                "severity": need.severity,
                "status": "identified",
                "source": "screening",
                "note": None,
                "created_by": "demo",
                "created_at": finished,
                "updated_at": finished,
            }
        )
        ids[Need] += 1
    for btype in ev.barriers:
        rows[Barrier].append(
            {
                "id": ids[Barrier],
                "person_id": pid,
                "screening_id": sid,
                "type": btype,
                "source": "screening",
                "note": None,
                "created_by": "demo",
                "created_at": finished,
                "resolved_at": None,
                "resolved_by": None,
            }
        )
        ids[Barrier] += 1
    made = _suggest_and_refer(
        rnd, rules, ev, pid, sid, dob, sex, released, consents, finished, today, rows, ids
    )
    if consents.get("health-trainer") == "given":
        gid = ids[Goal]
        ids[Goal] += 1
        rows[Goal].append(
            {
                "id": gid,
                "person_id": pid,
                "text": "Register with a GP and book a check-up",
                "domain": "primary-care-access",
                "target_date": screened_on + timedelta(days=42),
                "status": "active",
                "created_by": "demo",
                "created_at": finished,
                "updated_at": finished,
            }
        )
        if rnd.random() < 0.5:
            rows[GoalReview].append(
                {
                    "id": ids[GoalReview],
                    "goal_id": gid,
                    "progress": rnd.choice(("partly", "not-yet")),
                    "note": None,
                    "reviewed_by": "demo",
                    "reviewed_at": finished + timedelta(days=14),
                }
            )
            ids[GoalReview] += 1
    return 1, made


def _suggest_and_refer(
    rnd: random.Random,
    rules: RuleSet,
    ev: Evaluation,
    pid: str,
    sid: int,
    dob: date,
    sex: str,
    released: date | None,
    consents: dict[str, str],
    finished: datetime,
    today: date,
    rows: dict[Any, list[dict[str, Any]]],
    ids: dict[Any, int],
) -> int:
    on = clock.to_london(finished).date()
    answers = {**ev.implied, **ev.answers}
    facts = rules_engine.Facts(
        answers=answers,
        scores={k: r.value for k, r in ev.scores.items() if r.value is not None},
        bands={k: r.band for k, r in ev.scores.items() if r.band is not None},
        flags=frozenset(f.id for f in ev.flags),
        flag_severities=frozenset(f.severity for f in ev.flags),
        person={
            "age": clock.age_on(dob, on),
            "sex": sex,
            "days_since_release": (on - released).days if released else None,
        },
        barriers=frozenset(ev.barriers),
        needs=frozenset(n.domain for n in ev.needs),
        consents=frozenset(p for p, s in consents.items() if s == "given"),
    )
    outcome = rules_engine.evaluate(rules, facts, on)
    made = 0
    for s in outcome.suggestions:
        reasons = [{"rule": r.rule, "because": r.because} for r in s.reasons]
        rows[Suggestion].append(
            {
                "id": ids[Suggestion],
                "person_id": pid,
                "screening_id": sid,
                "pathway_id": s.pathway.id,
                "urgency": s.urgency,
                "reasons": json.dumps(reasons),
                "already_open": False,
                "rules_id": rules.id,
                "rules_version": rules.version,
                "rules_hash": rules.content_hash,
                "created_at": finished,
            }
        )
        ids[Suggestion] += 1
        if s.pathway.adjustment or rnd.random() < 0.35:
            continue
        self_ref = s.pathway.self_referral and (
            not s.pathway.shares_information or consents.get("share-with-services") != "given"
        )
        if not self_ref and consents.get("share-with-services") != "given":
            continue
        made += 1
        rid = ids[Referral]
        ids[Referral] += 1
        path = ["agreed"] if rnd.random() > 0.12 else ["declined-by-person"]
        while path[-1] not in referral_states.CLOSED and rnd.random() < 0.7:
            nxt = [
                x
                for x in referral_states.allowed(path[-1])
                if x != "withdrawn" or rnd.random() < 0.2
            ]
            path.append(rnd.choice(nxt or list(referral_states.allowed(path[-1]))))
            if len(path) > 7:
                break
        day = on
        previous = "suggested"
        for step in path:
            day = min(today, day + timedelta(days=rnd.randint(0, 9)))
            reason = (
                rnd.choice(referral_states.REASONS[step][:-1])
                if step in referral_states.REASONS
                else None
            )
            rows[ReferralEvent].append(
                {
                    "id": ids[ReferralEvent],
                    "referral_id": rid,
                    "from_status": previous,
                    "to_status": step,
                    "reason": reason,
                    "note": None,
                    "event_date": day,
                    "recorded_by": "demo",
                    "recorded_at": datetime.combine(day, finished.timetz()),
                }
            )
            ids[ReferralEvent] += 1
            previous = step
        status = path[-1]
        closed = status in referral_states.CLOSED
        rows[Referral].append(
            {
                "id": rid,
                "person_id": pid,
                "pathway_id": s.pathway.id,
                "service_id": None,
                "self_referral": self_ref,
                "status": status,
                "urgency": s.urgency,
                "screening_id": sid,
                "reasons": json.dumps(reasons),
                "follow_up_due": None if closed else day + timedelta(days=s.pathway.follow_up_days),
                "outcome": rnd.choice(referral_states.OUTCOMES) if status == "completed" else None,
                "closed_reason": reason if status in referral_states.REASONS else None,
                "created_by": "demo",
                "created_at": finished,
                "updated_at": finished,
                "closed_at": finished if closed else None,
            }
        )
    return made
