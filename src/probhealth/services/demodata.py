"""Synthetic caseloads for demos, tests and benchmarks (``probhealth demo --people N``).

Every person is fictional: invented names (family names such as "Example" or "Placeholder")
and CRNs starting with Z. Answers follow plausible distributions for people on probation
(more smoking, low mood, risky drinking and drug use, and gaps in GP registration than in the
general population), drawn from a few latent traits per person so that answers hang together.
Screenings are run through the real questionnaire engine and rules; referrals move along the
real state machine, step by step from the screening up to today, with follow-up dates set as
the referral service sets them (see "referral histories" below), so old referrals have mostly
closed and only some open ones are overdue. A referral names a service from the directory in
the demo database where one offers the pathway in the person's area (always when the worker
sends it, often for a self-referral). Rows are written in bulk, a few hundred people per
transaction.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from probhealth import clock, expr, referral_states
from probhealth.questionnaire import answers as answer_parsing
from probhealth.questionnaire.engine import Evaluation, PersonFacts, evaluate
from probhealth.questionnaire.model import Item, Questionnaire
from probhealth.rules import engine
from probhealth.rules.model import Pathway, RuleSet
from probhealth.services import referrals, suggest
from probhealth.store import audit, bulk
from probhealth.store import directory as dir_repo
from probhealth.store.db import Session, Store
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
from probhealth.taxonomy import URGENT
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

INTERPRETER_LANGUAGES = ("Polish", "Romanian", "Arabic", "Urdu", "Lithuanian", "Albanian")
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
    # Most people have some ID or proof of address; a plain yes/no would be "yes" 20%.
    "id_documents": {"yes": 0.78, "no": 0.22},
    "interpreter": {"no": 0.95, "yes": 0.05},
    # Cancer screening up to date: fictional shares, below national uptake as expected for
    # people on probation (the first option at 70% made it about 80%).
    "bowel_screening_last": {
        "within-2-years": 0.45,
        "over-2-years": 0.15,
        "never": 0.25,
        "not sure": 0.15,
    },
    "breast_screening_last": {
        "within-3-years": 0.5,
        "over-3-years": 0.2,
        "never": 0.15,
        "not sure": 0.15,
    },
    "cervical_screening_last": {
        "within-3-years": 0.45,
        "3-5-years": 0.15,
        "over-5-years": 0.15,
        "never": 0.15,
        "not sure": 0.1,
    },
}
# A health goal for a need the person has (the first of theirs in this order), else the GP.
GOALS: tuple[tuple[str, str], ...] = (
    ("smoking", "Set a quit date and use the stop smoking service"),
    ("alcohol", "Have at least two drink-free days a week"),
    ("drugs", "Keep every drug service appointment this month"),
    ("mental-health", "Go for a walk three times a week"),
    ("physical-health", "Book a check-up for a long-term condition"),
    ("dental", "Register with a dentist and book a check-up"),
    ("food", "Use the food bank voucher and plan meals for a week"),
    ("primary-care-access", "Register with a GP and book a check-up"),
)
# Ages on the demo's "today", by band (years, inclusive): the shape of an adult probation
# caseload, mostly in their twenties and thirties with about 5% aged 60 or over (MoJ Offender
# Management Statistics publish the caseload by age). UNVERIFIED: the shares are an estimate,
# not copied from a cited table; change them here (nothing else depends on them).
AGES: dict[tuple[int, int], float] = {
    (18, 20): 0.05,
    (21, 24): 0.11,
    (25, 29): 0.16,
    (30, 39): 0.32,
    (40, 49): 0.20,
    (50, 59): 0.11,
    (60, 69): 0.04,
    (70, 80): 0.01,
}
_AGE_BANDS, _AGE_WEIGHTS = tuple(AGES), tuple(AGES.values())
# Sex as recorded (validation.SEXES). Intersex is recorded for very few people: UNVERIFIED
# estimate of 1 in 1,000 (it was 1 in 100, far more than any record shows).
SEXES = {"male": 0.85, "female": 0.139, "intersex": 0.001, "not-stated": 0.01}
_SEXES, _SEX_WEIGHTS = tuple(SEXES), tuple(SEXES.values())
GOAL_PROGRESS = {"achieved": 0.35, "partly": 0.3, "not-yet": 0.25, "dropped": 0.1}
SCREENING_DECLINED = 0.04
# Screened again (a routine re-screen) this many days after the first screening, for this
# share of people (those screened long enough ago): about 1 in 8 people screened has two.
RESCREENED = 0.45
RESCREEN_AFTER_DAYS = (183, 365)


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


# Each questionnaire's option values in order, per item (keyed by content hash): _scored runs
# tens of thousands of times in a big caseload.
_ORDERED: dict[str, dict[str, tuple[Any, ...]]] = {}


def _ordered_values(q: Questionnaire) -> dict[str, tuple[Any, ...]]:
    found = _ORDERED.get(q.content_hash)
    if found is None:
        found = {i.id: tuple(sorted(o.value for o in i.options)) for i in q.items}
        _ORDERED[q.content_hash] = found
    return found


# Stored answers (JSON) of the plain values most answers are: encoded once, not per answer.
_STORED: dict[tuple[type, Any], str] = {}


def _stored(value: Any) -> str:
    if type(value) not in (int, str):
        return json.dumps(answer_parsing.to_storage(value))
    key = (type(value), value)
    found = _STORED.get(key)
    if found is None:
        found = _STORED[key] = json.dumps(value)
    return found


def _scored(values: tuple[Any, ...], level: float, rnd: random.Random) -> Any:
    index = min(len(values) - 1, max(0, int(round(level * (len(values) - 1) + rnd.gauss(0, 0.6)))))
    return values[index]


def _chooser(
    t: _Traits, rnd: random.Random, today: date, ordered: dict[str, tuple[Any, ...]]
) -> Callable[[Item, dict[str, Any]], Any]:
    def pick(item: Item, so_far: dict[str, Any]) -> Any:
        i = item.id
        if i == "phq9_9":
            return (
                1 if t.crisis else (_scored(ordered[i], t.mood * 0.4, rnd) if t.mood > 0.7 else 0)
            )
        if i.startswith("phq9_") and i != "phq9_10":
            return _scored(ordered[i], t.mood, rnd)
        if i.startswith("gad7_"):
            return _scored(ordered[i], t.anxiety, rnd)
        if i == "auditc_1":
            return _scored(ordered[i], t.alcohol, rnd) if t.drinks else 0
        if (
            i.startswith(("auditc_", "audit_"))
            and item.type == "single"
            and item.options[0].score is not None
        ):
            return _scored(ordered[i], t.alcohol, rnd)
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
            return _scored(ordered[i], rnd.random(), rnd)
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
        if i == "suicide_attempt_ever":
            return "yes" if (t.crisis or t.mood > 0.7) and rnd.random() < 0.4 else "no"
        if i == "drugs_inject":
            return "yes" if t.drugs and rnd.random() < 0.3 else "no"
        if i == "opioid_substitution":
            return "yes" if t.drugs and rnd.random() < 0.25 else "no"
        if i == "domestic_abuse":
            return "yes" if rnd.random() < 0.06 else "no"
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
            return _scored(ordered[i], rnd.random() * 0.5, rnd)
        first = item.options[0].value
        return first if rnd.random() < 0.7 else rnd.choice([o.value for o in item.options])

    return pick


@dataclass
class _Build:
    """What every person of a batch shares: the definitions, the day, the rows gathered for
    one bulk insert, the next id of each table and the service directory."""

    q: Questionnaire
    rules: RuleSet
    today: date
    rows: dict[Any, list[dict[str, Any]]]
    ids: dict[Any, int]
    directory: _Directory


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
    from probhealth.services.definitions import register_questionnaire

    with store.write() as session:
        register_questionnaire(session, q)
        directory = _Directory.load(session)
    made = screenings = referrals = 0
    first = last = ""
    while made < n:
        size = min(BATCH, n - made)
        with store.write() as session:
            top = bulk.last_crn(session, prefix="Z")
            base = int(top[1:]) + 1 if top else 100001
            if base + size > 999_999:
                from probhealth.errors import BadInput

                raise BadInput("No free demo CRNs are left (Z100001-Z999999).")
            ids = {
                m: bulk.next_id(session, m)
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
            build = _Build(q, rules, today, rows, ids, directory)
            for k in range(size):
                crn = f"Z{base + k:06d}"
                first = first or crn
                last = crn
                counts = _one(rnd, build, crn)
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


def _one(rnd: random.Random, b: _Build, crn: str) -> tuple[int, int]:
    today, rows, ids = b.today, b.rows, b.ids
    t = _Traits(rnd)
    now = clock.now()
    pid = str(uuid.uuid4())
    office = rnd.choice(tuple(OFFICES))
    low, high = rnd.choices(_AGE_BANDS, _AGE_WEIGHTS)[0]
    age = rnd.randint(low, high)
    dob = today - timedelta(days=age * 365 + rnd.randint(0, 364))
    sex = rnd.choices(_SEXES, _SEX_WEIGHTS)[0]
    given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
    released = today - timedelta(days=rnd.randint(1, 330)) if rnd.random() < 0.35 else None
    created = now - timedelta(days=rnd.randint(0, 400))
    postcode = rnd.choice(OFFICES[office])
    rows[Person].append(
        {
            "id": pid,
            "crn": crn,
            "given_name": given,
            "family_name": family,
            "name_key": search_key(f"{given} {family}"),
            "dob": dob,
            "sex": sex,
            "postcode": postcode,
            "office": office,
            # Whoever needs an interpreter speaks another language (picked from the CRN, so
            # the random draws, and every person after, stay as the seed gives them).
            "language": (
                INTERPRETER_LANGUAGES[int(crn[1:]) % len(INTERPRETER_LANGUAGES)]
                if (interpreter := rnd.random() < 0.05)
                else "English"
            ),
            "needs_interpreter": interpreter,
            "communication_needs": None,
            "release_date": released,
            "created_at": created,
            "updated_at": created,
        }
    )
    consents = _consent_rows(rnd, rows, ids, pid, created)
    if consents["screening"] == "declined" or rnd.random() < 0.08:
        return 0, 0  # declined screening, or consented but not screened yet
    started = created + timedelta(days=rnd.randint(0, 25), minutes=rnd.randint(0, 600))
    areas = (postcode.split()[0].casefold(), office.casefold())
    person = _Who(pid, dob, sex, released, consents, areas)
    again = rnd.random() < RESCREENED
    gap = timedelta(days=rnd.randint(*RESCREEN_AFTER_DAYS), minutes=rnd.randint(-120, 120))
    # Each screening has its own generator: whether it has happened yet depends on the date,
    # and the people after it must not (a seed gives the same people whenever it runs).
    seeds = (rnd.getrandbits(64), rnd.getrandbits(64))
    history = _History()
    made = 0
    for n, start in enumerate((started, started + gap) if again else (started,)):
        if start + timedelta(minutes=25) > now:
            break  # added lately: not screened (again) yet
        own = random.Random(seeds[n])
        made += _screen(own, b, t, person, start, history)
        if n == 0 and consents.get("health-trainer") == "given":
            _goal_rows(own, rows, ids, pid, history.evaluations[0], history.days[0], history.at[0])
    return len(history.at), made


class _Who(NamedTuple):
    pid: str
    dob: date
    sex: str
    released: date | None
    consents: dict[str, str]
    areas: tuple[str, str]


@dataclass
class _History:
    """A person's screenings so far, as the app would see them at the next one: open needs
    (their rows) and barriers, and the referrals made (each with its steps)."""

    evaluations: list[Evaluation] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    at: list[datetime] = field(default_factory=list)
    needs: dict[str, dict[str, Any]] = field(default_factory=dict)
    barriers: set[str] = field(default_factory=set)
    referrals: list[tuple[int, str, datetime, list[_Step]]] = field(default_factory=list)

    def as_of(self, when: datetime) -> tuple[dict[str, tuple[int, str]], dict[str, date]]:
        """Referrals open at ``when`` (pathway -> (id, status)) and, per pathway, the day one
        was last completed as achieved: what was recorded by then."""
        open_refs: dict[str, tuple[int, str]] = {}
        achieved: dict[str, date] = {}
        for rid, pathway_id, made_at, steps in self.referrals:
            known = [
                s
                for s in steps
                if made_at + timedelta(days=(s.recorded - steps[0].day).days) <= when
            ]
            if not known:
                continue
            last = known[-1]
            if last.status not in referral_states.CLOSED:
                open_refs[pathway_id] = (rid, last.status)
            elif last.status == "completed" and last.outcome == "achieved":
                achieved[pathway_id] = max(last.day, achieved.get(pathway_id, last.day))
        return open_refs, achieved


def _screen(
    rnd: random.Random, b: _Build, t: _Traits, who: _Who, started: datetime, history: _History
) -> int:
    """One completed screening (the person's first, or a later one), its suggestions and the
    referrals made from them; returns how many referrals."""
    q, rows, ids = b.q, b.rows, b.ids
    sid = ids[Screening]
    ids[Screening] += 1
    screened_on = clock.to_london(started).date()
    answers: dict[str, Any] = {}
    if who.released is not None:
        answers["recent_custody"] = "yes"
        answers["release_date"] = who.released
    ev = evaluate(
        q,
        answers,
        PersonFacts(age=clock.age_on(who.dob, screened_on), sex=who.sex, release_date=who.released),
        screened_on,
        choose=_chooser(t, rnd, screened_on, _ordered_values(q)),
    )
    finished = started + timedelta(minutes=rnd.randint(9, 25))
    rows[Screening].append(
        {
            "id": sid,
            "person_id": who.pid,
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
    _screening_rows(rnd, rows, sid, ev, started)
    _need_rows(rows, ids, who.pid, sid, ev, finished, history)
    history.evaluations.append(ev)
    history.days.append(screened_on)
    history.at.append(finished)
    return _suggest_and_refer(rnd, b, ev, who, sid, finished, history)


def _consent_rows(
    rnd: random.Random,
    rows: dict[Any, list[dict[str, Any]]],
    ids: dict[Any, int],
    pid: str,
    created: datetime,
) -> dict[str, str]:
    """Consent asked when the person was added (verbal): purpose -> given/declined."""
    consents = {
        "screening": "declined" if rnd.random() < SCREENING_DECLINED else "given",
        "share-with-services": "given" if rnd.random() < 0.7 else "declined",
    }
    consents["share-with-gp"] = consents["share-with-services"]  # one answer, both asked
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
    return consents


def _screening_rows(
    rnd: random.Random,
    rows: dict[Any, list[dict[str, Any]]],
    sid: int,
    ev: Evaluation,
    started: datetime,
) -> None:
    """The screening's answers (20 seconds apart), scores and flags (most urgent ones
    acknowledged, as at a prompt)."""
    for n, (item_id, value) in enumerate(ev.answers.items()):
        declined = value is expr.DECLINED
        rows[Answer].append(
            {
                "screening_id": sid,
                "item_id": item_id,
                "hidden": False,
                "declined": declined,
                "value": None if declined else _stored(value),
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
        ack = f.severity in URGENT and rnd.random() < 0.95
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


def _need_rows(
    rows: dict[Any, list[dict[str, Any]]],
    ids: dict[Any, int],
    pid: str,
    sid: int,
    ev: Evaluation,
    finished: datetime,
    history: _History,
) -> None:
    """The needs and barriers the screening identified, as ``screening.finish`` records them:
    a need still open from an earlier screening is moved on to this one (its severity now),
    a barrier still open is not added again."""
    for need in ev.needs:
        existing = history.needs.get(need.domain)
        if existing is not None:
            existing.update(screening_id=sid, severity=need.severity, updated_at=finished)
            continue
        row = {
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
        rows[Need].append(row)
        history.needs[need.domain] = row
        ids[Need] += 1
    for btype in ev.barriers:
        if btype in history.barriers:
            continue
        history.barriers.add(btype)
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


def _goal_rows(
    rnd: random.Random,
    rows: dict[Any, list[dict[str, Any]]],
    ids: dict[Any, int],
    pid: str,
    ev: Evaluation,
    screened_on: date,
    finished: datetime,
) -> None:
    """A health trainer's goal from the person's needs, reviewed two weeks on (60%)."""
    gid = ids[Goal]
    ids[Goal] += 1
    has = {need.domain for need in ev.needs}
    domain, text = next((g for g in GOALS if g[0] in has), GOALS[-1])
    progress = rnd.choices(*zip(*GOAL_PROGRESS.items(), strict=True))[0]
    reviewed = rnd.random() < 0.6
    rows[Goal].append(
        {
            "id": gid,
            "person_id": pid,
            "text": text,
            "domain": domain,
            "target_date": screened_on + timedelta(days=42),
            "status": progress if reviewed and progress in ("achieved", "dropped") else "active",
            "created_by": "demo",
            "created_at": finished,
            "updated_at": finished,
        }
    )
    if reviewed:
        rows[GoalReview].append(
            {
                "id": ids[GoalReview],
                "goal_id": gid,
                "progress": progress,
                "note": None,
                "reviewed_by": "demo",
                "reviewed_at": finished + timedelta(days=14),
            }
        )
        ids[GoalReview] += 1


def _suggest_and_refer(
    rnd: random.Random,
    b: _Build,
    ev: Evaluation,
    who: _Who,
    sid: int,
    finished: datetime,
    history: _History,
) -> int:
    rules, today, rows, ids, directory = b.rules, b.today, b.rows, b.ids, b.directory
    on = clock.to_london(finished).date()
    now = clock.now()
    pid, consents, areas = who.pid, who.consents, who.areas
    # The same builder as a real screening's completion (suggest.snapshot): the person's open
    # needs and barriers (this screening's and earlier ones'), the referrals open and those
    # completed as achieved by now (none at a first screening).
    open_refs, achieved = history.as_of(finished)
    facts = suggest.facts_from_evaluation(
        ev,
        dob=who.dob,
        sex=who.sex,
        release_date=who.released,
        barriers=sorted(history.barriers),
        needs=list(history.needs),
        open_referrals=open_refs,
        consents=[p for p, s in consents.items() if s == "given"],
        today=on,
        completed=achieved,
    )
    outcome = suggest.at_completion(ev, rules, facts, on)
    made = 0
    for s in outcome.suggestions:
        reasons = _add_suggestion(b, pid, sid, s, finished, already_open=False)
        if s.pathway.adjustment or rnd.random() < 0.35:
            continue
        self_ref = s.pathway.self_referral and (
            not s.pathway.shares_information or consents.get(s.pathway.share_purpose) != "given"
        )
        if any(consents.get(p) != "given" for p in s.pathway.consent_purposes(self_ref)):
            continue  # consent binds the fiction too
        made += 1
        rid = ids[Referral]
        ids[Referral] += 1
        # Its own generator: how far a history gets depends on the date, and the people after
        # it must not (a seed gives the same people whenever it runs).
        own = random.Random(rnd.getrandbits(64))
        service_id = directory.pick(own, s.pathway.id, areas, self_ref=self_ref)
        steps = _history(
            own,
            s.pathway,
            s.urgency,
            self_ref,
            service_id is not None,
            on,
            today,
            directory.open_days.get(service_id) if service_id else None,
        )
        history.referrals.append((rid, s.pathway.id, finished, steps))
        previous = "suggested"
        recorded = finished
        for step in steps:
            # The same time of day as the screening, whole days later (never after now).
            recorded = min(now, finished + timedelta(days=(step.recorded - on).days))
            rows[ReferralEvent].append(
                {
                    "id": ids[ReferralEvent],
                    "referral_id": rid,
                    "from_status": previous,
                    "to_status": step.status,
                    "reason": step.reason,
                    "note": None,
                    "event_date": step.day,
                    "recorded_by": "demo",
                    "recorded_at": recorded,
                }
            )
            ids[ReferralEvent] += 1
            previous = step.status
        last = steps[-1]
        closed = last.status in referral_states.CLOSED
        rows[Referral].append(
            {
                "id": rid,
                "person_id": pid,
                "pathway_id": s.pathway.id,
                "service_id": service_id,
                "self_referral": self_ref,
                "status": last.status,
                "urgency": s.urgency,
                "screening_id": sid,
                "reasons": reasons,
                "follow_up_due": None if closed else _follow_up_due(last, s.pathway, s.urgency),
                "outcome": last.outcome,
                "closed_reason": last.reason,
                "created_by": "demo",
                "created_at": finished,
                "updated_at": recorded,
                "closed_at": recorded if closed else None,
            }
        )
    for s in outcome.already_open:  # recorded as the snapshot records them, not offered
        _add_suggestion(b, pid, sid, s, finished, already_open=True)
    return made


def _add_suggestion(
    b: _Build, pid: str, sid: int, s: engine.Suggestion, finished: datetime, *, already_open: bool
) -> str:
    """The row of one suggestion of a screening (offered, or already open); its reasons as
    stored, for a referral made from it."""
    reasons = json.dumps(
        [{"rule": r.rule, "because": r.because, "evidence": r.evidence} for r in s.reasons]
    )
    b.rows[Suggestion].append(
        {
            "id": b.ids[Suggestion],
            "person_id": pid,
            "screening_id": sid,
            "pathway_id": s.pathway.id,
            "urgency": s.urgency,
            "reasons": reasons,
            "already_open": already_open,
            "rules_id": b.rules.id,
            "rules_version": b.rules.version,
            "rules_hash": b.rules.content_hash,
            "created_at": finished,
        }
    )
    b.ids[Suggestion] += 1
    return reasons


# ---------------------------------------------------------------- services --------------
class _Directory:
    """The service directory in the demo database by (pathway, area key), an area key being a
    casefolded postcode district, an office or "*" (national), so that a referral can name a
    service that offers its pathway where the person lives."""

    def __init__(
        self,
        entries: dict[tuple[str, str], tuple[tuple[str, bool], ...]],
        open_days: dict[str, frozenset[int]] | None = None,
    ) -> None:
        self.entries = entries  # (pathway, area) -> ((service id, takes self-referrals), ...)
        self.open_days = open_days or {}  # service id -> weekdays it is open (0 = Monday)
        self._near: dict[tuple[str, str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    @classmethod
    def load(cls, session: Session) -> _Directory:
        from probhealth.directory.hours import parse_window

        found: dict[tuple[str, str], set[tuple[str, bool]]] = {}
        open_days: dict[str, frozenset[int]] = {}
        for pathway_id, area, service_id, data in dir_repo.pathway_areas(session):
            entry = json.loads(data)
            takes_self = bool(entry.get("self_referral"))
            found.setdefault((pathway_id, area), set()).add((service_id, takes_self))
            if service_id not in open_days:
                windows = [parse_window(h) for h in entry.get("hours") or ()]
                open_days[service_id] = frozenset(d for w in windows for d in w.days)
        return cls({key: tuple(sorted(v)) for key, v in found.items()}, open_days)

    def near(self, pathway_id: str, areas: tuple[str, str]) -> tuple[tuple[str, ...], ...]:
        """(services a worker can refer to, services a person can contact themselves): local
        ones, or national ones where nothing local offers the pathway."""
        key = (pathway_id, *areas)
        hit = self._near.get(key)
        if hit is None:
            local = sorted({e for a in areas for e in self.entries.get((pathway_id, a), ())})
            national = self.entries.get((pathway_id, "*"), ())
            worker = local or list(national)
            by_self = [e for e in local if e[1]] or [e for e in national if e[1]]
            hit = (tuple(i for i, _ in worker), tuple(i for i, _ in by_self))
            self._near[key] = hit
        return hit

    def pick(
        self, rnd: random.Random, pathway_id: str, areas: tuple[str, str], *, self_ref: bool
    ) -> str | None:
        worker, by_self = self.near(pathway_id, areas)
        if self_ref:  # often the worker names a service to contact, sometimes only the kind
            return rnd.choice(by_self) if by_self and rnd.random() < 0.6 else None
        return rnd.choice(worker) if worker else None


# ---------------------------------------------------------------- referral histories ----
# A referral's history is simulated day by day from the screening to today, the way the
# referral service would record it: each step happens when the service (or the person) acts,
# days after the last one as the pathway works (STEP_DAYS), and is recorded with that date
# when the worker hears of it (often at once, as often at or some days after its follow-up,
# now and then long after when nobody chased it); it moves the follow-up date on as
# ``referrals.update`` does, and a step that would be recorded after today has not happened
# yet. Old referrals have therefore mostly closed; the
# open ones are recent, or waiting on a late follow-up.

# The contact is the help (a phone line): no appointments, and a crisis line turns nobody away.
_CALL_ONLY = frozenset({"crisis-support"})
# Usually done at the first contact (a kit handed over or posted, a form filled in, a food bank
# visit, a helpline call, a safeguarding referral acted on). The rules file has no field for
# this: it is decided here from what each pathway is (its for_staff text).
_FEW_APPOINTMENTS = frozenset(
    {
        "naloxone",
        "food-support",
        "gp-registration",
        "bowel-screening",
        "domestic-abuse-support",
        "safeguarding-referral",
    }
)
# The only pathways a referral completes on without an appointment attended (the report's
# funnel note says so); every other completion follows an attended appointment.
ENDS_WITHOUT_APPOINTMENT = _CALL_ONLY | _FEW_APPOINTMENTS
DECLINED_SHARE = 0.12
STALLED_LOST_CONTACT = 0.5

# Why a referral is withdrawn, by the state it is withdrawn from (all codes in REASONS), and
# how common each reason is.
_WITHDRAWN_WEIGHT = {
    "lost-contact": 4.0,
    "person-withdrew-consent": 3.0,
    "needs-met-elsewhere": 2.5,
    "moved-area": 1.0,
    "returned-to-custody": 1.0,
    "service-unavailable": 1.0,
    "no-longer-eligible": 1.0,
}
_WITHDRAWN_WHY: dict[str, tuple[str, ...]] = {
    "agreed": (
        "lost-contact",
        "person-withdrew-consent",
        "needs-met-elsewhere",
        "returned-to-custody",
        "moved-area",
    ),
    "referred": (
        "lost-contact",
        "needs-met-elsewhere",
        "person-withdrew-consent",
        "returned-to-custody",
        "service-unavailable",
    ),
    "accepted": ("lost-contact", "person-withdrew-consent", "returned-to-custody", "moved-area"),
    "appointment-booked": (
        "lost-contact",
        "returned-to-custody",
        "person-withdrew-consent",
        "moved-area",
    ),
    "attended": (
        "person-withdrew-consent",
        "needs-met-elsewhere",
        "returned-to-custody",
        "moved-area",
    ),
    "did-not-attend": ("lost-contact", "person-withdrew-consent", "returned-to-custody"),
    "rejected-by-service": ("service-unavailable", "no-longer-eligible", "needs-met-elsewhere"),
}
_DECLINED_WHY = ("not-wanted-now", "already-getting-help", "prefers-other-help", "cannot-attend")
# Why a service turns a worker's referral down, where it may (self-referrals are never turned
# down here). "out-of-area" only when no service in the person's area was named.
_REJECTED_WHY: dict[str, tuple[str, ...]] = {
    "mental-health-assessment": ("not-eligible", "service-full", "incomplete-referral"),
    "cstr-assessment": ("not-eligible", "service-full", "incomplete-referral"),
    "reconnect": ("not-eligible", "service-full", "incomplete-referral"),
    "learning-disability-support": ("not-eligible", "incomplete-referral"),
    "lung-health-check": ("not-eligible", "incomplete-referral"),
}
_REJECTED_DEFAULT = ("service-full", "incomplete-referral")
# How a completed referral went, by the step before it.
_OUTCOME_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "accepted": (0.7, 0.25, 0.05),
    "attended": (0.6, 0.3, 0.1),
    "did-not-attend": (0.0, 0.3, 0.7),
}


class _Step(NamedTuple):
    status: str
    day: date  # the event date: when it happened (for a booking, the appointment day)
    recorded: date  # when the worker recorded it
    reason: str | None = None
    outcome: str | None = None


def _next_status(
    rnd: random.Random, state: str, pathway_id: str, self_ref: bool, seen: dict[str, int]
) -> str:
    call = pathway_id in _CALL_ONLY
    options: dict[str, float]
    if state == "agreed":
        options = {"referred": 0.97 if call else 0.92, "withdrawn": 0.03 if call else 0.08}
    elif state == "referred":
        # A self-referral's "referred" is the person making contact: not turned away here.
        rejected = 0.0 if self_ref or call else 0.12
        options = {"accepted": 0.92 - rejected, "rejected-by-service": rejected, "withdrawn": 0.08}
    elif state == "rejected-by-service":  # sent again once, or given up
        options = {"referred": 0.45 if seen["rejected-by-service"] < 2 else 0.0, "withdrawn": 0.55}
    elif state == "accepted":
        booked = 0.0 if call else 0.2 if pathway_id in _FEW_APPOINTMENTS else 0.95
        options = {"appointment-booked": booked, "completed": 0.95 - booked, "withdrawn": 0.05}
    elif state == "appointment-booked":  # or moved to another day
        moved = 0.05 if seen["appointment-booked"] < 4 else 0.0
        options = {
            "attended": 0.7,
            "did-not-attend": 0.2,
            "appointment-booked": moved,
            "withdrawn": 0.05,
        }
    elif state == "attended":
        again = 0.3 if seen["appointment-booked"] < 4 else 0.0
        options = {"completed": 0.65, "appointment-booked": again, "withdrawn": 0.05}
    else:  # did-not-attend
        again = 0.5 if seen["did-not-attend"] < 2 else 0.0
        # Closed as done after missing one only when the help came without an appointment, or
        # an earlier appointment was attended; otherwise it is withdrawn.
        done = 0.1 if seen["attended"] or pathway_id in ENDS_WITHOUT_APPOINTMENT else 0.0
        options = {"appointment-booked": again, "withdrawn": 0.45 - done, "completed": done}
    return rnd.choices(tuple(options), tuple(options.values()))[0]


def _wait(rnd: random.Random, days: int, slow: bool) -> tuple[int, bool]:
    """Days until the next step is recorded, for a pathway followed up every ``days`` days,
    and whether it stalled (nobody chased it up for weeks): often by the follow-up date, as
    often some days after it (longer for pathways followed up less often), now and then weeks
    after it. Slow steps (a person making contact themselves, a service's waiting list) are
    late more often."""
    r = rnd.random()
    if r < (0.15 if slow else 0.3):
        return round(days * rnd.uniform(0.15, 1.0)), False
    if r < 0.95:
        return days + 1 + min(50, int(rnd.expovariate(1 / min(24, max(3, days))))), False
    return days + rnd.randint(15, 90), True


# How long a pathway's steps take in days, as the service works (not as the worker hears of
# them): (the service accepts a referral, then books a first appointment, for so many days
# ahead), medians; each is spread around its median (log-normal, ``spread``). Together with
# the worker sending the referral (0-7 days) they give the wait from suggestion to the first
# appointment. UNVERIFIED estimates, for a plausible demo only: stop smoking services usually
# see people within 1-3 weeks; NHS Talking Therapies has an 18-week standard and sees most
# people within 6 weeks; NHS dentists vary widely. Pathways not listed take a share of their
# follow-up interval (``_times``).
STEP_DAYS: dict[str, tuple[int, int, int, float]] = {
    "gp-appointment": (1, 0, 2, 0.6),
    "alcohol-withdrawal-gp": (1, 0, 1, 0.6),
    "long-term-condition-review": (2, 1, 7, 0.6),
    "gp-registration": (2, 1, 7, 0.6),
    "stop-smoking": (2, 2, 6, 0.6),
    "talking-therapies": (7, 4, 14, 0.6),
    "primary-mental-health-wales": (7, 4, 14, 0.6),
    "mental-health-assessment": (7, 5, 21, 0.6),
    "dentist": (5, 7, 21, 0.9),
    "sexual-health": (1, 1, 5, 0.6),
    "bbv-testing": (2, 2, 7, 0.6),
    "vaccination": (2, 2, 6, 0.6),
    "cervical-screening": (3, 3, 10, 0.6),
    "bowel-screening": (7, 7, 14, 0.6),
    "breast-screening": (7, 7, 21, 0.6),
    "aaa-screening": (7, 7, 21, 0.6),
    "lung-health-check": (10, 7, 21, 0.6),
    "nhs-health-check": (5, 5, 14, 0.6),
    "alcohol-service": (3, 2, 7, 0.6),
    "drug-service": (2, 2, 5, 0.6),
    "naloxone": (1, 0, 2, 0.6),
    "food-support": (1, 0, 2, 0.6),
    "housing-options": (2, 1, 5, 0.6),
    "money-advice": (3, 2, 10, 0.6),
    "health-trainer": (3, 2, 7, 0.6),
    "maternity": (3, 2, 10, 0.6),
    "reconnect": (4, 3, 10, 0.6),
    "mental-health-continuity": (3, 2, 7, 0.6),
    "domestic-abuse-support": (1, 1, 5, 0.6),
    "safeguarding-referral": (1, 0, 3, 0.6),
    "cstr-assessment": (7, 5, 14, 0.6),
    "learning-disability-support": (14, 7, 28, 0.7),
    "brain-injury-support": (14, 7, 28, 0.7),
}


def _times(pathway_id: str, follow_up_days: int) -> tuple[int, int, int, float]:
    found = STEP_DAYS.get(pathway_id)
    if found is None:
        days = follow_up_days
        found = (max(1, days // 7), max(1, days // 10), max(2, days // 4), 0.6)
    return found


def _days(rnd: random.Random, median: int, spread: float) -> int:
    return round(median * rnd.lognormvariate(0.0, spread)) if median else 0


def _took(rnd: random.Random, pathway: Pathway, state: str, nxt: str, self_ref: bool) -> int:
    """Days from the last step until the next happens (the days of the service, or of the
    person contacting it)."""
    accept, book, _lead_days, spread = _times(pathway.id, pathway.follow_up_days)
    if state == "agreed":  # the person makes contact, or a worker sends it late
        return _days(rnd, 4, 1.0) if self_ref else rnd.randint(8, 21)
    if state == "referred":  # accepted or turned down
        return _days(rnd, accept, spread)
    if state == "rejected-by-service":  # sent again
        return rnd.randint(1, 14)
    if state == "accepted":  # an appointment made, or (kits, vouchers) the help given
        return _days(rnd, book, spread)
    if nxt == "appointment-booked":  # the next one, at the appointment or when chased
        return rnd.randint(0, 3) if state == "attended" else rnd.randint(1, 10)
    return rnd.randint(0, 14)  # discharged after the last appointment


def _lead(rnd: random.Random, pathway: Pathway, state: str) -> int:
    """Days ahead an appointment is booked for: the first as the service works, later ones
    a week or a few on, after a missed one sooner."""
    if state == "attended":
        return rnd.randint(7, 28)
    if state == "did-not-attend":
        return rnd.randint(3, 14)
    _accept, _book, lead, spread = _times(pathway.id, pathway.follow_up_days)
    return max(1, _days(rnd, lead, spread))


def _told(rnd: random.Random, took: int, follow_up_days: int) -> tuple[int, bool]:
    """Days after a step happened until the worker records it, and whether it stalled: mostly
    told at once (a letter, a call, the person at supervision), often only at the follow-up
    check, now and then weeks later when nobody chased it."""
    r = rnd.random()
    if r < 0.45:
        return rnd.randint(0, 2), False
    if r < 0.95:  # at the follow-up, or some days after it (longer for longer intervals)
        late = 1 + min(50, int(rnd.expovariate(1 / min(24, max(3, follow_up_days)))))
        return max(0, follow_up_days - took) + late, False
    return rnd.randint(15, 90), True


def _late(rnd: random.Random) -> int:
    """Days after an appointment until attendance is recorded (follow-up: the day after)."""
    r = rnd.random()
    if r < 0.6:
        return rnd.randint(0, 1)
    if r < 0.93:
        return rnd.randint(2, 14)
    return rnd.randint(15, 60)


def _reason(
    rnd: random.Random, status: str, state: str, pathway_id: str, named: bool
) -> str | None:
    call = pathway_id in _CALL_ONLY
    if status == "withdrawn":
        codes = _WITHDRAWN_WHY[state]
        if call:  # a crisis line is always there and has no eligibility rules
            codes = tuple(
                c for c in codes if c not in ("service-unavailable", "no-longer-eligible")
            )
        return rnd.choices(codes, [_WITHDRAWN_WEIGHT[c] for c in codes])[0]
    if status == "declined-by-person":
        return rnd.choice(_DECLINED_WHY[:-1] if call else _DECLINED_WHY)
    if status == "rejected-by-service":
        codes = _REJECTED_WHY.get(pathway_id, _REJECTED_DEFAULT)
        return rnd.choice(codes if named else (*codes, "out-of-area"))
    return None


def _history(
    rnd: random.Random,
    pathway: Pathway,
    urgency: str,
    self_ref: bool,
    named: bool,
    on: date,
    today: date,
    days_open: frozenset[int] | None = None,
) -> list[_Step]:
    """The steps recorded so far for a referral agreed (or declined) on ``on``."""
    if rnd.random() < DECLINED_SHARE:
        why = _reason(rnd, "declined-by-person", "suggested", pathway.id, named)
        return [_Step("declined-by-person", on, on, why)]
    steps = [_Step("agreed", on, on)]
    # Followed up as referrals.update sets it: soon within days, same-day and emergency at once.
    interval = referrals.default_follow_up_days(urgency, pathway)
    seen = dict.fromkeys(
        ("appointment-booked", "attended", "did-not-attend", "rejected-by-service"), 0
    )
    while steps[-1].status not in referral_states.CLOSED:
        last = steps[-1]
        nxt = _next_status(rnd, last.status, pathway.id, self_ref, seen)
        lost = False
        if last.status == "appointment-booked":
            if nxt in ("withdrawn", "appointment-booked"):  # cancelled or moved before the day
                recorded = last.recorded + timedelta(
                    days=rnd.randint(0, max(0, (last.day - last.recorded).days))
                )
                day = recorded
                if nxt == "appointment-booked":
                    day = _open_day(recorded + timedelta(days=rnd.randint(1, 14)), days_open)
            else:  # happened on the day (not before), recorded a little after
                day = last.day
                recorded = max(last.recorded, last.day + timedelta(days=_late(rnd)))
        else:
            # A worker sends a referral within days; a crisis line is called there and then.
            quick = pathway.id in _CALL_ONLY or (not self_ref and last.status == "agreed")
            if quick and rnd.random() < 0.85:
                took, lag, stalled = rnd.randint(0, min(7, pathway.follow_up_days)), 0, False
            elif nxt == "withdrawn":  # found out when following it up
                slow = self_ref and last.status == "agreed"
                took, stalled = _wait(rnd, interval, slow)
                lag = 0
            else:  # it happens when the service (or the person) acts; the worker hears later
                took = _took(rnd, pathway, last.status, nxt, self_ref)
                lag, stalled = _told(rnd, took, interval)
            if stalled and nxt != "completed" and rnd.random() < STALLED_LOST_CONTACT:
                nxt, lost = "withdrawn", True  # nobody chased it: closed when noticed
                took, lag = took + lag, 0
            day = last.day + timedelta(days=took)
            recorded = max(last.recorded, day + timedelta(days=lag))
            if nxt == "appointment-booked":  # booked that day, for a day ahead
                day = _open_day(day + timedelta(days=_lead(rnd, pathway, last.status)), days_open)
        if recorded > today:
            break  # not happened (or not recorded) yet
        reason = "lost-contact" if lost else _reason(rnd, nxt, last.status, pathway.id, named)
        outcome = None
        if nxt == "completed":
            weights = _OUTCOME_WEIGHTS[last.status]
            outcome = rnd.choices(referral_states.OUTCOMES, weights)[0]
        if nxt in seen:
            seen[nxt] += 1
        steps.append(_Step(nxt, day, recorded, reason, outcome))
    return steps


def _open_day(day: date, days_open: frozenset[int] | None) -> date:
    """The day, or the next one the service is open (a handout read "Go to ... on Saturday 5
    December" for a service open on Mondays and Thursdays)."""
    while days_open and day.weekday() not in days_open:
        day += timedelta(days=1)
    return day


def _follow_up_due(last: _Step, pathway: Pathway, urgency: str) -> date:
    """As ``referrals.update`` sets it: the day after a booked appointment, the next working
    day after a missed one is recorded, otherwise the step's day and the interval for the
    referral's urgency."""
    if last.status == "appointment-booked":
        return last.day + timedelta(days=1)
    if last.status == "did-not-attend":
        return referrals.next_working_day(last.recorded)
    return last.day + timedelta(days=referrals.default_follow_up_days(urgency, pathway))
