"""Letters to the NHS: a referral letter to the GP or a service, and a letter that supports a
person registering with a GP practice.

Consent binds. A referral letter shares the person's details, so it needs their
``share-with-gp`` (``to="gp"``) or ``share-with-services`` (``to="service"``) consent, given
and not withdrawn; otherwise it is refused before anything is written or audited.

Only what the pathway needs goes in. The reasons are those of the rules that suggested this
pathway; the scores are those of the scales those rules used (a dentist letter carries no mood
scores); safety flags appear only when they bear on the same answers. Items marked
``sensitive`` in the questionnaire never appear: a reason, flag or detail that uses one is left
out (the letter says a concern was raised, not what it was).

Every letter produced is recorded in the audit log: who, which person, which referral, the
format and a hash of the content (never the content).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from probhealth import clock, taxonomy, validation
from probhealth.documents import Document, Line, Section
from probhealth.errors import BadInput, Conflict, ConsentRequired, Remedy
from probhealth.questionnaire.model import Questionnaire
from probhealth.rules.model import RuleSet
from probhealth.services import definitions, office, sensitive
from probhealth.services.consent import state_words
from probhealth.services.handout import day_words, is_english, target_format, write_produced
from probhealth.services.people import require_person
from probhealth.services.referrals import require_referral
from probhealth.store import directory as dir_repo
from probhealth.store import needs as needs_repo
from probhealth.store import people as people_repo
from probhealth.store import referrals as ref_repo
from probhealth.store import screenings as screening_repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Person, Referral

RECIPIENTS = {"gp": "share-with-gp", "service": "share-with-services"}
CONSENT_WORDS = {"share-with-gp": "their GP", "share-with-services": "services we refer them to"}
NO_FIXED_ADDRESS = "No fixed address. Please use the probation office address for letters"
# Answers that help a service make reasonable adjustments, and medicine supply worries: each
# with its label in the letter and the answers worth telling (shown unless marked sensitive).
ADJUSTMENT_ITEMS: dict[str, tuple[str, frozenset[str]]] = {
    "learning_difficulty": ("Learning disability", frozenset({"yes", "not sure"})),
    "autism_adhd": ("Autism or ADHD", frozenset({"told", "think"})),
    "sils_1": ("Reading help", frozenset({"sometimes", "often", "always"})),
    "unavailable_times": ("Cannot attend", frozenset()),  # every answer but "none"
}
# The urgency, first thing on the letter, and what it asks the reader to do about it.
# Worded for any pathway: a same-day GP registration is not "see them today".
URGENCY_WORDS = {
    "emergency": "Emergency: please act on this today.",
    "same-day": "Same day: please act on this today.",
    "soon": "Soon: please act on this in the next few days.",
}
URGENCY_ASK = {
    "emergency": "Please act on this today.",
    "same-day": "Please act on this today.",
    "soon": "Please act on this in the next few days.",
}
# The person's answers in the reader's words: the option labels are theirs, in the first
# person ("I think I might"), or one word that needs the question beside it ("Often").
ANSWER_WORDS: dict[str, dict[str, str]] = {
    "learning_difficulty": {
        "yes": "Yes: told they have one, or had extra help at school",
        "not sure": "Not sure",
    },
    "autism_adhd": {
        "told": "They have been told they have autism or ADHD",
        "think": "They think they may have autism or ADHD (not diagnosed)",
    },
    "sils_1": {
        "sometimes": "Sometimes needs help to read letters and leaflets about their health",
        "often": "Often needs help to read letters and leaflets about their health",
        "always": "Always needs help to read letters and leaflets about their health",
    },
    "medication_supply": {
        "no": "No: they may run out within a week",
        "not sure": "Not sure: they may run out within a week",
    },
}
ASK_WHAT_WAS_DONE = "Please call us to ask what was done."
MEDICINE_ITEMS: dict[str, tuple[str, frozenset[str]]] = {
    "medication_supply": ("Enough medicine for a week", frozenset({"no", "not sure"})),
}


@dataclass(frozen=True)
class Letter:
    crn: str
    kind: str  # referral | gp-registration
    referral_id: int | None
    to: str
    document: Document
    sender_missing: tuple[str, ...]
    left_out: int  # reasons or flags left out because they use sensitive items
    format: str | None = None
    path: Path | None = None
    sha256: str | None = None

    def text(self) -> str:
        from probhealth.documents.text import render_text

        return render_text(self.document)

    def to_json(self) -> dict[str, Any]:
        return {
            "crn": self.crn,
            "kind": self.kind,
            "referral": self.referral_id,
            "to": self.to,
            "format": self.format,
            "file": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "left_out_sensitive": self.left_out,
            "document": self.document.to_json(),
        }


def sensitive_items(q: Questionnaire | None) -> frozenset[str]:
    """The items marked ``sensitive: true`` in the questionnaire."""
    if q is None:
        return frozenset()
    return frozenset(i.id for i in q.items if getattr(i, "sensitive", False))


def _uses(names: Iterable[tuple[str, str]], hidden: frozenset[str]) -> bool:
    return any(root == "answers" and attr in hidden for root, attr in names)


# ---------------------------------------------------------------- common parts ----------
def _person_section(person: Person, sender: office.Sender, *, no_fixed_address: bool) -> Section:
    lines = [
        Line(f"{person.given_name} {person.family_name}", "fact", "Name", prose=False),
        Line(day_words(person.dob).split(" ", 1)[1], "fact", "Born", prose=False),
    ]
    if no_fixed_address or not (person.postcode or person.address):
        where = NO_FIXED_ADDRESS
        if sender.office and sender.office.address:
            where += f": {sender.office.address}"
        lines.append(Line(where + ".", "fact", "Address", prose=False))
    elif person.address:
        full = ", ".join(part for part in (person.address, person.postcode) if part)
        lines.append(Line(full, "fact", "Address", prose=False))
    elif person.postcode:
        lines.append(Line(person.postcode, "fact", "Postcode", prose=False))
    if person.nhs_number:
        lines.append(
            Line(validation.nhs_number_display(person.nhs_number), "fact", "NHS number", False)
        )
    lines.append(Line(person.crn, "fact", "Our ref", prose=False))
    return Section("About the person", tuple(lines), kind="details")


def _sender_section(sender: office.Sender) -> Section:
    lines = [Line(sender.name, "fact", "Name", prose=False)]
    if sender.role:
        lines.append(Line(sender.role, "fact", "Role", prose=False))
    if sender.phone:
        lines.append(Line(sender.phone, "fact", "Phone", prose=False))
    if sender.email:
        lines.append(Line(sender.email, "fact", "Email", prose=False))
    if sender.office and sender.office.address:
        lines.append(Line(sender.office.address, "fact", "Office", prose=False))
    return Section("Contact", tuple(lines), kind="contact")


def _meta(sender: office.Sender, to: str, urgency: str | None = None) -> dict[str, str]:
    who = sender.name + (f", {sender.role}" if sender.role else "")
    if sender.office:
        who += f", {sender.office.name} probation office"
    meta = {"From": who, "To": to, "Date": day_words(clock.today())}
    if urgency:
        meta["Urgency"] = urgency.replace("-", " ").capitalize()
    return meta


def _ask(urgency: str | None, sender: office.Sender, barriers: dict[str, Any]) -> str:
    """What the reader is asked to do, and how to reach the person: the letter carries no
    phone number for them, so the way to agree a time goes through us."""
    when = URGENCY_ASK.get(urgency or "", "Please offer them a first appointment.")
    us = f"call us on {sender.phone}" if sender.phone else "contact us"
    if "digital-exclusion" in barriers:
        return f"{when} They may have no phone or internet: please {us} to agree a time."
    return f"{when} To agree a time, please contact them or {us}."


def _write_and_audit(
    store: Store, letter: Letter, fmt: str, out: Path | None, force: bool
) -> Letter:
    path, digest = write_produced(
        store,
        letter.crn,
        letter.document,
        fmt,
        out,
        force=force,
        action="letter.produce",
        entity="referral" if letter.referral_id is not None else "person",
        entity_id=letter.referral_id,
        detail={"kind": letter.kind, "to": letter.to},
    )
    return replace(letter, format=fmt, path=path, sha256=digest)


# ---------------------------------------------------------------- referral letter -------
def _consent_line(session: Session, person: Person, purpose: str) -> str:
    current = people_repo.current_consents(session, person.id).get(purpose)
    if current is None or current.status != "given":
        state = state_words(None if current is None else current.status)
        raise ConsentRequired(
            f"This letter shares {person.crn}'s details with {CONSENT_WORDS[purpose]}, and their "
            f"consent to that ({purpose}) {state}; nothing was written.",
            remedy=Remedy.of("record-consent", crn=person.crn, purpose=purpose),
            purpose=purpose,
            status=None if current is None else current.status,
        )
    how = {"verbal": "verbally", "written": "in writing"}.get(current.method or "", "")
    when = day_words(clock.to_london(current.recorded_at).date())
    return (
        f"{person.given_name} agreed on {when}{' ' + how if how else ''} that we may share this "
        f"information with {CONSENT_WORDS[purpose]}. Recorded by {current.recorded_by}."
    )


def _why(
    session: Session, referral: Referral, rules: RuleSet, q: Questionnaire | None
) -> tuple[list[Line], set[str], set[tuple[str, str]], int]:
    """The reasons (rules), the scales they used, every name they used, and how many were left
    out for using sensitive items."""
    hidden = sensitive_items(q)
    rule_map = {r.id: r for r in rules.rules}
    lines: list[Line] = []
    scales: set[str] = set()
    names: set[tuple[str, str]] = set()
    left_out = 0
    for reason in json.loads(referral.reasons or "[]"):
        rule = rule_map.get(reason.get("rule", ""))
        used = set(rule.when.names) | set(rule.because.names) if rule else set()
        if rule is None or _uses(used, hidden):
            left_out += 1
            continue
        names |= used
        if rule is not None and "flag_severities" in rule.when.collections:
            names.add(("flags", "*"))  # the rule looks at every flag raised
        scales |= {attr for root, attr in used if root in ("scores", "bands")}
        lines.append(Line(str(reason.get("because", "")), "para", prose=False))
    return lines, scales, names, left_out


def _screening_parts(
    session: Session,
    referral: Referral,
    q: Questionnaire | None,
    scales: set[str],
    names: set[tuple[str, str]],
) -> tuple[list[Line], list[Line], list[Line], list[Line], int]:
    """Scores, safety flags, adjustment answers and medicine answers from the screening."""
    if referral.screening_id is None or q is None:
        return [], [], [], [], 0
    from probhealth.services.screening import decode_answers  # one decoder for answers

    hidden = sensitive_items(q)
    sid = referral.screening_id
    score_lines = []
    for row in screening_repo.scores(session, sid):
        if row.scale_id not in scales:
            continue
        title = q.scale(row.scale_id).title
        band = f", {row.band}" if row.band else ""
        score_lines.append(Line(f"{row.value}{band}", "fact", title, prose=False))
    flag_lines = []
    left_out = 0
    answer_names = {attr for root, attr in names if root == "answers"}
    for scale in q.scales:  # a flag on an item of a scale the rules used bears on it too
        if scale.id in scales:
            answer_names |= set(scale.items)
    for flag in screening_repo.flags(session, sid):
        definition = q.flag(flag.flag_id)
        if definition is None or definition.severity == "info":
            continue  # safety flags only (emergency, same day)
        used = set(definition.when.names)
        bears = (
            {a for r, a in used if r == "answers"} & answer_names
            or ("flags", flag.flag_id) in names
            or ("flags", "*") in names
        )
        if not bears:
            continue
        # Only the acknowledgement is recorded, not what was done: the flag's steps are the
        # worker's checklist ("tell your manager"), and quoting them read as actions taken.
        done = (
            "The worker acknowledged it on "
            f"{day_words(clock.to_london(flag.acknowledged_at).date())}. {ASK_WHAT_WAS_DONE}"
            if flag.acknowledged_at
            else f"It was shown to the worker at the time. {ASK_WHAT_WAS_DONE}"
        )
        if _uses(used, hidden):
            left_out += 1
            flag_lines.append(Line(f"A safety concern was raised. {done}", prose=False))
            continue
        flag_lines.append(Line(f"{definition.title}: {definition.message} {done}", prose=False))
    stored = screening_repo.answers(session, sid, include_hidden=False)
    answers = decode_answers(q, {k: v for k, v in stored.items() if k not in hidden})
    extra: list[Line] = []
    medicine: list[Line] = []
    for item_id, (label, worth) in (*ADJUSTMENT_ITEMS.items(), *MEDICINE_ITEMS.items()):
        if item_id in hidden or item_id not in answers:
            continue
        value = answers[item_id]
        if not isinstance(value, str | int | list):  # absent, declined
            continue
        values = [v for v in (value if isinstance(value, list) else [value]) if v != "none"]
        if worth:
            values = [v for v in values if str(v) in worth]
        if not values:
            continue
        item = q.item(item_id)
        said = ANSWER_WORDS.get(item_id, {})
        words = [
            said.get(str(v)) or next((o.label for o in item.options if o.value == v), str(v))
            for v in values
        ]
        line = Line(", ".join(words), "fact", label, prose=False)
        (medicine if item_id in MEDICINE_ITEMS else extra).append(line)
    return score_lines, flag_lines, extra, medicine, left_out


def referral_letter(
    store: Store,
    referral_id: int,
    rules: RuleSet,
    *,
    to: str = "service",
    out: Path | None = None,
    force: bool = False,
) -> Letter:
    """A referral letter for ``referral_id`` to the GP or the service; refused without consent."""
    to = to.strip().lower()
    if to not in RECIPIENTS:
        raise BadInput("{opt:to} must be gp or service.")
    purpose = RECIPIENTS[to]
    with store.read() as session:
        referral, person = require_referral(session, referral_id)
        consent = _consent_line(session, person, purpose)  # refuses first: nothing written
        fmt = target_format(out, force=force)
        pathway = rules.pathway(referral.pathway_id)
        pathway_name = pathway.name if pathway else referral.pathway_id
        q = None
        screening = None
        if referral.screening_id is not None:
            screening = screening_repo.screening(session, referral.screening_id)
            if screening is not None and screening.status == "voided":
                # Perhaps another person's answers: nothing from it goes in a letter.
                raise Conflict(
                    f"Referral {referral.id} was made from screening {screening.id}, which was "
                    f"voided ({screening.void_reason}); no letter was written.",
                    hint="Withdraw the referral if it was wrong, or refer again from a current screening.",
                )
            if screening is not None:
                q = definitions.stored_questionnaire(
                    session, screening.questionnaire_id, screening.questionnaire_version
                )
        # A pathway there only because of a sensitive answer (domestic abuse support, or a
        # safeguarding referral the domestic abuse answer raised) is never named (hazard H23).
        private = sensitive.referral_is_sensitive(session, referral, rules, q)
        sender = office.sender(store.actor, person.office, demo_person=person.crn.startswith("Z"))
        service = None
        if referral.service_id:
            row = dir_repo.get(session, referral.service_id)
            service = row.name if row else None
        recipient = "The GP practice" if to == "gp" else (service or f"The {pathway_name} team")
        if private:
            recipient = "The GP practice" if to == "gp" else "The service"
        barriers = needs_repo.open_barriers(session, person.id)
        why, scales, names, left_reasons = _why(session, referral, rules, q)
        if private:  # every reason is the sensitive answer's: none is given
            left_reasons += len(why)
            why = []
        parts = _screening_parts(session, referral, q, scales, names)
        scores, flags, extra, medicine, left_flags = parts
        events = list(ref_repo.events(session, referral.id or 0))
        asks = next((e.note for e in events if e.note), None)
        sections = [
            _person_section(person, sender, no_fixed_address="no-fixed-address" in barriers)
        ]
        reason_lines = [
            Line(
                f"{person.given_name} agreed to this referral"
                + ("." if private else f" ({pathway_name})."),
                prose=False,
            ),
            *why,
        ]
        if referral.screening_id is not None and q is not None:
            done = screening.completed_at if screening is not None else None
            on = f" on {day_words(clock.to_london(done).date())}" if done else ""
            reason_lines.append(
                Line(f"From a health screening{on} ({q.title}).", prose=False),
            )
        reason_lines.extend(scores)
        if left_reasons:
            reason_lines.append(
                Line("Some reasons are not given here: the person asked to keep them private.")
            )
        sections.append(Section("Why we are referring", tuple(reason_lines)))
        if flags:
            sections.append(Section("Flags raised at the screening", tuple(flags)))
        ask = Line(_ask(referral.urgency, sender, barriers), prose=False)
        sections.append(
            Section("What they ask for", (Line(asks, prose=False), ask) if asks else (ask,))
        )
        adjustments = _adjustments(person, barriers, extra)
        if adjustments:
            sections.append(Section("Barriers and reasonable adjustments", tuple(adjustments)))
        if medicine:
            sections.append(Section("Medicines", tuple(medicine)))
        sections.append(_sender_section(sender))
        sections.append(Section("Consent", (Line(consent, prose=False),)))
        document = Document(
            kind="letter",
            title="Referral" if private else f"Referral: {pathway_name}",
            intro=(
                *(
                    (Line(URGENCY_WORDS[referral.urgency], "strong", prose=False),)
                    if referral.urgency in URGENCY_WORDS
                    else ()
                ),
                Line(
                    f"I am writing about {person.given_name} {person.family_name}, who is under "
                    "probation supervision with us. They have agreed to this referral.",
                    prose=False,
                ),
            ),
            sections=tuple(sections),
            meta=_meta(sender, recipient, referral.urgency),
            footer="Confidential: health information shared with consent.",
        )
        letter = Letter(
            crn=person.crn,
            kind="referral",
            referral_id=referral.id,
            to=to,
            document=document,
            sender_missing=sender.missing,
            left_out=left_reasons + left_flags,
        )
    return _write_and_audit(store, letter, fmt, out, force)


def _adjustments(person: Person, barriers: dict[str, Any], extra: list[Line]) -> list[Line]:
    lines = []
    if person.needs_interpreter or "language" in barriers:
        lines.append(
            Line(
                "They need an interpreter ("
                + ("language not recorded" if is_english(person.language) else str(person.language))
                + ").",
                "fact",
                "Interpreter",
                prose=False,
            )
        )
    elif person.language and person.language.casefold() != "english":
        lines.append(Line(person.language, "fact", "Language", prose=False))
    if person.communication_needs:
        lines.append(Line(person.communication_needs, "fact", "Communication", prose=False))
    if barriers:
        words = "; ".join(taxonomy.BARRIER_TYPES.get(key, key) for key in barriers)
        lines.append(Line(words, "fact", "Barriers", prose=False))
    lines.extend(extra)
    return lines


# ---------------------------------------------------------------- GP registration -------
def gp_registration_letter(
    store: Store,
    crn: str,
    *,
    office_address: bool = False,
    out: Path | None = None,
    force: bool = False,
) -> Letter:
    """A letter the person takes to any GP practice to support registering. It shares
    nothing beyond their name and date of birth, which they give the practice themselves."""
    fmt = target_format(out, force=force)
    with store.read() as session:
        person = require_person(session, crn)
        sender = office.sender(store.actor, person.office, demo_person=person.crn.startswith("Z"))
        barriers = needs_repo.open_barriers(session, person.id)
        no_address = "no-fixed-address" in barriers or not (person.postcode or person.address)
        details = [
            Line(f"{person.given_name} {person.family_name}", "fact", "Name", prose=False),
            Line(day_words(person.dob).split(" ", 1)[1], "fact", "Born", prose=False),
        ]
        if person.nhs_number:
            details.append(
                Line(validation.nhs_number_display(person.nhs_number), "fact", "NHS number", False)
            )
        sections = [
            Section("About the person", tuple(details), kind="details"),
            Section(
                "What the NHS guidance says",
                (
                    Line(
                        "NHS England guidance says that anyone in England can register with a "
                        "GP practice, free of charge."
                    ),
                    Line(
                        "No proof of address, ID or immigration status is needed to register. "
                        "Not being able to show ID or proof of address is not a reason to refuse."
                    ),
                    Line(
                        "A person with no fixed abode can register. They may use a temporary "
                        "address, a day centre or the practice address."
                    ),
                    Line(
                        "Temporary registration is possible for 24 hours to 3 months. "
                        "A refusal must be given in writing within 14 days."
                    ),
                ),
            ),
        ]
        if office_address and sender.office and sender.office.address:
            sections.append(
                Section(
                    "Address for letters",
                    (
                        Line(
                            f"{person.given_name} agrees that letters may be sent to them at "
                            "the probation office:",
                            prose=False,
                        ),
                        Line(sender.office.address, "fact", "Address", prose=False),
                    ),
                )
            )
        elif no_address:
            sections.append(
                Section(
                    "Address for letters",
                    (
                        Line(
                            "They have no fixed address. Please register them with a "
                            "temporary address or the practice address."
                        ),
                    ),
                )
            )
        sections.append(_sender_section(sender))
        document = Document(
            kind="letter",
            title="Supporting registration with a GP practice",
            intro=(
                Line(
                    f"{person.given_name} {person.family_name} would like to register with "
                    "your practice. We support them and ask you to register them.",
                    prose=False,
                ),
            ),
            sections=tuple(sections),
            meta=_meta(sender, "The practice manager"),
            footer="Given to the person to take to the practice.",
        )
        letter = Letter(
            crn=person.crn,
            kind="gp-registration",
            referral_id=None,
            to="gp",
            document=document,
            sender_missing=sender.missing,
            left_out=0,
        )
    return _write_and_audit(store, letter, fmt, out, force)
