"""Suggested pathways for a person: the rules evaluated on their latest completed screening
and current barriers, needs, consent and open referrals; local services for each, with the
barrier conflicts that might stop them working for this person.

Facts come from what was stored at completion (answers, scores and bands, flags), so a
suggestion never depends on re-running the questionnaire, and the batch over a whole caseload
(``suggest_all``) reads the same facts from streaming cursors.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from probhealth import clock, expr, validation
from probhealth.directory.hours import is_open
from probhealth.directory.match import PersonNeeds, availability_windows, conflicts
from probhealth.directory.model import Service, from_json
from probhealth.errors import NotFound, Remedy
from probhealth.questionnaire import answers as answer_parsing
from probhealth.questionnaire.engine import Evaluation, partial_facts
from probhealth.questionnaire.model import Questionnaire
from probhealth.referral_states import adjustments_in_place
from probhealth.rules import engine
from probhealth.rules.model import URGENCY_ORDER, Pathway, RuleSet
from probhealth.services import definitions
from probhealth.services.people import PersonRecord, effective_nation, require_person, to_record
from probhealth.store import audit
from probhealth.store import directory as dir_repo
from probhealth.store import needs as needs_repo
from probhealth.store import people as people_repo
from probhealth.store import referrals as ref_repo
from probhealth.store import screenings as scr_repo
from probhealth.store import suggestions as suggestions_repo
from probhealth.store.caseload import PersonRows, count_people, latest_screenings
from probhealth.store.db import Session, Store
from probhealth.store.models import Person, Screening
from probhealth.store.models import Suggestion as SuggestionRow

ADJUSTMENT_RECORDED = "recorded on the person"  # the status of an adjustment in place


# ---------------------------------------------------------------- facts -----------------
def _person_root(
    dob: date,
    sex: str,
    release_date: date | None,
    answers: dict[str, Any],
    today: date,
    nation: str | None = None,
    stage: str | None = None,
) -> dict[str, Any]:
    given = answers.get("release_date")
    release = given if isinstance(given, date) else release_date
    return {
        "age": clock.age_on(dob, today),
        "sex": sex,
        "days_since_release": (today - release).days if release else None,
        "nation": effective_nation(nation),
        "stage": stage,
    }


def facts_from_rows(rows: PersonRows, q: Questionnaire | None, today: date) -> engine.Facts:
    answers: dict[str, Any] = {}
    dates = q.date_items if q is not None else frozenset()
    for item_id, (value, declined) in rows.answers.items():
        if declined:
            answers[item_id] = expr.DECLINED
        elif item_id in dates and isinstance(value, str):
            answers[item_id] = date.fromisoformat(value)
        else:
            answers[item_id] = value
    person = _person_root(
        rows.dob, rows.sex, rows.release_date, answers, today, rows.nation, rows.stage
    )
    scores: dict[str, Any] = {k: v for k, (v, _) in rows.scores.items()}
    uncertain: frozenset[str] = frozenset()
    if q is not None:  # partly answered scales and flags that could apply
        ranges, uncertain = partial_facts(q, answers, person, today)
        scores = {**ranges, **scores}
    return engine.Facts(
        answers=answers,
        scores=scores,
        bands={k: b for k, (_, b) in rows.scores.items() if b is not None},
        flags=frozenset(rows.flags),
        flag_severities=frozenset(rows.flags.values()),
        person=person,
        barriers=frozenset(rows.barriers),
        needs=frozenset(rows.needs),
        open_referrals=frozenset(rows.open_referrals),
        consents=frozenset(p for p, s in rows.consents.items() if s == "given"),
        uncertain_flags=uncertain - frozenset(rows.flags),
        completed=dict(rows.completed),
    )


def facts_from_evaluation(
    evaluation: Evaluation,
    *,
    dob: date,
    sex: str,
    release_date: date | None,
    barriers: Iterable[str],
    needs: Iterable[str],
    open_referrals: Iterable[str],
    consents: Iterable[str],
    today: date,
    nation: str | None = None,
    stage: str | None = None,
    completed: dict[str, date] | None = None,
) -> engine.Facts:
    """The facts of a screening just completed (in memory, before anything is read back)."""
    answers = {**evaluation.implied, **evaluation.answers}
    scores = {
        k: v for k, r in evaluation.scores.items() if not expr.is_absent(v := r.condition_value())
    }
    return engine.Facts(
        answers=answers,
        scores=scores,
        bands={k: r.band for k, r in evaluation.scores.items() if r.band is not None},
        flags=frozenset(f.id for f in evaluation.flags),
        flag_severities=frozenset(f.severity for f in evaluation.flags),
        person=_person_root(dob, sex, release_date, answers, today, nation, stage),
        barriers=frozenset(barriers),
        needs=frozenset(needs),
        open_referrals=frozenset(open_referrals),
        consents=frozenset(consents),
        uncertain_flags=frozenset(u.flag.id for u in evaluation.uncertain),
        completed=dict(completed or {}),
    )


def label_for(q: Questionnaire | None) -> Callable[[str, Any], str]:
    def label(item_id: str, value: Any) -> str:
        if q is not None and q.has_item(item_id):
            return q.item(item_id).label_of(
                answer_parsing.to_storage(value) if isinstance(value, date) else value
            )
        return str(value)

    return label


# ---------------------------------------------------------------- records ---------------
@dataclass(frozen=True)
class ServiceMatch:
    service: Service
    conflicts: tuple[str, ...]
    open_now: bool

    def to_json(self) -> dict[str, Any]:
        return {
            **self.service.to_json(),
            "conflicts": list(self.conflicts),
            "open_now": self.open_now,
        }


@dataclass(frozen=True)
class PathwaySuggestion:
    pathway_id: str
    name: str
    urgency: str
    reasons: tuple[engine.Reason, ...]
    for_person: str
    for_staff: str
    shares_information: bool
    self_referral: bool
    adjustment: bool
    services: tuple[ServiceMatch, ...]
    open_referral: tuple[int, str] | None = None  # (referral id, status) when already open
    declined: tuple[date, str | None] | None = None  # when they last said no, and why
    completed_on: date | None = None  # a referral to it last completed as achieved
    suggest_again_from: date | None = None  # held back until then (recently completed)
    no_gp: str | None = None  # routed through the GP, and they have none: the no-GP route

    def to_json(self) -> dict[str, Any]:
        return {
            "pathway": self.pathway_id,
            "name": self.name,
            "urgency": self.urgency,
            "reasons": [
                {"rule": r.rule, "because": r.because, "urgency": r.urgency} for r in self.reasons
            ],
            "for_person": self.for_person,
            "for_staff": self.for_staff,
            "shares_information": self.shares_information,
            "self_referral": self.self_referral,
            "adjustment": self.adjustment,
            "services": [s.to_json() for s in self.services],
            "open_referral": {"id": self.open_referral[0], "status": self.open_referral[1]}
            if self.open_referral
            else None,
            "declined": {"on": self.declined[0].isoformat(), "reason": self.declined[1]}
            if self.declined
            else None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "suggest_again_from": self.suggest_again_from.isoformat()
            if self.suggest_again_from
            else None,
            "no_gp": {"route": self.no_gp} if self.no_gp else None,
        }


@dataclass(frozen=True)
class SuggestReport:
    person: PersonRecord
    screening_id: int | None
    screening_completed_at: datetime | None
    rules: str
    suggestions: tuple[PathwaySuggestion, ...]
    already_open: tuple[PathwaySuggestion, ...]
    person_needs: PersonNeeds
    could_apply: tuple[engine.CouldApply, ...] = ()
    recently_completed: tuple[PathwaySuggestion, ...] = ()  # not suggested again yet

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.person.crn,
            "screening": self.screening_id,
            "screening_completed_at": clock.iso_utc(self.screening_completed_at),
            "rules": self.rules,
            "suggestions": [s.to_json() for s in self.suggestions],
            "already_open": [s.to_json() for s in self.already_open],
            "could_apply": [c.to_json() for c in self.could_apply],
            "recently_completed": [s.to_json() for s in self.recently_completed],
        }


# ---------------------------------------------------------------- one person ------------
def person_needs(
    session: Session,
    person: Person,
    answers: dict[str, Any],
    barriers: Iterable[str],
    consents: Iterable[str],
    rules: RuleSet,
) -> PersonNeeds:
    barrier_set = set(barriers)
    unavailable = answers.get(rules.availability_item) if rules.availability_item else None
    language = person.language
    answered_language = answers.get("interpreter_language")
    if isinstance(answered_language, str) and answered_language:
        language = answered_language
    return PersonNeeds(
        unavailable=availability_windows(
            unavailable if isinstance(unavailable, list) else None, rules.windows
        ),
        needs_interpreter=person.needs_interpreter or "language" in barrier_set,
        language=language,
        lacks_documents="no-id-documents" in barrier_set,
        share_consent="share-with-services" in set(consents),
        share_refused=_share_refused(session, person),
    )


def _share_refused(session: Session, person: Person) -> str | None:
    """Their last answer on sharing with services when it was a no ("declined", "withdrawn")."""
    last = people_repo.current_consents(session, person.id).get("share-with-services")
    return last.status if last is not None and last.status != "given" else None


def area_keys(person: Person | PersonRecord) -> list[str]:
    return [k for k in (validation.postcode_district(person.postcode), person.office) if k]


def match_services(
    session: Session, pathway_id: str, person: Person, needs: PersonNeeds, now_local: datetime
) -> tuple[ServiceMatch, ...]:
    rows = dir_repo.find(session, pathways=[pathway_id], areas=area_keys(person))
    out = []
    for row in rows:
        service = from_json(json.loads(row.data))
        out.append(
            ServiceMatch(
                service,
                tuple(conflicts(service, needs)),
                is_open(service.hours, now_local, open_on_bank_holidays=service.bank_holidays_open),
            )
        )
    # Local before national, fewer conflicts first.
    out.sort(key=lambda m: ("*" in m.service.areas, len(m.conflicts), m.service.name))
    return tuple(out)


def services_now(
    store: Store, crn: str, pathway_id: str, rules: RuleSet
) -> tuple[ServiceMatch, ...]:
    """The services for one pathway with their conflicts as they are now: consent recorded
    (or declined) since the suggestions were worked out counts, so a warning shown at a
    service choice is true when it is shown."""
    now_local = clock.to_london(clock.now())
    with store.read() as session:
        person = require_person(session, crn)
        row = scr_repo.latest_completed(session, person.id)
        stored = (
            scr_repo.answers(session, row.id, include_hidden=False)
            if row is not None and row.id is not None
            else {}
        )
        answers = {k: v for k, (v, declined) in stored.items() if not declined}
        barriers, _, _, consents = _current(session, person)
        needs = person_needs(session, person, answers, barriers, consents, rules)
        return match_services(session, pathway_id, person, needs, now_local)


# The question that says whether the person has a GP, and the answers that mean they have none.
GP_ITEM = "gp_registered"
NO_GP_ANSWERS = frozenset({"no", "not sure"})
NO_GP_ROUTE = (
    "They have no GP, so this cannot go through one. Register them with a GP first "
    "(gp-registration), or use the service's self-referral or NHS 111."
)


def no_gp_route(pathway: Pathway) -> str:
    """What to do for a pathway routed through the GP when the person has no GP."""
    return pathway.without_gp or NO_GP_ROUTE


def lacks_gp(answers: Mapping[str, Any], completed: Mapping[str, date], row: Screening) -> bool:
    """The screening says they have no GP (or are not sure), and no GP registration has been
    completed as achieved since."""
    if answers.get(GP_ITEM) not in NO_GP_ANSWERS:
        return False
    registered = completed.get("gp-registration")
    screened = clock.to_london(row.completed_at).date() if row.completed_at else None
    return registered is None or (screened is not None and registered < screened)


def has_no_gp(session: Session, person: Person) -> bool:
    """``lacks_gp`` for the person's latest completed screening (False with none: unknown)."""
    row = scr_repo.latest_completed(session, person.id)
    if row is None or row.id is None:
        return False
    stored = scr_repo.answers(session, row.id, include_hidden=False).get(GP_ITEM)
    if stored is None or stored[1]:
        return False
    return lacks_gp({GP_ITEM: stored[0]}, ref_repo.completed_achieved(session, person.id), row)


def _current(
    session: Session, person: Person
) -> tuple[list[str], list[str], dict[str, tuple[int, str]], list[str]]:
    barriers = list(needs_repo.open_barriers(session, person.id))
    needs = list(needs_repo.open_needs(session, person.id))
    open_refs = {r.pathway_id: (r.id or 0, r.status) for r in ref_repo.open_for(session, person.id)}
    for pathway_id in adjustments_in_place(person.communication_needs):
        open_refs.setdefault(pathway_id, (0, ADJUSTMENT_RECORDED))  # easy read: in place
    consents = [
        p
        for p, c in people_repo.current_consents(session, person.id).items()
        if c.status == "given"
    ]
    return barriers, needs, open_refs, consents


def _stored_facts(
    session: Session, person: Person, row: Screening, today: date
) -> tuple[engine.Facts, Questionnaire, dict[str, Any]]:
    assert row.id is not None
    q = definitions.stored_questionnaire(session, row.questionnaire_id, row.questionnaire_version)
    barriers, needs, open_refs, consents = _current(session, person)
    rows = PersonRows(
        person.id,
        person.crn,
        person.dob,
        person.sex,
        person.release_date,
        person.postcode,
        person.office,
        row.id,
        row.questionnaire_id,
        row.questionnaire_version,
        nation=person.nation,
        stage=person.stage,
    )
    rows.answers = scr_repo.answers(session, row.id, include_hidden=False)
    rows.scores = {s.scale_id: (s.value, s.band) for s in scr_repo.scores(session, row.id)}
    rows.flags = {f.flag_id: f.severity for f in scr_repo.flags(session, row.id)}
    rows.barriers, rows.needs, rows.open_referrals = set(barriers), set(needs), set(open_refs)
    rows.consents = dict.fromkeys(consents, "given")
    rows.completed = ref_repo.completed_achieved(session, person.id)
    facts = facts_from_rows(rows, q, today)
    return facts, q, dict(facts.answers)


def suggest_for(store: Store, crn: str, rules: RuleSet) -> SuggestReport:
    today = clock.today()
    now_local = clock.to_london(clock.now())
    with store.write() as session:
        person = require_person(session, crn)
        row = scr_repo.latest_completed(session, person.id)
        if row is None:
            raise NotFound(
                f"{person.crn} has no completed screening yet.",
                remedy=Remedy.of("screen", crn=person.crn),
            )
        facts, q, answers = _stored_facts(session, person, row, today)
        barriers, _, open_refs, consents = _current(session, person)
        needs = person_needs(session, person, answers, barriers, consents, rules)
        outcome = engine.evaluate(rules, facts, today, label_for(q))
        said_no = ref_repo.declined(session, person.id)
        without_gp = lacks_gp(facts.answers, facts.completed, row)

        def build(s: engine.Suggestion) -> PathwaySuggestion:
            p = s.pathway
            services = (
                () if p.adjustment else match_services(session, p.id, person, needs, now_local)
            )
            return PathwaySuggestion(
                p.id,
                p.name,
                s.urgency,
                s.reasons,
                p.for_person,
                p.for_staff,
                p.shares_information,
                p.self_referral,
                p.adjustment,
                services,
                open_refs.get(p.id),
                said_no.get(p.id),
                s.completed_on,
                s.suggest_again_from,
                no_gp_route(p) if without_gp and p.shares_with == "gp" else None,
            )

        report = SuggestReport(
            person=to_record(person, people_repo.current_consents(session, person.id)),
            screening_id=row.id,
            screening_completed_at=row.completed_at,
            rules=f"{rules.id} v{rules.version}",
            suggestions=tuple(build(s) for s in outcome.suggestions),
            already_open=tuple(build(s) for s in outcome.already_open),
            person_needs=needs,
            could_apply=outcome.could_apply,
            recently_completed=tuple(build(s) for s in outcome.recently_completed),
        )
        audit.append(
            session,
            actor=store.actor,
            action="suggest.view",
            entity="person",
            entity_id=person.id,
            detail={
                "suggestions": len(report.suggestions),
                "already_open": len(report.already_open),
                "recently_completed": len(report.recently_completed),
            },
        )
    return report


def at_completion(
    evaluation: Evaluation, rules: RuleSet, facts: engine.Facts, today: date
) -> engine.Outcome:
    """What the rules suggest for a screening just completed, from its facts
    (``facts_from_evaluation``): the one builder behind a real screening's snapshot and the
    demo generator's, so they cannot drift apart."""
    return engine.evaluate(rules, facts, today, label_for(evaluation.questionnaire))


def snapshot(
    session: Session,
    person: Person,
    row: Screening,
    evaluation: Evaluation,
    rules: RuleSet,
    today: date,
) -> list[engine.Suggestion]:
    """Record what the rules suggest at completion (the export's ``suggestions`` table)."""
    assert row.id is not None
    barriers, needs, open_refs, consents = _current(session, person)
    facts = facts_from_evaluation(
        evaluation,
        dob=person.dob,
        sex=person.sex,
        release_date=person.release_date,
        barriers=barriers,
        needs=needs,
        open_referrals=open_refs,
        consents=consents,
        today=today,
        nation=person.nation,
        stage=person.stage,
        completed=ref_repo.completed_achieved(session, person.id),
    )
    outcome = at_completion(evaluation, rules, facts, today)
    now = clock.now()
    rows = [
        SuggestionRow(
            person_id=person.id,
            screening_id=row.id,
            pathway_id=s.pathway.id,
            urgency=s.urgency,
            reasons=json.dumps(
                [{"rule": r.rule, "because": r.because, "evidence": r.evidence} for r in s.reasons],
                ensure_ascii=False,
            ),
            already_open=open_flag,
            rules_id=rules.id,
            rules_version=rules.version,
            rules_hash=rules.content_hash,
            created_at=now,
        )
        for open_flag, group in ((False, outcome.suggestions), (True, outcome.already_open))
        for s in group
    ]
    suggestions_repo.replace_suggestions(session, screening_id=row.id, rows=rows)
    return list(outcome.suggestions)


def drop_snapshot(session: Session, screening_id: int) -> None:
    """A voided screening's suggestions no longer count (reports read the snapshot)."""
    suggestions_repo.drop_for_screening(session, screening_id)


# ---------------------------------------------------------------- everyone --------------
@dataclass(frozen=True)
class BatchSummary:
    people: int
    with_suggestions: int
    by_pathway: dict[str, Counter[str]]
    already_open: Counter[str]
    emergency_people: int  # an emergency flag or an emergency pathway, referred or not
    emergency_not_referred: int = 0  # of those, an emergency pathway with no referral open

    @property
    def pathways(self) -> list[str]:
        """Every pathway in either column (suggested, or already open), most suggested first:
        a pathway whose referrals are all open is a row too."""
        names = set(self.by_pathway) | set(self.already_open)
        return sorted(
            names,
            key=lambda p: (
                -sum(self.by_pathway.get(p, Counter()).values()),
                -self.already_open.get(p, 0),
                p,
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "with_suggestions": self.with_suggestions,
            "emergency_people": self.emergency_people,
            "emergency_not_referred": self.emergency_not_referred,
            "pathways": {p: dict(c) for p, c in sorted(self.by_pathway.items())},
            "already_open": dict(self.already_open),
        }


def suggest_all(
    store: Store,
    rules: RuleSet,
    *,
    office: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Every person with a completed screening, rules compiled once, rows streamed."""
    today = clock.today()
    questionnaires: dict[tuple[str, int], Questionnaire | None] = {}
    by_pathway: dict[str, Counter[str]] = {}
    already: Counter[str] = Counter()
    people = with_any = emergency = emergency_unmet = 0
    with store.raw() as conn:
        total = count_people(conn, office)
        with store.read() as session:
            for rows in latest_screenings(conn, office):
                key = (rows.questionnaire_id, rows.questionnaire_version)
                if key not in questionnaires:
                    try:
                        questionnaires[key] = definitions.stored_questionnaire(session, *key)
                    except Exception:
                        questionnaires[key] = None
                facts = facts_from_rows(rows, questionnaires[key], today)
                outcome = engine.evaluate(rules, facts, today, explain=False)
                people += 1
                if outcome.suggestions:
                    with_any += 1
                # An emergency counts whether or not a referral is already open (the crisis
                # referral made at the flag moves the pathway to already_open).
                unmet = any(s.urgency == "emergency" for s in outcome.suggestions)
                if (
                    unmet
                    or "emergency" in facts.flag_severities
                    or any(s.urgency == "emergency" for s in outcome.already_open)
                ):
                    emergency += 1
                    emergency_unmet += unmet
                for s in outcome.suggestions:
                    by_pathway.setdefault(s.pathway.id, Counter())[s.urgency] += 1
                for s in outcome.already_open:
                    already[s.pathway.id] += 1
                if progress is not None:
                    progress(people, total)
    with store.write() as session:
        audit.append(
            session,
            actor=store.actor,
            action="suggest.batch",
            entity="person",
            detail={"people": people, "office_filter": bool(office)},
        )
    return BatchSummary(people, with_any, by_pathway, already, emergency, emergency_unmet)


def urgency_rank(urgency: str) -> int:
    return URGENCY_ORDER.get(urgency, 9)
