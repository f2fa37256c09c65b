"""The person's "what happens next" handout: their agreed pathways and open referrals, where
to go, when, what to bring, what to do if they cannot go, their health goals, help now, and
who to contact.

A handout may be seen by others, so it carries no scores, diagnoses or answers: only what each
kind of help is (the pathway's ``for_person`` text), the service's details, dates, and the
person's own goals. The person chooses what goes on it (``include``). A pathway marked
``sensitive`` (domestic abuse support) goes on only when named in ``include``: a sheet about
domestic abuse found by the person who hurts them could put them in danger (hazard H23).
So does one marked ``handout_private`` (a drug service, an HIV test): others who see the
sheet could read it as a diagnosis or as drug use. Its own sentences are
short and use common words; a test measures their reading ease on every pathway.

Every handout produced is recorded in the audit log: who, which person, which referrals, the
format and a hash of the content (never the content).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from probhealth import atomicfile, clock, referral_states
from probhealth.directory.hours import in_words
from probhealth.directory.model import Service, from_json
from probhealth.documents import Document, Line, Section, format_for, render
from probhealth.errors import BadInput
from probhealth.rules.model import Pathway, RuleSet
from probhealth.services import office
from probhealth.services.people import require_person
from probhealth.store import audit
from probhealth.store import directory as dir_repo
from probhealth.store import goals as goals_repo
from probhealth.store import needs as needs_repo
from probhealth.store import referrals as ref_repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Person, Referral
from probhealth.validation import postcode_district

DOCUMENT_WORDS = {
    "photo-id": "photo ID, such as a passport or driving licence",
    "proof-of-address": "a letter with your address on it",
    "nhs-number": "your NHS number, if you know it",
    "referral-letter": "the letter we gave you",
}
# Pathways where the rule is that no documents are needed (NHS England guidance).
NO_DOCUMENTS_RULE = frozenset({"gp-registration", "dentist"})
# Who the sheet names when office.yaml does not name the worker (a login means nothing).
UNNAMED_WORKER = "your probation officer"
LARGE_PRINT_WORDS = ("large print", "large-print", "easy read", "easy-read")


def day_words(day: date) -> str:
    """``Tuesday 2 December 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# ---------------------------------------------------------------- records ---------------
@dataclass(frozen=True)
class Choice:
    """Something that can go on the handout; the person chooses (``include``)."""

    key: str  # the pathway id, or "goals"
    label: str
    sensitive: bool = False  # on the handout only when chosen: ask if it is safe
    private: bool = False  # on the handout only when chosen: others may see the sheet

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "sensitive": self.sensitive,
            "private": self.private,
        }


@dataclass(frozen=True)
class _Item:
    referral: Referral
    pathway: Pathway | None
    service: Service | None
    appointment: date | None


@dataclass(frozen=True)
class Handout:
    crn: str
    document: Document
    referral_ids: tuple[int, ...]
    goal_ids: tuple[int, ...]
    adjustments: tuple[str, ...]
    sender_missing: tuple[str, ...]
    left_out_sensitive: tuple[str, ...] = ()  # sensitive pathways not chosen (ids)
    format: str | None = None
    path: Path | None = None
    sha256: str | None = None

    def text(self) -> str:
        from probhealth.documents.text import render_text

        return render_text(self.document)

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "referrals": list(self.referral_ids),
            "goals": list(self.goal_ids),
            "adjustments": list(self.adjustments),
            "left_out_sensitive": list(self.left_out_sensitive),
            "format": self.format,
            "file": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "document": self.document.to_json(),
        }


# ---------------------------------------------------------------- reading ---------------
def _appointment(session: Session, referral: Referral) -> date | None:
    if referral.status != "appointment-booked" or referral.id is None:
        return None
    booked = [
        e.event_date
        for e in ref_repo.events(session, referral.id)
        if e.to_status == "appointment-booked"
    ]
    return booked[-1] if booked else None


def _service_for(session: Session, referral: Referral, person: Person) -> Service | None:
    if referral.service_id:
        row = dir_repo.get(session, referral.service_id)
        return from_json(json.loads(row.data)) if row else None
    areas = [k for k in (postcode_district(person.postcode), person.office) if k]
    rows = dir_repo.find(session, pathways=[referral.pathway_id], areas=areas)
    services = [from_json(json.loads(r.data)) for r in rows]
    services.sort(key=lambda s: ("*" in s.areas, s.name))  # local before national
    return services[0] if services else None


def _open_items(session: Session, person: Person, rules: RuleSet) -> list[_Item]:
    out = []
    for referral in ref_repo.open_for(session, person.id):
        if referral.status not in referral_states.OPEN or referral.status == "suggested":
            continue
        out.append(
            _Item(
                referral,
                rules.pathway(referral.pathway_id),
                _service_for(session, referral, person),
                _appointment(session, referral),
            )
        )
    return out


def _private(pathway: Pathway | None) -> bool:
    """Care others could read as a diagnosis or drug use (rules: ``handout_private``)."""
    return bool(pathway and pathway.handout_private and not pathway.sensitive)


def choices(store: Store, crn: str, rules: RuleSet) -> list[Choice]:
    """What could go on the handout (for the person to choose from)."""
    with store.read() as session:
        person = require_person(session, crn)
        items = _open_items(session, person, rules)
        goals = list(goals_repo.goals_for(session, person.id, include_closed=False))
        out = [
            Choice(
                i.referral.pathway_id,
                i.pathway.name if i.pathway else "",
                bool(i.pathway and i.pathway.sensitive),
                _private(i.pathway),
            )
            for i in items
        ]
        if goals:
            out.append(Choice("goals", "Health goals"))
    return out


# ---------------------------------------------------------------- writing ---------------
def _where(service: Service) -> list[Line]:
    lines = [Line(service.name, "fact", "Where", prose=False)]
    if service.address:
        lines.append(Line(service.address, "fact", "Address", prose=False))
    if service.phone:
        lines.append(Line(service.phone, "fact", "Phone", prose=False))
    if service.hours:
        lines.append(Line(in_words(service.hours), "fact", "Open", prose=False))
    if service.co_located:
        lines.append(Line("This service is at the probation office."))
    return lines


def _bring(item: _Item) -> Line:
    docs = item.service.documents_needed if item.service else ()
    docs = tuple(d for d in docs if d in DOCUMENT_WORDS)
    if docs and item.referral.pathway_id not in NO_DOCUMENTS_RULE:
        words = [DOCUMENT_WORDS[d] for d in docs]
        text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        return Line(f"Please bring {text}.", "fact", "Bring")
    if item.referral.pathway_id in NO_DOCUMENTS_RULE:
        return Line("You do not need ID or proof of address.", "fact", "Bring")
    return Line("You do not need to bring anything.", "fact", "Bring")


def _when(item: _Item, who: str, phone: str | None) -> tuple[Line, Line]:
    """What happens next for this referral, and the step to tick off."""
    status, self_referral = item.referral.status, item.referral.self_referral
    call = f"Call {who} on {phone}" if phone else f"Contact {who}"
    if item.appointment is not None:
        when = day_words(item.appointment)
        return Line(when, "fact", "When", prose=False), Line(
            f"Go to {who} on {when}.", "check", prose=False
        )
    if status == "did-not-attend":
        text, step = (
            "You missed the last time. That is OK. Ask for a new time.",
            f"{call} to book a new time.",
        )
    elif status == "attended":
        text, step = (
            "You went. Well done. They will tell you what comes next.",
            f"Keep in touch with {who}.",
        )
    elif status == "accepted":
        text, step = (
            "They said yes. They will give you a time.",
            f"Wait for {who} to give you a time.",
        )
    elif self_referral and status == "agreed":
        text, step = "You contact them yourself. You can do it today.", f"{call}."
    elif self_referral:  # "referred": the person made contact
        text, step = (
            "You have been in touch. They will contact you.",
            f"Wait for {who} to contact you.",
        )
    elif status == "agreed":
        text, step = (
            "We will send them your details. They will contact you.",
            f"Wait for {who} to contact you.",
        )
    else:
        text, step = (
            "We have sent them your details. They will contact you.",
            f"Wait for {who} to contact you.",
        )
    return Line(text, "fact", "When"), Line(step, "check", prose=False)


def _item_section(item: _Item, *, transport: bool, worker: str) -> tuple[Section, Line | None]:
    referral, pathway, service = item.referral, item.pathway, item.service
    name = pathway.name if pathway else referral.pathway_id
    lines = [Line(pathway.for_person)] if pathway else []
    if pathway is not None and pathway.adjustment:
        return Section(name, tuple(lines)), None  # a way of working, not a place to go
    phone = service.phone if service else None
    who = service.name if service else "the service"
    when, step = _when(item, who, phone)
    lines.append(when)
    if service is not None:
        lines.extend(_where(service))
        if referral.self_referral and referral.status == "agreed" and service.how_to_refer:
            lines.append(Line(service.how_to_refer, "fact", "How", prose=False))
    lines.append(_bring(item))
    if transport and service is not None and not service.co_located and service.address:
        lines.append(
            Line(
                "If the fare or the trip is hard, tell us. We may help with the fare, or go with you.",
                "fact",
                "Getting there",
            )
        )
    if item.appointment is not None and phone:
        lines.append(Line(f"If you cannot go, call {phone} to move it.", "fact", "Cannot go"))
    elif phone:
        lines.append(
            Line(f"If you cannot go, call {phone} and ask for a new time.", "fact", "Cannot go")
        )
    else:
        lines.append(Line(f"If you cannot go, tell {worker}.", "fact", "Cannot go"))
    return Section(name, tuple(lines)), step


HELP_NOW = Section(
    "Help now, day or night",
    (
        Line("If you are in danger now, call 999.", "strong"),
        Line("If you feel unsafe or very low, call NHS 111 and choose the mental health option."),
        Line("You can call Samaritans free on 116 123, at any time."),
    ),
    kind="help",
)


def _contact(sender: office.Sender) -> Section:
    # A login name ("root", "ajones") means nothing to the person: office.yaml gives the name.
    name = sender.name if sender.worker_known else UNNAMED_WORKER.capitalize()
    lines = [Line(name, "fact", "Name", prose=False)]
    if sender.role:
        lines.append(Line(sender.role, "fact", "Role", prose=False))
    if sender.phone:
        lines.append(Line(sender.phone, "fact", "Phone", prose=False))
    if sender.office and sender.office.address:
        lines.append(Line(sender.office.address, "fact", "Office", prose=False))
    if sender.office and sender.office.hours:
        lines.append(Line(sender.office.hours_words or "", "fact", "Open", prose=False))
    if not sender.phone:
        lines.append(Line("Ask for me at the probation office."))
    lines.append(Line("Call me if you have a question, or if something changes."))
    return Section("Who to contact", tuple(lines), kind="contact")


def _wants_large_print(person: Person, barriers: Sequence[str]) -> bool:
    needs = (person.communication_needs or "").casefold()
    return "low-literacy" in barriers or any(w in needs for w in LARGE_PRINT_WORDS)


def build(
    store: Store,
    crn: str,
    rules: RuleSet,
    *,
    include: Sequence[str] | None = None,
    large_print: bool = False,
) -> Handout:
    """The handout for ``crn`` (nothing written, nothing audited: see :func:`produce`)."""
    today = clock.today()
    with store.read() as session:
        person = require_person(session, crn)
        items = _open_items(session, person, rules)
        goals = list(goals_repo.goals_for(session, person.id, include_closed=False))
        barriers = list(needs_repo.open_barriers(session, person.id))
        if include is not None:
            wanted = {k.strip().lower() for k in include if k.strip()}
            known = {i.referral.pathway_id for i in items} | ({"goals"} if goals else set())
            unknown = sorted(wanted - known)
            if unknown:
                have = ", ".join(sorted(known)) or "nothing yet"
                raise BadInput(
                    f"{unknown[0]!r} is not on {person.crn}'s list; {{opt:include}} takes: {have}."
                )
            items = [i for i in items if i.referral.pathway_id in wanted]
            goals = goals if "goals" in wanted else []
        private = [
            i
            for i in items
            if i.pathway and (i.pathway.sensitive or _private(i.pathway)) and include is None
        ]
        items = [i for i in items if i not in private]
        sender = office.sender(
            store.actor,
            person.office,
            demo_person=person.crn.startswith("Z"),
            stand_in=f"the handout says {UNNAMED_WORKER!r} instead",
        )
        adjustments = []
        if large_print or _wants_large_print(person, barriers):
            large_print = True
            adjustments.append("large-print")
        intro = [
            Line("This sheet says what happens next. Keep it safe. You decide who sees it."),
        ]
        if person.needs_interpreter or "language" in barriers:
            # The sheet is in English: "an interpreter for English" tells them nothing.
            language = person.language if not is_english(person.language) else None
            intro.append(
                Line(f"We can get a free interpreter for {language}. Just ask us.")
                if language
                else Line("We can get you a free interpreter. Just ask us.")
            )
            adjustments.append("interpreter")
        sections: list[Section] = []
        steps: list[Line] = []
        worker = sender.name if sender.worker_known else UNNAMED_WORKER
        for item in items:
            section, step = _item_section(item, transport="transport" in barriers, worker=worker)
            sections.append(section)
            if step is not None:
                steps.append(step)
        if not items:
            intro.append(
                Line("We have not agreed any next steps yet. We will talk about them soon.")
            )
        goal_lines = []
        for goal in goals:
            when = ""
            if goal.target_date and goal.target_date >= clock.today():
                when = f" By {day_words(goal.target_date)}."
            elif goal.target_date:  # a date gone by reads as a goal failed: agree a new one
                when = " We will agree a new date for this together."
            goal_lines.append(Line(f"{goal.text}.{when}".replace("..", "."), "check", prose=False))
        if goal_lines:
            sections.append(
                Section(
                    "Your health goals",
                    (Line("These are the goals you set with your health trainer."), *goal_lines),
                    kind="goals",
                )
            )
        if steps:
            sections.insert(
                0,
                Section(
                    "Your next steps",
                    (Line("Tick each step when it is done."), *steps),
                    kind="steps",
                ),
            )
        sections.append(HELP_NOW)
        sections.append(_contact(sender))
        document = Document(
            kind="handout",
            title=f"What happens next, for {person.given_name}",
            intro=tuple(intro),
            sections=tuple(sections),
            large_print=large_print,
            footer="Made with probhealth. Keep this sheet safe.",
            meta={"Date": day_words(today)},
        )
        return Handout(
            crn=person.crn,
            document=document,
            referral_ids=tuple(i.referral.id or 0 for i in items),
            goal_ids=tuple(g.id or 0 for g in goals),
            adjustments=tuple(adjustments),
            sender_missing=sender.missing,
            left_out_sensitive=tuple(dict.fromkeys(i.referral.pathway_id for i in private)),
        )


def produce(
    store: Store,
    crn: str,
    rules: RuleSet,
    *,
    out: Path | None = None,
    force: bool = False,
    include: Sequence[str] | None = None,
    large_print: bool = False,
) -> Handout:
    """Build the handout, write it to ``out`` (format by extension; None: shown as text) and
    record it in the audit log (a hash of the content, never the content)."""
    fmt = target_format(out, force=force)  # refuse before any work
    handout = build(store, crn, rules, include=include, large_print=large_print)
    path, digest = write_produced(
        store,
        crn,
        handout.document,
        fmt,
        out,
        force=force,
        action="handout.produce",
        entity="person",
        detail={
            "referrals": list(handout.referral_ids),
            "goals": list(handout.goal_ids),
            "large_print": handout.document.large_print,
        },
    )
    from dataclasses import replace

    return replace(handout, format=fmt, path=path, sha256=digest)


def target_format(out: Path | None, *, force: bool) -> str:
    """The format a document goes out in (by the extension of ``out``; none: text on the
    screen), after refusing a target that may not be written."""
    fmt = format_for(out) if out is not None else "txt"
    if out is not None:
        atomicfile.check_target(out, force=force)
    return fmt


def write_produced(
    store: Store,
    crn: str,
    document: Document,
    fmt: str,
    out: Path | None,
    *,
    force: bool,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any],
) -> tuple[Path | None, str]:
    """Render ``document`` as ``fmt``, write it to ``out`` (None: shown, not written) and
    record it with ``record_produced``: the format ("terminal" when not written) and a hash
    of the content, never the content. A file whose event cannot be recorded is removed (not
    audited: not produced). The path written (or None) and the hash."""
    data = render(document, fmt)
    digest = hashlib.sha256(data).hexdigest()
    path = atomicfile.write_bytes(out, data, force=force) if out is not None else None
    try:
        record_produced(
            store,
            crn,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail={**detail, "format": fmt if out is not None else "terminal", "sha256": digest},
        )
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return path, digest


def record_produced(
    store: Store,
    crn: str,
    *,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any],
) -> None:
    """One audit event for a document produced about ``crn``."""
    with store.write() as session:
        person = require_person(session, crn)
        audit.append(
            session,
            actor=store.actor,
            action=action,
            entity=entity,
            entity_id=entity_id if entity_id is not None else person.id,
            detail={**detail, "person": person.id},
        )


def is_english(language: str | None) -> bool:
    """No language recorded, or English (the language the documents are written in)."""
    return not language or language.strip().casefold() in ("english", "en", "eng")
