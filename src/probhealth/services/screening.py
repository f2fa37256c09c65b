"""Screenings: start or resume one, save each answer the moment it is given, raise flags,
finish with scores, needs and barriers; or run a whole answers file in one go.

The questionnaire a screening was started with is stored (``questionnaire_def``) and used for
every later look at it, so a newer bundled questionnaire never changes how old answers read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from probhealth import clock, expr, validation
from probhealth.errors import BadInput, Conflict, NotFound, Remedy
from probhealth.questionnaire import answers as answer_parsing
from probhealth.questionnaire.engine import Evaluation, PersonFacts, evaluate
from probhealth.questionnaire.model import FlagDef, Questionnaire
from probhealth.rules.engine import could_apply_advice
from probhealth.rules.model import RuleSet
from probhealth.services import consent, definitions, suggest
from probhealth.services.people import PersonRecord, effective_nation, require_person, to_record
from probhealth.store import audit
from probhealth.store import needs as needs_repo
from probhealth.store import people as people_repo
from probhealth.store import referrals as ref_repo
from probhealth.store import screenings as repo
from probhealth.store.db import Session, Store
from probhealth.store.models import Barrier, Flag, Need, Person, Score, Screening
from probhealth.taxonomy import URGENT
from probhealth.textsafe import clean_name, clean_note


# ---------------------------------------------------------------- records ----------------
@dataclass(frozen=True)
class FlagRecord:
    flag_id: str
    severity: str
    title: str
    message: str
    actions: tuple[str, ...]
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.flag_id,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "actions": list(self.actions),
            "raised_at": clock.iso_utc(self.raised_at),
            "acknowledged": self.acknowledged_at is not None,
            "acknowledged_at": clock.iso_utc(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass(frozen=True)
class AnswerView:
    item_id: str
    section: str
    text: str
    value: Any
    label: str
    declined: bool
    implied: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item_id,
            "section": self.section,
            "question": self.text,
            "value": None if self.declined else answer_parsing.to_storage(self.value),
            "label": self.label,
            "declined": self.declined,
            "implied": self.implied,
        }


@dataclass(frozen=True)
class ScoreView:
    scale_id: str
    title: str
    value: int | None
    band: str | None
    min: int
    max: int
    missing: tuple[str, ...]
    status: str = "complete"  # complete | incomplete | not-asked
    at_least: int = 0  # what the answered items prove
    at_most: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "value": self.value,
            "band": self.band,
            "range": [self.min, self.max],
            "missing": list(self.missing),
        }

    def partial_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "at_least": self.at_least,
            "at_most": self.at_most,
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class CouldApply:
    """A flag the answers could meet but do not prove (a partly answered scale, a declined
    answer): the worker asks again or uses their judgement."""

    flag_id: str
    severity: str
    title: str
    why: tuple[str, ...]

    @property
    def advice(self) -> str:
        return could_apply_advice(self.why)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.flag_id,
            "severity": self.severity,
            "title": self.title,
            "why": list(self.why),
            "advice": self.advice,
        }


# Why a completed screening was voided (issue 13 item 6). "other" needs a note.
VOID_REASONS = (
    ("wrong-person", "Entered for the wrong person"),
    ("entered-in-error", "Answers entered wrongly"),
    ("duplicate", "The same screening entered twice"),
    ("other", "Another reason (say which in a note)"),
)


@dataclass(frozen=True)
class VoidInfo:
    """A voided screening: kept, shown as voided, never used for suggestions, reports or
    "last screened"."""

    at: datetime
    by: str
    reason: str
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": clock.iso_utc(self.at),
            "by": self.by,
            "reason": self.reason,
            "note": self.note,
        }


def _void_info(row: Screening) -> VoidInfo | None:
    if row.status != "voided" or row.voided_at is None:
        return None
    return VoidInfo(row.voided_at, row.voided_by or "", row.void_reason or "other", row.void_note)


@dataclass(frozen=True)
class ScreeningDetail:
    id: int
    crn: str
    questionnaire_id: str
    questionnaire_version: int
    questionnaire_title: str
    questionnaire_hash: str
    status: str
    setting: str | None
    started_by: str
    started_at: datetime
    completed_at: datetime | None
    answers: tuple[AnswerView, ...]
    scores: tuple[ScoreView, ...]
    flags: tuple[FlagRecord, ...]
    needs: tuple[tuple[str, str], ...]
    barriers: tuple[str, ...]
    questions_asked: int
    ignored: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    next_item: str | None = None
    could_apply: tuple[CouldApply, ...] = ()
    voided: VoidInfo | None = None

    def score(self, scale_id: str) -> ScoreView | None:
        return next((s for s in self.scores if s.scale_id == scale_id), None)

    def unacknowledged(self) -> tuple[FlagRecord, ...]:
        """Urgent flags (emergency, same-day) nobody has acknowledged yet."""
        return tuple(f for f in self.flags if f.acknowledged_at is None and f.severity in URGENT)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crn": self.crn,
            "questionnaire": {
                "id": self.questionnaire_id,
                "version": self.questionnaire_version,
                "title": self.questionnaire_title,
                "hash": self.questionnaire_hash,
            },
            "status": self.status,
            "setting": self.setting,
            "started_by": self.started_by,
            "started_at": clock.iso_utc(self.started_at),
            "completed_at": clock.iso_utc(self.completed_at),
            "questions_asked": self.questions_asked,
            "next_item": self.next_item,
            "answers": [a.to_json() for a in self.answers],
            "scores": {s.scale_id: s.to_json() for s in self.scores if s.value is not None},
            "incomplete_scales": {
                s.scale_id: list(s.missing) for s in self.scores if s.value is None
            },
            "partial_scales": {
                s.scale_id: s.partial_json() for s in self.scores if s.value is None
            },
            "flags": [f.to_json() for f in self.flags],
            "could_apply": [c.to_json() for c in self.could_apply],
            "needs": [{"domain": d, "severity": sev} for d, sev in self.needs],
            "barriers": list(self.barriers),
            "ignored_answers": list(self.ignored),
            "voided": self.voided.to_json() if self.voided else None,
        }


@dataclass(frozen=True)
class ScreeningSummary:
    id: int
    status: str
    questionnaire: str
    started_at: datetime
    completed_at: datetime | None
    started_by: str
    flags: int
    voided: VoidInfo | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "questionnaire": self.questionnaire,
            "started_at": clock.iso_utc(self.started_at),
            "completed_at": clock.iso_utc(self.completed_at),
            "started_by": self.started_by,
            "flags": self.flags,
            "voided": self.voided.to_json() if self.voided else None,
        }


# ---------------------------------------------------------------- helpers ----------------
def person_facts(person: Person | PersonRecord) -> PersonFacts:
    return PersonFacts(
        age=clock.age_on(person.dob, clock.today()),
        sex=person.sex,
        release_date=person.release_date,
        nation=effective_nation(person.nation),
        stage=person.stage,
    )


def decode_answers(q: Questionnaire, stored: dict[str, tuple[Any, bool]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item_id, (value, declined) in stored.items():
        if not q.has_item(item_id):
            continue
        out[item_id] = (
            expr.DECLINED if declined else answer_parsing.from_storage(q.item(item_id), value)
        )
    return out


def _flag_record(q: Questionnaire, row: Flag) -> FlagRecord:
    definition = q.flag(row.flag_id)
    return FlagRecord(
        flag_id=row.flag_id,
        severity=row.severity,
        title=row.title,
        message=definition.message if definition else "",
        actions=definition.actions if definition else (),
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


def check_consent(session: Session, person: Person) -> None:
    """Screening is voluntary: it needs ``screening`` consent, given."""
    consent.require(session, person, "screening", f"Screening {person.crn}")


# ---------------------------------------------------------------- guided screening ------
@dataclass
class Active:
    """A screening in progress, held in memory by the guided runner."""

    screening_id: int
    crn: str
    questionnaire: Questionnaire
    person: PersonFacts
    answers: dict[str, Any]
    raised: dict[str, bool]  # flag id -> acknowledged
    resumed: bool
    set_aside: int | None = None  # the unfinished screening a restart abandoned (kept)
    token: str | None = None  # this session's hold on the screening (see ``begin``)
    taken_from: str | None = None  # "NAME on HOST": the session a take-over took it from
    _evaluation: Evaluation | None = field(default=None, repr=False)

    def evaluation(self) -> Evaluation:
        if self._evaluation is None:
            self._evaluation = evaluate(
                self.questionnaire, self.answers, self.person, clock.today()
            )
        return self._evaluation

    def unacknowledged(self) -> tuple[FlagDef, ...]:
        q = self.questionnaire
        defs = [q.flag(fid) for fid, ack in self.raised.items() if not ack]
        return tuple(d for d in defs if d is not None and d.severity in URGENT)


# ---------------------------------------------------------------- one session at a time --
def _host() -> str:
    import socket

    return clean_name(socket.gethostname() or "this computer", "host", max_len=64)


def _process_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's (PermissionError) or unknown: assume alive
        return True
    return True


def _held_elsewhere(row: Screening) -> bool:
    """Is another live session working on this screening? A hold left by a session on this
    computer whose process has ended (killed, crashed) is stale; so is this process's own."""
    if row.held_token is None:
        return False
    if row.held_host == _host() and row.held_pid is not None:
        import os

        if row.held_pid == os.getpid() or not _process_alive(row.held_pid):
            return False
    return True


def _holder(row: Screening) -> str:
    since = clock.show(row.held_at) if row.held_at else "an unknown time"
    return f"by {row.held_by or 'someone'} on {row.held_host or 'another computer'} since {since}"


def _hold(row: Screening, actor: str, now: datetime) -> str:
    import os
    import secrets

    token = secrets.token_hex(16)
    row.held_token = token
    row.held_by = actor
    row.held_host = _host()
    row.held_pid = os.getpid()
    row.held_at = now
    return token


def _check_hold(row: Screening, active: Active, what: str) -> None:
    """Refuse a save from a session whose screening was taken over by another one."""
    if active.token is not None and row.held_token != active.token:
        raise Conflict(
            f"Screening {row.id} was taken over in another session "
            f"({_holder(row) if row.held_token else 'and has been closed'}); {what} was not saved.",
            hint="Carry on in that session; nothing it saved was overwritten.",
        )


def release(store: Store, active: Active) -> None:
    """Let go of the screening (Ctrl-C): the next ``screen`` resumes it without a question."""
    with store.write() as session:
        row = repo.screening(session, active.screening_id)
        if row is not None and active.token is not None and row.held_token == active.token:
            row.held_token = row.held_by = row.held_host = None
            row.held_pid = None
            row.held_at = None
            session.add(row)


def begin(
    store: Store,
    crn: str,
    q: Questionnaire,
    *,
    restart: bool = False,
    setting: str | None = None,
    take_over: bool = False,
    new: bool = False,
) -> Active:
    """Resume the person's unfinished screening, or start a new one (consent required).

    A new screening for someone already screened needs ``new`` (the worker was told when they
    were last screened and said yes): otherwise ``ScreenedBefore`` is raised.

    A screening is worked on by one session at a time: one open in another live session is
    refused, saying where, by whom and since when, unless ``take_over`` (then that session's
    next save is refused)."""
    setting_clean = clean_name(setting, "Setting", max_len=60) if setting else None
    now = clock.now()
    with store.write() as session:
        person = require_person(session, crn)
        check_consent(session, person)
        current = repo.open_screening(session, person.id)
        set_aside = None
        taken_from = None
        if current is not None and _held_elsewhere(current):
            if not take_over:
                raise Conflict(
                    f"Screening {current.id} for {person.crn} is open in another session "
                    f"({_holder(current)}); only one session at a time can work on it.",
                    hint="Carry on there, or, if that session has been left, take it over.",
                    remedy=Remedy.of("take-over-screening", crn=person.crn),
                )
            taken_from = (
                f"{current.held_by or 'someone'} on {current.held_host or 'another computer'}"
            )
            audit.append(
                session,
                actor=store.actor,
                action="screening.take-over",
                entity="screening",
                entity_id=current.id,
            )
        if current is not None and restart:
            set_aside = current.id
            _abandon(session, current, store.actor, now)
            current = None
        if current is None and not new:
            last = repo.latest_completed(session, person.id)
            if last is not None and last.completed_at is not None:
                assert last.id is not None
                raise ScreenedBefore(person.crn, last.id, last.completed_at)
        if current is not None:
            assert current.id is not None
            stored_q = definitions.stored_questionnaire(
                session, current.questionnaire_id, current.questionnaire_version
            )
            answers = decode_answers(stored_q, repo.answers(session, current.id))
            raised = {
                f.flag_id: f.acknowledged_at is not None for f in repo.flags(session, current.id)
            }
            token = _hold(current, store.actor, now)
            session.add(current)
            audit.append(
                session,
                actor=store.actor,
                action="screening.resume",
                entity="screening",
                entity_id=current.id,
            )
            return Active(
                current.id,
                person.crn,
                stored_q,
                person_facts(person),
                answers,
                raised,
                resumed=True,
                token=token,
                taken_from=taken_from,
            )
        row = _new_screening(session, person, q, setting_clean, store.actor, now)
        token = _hold(row, store.actor, now)
        session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="screening.start",
            entity="screening",
            entity_id=row.id,
            detail={"questionnaire": q.id, "version": q.version},
        )
        assert row.id is not None
        return Active(
            row.id,
            person.crn,
            q,
            person_facts(person),
            {},
            {},
            resumed=False,
            set_aside=set_aside,
            token=token,
            taken_from=taken_from,
        )


class ScreenedBefore(Conflict):
    """A new screening for someone already screened: the worker is told when, and asked."""

    def __init__(self, crn: str, screening_id: int, completed_at: datetime) -> None:
        self.crn = crn
        self.screening_id = screening_id
        self.completed_at = completed_at
        super().__init__(
            f"{crn} was last screened on {when_screened(completed_at)} "
            f"(screening {screening_id}); a new screening must be asked for.",
            remedy=Remedy.of("new-screening", crn=crn),
        )


def when_screened(at: datetime) -> str:
    """'02/12/2026 (today)', '25/11/2026 (7 days ago)'."""
    day = clock.to_london(at).date()
    days = (clock.today() - day).days
    ago = "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"
    return f"{day.strftime('%d/%m/%Y')} ({ago})"


@dataclass(frozen=True)
class Voided:
    screening_id: int
    crn: str
    reason: str
    open_needs: int  # needs and barriers it recorded that are still open (for the worker)
    open_referrals: int = 0  # referrals made from it that are still open


def void(store: Store, screening_id: int, *, reason: str, note: str | None = None) -> Voided:
    """Void a completed screening entered wrongly: kept (answers, flags, scores), shown as
    voided, and no longer used for suggestions, reports, open flags or "last screened". Its
    suggestion snapshot is removed (the report counts it). Audited with the coded reason."""
    codes = tuple(code for code, _ in VOID_REASONS)
    if reason not in codes:
        raise BadInput(f"Unknown {{opt:reason}} {reason!r}; use one of: {', '.join(codes)}.")
    if reason == "other" and not note:
        raise BadInput("Reason 'other' needs a {opt:note} saying why.")
    clean = clean_note(note, "Note") if note else None
    now = clock.now()
    with store.write() as session:
        row = repo.screening(session, validation.record_id(screening_id, "screening"))
        if row is None:
            raise NotFound(f"No screening {screening_id}.", remedy=Remedy.of("list-screenings"))
        if row.status != "completed":
            hint = (
                "An unfinished one is abandoned instead." if row.status == "in-progress" else None
            )
            raise Conflict(
                f"Screening {screening_id} is {row.status}; only a completed one can be voided.",
                hint=hint,
            )
        person = people_repo.by_id(session, row.person_id)
        assert person is not None and row.id is not None
        row.status = "voided"
        row.voided_at = now
        row.voided_by = store.actor
        row.void_reason = reason
        row.void_note = clean
        row.updated_at = now
        session.add(row)
        suggest.drop_snapshot(session, row.id)
        still_open = needs_repo.open_from_screening(session, row.id)
        referred = ref_repo.open_from_screening(session, row.id)
        audit.append(
            session,
            actor=store.actor,
            action="screening.void",
            entity="screening",
            entity_id=row.id,
            detail={"reason": reason, "open_needs": still_open, "open_referrals": referred},
        )
        return Voided(row.id, person.crn, reason, still_open, referred)


def find_duplicate(
    session: Session, person_id: str, q: Questionnaire, answers: dict[str, Any]
) -> int | None:
    """A screening completed today for this person with exactly these answers, if any."""
    today = clock.today()
    wanted = {
        item_id: (
            None
            if value is expr.DECLINED
            else json.loads(json.dumps(answer_parsing.to_storage(value), ensure_ascii=False)),
            value is expr.DECLINED,
        )
        for item_id, value in answers.items()
    }
    for row in repo.screenings_for(session, person_id):
        if (
            row.status == "completed"
            and row.completed_at is not None
            and clock.to_london(row.completed_at).date() == today
            and (row.questionnaire_id, row.questionnaire_version) == (q.id, q.version)
            and row.id is not None
            and repo.answers(session, row.id) == wanted
        ):
            return row.id
    return None


def _store_answer(
    session: Session, screening_id: int, item_id: str, value: Any, actor: str, now: datetime
) -> bool:
    """Store one answer (a declined one as declined); whether it changed one stored before."""
    return repo.upsert_answer(
        session,
        screening_id=screening_id,
        item_id=item_id,
        value=answer_parsing.to_storage(value),
        declined=value is expr.DECLINED,
        by=actor,
        at=now,
    )


def _raise_flags(
    session: Session, screening_id: int, flags: Iterable[FlagDef], now: datetime
) -> None:
    """A row for each flag the screening's answers raise (the worker acknowledges them)."""
    for f in flags:
        repo.add(
            session,
            Flag(
                screening_id=screening_id,
                flag_id=f.id,
                severity=f.severity,
                title=f.title,
                raised_at=now,
            ),
        )


def save_answer(store: Store, active: Active, item_id: str, value: Any) -> tuple[FlagDef, ...]:
    """Save one answer in its own transaction; return flags it newly raised."""
    q = active.questionnaire
    item = q.item(item_id)
    declined = value is expr.DECLINED
    if declined and not item.optional:
        raise BadInput(f"{item_id} needs an answer.")
    now = clock.now()
    answers = {**active.answers, item_id: value}
    evaluation = evaluate(q, answers, active.person, clock.today())
    new_flags = tuple(f for f in evaluation.flags if f.id not in active.raised)
    with store.write() as session:
        screening = repo.screening(session, active.screening_id)
        if screening is None or screening.status != "in-progress":
            raise Conflict(
                "This screening is no longer in progress (finished or abandoned elsewhere)."
            )
        _check_hold(screening, active, "this answer")
        changed = _store_answer(session, active.screening_id, item_id, value, store.actor, now)
        _raise_flags(session, active.screening_id, new_flags, now)
        screening.updated_at = now
        session.add(screening)
        audit.append(
            session,
            actor=store.actor,
            action="answer.change" if changed else "answer.save",
            entity="screening",
            entity_id=active.screening_id,
            detail={"item": item_id},
        )
        if new_flags:
            audit.append(
                session,
                actor=store.actor,
                action="flag.raise",
                entity="screening",
                entity_id=active.screening_id,
                detail={"count": len(new_flags)},
            )
    active.answers = answers
    active._evaluation = evaluation
    for f in new_flags:
        active.raised[f.id] = False
    return new_flags


def acknowledge(store: Store, active: Active, flag_ids: list[str]) -> None:
    _acknowledge(store, active.screening_id, flag_ids)
    for fid in flag_ids:
        active.raised[fid] = True


def _acknowledge(store: Store, screening_id: int, flag_ids: Sequence[str]) -> None:
    # Never refused, even after a take-over: a worker who read a safety flag has read it.
    now = clock.now()
    with store.write() as session:
        for fid in flag_ids:
            row = repo.flag(session, screening_id=screening_id, flag_id=fid)
            if row is not None and row.acknowledged_at is None:
                row.acknowledged_at = now
                row.acknowledged_by = store.actor
                session.add(row)
        audit.append(
            session,
            actor=store.actor,
            action="flag.acknowledge",
            entity="screening",
            entity_id=screening_id,
            detail={"count": len(flag_ids)},
        )


def pending_flags(
    store: Store, screening_id: int, flag_ids: Sequence[str] = ()
) -> tuple[FlagRecord, ...]:
    """Raised flags nobody has acknowledged yet: the ids named, or every emergency and
    same-day one."""
    detail = show(store, screening_id, audit_view=False)
    waiting = {f.flag_id: f for f in detail.flags if f.acknowledged_at is None}
    unknown = [f for f in flag_ids if f not in {g.flag_id for g in detail.flags}]
    if unknown:
        raised = ", ".join(f.flag_id for f in detail.flags) or "none"
        raise BadInput(f"Screening {screening_id} raised no flag {unknown[0]!r}; raised: {raised}.")
    if not flag_ids:  # by default the ones that need action: emergency and same-day
        return detail.unacknowledged()
    return tuple(waiting[f] for f in flag_ids if f in waiting)


def acknowledge_flags(store: Store, screening_id: int, flags: Sequence[FlagRecord]) -> None:
    """Record that the worker has read these flags and is acting on them (after the fact, for
    a screening run from an answers file)."""
    _acknowledge(store, screening_id, [f.flag_id for f in flags])


def finish(store: Store, active: Active) -> ScreeningDetail:
    """Complete the screening: store scores, needs and barriers; return the summary."""
    evaluation = active.evaluation()
    if not evaluation.complete:
        nxt = evaluation.next_item()
        raise BadInput(
            f"The screening is not finished: {nxt.id if nxt else '?'} has no answer yet."
        )
    now = clock.now()
    with store.write() as session:
        screening = repo.screening(session, active.screening_id)
        if screening is None or screening.status != "in-progress":
            raise Conflict("This screening is no longer in progress.")
        _check_hold(screening, active, "its completion")
        screening.held_token = screening.held_by = screening.held_host = None
        screening.held_pid = None
        screening.held_at = None
        _complete(session, store.actor, screening, evaluation, now)
    return show(store, active.screening_id, audit_view=False)


def _complete(
    session: Session,
    actor: str,
    screening: Screening,
    evaluation: Evaluation,
    now: datetime,
    rules: RuleSet | None = None,
) -> None:
    assert screening.id is not None
    repo.mark_hidden(session, screening_id=screening.id, item_ids=evaluation.ignored)
    repo.replace_scores(
        session,
        screening_id=screening.id,
        scores=[
            Score(screening_id=screening.id, scale_id=r.id, value=r.value, band=r.band)
            for r in evaluation.scores.values()
            if r.value is not None
        ],
    )
    open_needs = needs_repo.open_needs(session, screening.person_id)
    created: list[tuple[str, str, str | None, dict[str, Any] | None]] = []
    for need in evaluation.needs:
        existing = open_needs.get(need.domain)
        if existing is None:
            created.append(
                ("need.create", "need", None, {"domain": need.domain, "screening": screening.id})
            )
            repo.add(
                session,
                Need(
                    person_id=screening.person_id,
                    screening_id=screening.id,
                    domain=need.domain,
                    severity=need.severity,
                    status="identified",
                    source="screening",
                    note=need.note,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                ),
            )
        else:
            existing.severity = need.severity
            existing.screening_id = screening.id
            existing.updated_at = now
            session.add(existing)
    open_barriers = needs_repo.open_barriers(session, screening.person_id)
    for btype in evaluation.barriers:
        if btype not in open_barriers:
            created.append(
                ("barrier.create", "barrier", None, {"type": btype, "screening": screening.id})
            )
            repo.add(
                session,
                Barrier(
                    person_id=screening.person_id,
                    screening_id=screening.id,
                    type=btype,
                    source="screening",
                    created_by=actor,
                    created_at=now,
                ),
            )
    audit.append_many(session, actor=actor, events=created)
    screening.status = "completed"
    screening.completed_at = now
    screening.updated_at = now
    session.add(screening)
    person = people_repo.by_id(session, screening.person_id)
    assert person is not None
    suggest.snapshot(
        session,
        person,
        screening,
        evaluation,
        rules or definitions.load_rules(),
        clock.to_london(now).date(),
    )
    audit.append(
        session,
        actor=actor,
        action="screening.complete",
        entity="screening",
        entity_id=screening.id,
        detail={
            "answers": len(evaluation.answers),
            "needs": len(evaluation.needs),
            "barriers": len(evaluation.barriers),
            "flags": len(evaluation.flags),
        },
    )


def abandon(store: Store, screening_id: int) -> None:
    now = clock.now()
    with store.write() as session:
        row = repo.screening(session, validation.record_id(screening_id, "screening"))
        if row is None:
            raise NotFound(f"No screening {screening_id}.")
        if row.status != "in-progress":
            raise Conflict(
                f"Screening {screening_id} is {row.status}; only one in progress can be abandoned."
            )
        _abandon(session, row, store.actor, now)


def _abandon(session: Session, row: Screening, actor: str, now: datetime) -> None:
    """Mark a screening in progress abandoned, with its audit event (the one way both the
    abandon command and a restart set one aside)."""
    row.status = "abandoned"
    row.abandoned_at = now
    row.updated_at = now
    session.add(row)
    audit.append(
        session, actor=actor, action="screening.abandon", entity="screening", entity_id=row.id
    )


# ---------------------------------------------------------------- answers file ----------
@dataclass(frozen=True)
class FileProblem:
    item_id: str
    message: str


class AnswersInvalid(BadInput):
    def __init__(self, file: str, problems: list[FileProblem]) -> None:
        lines = "; ".join(f"{p.item_id}: {p.message}" for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{file}: {len(problems)} problem(s), nothing was saved: {lines}{more}")
        self.problems = problems


def parse_answers_file(
    q: Questionnaire, data: Any, person: PersonFacts, *, file: str
) -> tuple[dict[str, Any], Evaluation]:
    """Validate a whole answers mapping. Raises AnswersInvalid listing every problem."""
    if not isinstance(data, dict):
        raise BadInput(f"{file}: must be a mapping of item id to answer, e.g. 'phq9_1: 2'.")
    problems: list[FileProblem] = []
    parsed: dict[str, Any] = {}
    today = clock.today()
    for item_id, raw in data.items():
        if not q.has_item(str(item_id)):
            problems.append(FileProblem(str(item_id), "is not an item of this questionnaire"))
            continue
        try:
            parsed[item_id] = answer_parsing.parse(q.item(item_id), raw, today=today)
        except answer_parsing.AnswerError as exc:
            problems.append(FileProblem(item_id, exc.detail))
    if problems:
        raise AnswersInvalid(file, problems)
    evaluation = evaluate(q, parsed, person, today)
    missing = [i for i in evaluation.visible if i not in evaluation.answers]
    if missing:
        raise AnswersInvalid(
            file,
            [
                FileProblem(
                    i,
                    "has no answer, but it would be asked (give an answer or 'prefer not to say')",
                )
                for i in missing
            ],
        )
    # Every answer given is kept: one the skip logic would not ask is stored hidden and still
    # read for risk (a paper form may answer it).
    return parsed, evaluation


def _new_screening(
    session: Session,
    person: Person,
    q: Questionnaire,
    setting: str | None,
    actor: str,
    now: datetime,
) -> Screening:
    """Record the questionnaire version and add an in-progress screening for the person."""
    definitions.register_questionnaire(session, q)
    row: Screening = repo.add(
        session,
        Screening(
            person_id=person.id,
            questionnaire_id=q.id,
            questionnaire_version=q.version,
            questionnaire_hash=q.content_hash,
            status="in-progress",
            setting=setting,
            started_by=actor,
            started_at=now,
            updated_at=now,
        ),
    )
    return row


def run_answers_file(
    store: Store,
    crn: str,
    q: Questionnaire,
    data: Any,
    *,
    file: str,
    setting: str | None = None,
    new: bool = False,
) -> ScreeningDetail:
    """Run a whole screening from an answers mapping, all or nothing. The same answers for the
    same person on the same day are refused as a duplicate unless ``new``."""
    setting_clean = clean_name(setting, "Setting", max_len=60) if setting else None
    with store.read() as session:
        person = require_person(session, crn)
        check_consent(session, person)
        facts = person_facts(person)
    answers, evaluation = parse_answers_file(q, data, facts, file=file)
    now = clock.now()
    with store.write() as session:
        person = require_person(session, crn)
        check_consent(session, person)
        if not new and (same := find_duplicate(session, person.id, q, answers)) is not None:
            raise Conflict(
                f"{file}: these answers were already saved for {person.crn} today "
                f"(screening {same}); nothing was saved.",
                hint="If this really is a second screening, ask for a new one.",
                remedy=Remedy.of("new-screening-file", crn=person.crn, file=file),
            )
        row = _new_screening(session, person, q, setting_clean, store.actor, now)
        assert row.id is not None
        for item_id, value in answers.items():
            _store_answer(session, row.id, item_id, value, store.actor, now)
        _raise_flags(session, row.id, evaluation.flags, now)
        audit.append(
            session,
            actor=store.actor,
            action="screening.import",
            entity="screening",
            entity_id=row.id,
            detail={"questionnaire": q.id, "version": q.version, "answers": len(answers)},
        )
        _complete(session, store.actor, row, evaluation, now)
        screening_id = row.id
    return show(store, screening_id, audit_view=False)


# ---------------------------------------------------------------- reading ---------------
def show(store: Store, screening_id: int, *, audit_view: bool = True) -> ScreeningDetail:
    if audit_view:
        with store.write() as session:
            detail = _detail(session, screening_id)
            audit.append(
                session,
                actor=store.actor,
                action="screening.show",
                entity="screening",
                entity_id=screening_id,
            )
            return detail
    with store.read() as session:
        return _detail(session, screening_id)


def _detail(session: Session, screening_id: int) -> ScreeningDetail:
    row = repo.screening(session, validation.record_id(screening_id, "screening"))
    if row is None:
        raise NotFound(
            f"No screening {screening_id}.",
            remedy=Remedy.of("list-screenings"),
        )
    assert row.id is not None
    person = people_repo.by_id(session, row.person_id)
    assert person is not None
    q = definitions.stored_questionnaire(session, row.questionnaire_id, row.questionnaire_version)
    stored = repo.answers(session, row.id)
    answers = decode_answers(q, stored)
    evaluation = evaluate(
        q,
        answers,
        person_facts(person),
        clock.today() if row.completed_at is None else clock.to_london(row.completed_at).date(),
    )
    views: list[AnswerView] = []
    for item in q.items:
        section = q.section(item.section_id).title
        if item.id in evaluation.answers:
            value = evaluation.answers[item.id]
            declined = value is expr.DECLINED
            label = (
                "Prefer not to say"
                if declined
                else item.label_of(
                    answer_parsing.to_storage(value) if item.type == "date" else value
                )
            )
            views.append(
                AnswerView(
                    item.id, section, item.text, None if declined else value, label, declined
                )
            )
        elif item.id in evaluation.implied:
            value = evaluation.implied[item.id]
            views.append(
                AnswerView(
                    item.id,
                    section,
                    item.text,
                    value,
                    item.label_of(value) + " (not asked)",
                    False,
                    implied=True,
                )
            )
    # A scale is listed when it was scored, or when one of its questions was shown but not
    # answered (declined): a scale the skip logic never reached is not "missing" anything.
    visible = set(evaluation.visible)
    scores = tuple(
        ScoreView(s.id, s.title, r.value, r.band, s.min, s.max, r.missing, r.status, r.lo, r.hi)
        for s in q.scales
        if (r := evaluation.scores.get(s.id)) is not None
        and (r.value is not None or any(i in visible for i in r.missing))
    )
    flags = tuple(_flag_record(q, f) for f in repo.flags(session, row.id))
    nxt = evaluation.next_item()
    return ScreeningDetail(
        id=row.id,
        crn=person.crn,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        questionnaire_title=q.title,
        questionnaire_hash=q.content_hash,
        status=row.status,
        setting=row.setting,
        started_by=row.started_by,
        started_at=row.started_at,
        completed_at=row.completed_at,
        answers=tuple(views),
        scores=scores,
        flags=flags,
        needs=tuple((n.domain, n.severity) for n in evaluation.needs),
        barriers=evaluation.barriers,
        questions_asked=len(evaluation.answers),
        ignored=evaluation.ignored,
        credits=q.credits,
        next_item=nxt.id if nxt and row.status == "in-progress" else None,
        could_apply=tuple(
            CouldApply(u.flag.id, u.flag.severity, u.flag.title, u.why)
            for u in evaluation.uncertain
            if u.flag.id not in {f.flag_id for f in flags}
        ),
        voided=_void_info(row),
    )


def list_for(store: Store, crn: str) -> tuple[PersonRecord, list[ScreeningSummary]]:
    with store.write() as session:
        person = require_person(session, crn)
        rows = repo.screenings_for(session, person.id)
        audit.append(
            session,
            actor=store.actor,
            action="screening.list",
            entity="person",
            entity_id=person.id,
            detail={"results": len(rows)},
        )
        out = []
        for r in rows:
            assert r.id is not None
            out.append(
                ScreeningSummary(
                    r.id,
                    r.status,
                    f"{r.questionnaire_id} v{r.questionnaire_version}",
                    r.started_at,
                    r.completed_at,
                    r.started_by,
                    len(repo.flags(session, r.id)),
                    _void_info(r),
                )
            )
        return to_record(person), out


def load_answers_data(path: Path) -> Any:
    from probhealth import yamlfile

    return yamlfile.load(path).data
