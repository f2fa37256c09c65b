"""The terminal face of the guided screening: progress, help, back, "prefer not to say", and the
red panel that stops everything for a safety flag. Imported only by ``probhealth screen``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from probhealth import expr
from probhealth.cli.asker import Asker, Choice
from probhealth.cli.output import out
from probhealth.questionnaire.answers import PREFER_NOT
from probhealth.services.guided import ANSWER, BACK, DECLINE, Response, raised_flags
from probhealth.taxonomy import URGENT
from probhealth.textsafe import for_terminal

if TYPE_CHECKING:
    from probhealth.questionnaire.engine import Progress
    from probhealth.questionnaire.model import FlagDef, Item, Section
    from probhealth.services.screening import Active, FlagRecord

BACK_KEY = "__back__"
DECLINE_KEY = "__decline__"
BACK_TEXT = "← Back (previous question)"
TYPED_HELP = "Type < to go back, or - for 'prefer not to say'."


def flag_panel(flags: Sequence[FlagDef | FlagRecord]) -> Panel:
    """The crisis routes, loud. Each action is a bullet whose wrapped lines stay indented
    under its text, so "call 999 or go to A&E" reads as one step at 80 columns."""
    parts: list[Any] = []
    emergency = any(f.severity == "emergency" for f in flags)
    for n, flag in enumerate(flags):
        if n:
            parts.append(Text(""))
        parts.append(Text(for_terminal(flag.title), style="bold"))
        parts.append(Text(for_terminal(flag.message)))
        steps = Table.grid()
        steps.add_column(no_wrap=True)
        steps.add_column()
        for action in flag.actions:
            steps.add_row("  • ", Text(for_terminal(action)))
        parts.append(steps)
    body = Group(*parts)
    title = "EMERGENCY: act now" if emergency else "Same day: act today"
    colour = "red" if emergency else "yellow"
    return Panel(body, title=Text(title, style=f"bold {colour}"), border_style=colour, expand=False)


def _flag_state(flag: FlagDef, acknowledged: bool) -> str:
    """``Title (emergency, acknowledged)``; a flag that needs no acknowledgement: ``(notice)``."""
    state = ""
    if flag.severity in URGENT:
        state = ", acknowledged" if acknowledged else ", not acknowledged"
    return for_terminal(f"{flag.title} ({flag.severity}{state})")


class TerminalUI:
    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    def started(self, active: Active) -> None:
        q = active.questionnaire
        if active.set_aside is not None:
            out().print(
                Text(
                    f"Screening {active.set_aside} was unfinished: set aside as abandoned (its answers are kept).",
                    style="yellow",
                )
            )
        if active.taken_from is not None:
            out().print(
                Text(
                    f"Taken over from {for_terminal(active.taken_from)}: that session can no longer save answers.",
                    style="yellow",
                )
            )
        verb = "Resuming" if active.resumed else "Starting"
        done = len(active.answers)
        extra = f", {done} answer{'s' if done != 1 else ''} already saved" if active.resumed else ""
        out().print(
            Text(
                f"{verb} screening {active.screening_id} for {active.crn}: {for_terminal(q.title)} v{q.version}{extra}.",
                style="bold",
            )
        )
        raised = raised_flags(active) if active.resumed else []
        if raised:
            out().print(
                Text(
                    "Flags raised so far: " + "; ".join(_flag_state(f, a) for f, a in raised) + ".",
                    style="bold red" if any(f.severity in URGENT for f, _ in raised) else "",
                )
            )
        out().print(
            Text(
                "Each answer is saved as soon as it is given. Ctrl-C stops; run the same command to carry on.",
                style="dim",
            )
        )

    def section(self, section: Section, credits: tuple[str, ...]) -> None:
        out().print()
        out().rule(Text(for_terminal(section.title), style="bold cyan"))
        if section.intro:
            out().print(Text(for_terminal(section.intro)))
        for credit in credits:
            out().print(Text(for_terminal(credit), style="dim"))

    def ask(
        self, item: Item, progress: Progress, current: Any, *, can_go_back: bool, error: str | None
    ) -> Response:
        console = out()
        console.print()
        console.print(
            Text(
                f"Question {progress.overall_position} of about {progress.overall_shown}"
                f" · {for_terminal(progress.section_title)}",
                style="dim",
            )
        )
        if item.asked_of == "worker":
            console.print(Text("For you, not read out:", style="bold magenta"))
        if item.stem:
            console.print(Text(for_terminal(item.stem), style="italic"))
        if item.help:
            console.print(Text("Help: " + for_terminal(item.help), style="dim"))
        if error:
            console.print(Text("⚠ " + for_terminal(error), style="bold yellow"))
        if item.type in ("single", "yesno"):
            return self._select(item, current, can_go_back)
        if item.type == "multi":
            return self._checkbox(item, current, can_go_back)
        return self._typed(item, current, can_go_back)

    def _extras(self, item: Item, can_go_back: bool) -> list[Choice]:
        extra: list[Choice] = []
        if item.optional:
            extra.append((DECLINE_KEY, PREFER_NOT))
        if can_go_back:
            extra.append((BACK_KEY, BACK_TEXT))
        return extra

    def _select(self, item: Item, current: Any, can_go_back: bool) -> Response:
        choices: list[Choice] = [(str(n), opt.label) for n, opt in enumerate(item.options)]
        default = None
        if current is expr.DECLINED:
            default = DECLINE_KEY
        elif current is not None:
            default = next((str(n) for n, o in enumerate(item.options) if o.value == current), None)
        key = self.asker.select(
            item.text, choices + self._extras(item, can_go_back), default=default
        )
        return self._special(key) or Response(ANSWER, item.options[int(key)].value)

    def _checkbox(self, item: Item, current: Any, can_go_back: bool) -> Response:
        choices: list[Choice] = [(str(n), opt.label) for n, opt in enumerate(item.options)]
        checked = [
            str(n)
            for n, o in enumerate(item.options)
            if isinstance(current, list) and o.value in current
        ]
        keys = self.asker.checkbox(
            item.text, choices + self._extras(item, can_go_back), checked=checked
        )
        for special in (BACK_KEY, DECLINE_KEY):
            if special in keys:
                return self._special(special) or Response(BACK)
        return Response(ANSWER, [item.options[int(k)].value for k in keys])

    def _typed(self, item: Item, current: Any, can_go_back: bool) -> Response:
        hints = {
            "integer": f"A whole number from {item.min} to {item.max}"
            + (f" ({item.unit})" if item.unit else ""),
            "date": "A date: YYYY-MM-DD or DD/MM/YYYY",
            "text": "Type the answer",
        }
        instruction = f"({hints.get(item.type, '')}. {TYPED_HELP})"
        default = "" if current is None or current is expr.DECLINED else str(current)
        text = self.asker.text(item.text, default=default, instruction=instruction).strip()
        if text == "<" and can_go_back:
            return Response(BACK)
        if text == "-":
            return Response(DECLINE)
        return Response(ANSWER, text)

    @staticmethod
    def _special(key: str) -> Response | None:
        if key == BACK_KEY:
            return Response(BACK)
        if key == DECLINE_KEY:
            return Response(DECLINE)
        return None

    def alert(self, flags: tuple[FlagDef, ...]) -> None:
        out().print()
        out().print(flag_panel(flags))
        while not self.asker.confirm("I have read this and will act on it now", default=False):
            out().print(
                Text("Please acknowledge to carry on. Everything so far is saved.", style="yellow")
            )
