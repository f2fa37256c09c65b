"""The rules file: referral pathways, the rules that suggest them, and the person's availability
windows used to check services' opening hours. Loaded with the same safety as questionnaires
(``yamlfile``), validated by pydantic (unknown keys refused) and every reference checked:
pathway ids, need domains, and every name a rule uses against the questionnaire it is for.

:func:`check_file` reports every problem found (``yamlfile.FileProblems``, one
``FILE:LINE: message`` each); :func:`load_file`, for use, raises one line naming the first
problem, how many more there are, and the command that lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from probhealth import expr, taxonomy, yamlfile
from probhealth.directory.hours import Window, parse_window
from probhealth.errors import FileError
from probhealth.questionnaire.model import Questionnaire, condition_error, content_hash

Urgency = Literal["emergency", "same-day", "soon", "routine"]
URGENCY_ORDER = {"emergency": 0, "same-day": 1, "soon": 2, "routine": 3}
PathwayId = Annotated[
    str,
    yamlfile.text_pattern(
        r"^[a-z][a-z0-9-]{1,49}$",
        "2 to 50 lower-case letters, digits and hyphens, starting with a letter",
    ),
]
RuleId = Annotated[
    str,
    yamlfile.text_pattern(
        r"^[a-z][a-z0-9-]{1,59}$",
        "2 to 60 lower-case letters, digits and hyphens, starting with a letter",
    ),
]
FileId = Annotated[
    str,
    yamlfile.text_pattern(
        r"^[a-z][a-z0-9-]{0,59}$",
        "1 to 60 lower-case letters, digits and hyphens, starting with a letter",
    ),
]
CHECK_KIND = "rules"  # files with problems name the check that lists them all
Plain = Annotated[str, StringConstraints(min_length=1, max_length=600)]

RULE_FUNCTIONS = frozenset({"referrals.open", "consented"})
RULE_COLLECTIONS = frozenset({"barriers", "needs", "flag_severities"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PathwayModel(_Strict):
    id: PathwayId
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    domain: str
    for_person: Plain
    for_staff: Plain
    shares_information: bool
    self_referral: bool
    follow_up_days: int = Field(ge=1, le=365)
    # After a referral to it is completed as achieved, not suggested again for this many days
    # (a screening programme's interval); unset: suggested again whenever a rule fires.
    resuggest_after_days: int | None = Field(default=None, ge=1, le=3650)
    adjustment: bool = False  # a way of working (e.g. easy read), not a service to refer to
    # Whose consent a referral sent by the worker needs: "services" (share-with-services) or
    # "gp" for a pathway routed through the GP (share-with-gp).
    shares_with: Literal["services", "gp"] = "services"
    # For a pathway through the GP: what to do for someone with no GP (the no-GP route).
    without_gp: Plain | None = None
    # Consent purposes any referral to this pathway needs, whoever makes contact
    # (the health-trainer pathway needs health-trainer).
    needs_consent: list[
        Literal["screening", "share-with-gp", "share-with-services", "health-trainer"]
    ] = []
    # Suggested only because of a sensitive disclosure (domestic abuse): never in an
    # identifiable export, and never named in a letter (issue 12, hazard H23).
    sensitive: bool = False
    # Names care that others could read as a diagnosis or as drug use (a drug service, an
    # HIV test): on the person's handout, which others may see, only when they choose it.
    handout_private: bool = False


class RuleModel(_Strict):
    id: RuleId
    when: Plain
    suggest: PathwayId
    urgency: Urgency
    because: Plain


class AvailabilityModel(_Strict):
    item: Annotated[
        str,
        yamlfile.text_pattern(
            r"^[a-z][a-z0-9_]{0,39}$",
            "1 to 40 lower-case letters, digits and underscores, starting with a letter",
        ),
    ]
    windows: dict[str, list[str]]


class RulesModel(_Strict):
    id: FileId
    version: int = Field(ge=1)
    questionnaire: FileId
    pathways: list[PathwayModel] = Field(min_length=1)
    rules: list[RuleModel] = Field(min_length=1)
    availability: AvailabilityModel | None = None


@dataclass(frozen=True)
class Pathway:
    id: str
    name: str
    domain: str
    for_person: str
    for_staff: str
    shares_information: bool
    self_referral: bool
    follow_up_days: int
    adjustment: bool
    shares_with: str = "services"
    needs_consent: tuple[str, ...] = ()
    sensitive: bool = False
    resuggest_after_days: int | None = None
    without_gp: str | None = None
    handout_private: bool = False

    @property
    def share_purpose(self) -> str:
        """The consent purpose a referral sent by the worker needs."""
        return "share-with-gp" if self.shares_with == "gp" else "share-with-services"

    def consent_purposes(self, self_referral: bool) -> tuple[str, ...]:
        """Every consent purpose a referral by this route needs (a self-referral shares nothing)."""
        sent = () if self_referral else (self.share_purpose,)
        return (*sent, *(p for p in self.needs_consent if p not in sent))


@dataclass(frozen=True)
class Rule:
    id: str
    when: expr.Compiled
    pathway: str
    urgency: str
    because: expr.Template


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int
    questionnaire: str
    content_hash: str
    pathways: tuple[Pathway, ...]
    rules: tuple[Rule, ...]
    availability_item: str | None
    windows: dict[str, tuple[Window, ...]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "pathway_map", {p.id: p for p in self.pathways})

    def pathway(self, pathway_id: str) -> Pathway | None:
        return self.pathway_map.get(pathway_id)  # type: ignore[attr-defined,no-any-return]


def rules_scope(q: Questionnaire | None) -> expr.Scope:
    base = (
        q.scope()
        if q is not None
        else expr.Scope(
            fields={"person": frozenset({"age", "sex", "days_since_release", "nation", "stage"})}
        )
    )
    return expr.Scope(fields=base.fields, collections=RULE_COLLECTIONS, functions=RULE_FUNCTIONS)


def load_file(path: Path, questionnaire: Questionnaire, *, name: str | None = None) -> RuleSet:
    """Read and check a rules file for use. A file with problems raises one ``FileError``:
    the first problem, how many more, and the command that lists them all."""
    try:
        return check_file(path, questionnaire, name=name)
    except yamlfile.FileProblems as exc:
        raise exc.summary(CHECK_KIND) from None


def check_file(path: Path, questionnaire: Questionnaire, *, name: str | None = None) -> RuleSet:
    """Like :func:`load_file`, but problems raise ``yamlfile.FileProblems`` listing each one
    (for the rules check)."""
    doc = yamlfile.load(path, name=name or str(path))
    return compile_document(doc, questionnaire)


def compile_document(doc: yamlfile.Document, q: Questionnaire) -> RuleSet:
    """Validate and compile; every problem found raises together as ``FileProblems``."""
    if not isinstance(doc.data, dict):
        raise doc.error(
            (), "a rules file must be a mapping with id, version, questionnaire, pathways and rules"
        )
    try:
        m = RulesModel.model_validate(doc.data)
    except ValidationError as exc:
        raise yamlfile.FileProblems(
            doc.name, yamlfile.validation_problems(doc, exc, RulesModel), complete=False
        ) from None
    if m.questionnaire != q.id:
        # Every other check would be against the wrong questionnaire: stop here.
        raise doc.error(
            ("questionnaire",),
            f"these rules are for questionnaire {m.questionnaire!r}, but they are being checked against {q.id!r}",
        )
    problems: list[FileError] = []
    pathways: dict[str, Pathway] = {}
    for i, p in enumerate(m.pathways):
        if p.id in pathways:
            problems.append(doc.error(("pathways", i, "id"), f"pathway {p.id!r} is defined twice"))
            continue
        if p.domain not in taxonomy.NEED_DOMAINS:
            problems.append(
                doc.error(
                    ("pathways", i, "domain"),
                    f"unknown need domain {p.domain!r}; use one of: {', '.join(taxonomy.NEED_DOMAINS)}",
                )
            )
        pathways[p.id] = Pathway(
            p.id,
            p.name,
            p.domain,
            p.for_person,
            p.for_staff,
            p.shares_information,
            p.self_referral,
            p.follow_up_days,
            p.adjustment,
            p.shares_with,
            tuple(p.needs_consent),
            p.sensitive,
            p.resuggest_after_days,
            p.without_gp,
            p.handout_private,
        )
    scope = rules_scope(q)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(m.rules):
        loc = ("rules", i)
        if r.id in seen:
            problems.append(doc.error((*loc, "id"), f"rule {r.id!r} is defined twice"))
        seen.add(r.id)
        if r.suggest not in pathways:
            problems.append(
                doc.error(
                    (*loc, "suggest"),
                    f"no pathway {r.suggest!r} (pathways: {', '.join(pathways)})",
                )
            )
        when: expr.Compiled | None = None
        try:
            when = expr.compile_expr(r.when, scope)
        except expr.ExprError as exc:
            problems.append(condition_error(doc, (*loc, "when"), "when", exc.column, exc.message))
        else:
            problems.extend(_check_literals(doc, (*loc, "when"), when, q, pathways))
        because: expr.Template | None = None
        try:
            because = expr.compile_template(r.because, scope)
        except expr.ExprError as exc:
            problems.append(
                condition_error(doc, (*loc, "because"), "because", exc.column, exc.message)
            )
        if because is not None and q is not None:
            # A reason is shown and stored; it must never copy what a person typed (issue 14
            # item 8: a GP practice's name in every suggestion's reason).
            for space, name in because.names:
                if space == "answers" and q.item(name).type == "text":
                    problems.append(
                        doc.error(
                            (*loc, "because"),
                            f"{{answers.{name}}} would copy free text into the reason; "
                            "name the fact instead (e.g. 'no GP practice given')",
                        )
                    )
                    because = None
                    break
        if when is not None and because is not None:
            rules.append(Rule(r.id, when, r.suggest, r.urgency, because))
    used = {r.suggest for r in m.rules}
    for i, p in enumerate(m.pathways):
        if p.id not in used:
            problems.append(
                doc.error(
                    ("pathways", i, "id"),
                    f"no rule suggests pathway {p.id!r}; add one or remove the pathway",
                )
            )
    windows: dict[str, tuple[Window, ...]] = {}
    item = None
    if m.availability is not None:
        item = m.availability.item
        if not q.has_item(item) or q.item(item).type != "multi":
            problems.append(
                doc.error(
                    ("availability", "item"),
                    f"availability.item must be a multi-choice item of {q.id}",
                )
            )
        values = (
            {str(o.value) for o in q.item(item).options}
            if q.has_item(item) and q.item(item).type == "multi"
            else None
        )
        for key, texts in m.availability.windows.items():
            if values is not None and key not in values:
                problems.append(
                    doc.error(
                        ("availability", "windows", key), f"{key!r} is not an option of {item}"
                    )
                )
            parsed = []
            for n, text in enumerate(texts):
                try:
                    parsed.append(parse_window(text))
                except ValueError as exc:
                    problems.append(doc.error(("availability", "windows", key, n), str(exc)))
            windows[key] = tuple(parsed)
    yamlfile.raise_problems(doc.name, problems)
    return RuleSet(
        m.id,
        m.version,
        m.questionnaire,
        content_hash(doc.data),
        tuple(pathways.values()),
        tuple(rules),
        item,
        windows,
    )


def _check_literals(
    doc: yamlfile.Document,
    loc: tuple[Any, ...],
    compiled: expr.Compiled,
    q: Questionnaire,
    pathways: dict[str, Pathway],
) -> list[FileError]:
    """Every literal compared with something that can never have that value."""
    problems: list[FileError] = []

    def bad(col: int, message: str) -> None:
        problems.append(condition_error(doc, loc, "when", col, message))

    for root, attr, literals, col in compiled.comparisons:
        if root == "answers" and q.has_item(attr):
            item = q.item(attr)
            if item.options:
                allowed = ", ".join(repr(o.value) for o in item.options)
                for lit in literals:
                    if item.option(lit) is None:
                        bad(col, f"{lit!r} is not an option of {attr} (options: {allowed})")
        elif root == "bands":
            labels = {b.label for b in q.scale(attr).bands}
            for lit in literals:
                if lit not in labels:
                    bad(col, f"{lit!r} is not a band of {attr}")
        elif root in ("barriers", "needs", "flag_severities"):
            allowed_words = {
                "barriers": taxonomy.BARRIER_TYPES,
                "needs": taxonomy.NEED_DOMAINS,
                "flag_severities": ("emergency", "same-day", "info", "notice"),
            }[root]
            for lit in literals:
                if lit not in allowed_words:
                    bad(col, f"{lit!r} is not one of the {root} ({', '.join(allowed_words)})")
        elif root == "person" and attr in ("nation", "stage"):
            from probhealth.validation import NATIONS, STAGES

            choices: tuple[str, ...] = NATIONS if attr == "nation" else STAGES
            for lit in literals:
                if lit not in choices:
                    bad(col, f"{lit!r} is not a {attr} ({', '.join(choices)})")
        elif root == "referrals.open":
            for lit in literals:
                if lit not in pathways:
                    bad(col, f"referrals.open: no pathway {lit!r}")
        elif root == "consented":
            from probhealth.validation import CONSENT_PURPOSES

            for lit in literals:
                if lit not in CONSENT_PURPOSES:
                    bad(
                        col,
                        f"consented: {lit!r} is not a consent purpose ({', '.join(CONSENT_PURPOSES)})",
                    )
    return problems
