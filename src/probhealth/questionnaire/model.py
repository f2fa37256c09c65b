"""Questionnaire definitions: the file schema (pydantic, unknown keys refused) and the checked,
compiled form the engine runs (frozen dataclasses).

Loading checks every reference before anything is asked: ``show_if`` may only look at items
and scales that come *earlier* (so one pass in order decides what is shown), option sets and
scale items must exist, bands must cover a scale's whole range without gaps, and every literal
compared with an answer must be one of that item's option values (a typo such as
``answers.gp_registered == "No"`` would otherwise never fire).

:func:`check_file` reports every problem found (``yamlfile.FileProblems``, one
``FILE:LINE: message`` each); :func:`load_file`, for use, raises one line naming the first
problem, how many more there are, and the command that lists them all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from probhealth import expr, taxonomy, yamlfile
from probhealth.errors import FileError
from probhealth.taxonomy import Severity
from probhealth.validation import NATIONS, SEXES, STAGES

Id = Annotated[
    str,
    yamlfile.text_pattern(
        r"^[a-z][a-z0-9_]{0,39}$",
        "1 to 40 lower-case letters, digits and underscores, starting with a letter",
    ),
]
# Option values and band labels start with a letter or digit: they are written to exports as
# they are, so none can ever start a spreadsheet formula.
Word = Annotated[
    str,
    yamlfile.text_pattern(
        r"^[A-Za-z0-9][^\x00-\x1f]{0,59}$",
        "text that starts with a letter or digit (at most 60 characters, no control characters)",
    ),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
ItemType = Literal["single", "multi", "yesno", "integer", "date", "text"]
PERSON_FIELDS = frozenset({"age", "sex", "days_since_release", "nation", "stage"})
CHECK_KIND = "questionnaire"  # files with problems name the check that lists them all


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OptionModel(_Strict):
    value: int | Word
    label: Text
    score: int | None = None


class ItemModel(_Strict):
    id: Id
    text: Text
    type: ItemType
    stem: Text | None = None
    options: Id | list[OptionModel] | None = None
    help: Text | None = None
    show_if: Text | None = None
    optional: bool = True
    min: int | None = None
    max: int | None = None
    unit: Annotated[str, StringConstraints(max_length=40)] | None = None
    hidden_value: int | str | None = None
    asked_of: Literal["person", "worker"] = "person"
    max_length: int = Field(default=200, ge=1, le=2000)
    exclusive: list[int | str] = Field(default_factory=list)
    future_dates: bool = False
    loinc: Annotated[str, StringConstraints(max_length=20)] | None = None
    sensitive: bool = False  # never shown outside the tool (letters, handouts)


class SectionModel(_Strict):
    id: Id
    title: Text
    intro: Text | None = None
    items: list[ItemModel] = Field(min_length=1)


class ScaleModel(_Strict):
    id: Id
    title: Text
    items: list[Id] = Field(min_length=1)
    reverse: list[Id] = Field(default_factory=list)
    bands: list[tuple[int, int, Word]] = Field(min_length=1)
    loinc: Annotated[str, StringConstraints(max_length=20)] | None = None


class FlagModel(_Strict):
    id: Id
    when: Text
    severity: Severity
    title: Text
    message: Text
    actions: list[Text] = Field(default_factory=list)


class NeedModel(_Strict):
    domain: str
    when: Text
    severity: Literal["low", "moderate", "high"]
    note: Text | None = None


class BarrierModel(_Strict):
    type: str
    when: Text


class QuestionnaireModel(_Strict):
    id: Annotated[
        str,
        yamlfile.text_pattern(
            r"^[a-z][a-z0-9-]{0,59}$",
            "1 to 60 lower-case letters, digits and hyphens, starting with a letter",
        ),
    ]
    version: int = Field(ge=1)
    title: Text
    description: Text | None = None
    credits: list[Text] = Field(default_factory=list)
    option_sets: dict[Id, list[OptionModel]] = Field(default_factory=dict)
    sections: list[SectionModel] = Field(min_length=1)
    scales: list[ScaleModel] = Field(default_factory=list)
    flags: list[FlagModel] = Field(default_factory=list)
    needs: list[NeedModel] = Field(default_factory=list)
    barriers: list[BarrierModel] = Field(default_factory=list)


# ------------------------------------------------------------------ compiled form ------
Value = int | str


@dataclass(frozen=True)
class Option:
    value: Value
    label: str
    score: int | None


@dataclass(frozen=True)
class Item:
    id: str
    index: int
    section_id: str
    text: str
    stem: str | None
    type: str
    options: tuple[Option, ...]
    help: str | None
    show_if: expr.Compiled | None
    optional: bool
    min: int | None
    max: int | None
    unit: str | None
    hidden_value: Value | None
    asked_of: str
    max_length: int
    exclusive: tuple[Value, ...]
    future_dates: bool
    loinc: str | None
    sensitive: bool = False

    def option(self, value: object) -> Option | None:
        for opt in self.options:
            if opt.value == value and type(opt.value) is type(value):
                return opt
        return None

    def label_of(self, value: object) -> str:
        if isinstance(value, list):
            return "; ".join(self.label_of(v) for v in value)
        opt = self.option(value)
        if opt is not None:
            return opt.label
        if self.unit and isinstance(value, int):
            return f"{value} {self.unit}"
        return str(value)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str | None
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    lo: int
    hi: int
    label: str


@dataclass(frozen=True)
class Scale:
    id: str
    title: str
    items: tuple[str, ...]
    reverse: frozenset[str]
    bands: tuple[Band, ...]
    min: int
    max: int
    loinc: str | None

    def band(self, value: int) -> str | None:
        for b in self.bands:
            if b.lo <= value <= b.hi:
                return b.label
        return None


@dataclass(frozen=True)
class FlagDef:
    id: str
    when: expr.Compiled
    severity: str
    title: str
    message: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class NeedRule:
    domain: str
    when: expr.Compiled
    severity: str
    note: str | None


@dataclass(frozen=True)
class BarrierRule:
    type: str
    when: expr.Compiled


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: str
    description: str | None
    credits: tuple[str, ...]
    content_hash: str
    source_text: str
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    flags: tuple[FlagDef, ...]
    needs: tuple[NeedRule, ...]
    barriers: tuple[BarrierRule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_item_map", {i.id: i for i in self.items})

    def item(self, item_id: str) -> Item:
        return self._item_map[item_id]  # type: ignore[attr-defined,no-any-return]

    def has_scale(self, scale_id: str) -> bool:
        return scale_id in self._scales

    def has_item(self, item_id: str) -> bool:
        return item_id in self._item_map  # type: ignore[attr-defined]

    @property
    def date_items(self) -> frozenset[str]:
        cache: frozenset[str] | None = self.__dict__.get("_date_items")
        if cache is None:
            cache = frozenset(i.id for i in self.items if i.type == "date")
            object.__setattr__(self, "_date_items", cache)
        return cache

    def scale(self, scale_id: str) -> Scale:
        return self._scales[scale_id]

    def flag(self, flag_id: str) -> FlagDef | None:
        return self._flags.get(flag_id)

    def section(self, section_id: str) -> Section:
        return self._sections[section_id]

    @property
    def _items(self) -> dict[str, Item]:
        cache: dict[str, Item] | None = self.__dict__.get("_item_map")
        if cache is None:
            cache = {i.id: i for i in self.items}
            object.__setattr__(self, "_item_map", cache)
        return cache

    @property
    def _scales(self) -> dict[str, Scale]:
        cache: dict[str, Scale] | None = self.__dict__.get("_scale_map")
        if cache is None:
            cache = {s.id: s for s in self.scales}
            object.__setattr__(self, "_scale_map", cache)
        return cache

    @property
    def _flags(self) -> dict[str, FlagDef]:
        cache: dict[str, FlagDef] | None = self.__dict__.get("_flag_map")
        if cache is None:
            cache = {f.id: f for f in self.flags}
            object.__setattr__(self, "_flag_map", cache)
        return cache

    @property
    def _sections(self) -> dict[str, Section]:
        cache: dict[str, Section] | None = self.__dict__.get("_section_map")
        if cache is None:
            cache = {s.id: s for s in self.sections}
            object.__setattr__(self, "_section_map", cache)
        return cache

    def scale_items(self) -> frozenset[str]:
        return frozenset(i for s in self.scales for i in s.items)

    def scope(self) -> expr.Scope:
        """The names a rules file may use about this questionnaire's screenings."""
        return expr.Scope(
            fields={
                "answers": frozenset(self._items),
                "scores": frozenset(self._scales),
                "bands": frozenset(self._scales),
                "flags": frozenset(self._flags),
                "person": PERSON_FIELDS,
            }
        )


YESNO = (Option("yes", "Yes", 1), Option("no", "No", 0))


def condition_error(
    doc: yamlfile.Document, loc: tuple[Any, ...], field: str, column: int, message: str
) -> FileError:
    """FILE:LINE:COL for a condition error, mapped through quoting and folding when possible."""
    pos = doc.position(loc, max(column - 1, 0))
    if pos is not None:
        return FileError(doc.name, pos[0], f"{field}: {message}", column=pos[1])
    return FileError(
        doc.name, doc.line(loc), f"{field}: {message} (column {column} of the condition)"
    )


def content_hash(data: Any) -> str:
    canonical = json.dumps(
        data, sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_file(path: Path, *, name: str | None = None) -> Questionnaire:
    """Read, validate and compile a questionnaire file for use. Raises one ``FileError``
    (exit 2): the first problem, how many more, and the command that lists them all."""
    try:
        return check_file(path, name=name)
    except yamlfile.FileProblems as exc:
        raise exc.summary(CHECK_KIND) from None


def check_file(path: Path, *, name: str | None = None) -> Questionnaire:
    """Like :func:`load_file`, but problems raise ``yamlfile.FileProblems`` listing each one
    (for the questionnaire check)."""
    label = name or str(path)
    doc = yamlfile.load(path, name=label)
    text = path.read_text(encoding="utf-8-sig")
    return compile_document(doc, text)


def load_text(text: str, name: str) -> Questionnaire:
    try:
        return compile_document(yamlfile.loads(text, name), text)
    except yamlfile.FileProblems as exc:
        raise exc.summary(CHECK_KIND) from None


def compile_document(doc: yamlfile.Document, source_text: str) -> Questionnaire:
    """Validate and compile; every problem found raises together as ``FileProblems``."""
    if not isinstance(doc.data, dict):
        raise doc.error(
            (), "a questionnaire file must be a mapping with id, version, title and sections"
        )
    try:
        model = QuestionnaireModel.model_validate(doc.data)
    except ValidationError as exc:
        raise yamlfile.FileProblems(
            doc.name, yamlfile.validation_problems(doc, exc, QuestionnaireModel), complete=False
        ) from None
    return _Compiler(doc, model, source_text).compile()


class _Reported(Exception):
    """Something this depends on is broken, and that problem is reported already."""


class _Compiler:
    """Compiles a validated model, collecting every problem (``self.problems``) instead of
    stopping at the first. Something broken keeps its name in scope, so one mistake is
    reported once, not again by every condition that mentions it."""

    def __init__(self, doc: yamlfile.Document, model: QuestionnaireModel, source_text: str) -> None:
        self.doc = doc
        self.m = model
        self.source_text = source_text
        self.problems: list[FileError] = []
        self._sets: dict[str, tuple[Option, ...] | None] | None = None

    def fail(self, loc: tuple[Any, ...], message: str) -> FileError:
        return self.doc.error(loc, message)

    def report(self, loc: tuple[Any, ...], message: str) -> None:
        self.problems.append(self.fail(loc, message))

    def compile(self) -> Questionnaire:
        m = self.m
        sections, item_models = self._layout()
        order = {im.id: n for n, (im, _, _) in enumerate(item_models)}
        options, broken = self._all_options(item_models)  # show_if literal checks need them
        scales, scale_ready = self._scales(item_models, order, options, broken)
        scale_by_id = {s.id: s for s in scales}
        items = self._items(item_models, scale_ready, options, scale_by_id, broken)

        full = expr.Scope(
            fields={
                "answers": frozenset(order),
                "scores": frozenset(scale_ready),
                "bands": frozenset(scale_ready),
                "person": PERSON_FIELDS,
            }
        )
        flags, flag_ids = self._flags(m, full, options, scale_by_id)
        with_flags = full.extend(flags=flag_ids)
        needs: list[NeedRule] = []
        for ni, nm in enumerate(m.needs):
            if nm.domain not in taxonomy.NEED_DOMAINS:
                self.report(
                    ("needs", ni, "domain"),
                    f"unknown need domain {nm.domain!r}; use one of: {', '.join(taxonomy.NEED_DOMAINS)}",
                )
            when = self._compile(
                ("needs", ni, "when"), "when", nm.when, with_flags, options, scale_by_id
            )
            if when is not None:
                needs.append(NeedRule(nm.domain, when, nm.severity, nm.note))
        barriers: list[BarrierRule] = []
        for bi, bm in enumerate(m.barriers):
            if bm.type not in taxonomy.BARRIER_TYPES:
                self.report(
                    ("barriers", bi, "type"),
                    f"unknown barrier type {bm.type!r}; use one of: {', '.join(taxonomy.BARRIER_TYPES)}",
                )
            when = self._compile(
                ("barriers", bi, "when"), "when", bm.when, with_flags, options, scale_by_id
            )
            if when is not None:
                barriers.append(BarrierRule(bm.type, when))

        yamlfile.raise_problems(self.doc.name, self.problems)
        return Questionnaire(
            id=m.id,
            version=m.version,
            title=m.title,
            description=m.description,
            credits=tuple(m.credits),
            content_hash=content_hash(self.doc.data),
            source_text=self.source_text,
            sections=tuple(sections),
            items=tuple(items),
            scales=tuple(scales),
            flags=tuple(flags),
            needs=tuple(needs),
            barriers=tuple(barriers),
        )

    def _layout(self) -> tuple[list[Section], list[tuple[ItemModel, tuple[Any, ...], str]]]:
        """Sections in file order and every item with where it is (a repeated id is reported)."""
        m = self.m
        sections: list[Section] = []
        section_ids: set[str] = set()
        seen_ids: set[str] = set()
        item_models: list[tuple[ItemModel, tuple[Any, ...], str]] = []
        for si, section in enumerate(m.sections):
            if section.id in section_ids:
                self.report(("sections", si, "id"), f"section id {section.id!r} is used twice")
            section_ids.add(section.id)
            ids = []
            for ii, item in enumerate(section.items):
                loc = ("sections", si, "items", ii)
                if item.id in seen_ids:
                    self.report((*loc, "id"), f"item id {item.id!r} is used twice")
                    continue
                seen_ids.add(item.id)
                ids.append(item.id)
                item_models.append((item, loc, section.id))
            sections.append(Section(section.id, section.title, section.intro, tuple(ids)))
        return sections, item_models

    def _all_options(
        self, item_models: list[tuple[ItemModel, tuple[Any, ...], str]]
    ) -> tuple[dict[str, tuple[Option, ...]], set[str]]:
        """Each item's options, and the items whose options could not be worked out."""
        options: dict[str, tuple[Option, ...]] = {}
        broken: set[str] = set()  # items whose options could not be worked out
        self._option_sets()  # each set's problems are reported once, at the set
        for item, loc, _ in item_models:
            try:
                options[item.id] = self._options(item, loc)
            except FileError as exc:
                self.problems.append(exc)
                options[item.id] = ()
                broken.add(item.id)
            except _Reported:
                options[item.id] = ()
                broken.add(item.id)

        return options, broken

    def _scales(
        self,
        item_models: list[tuple[ItemModel, tuple[Any, ...], str]],
        order: dict[str, int],
        options: dict[str, tuple[Option, ...]],
        broken: set[str],
    ) -> tuple[list[Scale], dict[str, int]]:
        """Scales: which items, their range, and the position where each becomes known."""
        m = self.m
        scales: list[Scale] = []
        scale_ready: dict[str, int] = {}
        for ci, sm in enumerate(m.scales):
            if sm.id in scale_ready:
                self.report(("scales", ci, "id"), f"scale id {sm.id!r} is used twice")
                continue
            known = [order[i] for i in sm.items if i in order]
            scale_ready[sm.id] = max(known, default=len(item_models))
            scales.append(self._scale(sm, ("scales", ci), order, options, item_models, broken))
        return scales, scale_ready

    def _items(
        self,
        item_models: list[tuple[ItemModel, tuple[Any, ...], str]],
        scale_ready: dict[str, int],
        options: dict[str, tuple[Option, ...]],
        scale_by_id: dict[str, Scale],
        broken: set[str],
    ) -> list[Item]:
        """Each item compiled: its show_if in the scope of what comes before it, its values checked."""
        items: list[Item] = []
        item_by_pos = [im for im, _, _ in item_models]

        for n, (item, loc, section_id) in enumerate(item_models):
            show_if = None
            if item.show_if is not None:
                scope = expr.Scope(
                    fields={
                        "answers": frozenset(im.id for im in item_by_pos[:n]),
                        "scores": frozenset(s for s, pos in scale_ready.items() if pos < n),
                        "bands": frozenset(s for s, pos in scale_ready.items() if pos < n),
                        "person": PERSON_FIELDS,
                    }
                )
                show_if = self._compile(
                    (*loc, "show_if"),
                    "show_if",
                    item.show_if,
                    scope,
                    options,
                    scale_by_id,
                    later=frozenset(im.id for im in item_by_pos[n:]),
                    later_scales=frozenset(s for s, pos in scale_ready.items() if pos >= n),
                )
            hidden = item.hidden_value
            if hidden is not None:
                if item.show_if is None:
                    self.report(
                        (*loc, "hidden_value"),
                        "hidden_value needs a show_if (it is the value used when the item is skipped)",
                    )
                if item.id not in broken:
                    self._check_value(item, options[item.id], hidden, (*loc, "hidden_value"))
            if item.exclusive and item.type != "multi":
                self.report((*loc, "exclusive"), "exclusive is only for multi-choice items")
            elif item.id not in broken:
                for v in item.exclusive:
                    self._check_value(item, options[item.id], v, (*loc, "exclusive"))
            items.append(
                Item(
                    id=item.id,
                    index=n,
                    section_id=section_id,
                    text=item.text,
                    stem=item.stem,
                    type=item.type,
                    options=options[item.id],
                    help=item.help,
                    show_if=show_if,
                    optional=item.optional,
                    min=item.min,
                    max=item.max,
                    unit=item.unit,
                    hidden_value=hidden,
                    asked_of=item.asked_of,
                    max_length=item.max_length,
                    exclusive=tuple(item.exclusive),
                    future_dates=item.future_dates,
                    loinc=item.loinc,
                    sensitive=item.sensitive,
                )
            )

        return items

    def _flags(
        self,
        m: QuestionnaireModel,
        full: expr.Scope,
        options: dict[str, tuple[Option, ...]],
        scale_by_id: dict[str, Scale],
    ) -> tuple[list[FlagDef], list[str]]:
        """Flags, their conditions in the scope of the whole questionnaire; and every flag id."""
        flags: list[FlagDef] = []
        flag_ids: list[str] = []
        for fi, fm in enumerate(m.flags):
            if fm.id in flag_ids:
                self.report(("flags", fi, "id"), f"flag id {fm.id!r} is used twice")
                continue
            flag_ids.append(fm.id)
            when = self._compile(("flags", fi, "when"), "when", fm.when, full, options, scale_by_id)
            if when is not None:
                flags.append(
                    FlagDef(fm.id, when, fm.severity, fm.title, fm.message, tuple(fm.actions))
                )
        return flags, flag_ids

    def _options(self, item: ItemModel, loc: tuple[Any, ...]) -> tuple[Option, ...]:
        """The item's options; raises the first problem with them (a FileError), or
        ``_Reported`` if they come from an option set whose problem is already reported."""
        if item.type == "yesno":
            if item.options is not None:
                raise self.fail(
                    (*loc, "options"), "yes/no items have the options yes and no already"
                )
            return YESNO
        if item.type in ("single", "multi"):
            if item.options is None:
                raise self.fail(loc, f"item {item.id!r} is {item.type}-choice but has no options")
            if isinstance(item.options, str):
                if item.options not in self.m.option_sets:
                    raise self.fail((*loc, "options"), f"no option set called {item.options!r}")
                opts = self._option_sets().get(item.options)
                if opts is None:
                    raise _Reported
                return opts
            return self._option_list(item.options, (*loc, "options"), f"item {item.id!r}")
        if item.options is not None:
            raise self.fail((*loc, "options"), f"{item.type} items have no options")
        if item.type == "integer":
            if item.min is None or item.max is None or item.min > item.max:
                raise self.fail(loc, f"integer item {item.id!r} needs min and max (min <= max)")
        return ()

    def _option_sets(self) -> dict[str, tuple[Option, ...] | None]:
        """Each option set's options, checked once (None: its problem is reported)."""
        cache = self._sets
        if cache is None:
            cache = {}
            for name, raw in self.m.option_sets.items():
                try:
                    cache[name] = self._option_list(
                        raw, ("option_sets", name), f"option set {name!r}"
                    )
                except FileError as exc:
                    self.problems.append(exc)
                    cache[name] = None
            self._sets = cache
        return cache

    def _option_list(
        self, raw: list[OptionModel], loc: tuple[Any, ...], owner: str
    ) -> tuple[Option, ...]:
        if not raw:
            raise self.fail(loc, f"{owner} has no options")
        opts = tuple(
            Option(
                o.value,
                o.label,
                o.score if o.score is not None else (o.value if isinstance(o.value, int) else None),
            )
            for o in raw
        )
        values = [o.value for o in opts]
        labels = [o.label.casefold() for o in opts]
        if len(set(map(repr, values))) != len(values):
            raise self.fail(loc, f"{owner} has two options with the same value")
        if len(set(labels)) != len(labels):
            raise self.fail(loc, f"{owner} has two options with the same label")
        for a in opts:
            for b in opts:
                if a is not b and str(a.value).casefold() == b.label.casefold():
                    raise self.fail(
                        loc, f"{owner}: the value {a.value!r} is also another option's label"
                    )
        return opts

    def _check_value(
        self, item: ItemModel, opts: tuple[Option, ...], value: object, loc: tuple[Any, ...]
    ) -> None:
        if item.type in ("single", "multi", "yesno"):
            if not any(o.value == value and type(o.value) is type(value) for o in opts):
                allowed = ", ".join(repr(o.value) for o in opts)
                self.report(loc, f"{value!r} is not an option of {item.id} (options: {allowed})")
        elif item.type == "integer":
            if (
                not isinstance(value, int)
                or (item.min is not None and value < item.min)
                or (item.max is not None and value > item.max)
            ):
                self.report(loc, f"{value!r} is outside {item.id}'s range {item.min}..{item.max}")

    def _scale(
        self,
        sm: ScaleModel,
        loc: tuple[Any, ...],
        order: dict[str, int],
        options: dict[str, tuple[Option, ...]],
        item_models: list[tuple[ItemModel, tuple[Any, ...], str]],
        broken: set[str],
    ) -> Scale:
        """The scale; its problems are reported (its bands are checked only when the range
        of scores is known, i.e. every item is usable)."""
        types = {im.id: im.type for im, _, _ in item_models}
        lo = hi = 0
        range_known = True
        for idx, item_id in enumerate(sm.items):
            if item_id not in order:
                self.report((*loc, "items", idx), f"scale {sm.id!r} uses unknown item {item_id!r}")
                range_known = False
            elif types[item_id] not in ("single", "yesno"):
                self.report(
                    (*loc, "items", idx),
                    f"scale items must be single-choice or yes/no; {item_id} is {types[item_id]}",
                )
                range_known = False
            elif item_id in broken:
                range_known = False  # its options are already reported
            else:
                scores = [o.score for o in options[item_id]]
                nums = [s for s in scores if s is not None]
                if len(nums) != len(scores) or not nums:
                    self.report(
                        (*loc, "items", idx),
                        f"every option of {item_id} needs a numeric score to be in a scale",
                    )
                    range_known = False
                else:
                    lo += min(nums)
                    hi += max(nums)
        if len(set(sm.items)) != len(sm.items):
            self.report((*loc, "items"), f"scale {sm.id!r} lists an item twice")
            range_known = False
        for idx, r in enumerate(sm.reverse):
            if r not in sm.items:
                self.report((*loc, "reverse", idx), f"reverse item {r!r} is not in scale {sm.id!r}")
        bands = tuple(Band(a, b, label) for a, b, label in sm.bands)
        if range_known:
            self._check_bands(sm.id, loc, bands, lo, hi)
        return Scale(
            sm.id, sm.title, tuple(sm.items), frozenset(sm.reverse), bands, lo, hi, sm.loinc
        )

    def _check_bands(
        self, scale_id: str, loc: tuple[Any, ...], bands: tuple[Band, ...], lo: int, hi: int
    ) -> None:
        """Bands must run from lo to hi without gaps; the first break is reported (every
        band after it would be off too)."""
        expected = lo
        for bi, band in enumerate(bands):
            if band.lo != expected or band.hi < band.lo:
                self.report(
                    (*loc, "bands", bi),
                    f"scale {scale_id!r} bands must run without gaps from {lo} to {hi}; band {bi + 1} should start at {expected}",
                )
                return
            expected = band.hi + 1
        if expected != hi + 1:
            self.report(
                (*loc, "bands"),
                f"scale {scale_id!r} bands must end at {hi}, its highest possible score",
            )

    def _compile(
        self,
        loc: tuple[Any, ...],
        field: str,
        text: str,
        scope: expr.Scope,
        options: dict[str, tuple[Option, ...]],
        scales: dict[str, Scale],
        later: frozenset[str] = frozenset(),
        later_scales: frozenset[str] = frozenset(),
    ) -> expr.Compiled | None:
        """The compiled condition, or None if it cannot be compiled; its problems are
        reported (a literal that is not an option, band or sex value, each one)."""
        try:
            compiled = expr.compile_expr(text, scope)
        except expr.ExprError as exc:
            message = exc.message
            for root, pool in (
                ("answers", later),
                ("scores", later_scales),
                ("bands", later_scales),
            ):
                for name in pool:
                    if f"'{root}.{name}'" in message:
                        message = f"{root}.{name} comes later in the questionnaire; show_if may only use earlier items and scales"
                        if (
                            root == "answers"
                            and loc[-1] == "show_if"
                            and self._item_id_at(loc) == name
                        ):
                            message = f"show_if cannot refer to its own item ({root}.{name})"
            self.problems.append(self._expr_error(loc, field, exc.column, message))
            return None
        for root, attr, literals, col in compiled.comparisons:
            if root == "answers":
                opts = options.get(attr, ())
                if opts:
                    allowed = ", ".join(repr(o.value) for o in opts)
                    for lit in literals:
                        if not any(o.value == lit and type(o.value) is type(lit) for o in opts):
                            self.problems.append(
                                self._expr_error(
                                    loc,
                                    field,
                                    col,
                                    f"{lit!r} is not an option of {attr} (options: {allowed})",
                                )
                            )
            elif root == "bands" and attr in scales:
                labels = {b.label for b in scales[attr].bands}
                for lit in literals:
                    if lit not in labels:
                        self.problems.append(
                            self._expr_error(
                                loc,
                                field,
                                col,
                                f"{lit!r} is not a band of {attr} (bands: {', '.join(sorted(labels))})",
                            )
                        )
            elif root == "person" and attr == "sex":
                for lit in literals:
                    if lit not in SEXES:
                        self.problems.append(
                            self._expr_error(
                                loc, field, col, f"{lit!r} is not a sex value ({', '.join(SEXES)})"
                            )
                        )
            elif root == "person" and attr in ("nation", "stage"):
                choices: tuple[str, ...] = NATIONS if attr == "nation" else STAGES
                for lit in literals:
                    if lit not in choices:
                        self.problems.append(
                            self._expr_error(
                                loc, field, col, f"{lit!r} is not a {attr} ({', '.join(choices)})"
                            )
                        )
        return compiled

    def _item_id_at(self, loc: tuple[Any, ...]) -> str | None:
        node: Any = self.doc.data
        for part in loc[:-1]:
            node = node[part]
        return node.get("id") if isinstance(node, dict) else None

    def _expr_error(self, loc: tuple[Any, ...], field: str, column: int, message: str) -> FileError:
        return condition_error(self.doc, loc, field, column, message)
