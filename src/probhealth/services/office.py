"""Who is writing: the worker's name and the probation office's address, phone and hours,
for the handout and letters. They come from ``office.yaml`` in the data folder (beside the
database; ``PROBHEALTH_HOME`` moves it)::

    offices:
      - name: Cambridge                       # as in ``person add --office``
        address: 1 Example Street, Cambridge CB1 0XX
        phone: "01223 000 199"
        email: cambridge.probation@example.org
        hours: ["mon-fri 09:00-17:00"]
        nation: england                       # optional: england or wales
    workers:
      - login: officer.jones                  # the name in the audit log (--as)
        name: Alex Jones
        role: Probation officer
        phone: "01223 000 188"                # optional: a direct line

An office's ``nation`` is the nation of a person added to it without one (issue 12): it
decides which pathways fit (Wales has no NHS Health Check, for example). Without it, the
person's nation is ``PROBHEALTH_NATION``, else England.

Demo people (CRNs starting with Z) use the bundled fictional offices when the file has no
entry for theirs. Without the file, documents name the worker by login and say to ask at the
office; the result says what is missing so the command can tell the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from probhealth import paths, yamlfile
from probhealth.directory.hours import Window, in_words, parse_window

FILE_NAME = "office.yaml"
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[
    str, yamlfile.text_pattern(r"^[0-9 +()-]{3,30}$", "a phone number (digits, spaces and + ( ) -)")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OfficeModel(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    address: Short | None = None
    phone: Phone | None = None
    email: Short | None = None
    hours: list[str] = Field(default_factory=list)
    nation: Literal["england", "wales"] | None = None


class WorkerModel(_Strict):
    login: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    role: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    phone: Phone | None = None
    email: Short | None = None


class SettingsModel(_Strict):
    offices: list[OfficeModel] = Field(default_factory=list)
    workers: list[WorkerModel] = Field(default_factory=list)


@dataclass(frozen=True)
class Office:
    name: str
    address: str | None
    phone: str | None
    email: str | None
    hours: tuple[Window, ...]
    nation: str | None = None

    @property
    def hours_words(self) -> str | None:
        return in_words(self.hours) if self.hours else None


@dataclass(frozen=True)
class Sender:
    """The worker and office a document comes from."""

    login: str
    name: str
    role: str | None
    phone: str | None  # the worker's line, else the office's
    email: str | None
    office: Office | None
    missing: tuple[str, ...] = ()  # what office.yaml lacks, for a warning
    worker_known: bool = True

    @property
    def known(self) -> bool:
        return not self.missing


def settings_path() -> Path:
    return paths.data_dir() / FILE_NAME


def _bundled() -> Path:
    from importlib import resources

    return Path(str(resources.files("probhealth") / "data" / "offices-fictional.yaml"))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> SettingsModel:
    doc = yamlfile.load(Path(path), name=path)
    try:
        model = SettingsModel.model_validate(doc.data or {})
    except ValidationError as exc:
        problems = yamlfile.validation_problems(doc, exc, SettingsModel)
        yamlfile.raise_problems(path, problems)
        raise  # pragma: no cover - raise_problems always raises when there are problems
    for i, office in enumerate(model.offices):
        for j, text in enumerate(office.hours):
            try:
                parse_window(text)
            except ValueError as exc:
                raise doc.error(("offices", i, "hours", j), str(exc)) from None
    return model


def load(path: Path) -> SettingsModel:
    return _load(str(path), path.stat().st_mtime)


def _office(m: OfficeModel) -> Office:
    return Office(
        m.name, m.address, m.phone, m.email, tuple(parse_window(h) for h in m.hours), m.nation
    )


def nation_of(office_name: str | None, *, demo_person: bool = False) -> str | None:
    """The ``nation`` of the office named ``office_name`` in office.yaml (for demo people,
    also the bundled fictional offices), or None."""
    if not office_name:
        return None
    path = settings_path()
    key = office_name.casefold()
    sources = [load(path)] if path.is_file() else []
    if demo_person:
        sources.append(load(_bundled()))
    for settings in sources:
        found = next((o for o in settings.offices if o.name.casefold() == key), None)
        if found is not None and found.nation:
            return found.nation
    return None


def sender(
    actor: str,
    office_name: str | None,
    *,
    demo_person: bool = False,
    stand_in: str = "the login name is shown instead",
) -> Sender:
    """The worker ``actor`` at ``office_name`` (the person's office). ``stand_in`` says what
    the document shows for a worker office.yaml does not name."""
    path = settings_path()
    settings = load(path) if path.is_file() else SettingsModel()
    worker = next((w for w in settings.workers if w.login.casefold() == actor.casefold()), None)
    key = (office_name or "").casefold()
    found = next((o for o in settings.offices if o.name.casefold() == key), None)
    if found is None and demo_person:
        found = next((o for o in load(_bundled()).offices if o.name.casefold() == key), None)
    office = _office(found) if found else None
    missing = []
    if worker is None:
        missing.append(f"the worker {actor!r} ({stand_in})")
    if office is None:
        where = f"the office {office_name!r}" if office_name else "the person's office"
        missing.append(f"{where} (no office address or phone is shown)")
    return Sender(
        login=actor,
        name=worker.name if worker else actor,
        role=worker.role if worker else None,
        phone=(worker.phone if worker else None) or (office.phone if office else None),
        email=(worker.email if worker else None) or (office.email if office else None),
        office=office,
        missing=tuple(missing),
        worker_known=worker is not None,
    )
