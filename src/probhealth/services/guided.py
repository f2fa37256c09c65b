"""The guided screening loop, independent of any terminal.

The loop asks the next item the questionnaire would show, saves each confirmed answer at once
(its own transaction), and stops for any emergency or same-day flag the answer raised until
the worker acknowledges it; the acknowledgement is saved too. "Back" re-asks the previous item
with its answer as the default. Interrupting (Ctrl-C) loses nothing already confirmed; running
again resumes at the first unanswered item, after re-showing any unacknowledged flag.

The ``UI`` protocol is implemented by ``cli/guided.py`` (questionary + rich) and by fakes in
the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from probhealth import expr
from probhealth.questionnaire import answers as answer_parsing
from probhealth.questionnaire.engine import Progress
from probhealth.questionnaire.model import FlagDef, Item, Section
from probhealth.services import screening
from probhealth.store.db import Store
from probhealth.taxonomy import URGENT

BACK = "back"
DECLINE = "decline"
ANSWER = "answer"


@dataclass(frozen=True)
class Response:
    kind: str  # answer | back | decline
    raw: Any = None


class UI(Protocol):
    def started(self, active: screening.Active) -> None: ...

    def section(self, section: Section, credits: tuple[str, ...]) -> None: ...

    def ask(
        self, item: Item, progress: Progress, current: Any, *, can_go_back: bool, error: str | None
    ) -> Response: ...

    def alert(self, flags: tuple[FlagDef, ...]) -> None:
        """Show the flags and return only once the worker has acknowledged them."""
        ...


def credits_for(section: Section, credits: tuple[str, ...]) -> tuple[str, ...]:
    """Instrument credits to show when a section starts (the DAST-10 licence asks for it)."""
    names = {"drugs": "DAST-10"}
    wanted = names.get(section.id)
    return tuple(c for c in credits if wanted and c.startswith(wanted))


def raised_flags(active: screening.Active) -> list[tuple[FlagDef, bool]]:
    """The flags this screening has raised so far, each with whether it was acknowledged
    (what a resumed screening says before carrying on), most severe first."""
    order = {"emergency": 0, "same-day": 1}
    found = [
        (d, acked)
        for fid, acked in active.raised.items()
        if (d := active.questionnaire.flag(fid)) is not None
    ]
    return sorted(found, key=lambda pair: order.get(pair[0].severity, 2))


def run(store: Store, active: screening.Active, ui: UI) -> screening.ScreeningDetail:
    ui.started(active)
    pending = active.unacknowledged()
    if pending:
        ui.alert(pending)
        screening.acknowledge(store, active, [f.id for f in pending])
    q = active.questionnaire
    cursor: Item | None = None
    last_section: str | None = None
    error: str | None = None
    while True:
        evaluation = active.evaluation()
        item = cursor or evaluation.next_item()
        if item is None:
            break
        if item.section_id != last_section:
            section = q.section(item.section_id)
            ui.section(section, credits_for(section, q.credits))
            last_section = item.section_id
        previous = evaluation.previous_item(item.id)
        response = ui.ask(
            item,
            evaluation.progress(item.id),
            active.answers.get(item.id),
            can_go_back=previous is not None,
            error=error,
        )
        error = None
        if response.kind == BACK:
            cursor = previous or item
            continue
        if response.kind == DECLINE:
            if not item.optional:
                error = "This one needs an answer."
                cursor = item
                continue
            value: Any = expr.DECLINED
        else:
            try:
                value = answer_parsing.parse(item, response.raw)
            except answer_parsing.AnswerError as exc:
                error = exc.detail
                cursor = item
                continue
        raised = screening.save_answer(store, active, item.id, value)
        urgent = tuple(f for f in raised if f.severity in URGENT)
        if urgent:
            ui.alert(urgent)
            screening.acknowledge(store, active, [f.id for f in urgent])
        cursor = None
    return screening.finish(store, active)
