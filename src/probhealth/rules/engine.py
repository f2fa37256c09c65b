"""Evaluating a rule set for one person: which pathways to suggest, how urgently, and why.

Input is a :class:`Facts` snapshot (built from a finished screening and the person's current
barriers, needs, consent and open referrals); output is a list of :class:`Suggestion`, most
urgent first. Every reason names the rule and renders its ``because`` text with the evidence
(answers shown by their labels). A pathway that already has an open referral is returned in
``already_open`` instead of being suggested again.

A pathway the person completed as achieved (``Facts.completed``) carries that date; one with a
``resuggest_after_days`` is held back until that many days after it (``recently_completed``),
unless a rule fires at emergency or same-day urgency: a safety route is never held back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from probhealth import clock, expr
from probhealth.rules.model import URGENCY_ORDER, Pathway, Rule, RuleSet


@dataclass(frozen=True)
class Facts:
    answers: Mapping[str, Any] = field(default_factory=dict)
    scores: Mapping[str, Any] = field(default_factory=dict)  # int, or expr.Range if partial
    bands: Mapping[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    flag_severities: frozenset[str] = frozenset()
    person: Mapping[str, Any] = field(default_factory=dict)  # age, sex, days_since_release
    barriers: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    open_referrals: frozenset[str] = frozenset()
    consents: frozenset[str] = frozenset()  # purposes with consent currently given
    uncertain_flags: frozenset[str] = frozenset()  # flags the answers could meet, unproven
    # pathway id -> the day a referral to it was last completed as achieved
    completed: Mapping[str, date] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    rule: str
    because: str
    urgency: str
    evidence: str = ""  # coarse facts only (``evidence``): what pseudonymised exports carry


@dataclass(frozen=True)
class Suggestion:
    pathway: Pathway
    urgency: str
    reasons: tuple[Reason, ...]
    completed_on: date | None = None  # last completed as achieved

    @property
    def suggest_again_from(self) -> date | None:
        """The first day it is suggested again after being completed (None: straight away)."""
        days = self.pathway.resuggest_after_days
        if self.completed_on is None or days is None:
            return None
        return self.completed_on + timedelta(days=days)


def could_apply_advice(why: Iterable[str]) -> str:
    """What the worker is told about something the answers could meet but do not prove (a
    rule here, a flag in a screening): why, then to ask again or use their judgement."""
    return "; ".join(why) + ": ask again or use your judgement"


@dataclass(frozen=True)
class CouldApply:
    """A rule the answers could meet but do not prove (a partly answered scale, or a flag
    that could apply): shown to the worker, never silently dropped."""

    pathway: Pathway
    rule: str
    urgency: str
    why: tuple[str, ...]

    @property
    def advice(self) -> str:
        return could_apply_advice(self.why)

    def to_json(self) -> dict[str, Any]:
        return {
            "pathway": self.pathway.id,
            "name": self.pathway.name,
            "rule": self.rule,
            "urgency": self.urgency,
            "why": list(self.why),
            "advice": self.advice,
        }


@dataclass(frozen=True)
class Outcome:
    suggestions: tuple[Suggestion, ...]
    already_open: tuple[Suggestion, ...]
    could_apply: tuple[CouldApply, ...] = ()
    recently_completed: tuple[Suggestion, ...] = ()  # held back: completed not long ago


def _env(facts: Facts, today: date) -> expr.Env:
    person = {k: (v if v is not None else expr.MISSING) for k, v in facts.person.items()}
    return expr.Env(
        roots={
            "answers": facts.answers,
            "scores": facts.scores,
            "bands": facts.bands,
            "flags": {
                **dict.fromkeys(facts.uncertain_flags, expr.UNKNOWN),
                **dict.fromkeys(facts.flags, True),
            },
            "person": person,
        },
        collections={
            "barriers": facts.barriers,
            "needs": facts.needs,
            "flag_severities": facts.flag_severities,
        },
        calls={
            "referrals.open": lambda pathway: pathway in facts.open_referrals,
            "consented": lambda purpose: purpose in facts.consents,
        },
        today=today,
    )


def _release(days: int) -> str:
    if days < 0:
        return "release: not yet"
    if days <= 28:
        return "release: within 4 weeks"
    return "release: within a year" if days <= 365 else "release: over a year ago"


def evidence(rule: Rule, facts: Facts) -> str:
    """The evidence a fired rule rests on, as coarse facts ("phq9: moderately severe; flag:
    self_harm_thoughts; age: 45-54"): each score by its band, each raised flag, each answer
    by its item only, the age band, the release in weeks. Never a value that identifies a
    person, never free text: pseudonymised exports carry this instead of ``because`` (issue
    14 item 8). A guard on the condition that is not met (``not flags.x``) adds nothing."""
    parts: dict[str, None] = {}
    for root, name in sorted({*rule.when.names, *rule.because.names}):
        part: str | None = None
        if root in ("scores", "bands"):
            band = facts.bands.get(name)
            if band:
                part = f"{name}: {band}"
            elif isinstance(facts.scores.get(name), int):
                part = f"{name}: scored"
        elif root == "flags":
            part = f"flag: {name}" if name in facts.flags else None
        elif root == "answers":
            part = f"answer: {name}" if name in facts.answers else None
        elif root == "person":
            value = facts.person.get(name)
            if name == "age" and isinstance(value, int):
                part = f"age: {clock.age_band(value)}"
            elif name == "days_since_release" and isinstance(value, int):
                part = _release(value)
            elif name == "stage" and isinstance(value, str) and value:
                part = f"stage: {value}"
        if part is not None:
            parts[part] = None
    for name in sorted(rule.when.collections):
        if name in ("barriers", "needs"):
            parts[f"{name}: {len(getattr(facts, name))}"] = None
        elif name == "flag_severities" and not parts:
            parts.update((f"flag severity: {s}", None) for s in sorted(facts.flag_severities))
    return "; ".join(parts)


def evaluate(
    rules: RuleSet,
    facts: Facts,
    today: date,
    label: Callable[[str, Any], str] | None = None,
    *,
    explain: bool = True,
) -> Outcome:
    """Run every rule; group fired rules by pathway, keeping the most urgent.

    ``explain=False`` skips rendering the ``because`` texts (batch counts over a caseload)."""
    env = _env(facts, today)

    def lookup(root: str, name: str) -> str:
        value = env.get(root, name) if root != "flags" else (name in facts.flags)
        if expr.is_absent(value):
            return "not answered" if value is expr.MISSING else "prefer not to say"
        if root == "answers" and label is not None:
            return label(name, value)
        return str(value)

    fired: dict[str, list[Reason]] = {}
    unsure: list[tuple[Any, tuple[str, ...]]] = []
    for rule in rules.rules:
        env.notes = []
        truth = rule.when.truth(env)
        if truth is True:
            fired.setdefault(rule.pathway, []).append(
                Reason(
                    rule.id,
                    rule.because.render(lookup) if explain else "",
                    rule.urgency,
                    evidence(rule, facts) if explain else "",
                )
            )
        elif truth is expr.UNKNOWN:
            unsure.append((rule, _why(facts, env.notes, rule.when)))
    could: dict[str, CouldApply] = {}
    for rule, why in unsure:
        if rule.pathway in fired or rule.pathway in facts.open_referrals:
            continue
        pathway = rules.pathway(rule.pathway)
        assert pathway is not None
        known = could.get(rule.pathway)
        if known is None or URGENCY_ORDER[rule.urgency] < URGENCY_ORDER[known.urgency]:
            could[rule.pathway] = CouldApply(pathway, rule.id, rule.urgency, why)
    suggestions: list[Suggestion] = []
    already: list[Suggestion] = []
    held: list[Suggestion] = []
    for pathway_id, reasons in fired.items():
        pathway = rules.pathway(pathway_id)
        assert pathway is not None
        reasons.sort(key=lambda r: URGENCY_ORDER[r.urgency])
        urgency = reasons[0].urgency
        suggestion = Suggestion(pathway, urgency, tuple(reasons), facts.completed.get(pathway_id))
        again = suggestion.suggest_again_from
        if pathway_id in facts.open_referrals:
            already.append(suggestion)
        elif again is not None and today < again and urgency not in SAFETY_URGENCIES:
            held.append(suggestion)
        else:
            suggestions.append(suggestion)
    key = lambda s: (URGENCY_ORDER[s.urgency], s.pathway.name)  # noqa: E731
    return Outcome(
        tuple(sorted(suggestions, key=key)),
        tuple(sorted(already, key=key)),
        tuple(sorted(could.values(), key=key)),
        tuple(sorted(held, key=key)),
    )


SAFETY_URGENCIES = frozenset({"emergency", "same-day"})  # never held back after completion


def _why(
    facts: Facts, notes: list[tuple[str, str, str, Any]], when: expr.Compiled
) -> tuple[str, ...]:
    out: list[str] = []
    for root, name, op, literal in notes:
        value = facts.scores.get(name) if root == "scores" else None
        if isinstance(value, expr.Range) and op in (">=", ">"):
            least = literal if op == ">=" else literal + 1
            text = f"{name} partly answered ({value.lo} to {value.hi} so far): could be {least} or more"
        elif isinstance(value, expr.Range):
            text = f"{name} partly answered ({value.lo} to {value.hi} so far)"
        else:
            text = f"{root}.{name} is not known"
        if text not in out:
            out.append(text)
    for root, name in sorted(when.names):
        if root == "flags" and name in facts.uncertain_flags:
            text = f"flag {name} could apply"
            if text not in out:
                out.append(text)
    return tuple(out) or ("partly answered",)
