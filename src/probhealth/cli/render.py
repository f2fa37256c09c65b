"""All rich rendering. Every value from a person or a file passes through ``t()`` (escaped,
never parsed as markup). Functions take records and return rich renderables or print them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from probhealth import clock
from probhealth.cli.output import out
from probhealth.textsafe import for_terminal
from probhealth.validation import CONSENT_PURPOSES

if TYPE_CHECKING:
    from rich.console import RenderableType

    from probhealth.people import ConsentRecord, PersonRecord

DASH = "—"


def t(value: object, style: str = "") -> Text:
    """Data as inert text: escaped control characters, no markup."""
    if value is None or value == "":
        return Text(DASH, style="dim")
    return Text(for_terminal(value), style=style)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
) -> Table:
    tbl = Table(title=title, caption=caption, show_lines=False, header_style="bold", expand=False)
    for col in columns:
        tbl.add_column(col, overflow="fold")
    for row in rows:
        tbl.add_row(*(cell if isinstance(cell, Text) else t(cell) for cell in row))
    return tbl


def print_renderable(renderable: RenderableType) -> None:
    out().print(renderable)


def fields(pairs: Sequence[tuple[str, object]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        grid.add_row(Text(label), value if isinstance(value, Text) else t(value))
    return grid


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


CONSENT_STYLE = {"given": "green", "declined": "yellow", "withdrawn": "red"}


def consent_text(record: ConsentRecord | None) -> Text:
    if record is None:
        return Text("not recorded", style="dim")
    text = Text(record.status, style=CONSENT_STYLE.get(record.status, ""))
    extra = [
        x for x in (record.method, clock.show(record.recorded_at), f"by {record.recorded_by}") if x
    ]
    text.append(Text(f"  ({for_terminal(', '.join(extra))})", style="dim"))
    return text


def people_table(people: Sequence[PersonRecord]) -> Table:
    return table(
        None,
        ["CRN", "Name", "Date of birth", "Age", "Sex", "Office", "Postcode"],
        ([p.crn, p.name, p.dob.isoformat(), p.age, p.sex, p.office, p.postcode] for p in people),
        caption=f"{len(people)} {'person' if len(people) == 1 else 'people'}",
    )


def person_panel(p: PersonRecord, extra: Sequence[RenderableType] = ()) -> Panel:
    details = fields(
        [
            ("CRN", p.crn),
            ("Name", p.name),
            ("Date of birth", f"{p.dob.isoformat()} (age {p.age})"),
            ("Sex", p.sex),
            ("Postcode", p.postcode),
            ("Office", p.office),
            ("Language", p.language),
            ("Interpreter", yes_no(p.needs_interpreter)),
            ("Communication needs", p.communication_needs),
            ("Released from custody", p.release_date.isoformat() if p.release_date else None),
        ]
    )
    consent = fields(
        [(purpose, consent_text(p.consent.get(purpose))) for purpose in CONSENT_PURPOSES]
    )
    parts: list[Any] = [details, Text(""), Text("Consent", style="bold underline"), consent]
    for item in extra:
        parts.extend([Text(""), item])
    return Panel(Group(*parts), title=Text(for_terminal(p.name)), expand=False)
