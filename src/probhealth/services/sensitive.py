"""What exists only because of a sensitive answer (issue 12, hazard H23).

An item marked ``sensitive: true`` in the questionnaire (DAST-10 item 8, domestic abuse) is
kept out of identifiable exports and letters. So is what it caused, or the disclosure could be
inferred from it: a pathway marked ``sensitive: true`` in the rules (``domestic-abuse-support``),
a flag raised only by the sensitive answer (``safeguarding`` from a domestic abuse yes, not from
a worker's concern), the need that flag records, and a suggestion or referral whose reasons
exist only because of it (``safeguarding-referral`` raised by domestic abuse).

"Only because of" is decided by the engines themselves: the screening is evaluated with its
answers and again without the sensitive ones, and what is raised, recorded or fired the first
time but not the second is sensitive. Rules are run in the same context both times (the
screening's own needs and barriers, no open referral, every consent given), so the difference
is the sensitive answers' alone. Scores are not sensitive (a DAST-10 score stays): a sensitive
item of a scale is kept for the second run unless a flag, need or rule reads it directly.

Pseudonymised exports keep everything: they carry no name to infer it about.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from probhealth import clock, expr, validation
from probhealth.rules.model import RuleSet

if TYPE_CHECKING:
    from probhealth.questionnaire.model import Questionnaire


@dataclass(frozen=True)
class Disclosure:
    """What one screening holds only because of its sensitive answers."""

    flags: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()  # need domains (recorded, or at another severity)
    rules: frozenset[str] = frozenset()  # rules that fired

    def __bool__(self) -> bool:
        return bool(self.flags or self.needs or self.rules)


@dataclass(frozen=True)
class Withheld:
    """Rows and cells an identifiable export leaves out."""

    suggestions: frozenset[int] = frozenset()
    strip: Mapping[int, frozenset[str]] = field(default_factory=dict)  # suggestion -> rules
    referrals: frozenset[int] = frozenset()
    needs: frozenset[int] = frozenset()
    flags: Mapping[int, frozenset[str]] = field(default_factory=dict)  # screening -> flags

    def __bool__(self) -> bool:
        return bool(self.suggestions or self.strip or self.referrals or self.needs or self.flags)


def sensitive_items(versions: Iterable[Questionnaire]) -> frozenset[str]:
    """Items marked ``sensitive: true`` in any of the versions (a later version's marking
    covers screenings of earlier versions too)."""
    return frozenset(i.id for v in versions for i in v.items if i.sensitive)


def sensitive_pathways(rules: RuleSet) -> frozenset[str]:
    return frozenset(p.id for p in rules.pathways if p.sensitive)


def _reads(names: Iterable[tuple[str, str]], root: str, wanted: Iterable[str]) -> bool:
    wanted = set(wanted)
    return any(r == root and a in wanted for r, a in names)


def disclosure(
    q: Questionnaire,
    rules: RuleSet,
    answers: dict[str, Any],
    *,
    hidden: frozenset[str],
    dob: date,
    sex: str,
    release_date: date | None,
    nation: str | None,
    stage: str | None,
    today: date,
) -> Disclosure:
    """Compare the screening with and without its sensitive answers (``hidden``)."""
    hidden = _unscored(q, rules, hidden)
    if not any(k in hidden and not expr.is_absent(v) for k, v in answers.items()):
        return Disclosure()  # nothing sensitive was disclosed
    from probhealth.questionnaire.engine import PersonFacts, evaluate
    from probhealth.rules import engine
    from probhealth.services.suggest import facts_from_evaluation

    person = PersonFacts(
        age=clock.age_on(dob, today),
        sex=sex,
        release_date=release_date,
        nation=nation,
        stage=stage,
    )
    runs = []
    for given in (dict(answers), {k: v for k, v in answers.items() if k not in hidden}):
        ev = evaluate(q, given, person, today)
        facts = facts_from_evaluation(
            ev,
            dob=dob,
            sex=sex,
            release_date=release_date,
            barriers=ev.barriers,
            needs=[n.domain for n in ev.needs],
            open_referrals=(),
            consents=validation.CONSENT_PURPOSES,
            today=today,
            nation=nation,
            stage=stage,
        )
        out = engine.evaluate(rules, facts, today, explain=False)
        fired = {r.rule for s in (*out.suggestions, *out.already_open) for r in s.reasons}
        runs.append(({f.id for f in ev.flags}, {n.domain: n.severity for n in ev.needs}, fired))
    (flags, needs, fired), (flags0, needs0, fired0) = runs
    return Disclosure(
        flags=frozenset(flags - flags0),
        needs=frozenset(d for d, s in needs.items() if needs0.get(d) != s),
        rules=frozenset(fired - fired0),
    )


def _unscored(q: Questionnaire, rules: RuleSet, hidden: frozenset[str]) -> frozenset[str]:
    """The sensitive items to leave out of the second run: a scale's item (DAST-10 item 8)
    only reaches flags and rules through the score, which is not sensitive, unless a flag,
    need or rule reads the item itself."""
    scored = {i for s in q.scales for i in s.items}
    read = {
        a
        for w in (
            *(f.when for f in q.flags),
            *(n.when for n in q.needs),
            *(r.when for r in rules.rules),
        )
        for root, a in w.names
        if root == "answers"
    }
    return frozenset(i for i in hidden if i not in scored or i in read)


def row_is_sensitive(
    pathway: str, reasons: str | None, found: Disclosure | None, pathways: frozenset[str]
) -> tuple[bool, frozenset[str]]:
    """(leave the row out, rules whose reasons to leave out of a row kept)."""
    if pathway in pathways:
        return True, frozenset()
    if not found or not found.rules:
        return False, frozenset()
    rules = [r.get("rule", "") for r in json.loads(reasons or "[]")]
    hit = frozenset(r for r in rules if r in found.rules)
    if rules and len(hit) == len(set(rules)):
        return True, frozenset()
    return False, hit


def _day(value: Any) -> date:
    """A screening's completion (or start) as a London day."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace(" ", "T")[:19])
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
        return clock.to_london(aware).date()
    if isinstance(value, date):
        return value
    return clock.today()


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def withheld(
    conn: Any, versions: Mapping[tuple[str, int], Questionnaire], rules: RuleSet
) -> Withheld:
    """Everything an identifiable export of this database leaves out as sensitive."""
    from probhealth.questionnaire import answers as parsing
    from probhealth.store import export as q

    hidden = sensitive_items(versions.values())
    pathways = sensitive_pathways(rules)
    if not hidden and not pathways:
        return Withheld()
    flag_ids = frozenset(
        f.id for v in versions.values() for f in v.flags if _reads(f.when.names, "answers", hidden)
    )
    need_domains = frozenset(
        n.domain
        for v in versions.values()
        for n in v.needs
        if _reads(n.when.names, "answers", hidden) or _reads(n.when.names, "flags", flag_ids)
    )
    rule_ids = frozenset(r.id for r in rules.rules if _reads(r.when.names, "answers", hidden))
    found = q.sensitive_candidates(conn, flag_ids, need_domains, rule_ids, pathways)
    given: dict[int, dict[str, Any]] = {}
    for sid, item_id, value, declined in found.answers:
        given.setdefault(sid, {})[item_id] = (
            None if value is None else json.loads(value),
            declined,
        )
    by_screening: dict[int, Disclosure] = {}
    for sid, qid, ver, started, completed, dob, sex, release, nation, stage in found.screenings:
        v = versions.get((qid, ver))
        if v is None or dob is None:
            continue
        answers = {
            k: expr.DECLINED if declined else parsing.from_storage(v.item(k), value)
            for k, (value, declined) in given.get(sid, {}).items()
            if v.has_item(k)
        }
        by_screening[sid] = disclosure(
            v,
            rules,
            answers,
            hidden=hidden,
            dob=_as_date(dob) or date(1900, 1, 1),
            sex=sex,
            release_date=_as_date(release),
            nation=nation,
            stage=stage,
            today=_day(completed or started),
        )
    suggestions: set[int] = set()
    strip: dict[int, frozenset[str]] = {}
    for gid, sid, pathway, reasons in found.suggestions:
        out, hit = row_is_sensitive(pathway, reasons, by_screening.get(sid), pathways)
        if out:
            suggestions.add(gid)
        elif hit:
            strip[gid] = hit
    referrals = {
        rid
        for rid, sid, pathway, reasons in found.referrals
        if row_is_sensitive(pathway, reasons, by_screening.get(sid), pathways)[0]
    }
    needs = {
        nid
        for nid, sid, domain in found.needs
        if sid in by_screening and domain in by_screening[sid].needs
    }
    flags = {sid: d.flags for sid, d in by_screening.items() if d.flags}
    return Withheld(frozenset(suggestions), strip, frozenset(referrals), frozenset(needs), flags)


def referral_is_sensitive(session: Any, referral: Any, rules: RuleSet, q: Any) -> bool:
    """Whether a referral exists only because of a sensitive answer: its pathway is marked
    sensitive, or every reason it was suggested for fired only because of one (a letter then
    names neither the pathway nor the reasons)."""
    pathways = sensitive_pathways(rules)
    if referral.pathway_id in pathways:
        return True
    if referral.screening_id is None or q is None:
        return False
    from probhealth.questionnaire import answers as parsing
    from probhealth.store import people as people_repo
    from probhealth.store import screenings as screening_repo

    screening = screening_repo.screening(session, referral.screening_id)
    person = people_repo.by_id(session, referral.person_id)
    if screening is None or person is None:
        return False
    stored = screening_repo.answers(session, referral.screening_id)
    answers = {
        k: expr.DECLINED if declined else parsing.from_storage(q.item(k), value)
        for k, (value, declined) in stored.items()
        if q.has_item(k)
    }
    found = disclosure(
        q,
        rules,
        answers,
        hidden=sensitive_items([q]),
        dob=person.dob,
        sex=person.sex,
        release_date=person.release_date,
        nation=person.nation,
        stage=person.stage,
        today=_day(screening.completed_at or screening.started_at),
    )
    return row_is_sensitive(referral.pathway_id, referral.reasons, found, pathways)[0]
