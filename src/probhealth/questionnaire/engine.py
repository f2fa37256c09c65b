"""Running a questionnaire over a set of answers: what is shown, what it scores, what it flags.

``evaluate`` makes one pass over the items in order. An item is shown when its ``show_if`` is
true given the answers and scores *before* it (the loader guarantees it can only look back),
so the result does not depend on the order answers were given, and going back to change an
answer re-decides everything after it. Answers to items that are no longer shown are kept by
the caller but ignored here (``ignored``), and an item skipped by ``show_if`` that declares a
``hidden_value`` counts as that value (the AUDIT rule: someone who never drinks scores 0 on
the quantity and frequency items without being asked them).

A scale is scored only when every one of its items has an answer, never silently prorated.
A scale with a declined item is *incomplete*: it carries its known minimum (the answered
items) and maximum (plus the highest score of each missing item), and conditions see it as an
``expr.Range``, so a threshold the answered items already reach is met. A scale the skip logic
never reached (nothing declined) is *not-asked*.

Flags, needs and barriers are read from every answer given, asked or not (an answers file
from a paper form may answer a question the skip logic would not ask): a disclosed risk is
never dropped. A flag whose condition the answers can neither prove nor rule out is returned
in ``uncertain`` with what is missing, for the worker to ask again or use their judgement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from probhealth import expr
from probhealth.questionnaire.model import FlagDef, Item, Questionnaire, Scale
from probhealth.taxonomy import SEVERITY_ORDER


@dataclass(frozen=True)
class PersonFacts:
    """What conditions may know about the person (``person.age`` etc.)."""

    age: int | None = None
    sex: str | None = None
    release_date: date | None = None
    nation: str | None = None  # england | wales (issue 12)
    stage: str | None = None  # pre-sentence, community-order, ...


@dataclass(frozen=True)
class ScaleResult:
    id: str
    value: int | None
    band: str | None
    missing: tuple[str, ...]
    lo: int = 0  # known minimum (= value when complete)
    hi: int = 0  # known maximum
    status: str = "complete"  # complete | incomplete (an item declined) | not-asked

    @property
    def complete(self) -> bool:
        return self.value is not None

    def condition_value(self) -> Any:
        """What a condition sees: the score, a Range when incomplete, else MISSING."""
        if self.value is not None:
            return self.value
        if self.status == "incomplete":
            return expr.Range(self.lo, self.hi)
        return expr.MISSING


@dataclass(frozen=True)
class Uncertain:
    """A flag the answers given could meet but do not prove: ``why`` names what is missing."""

    flag: FlagDef
    why: tuple[str, ...]


@dataclass(frozen=True)
class NeedResult:
    domain: str
    severity: str
    note: str | None


@dataclass(frozen=True)
class Progress:
    section_title: str
    position: int  # 1-based within the section's shown items
    count: int
    overall_answered: int
    overall_shown: int  # items shown so far; answers can add follow-ups, so "about"
    overall_position: int = 0  # 1-based within the whole screening's shown items


@dataclass(frozen=True)
class Evaluation:
    questionnaire: Questionnaire
    visible: tuple[str, ...]
    answers: dict[str, Any]  # shown items with an answer (values, or expr.DECLINED)
    implied: dict[str, Any]  # skipped items counted as their hidden_value
    ignored: tuple[str, ...]  # answered, but no longer shown
    scores: dict[str, ScaleResult]
    flags: tuple[FlagDef, ...]
    needs: tuple[NeedResult, ...]
    barriers: tuple[str, ...]
    uncertain: tuple[Uncertain, ...] = ()

    @property
    def complete(self) -> bool:
        return self.next_item() is None

    def next_item(self) -> Item | None:
        for item_id in self.visible:
            if item_id not in self.answers:
                return self.questionnaire.item(item_id)
        return None

    def previous_item(self, item_id: str | None) -> Item | None:
        """The shown item before ``item_id`` (or the last shown one when None)."""
        if item_id is None:
            return self.questionnaire.item(self.visible[-1]) if self.visible else None
        if item_id not in self.visible:
            earlier = [
                v
                for v in self.visible
                if self.questionnaire.item(v).index < self.questionnaire.item(item_id).index
            ]
            return self.questionnaire.item(earlier[-1]) if earlier else None
        pos = self.visible.index(item_id)
        return self.questionnaire.item(self.visible[pos - 1]) if pos > 0 else None

    def progress(self, item_id: str) -> Progress:
        item = self.questionnaire.item(item_id)
        section = self.questionnaire.section(item.section_id)
        shown = [i for i in self.visible if self.questionnaire.item(i).section_id == section.id]
        position = shown.index(item_id) + 1 if item_id in shown else len(shown) + 1
        overall = (
            self.visible.index(item_id) + 1 if item_id in self.visible else len(self.visible) + 1
        )
        return Progress(
            section.title,
            position,
            max(len(shown), position),
            len(self.answers),
            max(len(self.visible), overall),
            overall,
        )

    def emergency_flags(self) -> tuple[FlagDef, ...]:
        return tuple(f for f in self.flags if f.severity == "emergency")


def days_since_release(answers: dict[str, Any], person: PersonFacts, today: date) -> Any:
    """From the ``release_date`` answer if given, else the person's record (DESIGN.md ids)."""
    given = answers.get("release_date")
    day = given if isinstance(given, date) else person.release_date
    if day is None:
        # A declined release date is not "long ago": read for risk it is unknown.
        return expr.DECLINED if given is expr.DECLINED else expr.MISSING
    return (today - day).days


def item_score(item: Item, value: Any, scale: Scale) -> int | None:
    opt = item.option(value)
    if opt is None or opt.score is None:
        return None
    if item.id in scale.reverse:
        scores = [o.score for o in item.options if o.score is not None]
        return min(scores) + max(scores) - opt.score
    return opt.score


def evaluate(
    q: Questionnaire,
    answers: dict[str, Any],
    person: PersonFacts,
    today: date,
    choose: Callable[[Item, dict[str, Any]], Any] | None = None,
) -> Evaluation:
    """Decide what is shown and compute scores, flags, needs and barriers.

    ``choose`` (synthetic data only) answers each shown item that has no answer yet, in
    order, given the answers so far: a whole plausible screening in one pass."""
    shown_answers: dict[str, Any] = {}
    effective: dict[str, Any] = {}  # what conditions see: shown answers + implied values
    implied: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    bands: dict[str, Any] = {}
    results: dict[str, ScaleResult] = {}
    person_root: dict[str, Any] = {
        "age": person.age if person.age is not None else expr.MISSING,
        "sex": person.sex or expr.MISSING,
        "days_since_release": expr.MISSING,
        "nation": person.nation or expr.MISSING,
        "stage": person.stage or expr.MISSING,
    }
    env = expr.Env(
        {"answers": effective, "scores": scores, "bands": bands, "person": person_root}, today=today
    )
    pending = {s.id: max(q.item(i).index for i in s.items) for s in q.scales}
    by_last: dict[int, list[Scale]] = {}
    for s in q.scales:
        by_last.setdefault(pending[s.id], []).append(s)

    visible: list[str] = []
    for item in q.items:
        person_root["days_since_release"] = days_since_release(effective, person, today)
        shown = item.show_if is None or item.show_if.test(env)
        if shown:
            visible.append(item.id)
            if choose is not None and item.id not in answers:
                answers[item.id] = choose(item, effective)
            if item.id in answers:
                shown_answers[item.id] = answers[item.id]
                effective[item.id] = answers[item.id]
        elif item.hidden_value is not None:
            implied[item.id] = item.hidden_value
            effective[item.id] = item.hidden_value
        for scale in by_last.get(item.index, ()):
            result = _score(q, scale, effective)
            results[scale.id] = result
            if result.value is not None:
                scores[scale.id] = result.value
                bands[scale.id] = result.band
    person_root["days_since_release"] = days_since_release(effective, person, today)

    # Risk is read from every answer given, asked or not (given answers win over implied).
    given = {k: v for k, v in answers.items() if q.has_item(k)}
    risk_answers = {**implied, **given}
    risk = risk_view(q, risk_answers, person_root, today)
    raised, uncertain = risk.raised, risk.uncertain
    env = risk.env
    env.roots = {
        **env.roots,
        "flags": {
            **{u.flag.id: expr.UNKNOWN for u in uncertain},
            **{f.id: True for f in raised},
        },
    }
    needs: dict[str, NeedResult] = {}
    severity_rank = {"low": 0, "moderate": 1, "high": 2}
    for rule in q.needs:
        if rule.when.test(env):
            current = needs.get(rule.domain)
            if current is None or severity_rank[rule.severity] > severity_rank[current.severity]:
                needs[rule.domain] = NeedResult(rule.domain, rule.severity, rule.note)
    barriers = tuple(dict.fromkeys(b.type for b in q.barriers if b.when.test(env)))
    ignored = tuple(i for i in answers if i not in shown_answers and q.has_item(i))
    return Evaluation(
        questionnaire=q,
        visible=tuple(visible),
        answers=shown_answers,
        implied=implied,
        ignored=ignored,
        scores=results,
        flags=tuple(raised),
        needs=tuple(needs.values()),
        barriers=barriers,
        uncertain=uncertain,
    )


@dataclass
class RiskView:
    env: expr.Env
    scores: dict[str, ScaleResult]
    raised: tuple[FlagDef, ...]
    uncertain: tuple[Uncertain, ...]


def risk_view(
    q: Questionnaire, answers: dict[str, Any], person_root: dict[str, Any], today: date
) -> RiskView:
    """Flags from ``answers`` (every answer given, asked or not): scales scored with ranges,
    declined answers compared as unknown. Raised flags are sorted by severity."""
    results = {s.id: _score(q, s, answers) for s in q.scales}
    scores = {k: v for k, r in results.items() if not expr.is_absent(v := r.condition_value())}
    bands = {k: r.band for k, r in results.items() if r.band is not None}
    env = expr.Env(
        {"answers": answers, "scores": scores, "bands": bands, "person": dict(person_root)},
        today=today,
        kleene=True,
    )
    raised: list[FlagDef] = []
    uncertain: list[Uncertain] = []
    for f in q.flags:
        env.notes = []
        truth = f.when.truth(env)
        if truth is True:
            raised.append(f)
        elif truth is expr.UNKNOWN:
            uncertain.append(Uncertain(f, _explain(q, results, env.notes)))
    raised.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    uncertain.sort(key=lambda u: SEVERITY_ORDER[u.flag.severity])
    return RiskView(env, results, tuple(raised), tuple(uncertain))


def partial_facts(
    q: Questionnaire, answers: dict[str, Any], person_root: dict[str, Any], today: date
) -> tuple[dict[str, expr.Range], frozenset[str]]:
    """For stored answers with something declined: the partly answered scales as ranges,
    and the flags that could apply (for the rules). Nothing declined: nothing to add."""
    if not any(v is expr.DECLINED for v in answers.values()):
        return {}, frozenset()
    root = {k: (expr.MISSING if v is None else v) for k, v in person_root.items()}
    view = risk_view(q, answers, root, today)
    ranges = {k: expr.Range(r.lo, r.hi) for k, r in view.scores.items() if r.status == "incomplete"}
    return ranges, frozenset(u.flag.id for u in view.uncertain)


def _explain(
    q: Questionnaire, results: dict[str, ScaleResult], notes: list[tuple[str, str, str, Any]]
) -> tuple[str, ...]:
    out: list[str] = []
    for root, name, op, literal in notes:
        if root in ("scores", "bands") and name in results and q.has_scale(name):
            r = results[name]
            title = q.scale(name).title
            if op in (">=", ">") and isinstance(literal, (int, float)):
                least = literal if op == ">=" else literal + 1
                text = (
                    f"{title} partly answered ({r.lo} to {r.hi} so far): could be {least} or more"
                )
            else:
                text = f"{title} partly answered ({r.lo} to {r.hi} so far)"
        elif root == "answers" and q.has_item(name):
            text = f"{name} was not answered (prefer not to say)"
        else:
            continue
        if text not in out:
            out.append(text)
    return tuple(out) or ("some answers were not given",)


def _score(q: Questionnaire, scale: Scale, effective: dict[str, Any]) -> ScaleResult:
    total = 0
    hi = 0
    missing: list[str] = []
    declined = False
    for item_id in scale.items:
        item = q.item(item_id)
        value = effective.get(item_id, expr.MISSING)
        score = None if expr.is_absent(value) else item_score(item, value, scale)
        if score is None:
            missing.append(item_id)
            declined = declined or value is expr.DECLINED
            scores = [o.score for o in item.options if o.score is not None]
            hi += max(scores) if scores else 0
            total += min(scores) if scores else 0
        else:
            total += score
            hi += score
    if missing:
        status = "incomplete" if declined else "not-asked"
        return ScaleResult(scale.id, None, None, tuple(missing), total, hi, status)
    return ScaleResult(scale.id, total, scale.band(total), (), total, total, "complete")
