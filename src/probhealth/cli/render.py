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


# ------------------------------------------------------------------ screenings ----------
SEVERITY_STYLE = {
    "emergency": "bold red",
    "same-day": "bold yellow",
    "info": "cyan",
    "high": "bold red",
    "moderate": "yellow",
    "low": "cyan",
}


def scores_table(detail: Any) -> Table:
    rows = []
    for s in detail.scores:
        if s.value is None:
            rows.append(
                [
                    s.title,
                    Text("not scored", style="dim"),
                    Text(f"missing: {', '.join(s.missing)}", style="dim"),
                    f"{s.min}-{s.max}",
                ]
            )
        else:
            rows.append([s.title, str(s.value), s.band, f"{s.min}-{s.max}"])
    return table("Scores", ["Scale", "Score", "Band", "Range"], rows)


def flags_table(flags: Sequence[Any]) -> Table:
    rows = []
    for f in flags:
        ack = (
            f"acknowledged by {f.acknowledged_by}, {clock.show(f.acknowledged_at)}"
            if f.acknowledged_at
            else Text("NOT ACKNOWLEDGED", style="bold red")
        )
        rows.append(
            [
                Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                f.title,
                ack if isinstance(ack, Text) else t(ack),
            ]
        )
    return table("Safety flags", ["Severity", "Flag", "Acknowledged"], rows)


def screening_summary(detail: Any) -> Group:
    from probhealth import taxonomy

    head = fields(
        [
            ("Screening", f"{detail.id} ({detail.status})"),
            ("Person", detail.crn),
            ("Questionnaire", f"{detail.questionnaire_title} v{detail.questionnaire_version}"),
            ("Started", f"{clock.show(detail.started_at)} by {detail.started_by}"),
            ("Completed", clock.show(detail.completed_at) if detail.completed_at else None),
            ("Setting", detail.setting),
            ("Questions answered", str(detail.questions_asked)),
        ]
    )
    parts: list[Any] = [head, Text("")]
    if detail.flags:
        parts += [flags_table(detail.flags), Text("")]
    if detail.scores:
        parts += [scores_table(detail), Text("")]
    needs = [
        [Text(sev, style=SEVERITY_STYLE.get(sev, "")), taxonomy.NEED_DOMAINS.get(d, d)]
        for d, sev in detail.needs
    ]
    parts.append(
        table("Needs", ["Severity", "Need"], needs)
        if needs
        else Text("Needs: none identified", style="dim")
    )
    parts.append(Text(""))
    barriers = [[b, taxonomy.BARRIER_TYPES.get(b, b)] for b in detail.barriers]
    parts.append(
        table("Barriers", ["Type", "Barrier"], barriers)
        if barriers
        else Text("Barriers: none identified", style="dim")
    )
    if detail.next_item:
        parts += [
            Text(""),
            Text(
                f"Not finished: next question is {detail.next_item}. Resume with: probhealth screen {detail.crn}",
                style="yellow",
            ),
        ]
    return Group(*parts)


def answers_table(detail: Any) -> Table:
    return table(
        "Answers",
        ["Section", "Item", "Question", "Answer"],
        (
            [
                a.section,
                a.item_id,
                a.text,
                Text(a.label, style="dim" if a.declined or a.implied else ""),
            ]
            for a in detail.answers
        ),
    )


def questionnaire_tree(q: Any) -> Group:
    from rich.tree import Tree

    root = Tree(Text(f"{for_terminal(q.title)} ({q.id} v{q.version})", style="bold"))
    for section in q.sections:
        branch = root.add(Text(for_terminal(section.title), style="bold cyan"))
        for item_id in section.item_ids:
            item = q.item(item_id)
            label = Text(f"{item.id} ", style="bold")
            label.append(f"[{item.type}] ", style="dim")
            label.append(for_terminal(item.text))
            node = branch.add(label)
            if item.show_if:
                node.add(Text("shown if " + for_terminal(item.show_if.source), style="magenta"))
            if item.options and item.type != "yesno":
                node.add(
                    Text(" · ".join(f"{o.label} ({o.value})" for o in item.options), style="dim")
                )
    scales = root.add(Text("Scales", style="bold cyan"))
    for s in q.scales:
        bands = ", ".join(f"{b.lo}-{b.hi} {b.label}" for b in s.bands)
        scales.add(
            Text(
                f"{s.id} = sum of {', '.join(s.items)}"
                + (f" (reversed: {', '.join(sorted(s.reverse))})" if s.reverse else "")
                + f"; {bands}"
            )
        )
    flags = root.add(Text("Flags", style="bold cyan"))
    for f in q.flags:
        node = flags.add(
            Text(
                f"{f.id} [{f.severity}] when {for_terminal(f.when.source)}",
                style=SEVERITY_STYLE.get(f.severity, ""),
            )
        )
        node.add(Text(for_terminal(f.title)))
    credits = root.add(Text("Credits", style="bold cyan"))
    for c in q.credits:
        credits.add(Text(for_terminal(c), style="dim"))
    return Group(root)
