"""All rich rendering. Every value from a person or a file passes through ``t()`` (escaped,
never parsed as markup). Functions take records and return rich renderables or print them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from probhealth import clock
from probhealth.cli.output import command, count, out
from probhealth.textsafe import for_terminal
from probhealth.validation import CONSENT_PURPOSES, nhs_number_display

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import RenderableType

    from probhealth.directory.model import Service
    from probhealth.questionnaire.model import Questionnaire
    from probhealth.rules.model import RuleSet
    from probhealth.services.goals import GoalRecord
    from probhealth.services.people import ConsentRecord, PersonRecord
    from probhealth.services.referrals import ReferralRecord
    from probhealth.services.screening import (
        CouldApply,
        FlagRecord,
        ScreeningDetail,
        ScreeningSummary,
    )
    from probhealth.services.suggest import (
        BatchSummary,
        PathwaySuggestion,
        ServiceMatch,
        SuggestReport,
    )

DASH = "—"
ID_COLUMNS = frozenset({"ID", "CRN", "Service", "Screening"})


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
    ids: Collection[str] = (),
) -> Table:
    """A table of records. Id columns (``ID_COLUMNS`` and ``ids``) never wrap, so a narrow or
    piped output (80 columns) never cuts an id in two: the other columns give way."""
    rows = list(rows)
    if not rows and caption is None:
        caption = "Nothing found."  # an empty grid alone looks like a fault
    tbl = Table(title=title, caption=caption, show_lines=False, header_style="bold", expand=False)
    for col in columns:
        tbl.add_column(col, overflow="fold", no_wrap=col in ID_COLUMNS or col in ids)
    for row in rows:
        tbl.add_row(*(safe(cell) if isinstance(cell, Text) else t(cell) for cell in row))
    return tbl


def safe(text: Text) -> Text:
    """A ``Text`` built elsewhere, passed through the terminal filter (its style kept)."""
    plain = text.plain
    if plain.isprintable() or for_terminal(plain) == plain:
        return text
    return Text(for_terminal(plain), style=text.style)


def print_renderable(renderable: RenderableType) -> None:
    out().print(renderable)


def fields(pairs: Sequence[tuple[str, object]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        grid.add_row(Text(label), safe(value) if isinstance(value, Text) else t(value))
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
    """People; at 80 columns the date of birth, office and postcode never break
    ("Middlesbroug / h"): a long name wraps between its words instead."""
    return table(
        None,
        ["CRN", "Name", "Date of birth", "Age", "Sex", "Office", "Postcode"],
        ([p.crn, p.name, p.dob.isoformat(), p.age, p.sex, p.office, p.postcode] for p in people),
        caption=f"{len(people)} {'person' if len(people) == 1 else 'people'}",
        ids=("Office", "Postcode"),
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
            ("NHS number", nhs_number_display(p.nhs_number) if p.nhs_number else None),
            ("Address", p.address),
            ("Nation", p.nation_shown),
            ("Stage", p.stage),
        ]
    )
    consent = fields(
        [(purpose, consent_text(p.consent.get(purpose))) for purpose in CONSENT_PURPOSES]
    )
    parts: list[Any] = [details, Text(""), Text("Consent", style="bold underline"), consent]
    for item in extra:
        parts.extend([Text(""), item])
    return Panel(Group(*parts), title=Text(for_terminal(p.name)), expand=False)


def open_flags(flags: Sequence[Any]) -> list[RenderableType]:
    """Open safety flags, in red (nothing when there are none)."""
    if not flags:
        return []
    lines = [Text("Open safety flags", style="bold red underline")]
    for f in flags:
        lines.append(
            Text(
                for_terminal(
                    f"{f.title} ({f.severity}), raised {clock.show(f.raised_at)}: {f.why_open}"
                    f" (screening {f.screening_id})"
                ),
                style="bold red",
            )
        )
    return [Group(*lines)]


def _more(section: Any, what: str, hint: str, office: str | None = None) -> list[RenderableType]:
    """``and N more ...: COMMAND``, the command as it can be copied (``--demo``/``--db`` as
    typed, without ``probhealth`` in the shell) and kept to the office asked for."""
    if not section.more:
        return []
    if office:
        hint += " --office " + (office if re.fullmatch(r"[\w.-]+", office) else shlex.quote(office))
    return [Text(f"and {section.more:,} more {what}: {for_terminal(command(hint))}", style="dim")]


def today(day: Any) -> RenderableType:
    """``today``: a line of counts, then open safety flags in red, follow-ups overdue and due
    today, goals due, and people not yet screened; each capped, with "and N more"."""
    flags_n, late_n, due_n = day.open_flags.total, day.overdue.total, day.due_today.total
    goals_n, unscreened_n = day.goals_due.total, day.not_screened.total
    parts: list[Any] = [
        Text(
            f"{day.day.isoformat()}{' at ' + for_terminal(day.office) if day.office else ''}: "
            f"{count(flags_n, 'open safety flag')}, "
            f"{count(late_n, 'follow-up')} overdue, {due_n:,} due today, "
            f"{count(goals_n, 'goal')} due, {count(unscreened_n, 'person', 'people')} not yet screened.",
            style="bold red" if flags_n else "bold",
        ),
        Text(""),
    ]
    if flags_n:
        parts.append(
            table(
                "Open safety flags",
                ["CRN", "Flag", "Severity", "Raised", "Open because", "Screening"],
                [
                    [
                        f.crn,
                        Text(for_terminal(f.title), style="bold red"),
                        f.severity,
                        clock.show(f.raised_at),
                        f.why_open,
                        f.screening_id,
                    ]
                    for f in day.open_flags.rows
                ],
            )
        )
        parts += _more(day.open_flags, "open flags", "probhealth today --limit 0", day.office)
    else:
        parts.append(Text("No open safety flags.", style="green"))
    parts.append(Text(""))
    for section, title, none in (
        (day.overdue, "Follow-ups overdue", "No follow-ups overdue."),
        (day.due_today, "Follow-ups due today", "No follow-ups due today."),
    ):
        if section.total:
            tbl = referrals_table(list(section.rows), due=True)
            tbl.title, tbl.caption = title, count(section.total, "referral")
            parts.append(tbl)
            parts += _more(section, "referrals", "probhealth referral list --due", day.office)
        else:
            parts.append(Text(none, style="green"))
    parts.append(Text(""))
    if goals_n:
        parts.append(goals_table(list(day.goals_due.rows), caseload=True, due=True))
        parts += _more(day.goals_due, "goals", "probhealth goal list --due", day.office)
    else:
        parts.append(Text("No goals due.", style="green"))
    parts.append(Text(""))
    if unscreened_n:
        tbl = table(
            "Not yet screened",
            ["CRN", "Name", "Office", "Added", "Screening"],
            [
                [
                    u.crn,
                    u.name,
                    u.office,
                    clock.show(u.added_at),
                    "in progress" if u.in_progress else "not started",
                ]
                for u in day.not_screened.rows
            ],
            caption=count(unscreened_n, "person", "people"),
        )
        parts.append(tbl)
        parts += _more(day.not_screened, "people", "probhealth today --limit 0", day.office)
    else:
        parts.append(Text("Everyone has been screened.", style="green"))
    return Group(*parts)


# ------------------------------------------------------------------ screenings ----------
SEVERITY_STYLE = {
    "emergency": "bold red",
    "same-day": "bold yellow",
    "info": "cyan",
    "notice": "cyan",
    "high": "bold red",
    "moderate": "yellow",
    "low": "cyan",
}


def screenings_table(crn: str, rows: Sequence[ScreeningSummary]) -> Table:
    """A person's screenings, whole at 80 columns: the status, the voiding reason, the
    worker's name and each date and time are never broken ("officer.jo / nes", "entered-i /
    n-error" before). A date sits over its time; who started it under when; the
    questionnaire under the status. No column is kept from wrapping: each line breaks only
    between words, so a long name ("tester (officer.jones)" on PostgreSQL) takes the
    room the others leave."""

    def when(instant: datetime | None) -> Text:
        shown = clock.show(instant)
        return Text(shown.replace(" ", "\n", 1) if shown else DASH, style="" if shown else "dim")

    def status_cell(r: ScreeningSummary) -> Text:
        cell = Text(r.status if r.voided is None else "voided")
        if r.voided is not None:
            cell.append("\n" + for_terminal(r.voided.reason))
        cell.append("\n" + for_terminal(r.questionnaire), style="dim")
        return cell

    def started_cell(r: ScreeningSummary) -> Text:
        cell = when(r.started_at)
        cell.append("\nby " + for_terminal(r.started_by), style="dim")
        return cell

    return table(
        f"Screenings for {crn}",
        ["ID", "Status", "Started", "Completed", "Flags"],
        [
            [str(r.id), status_cell(r), started_cell(r), when(r.completed_at), str(r.flags)]
            for r in rows
        ],
    )


def scores_table(detail: ScreeningDetail) -> Table:
    rows = []
    for s in detail.scores:
        if s.value is None and getattr(s, "status", "") == "incomplete":
            rows.append(
                [
                    s.title,
                    Text(f"at least {s.at_least}", style="bold yellow"),
                    Text(
                        f"partly answered ({s.at_least} to {s.at_most}); missing: {', '.join(s.missing)}",
                        style="yellow",
                    ),
                    f"{s.min}-{s.max}",
                ]
            )
        elif s.value is None:
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


def flags_table(flags: Sequence[FlagRecord]) -> Table:
    rows = []
    for f in flags:
        if f.severity not in ("emergency", "same-day"):
            # a notice (reading help, food) or information: never interrupts, so nothing to
            # acknowledge; what to do is shown with it
            todo = "; ".join(getattr(f, "actions", ()) or ())
            rows.append(
                [
                    Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                    f"{f.title}: {todo}" if todo else f.title,
                    Text("no acknowledgement needed", style="dim"),
                ]
            )
            continue
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


def could_apply_table(could: Sequence[CouldApply]) -> Table:
    """Flags the answers could meet but do not prove: never silent."""
    rows = [
        [Text(c.severity, style=SEVERITY_STYLE.get(c.severity, "")), c.title, t(c.advice)]
        for c in could
    ]
    return table("Could apply (partly answered)", ["Severity", "Flag", "Why"], rows)


def screening_summary(detail: ScreeningDetail) -> Group:
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
            (
                "Voided",
                f"{clock.show(detail.voided.at)} by {detail.voided.by}: {detail.voided.reason}"
                + (f" ({detail.voided.note})" if detail.voided.note else "")
                if detail.voided
                else None,
            ),
        ]
    )
    parts: list[Any] = [head, Text("")]
    if detail.voided:
        parts += [
            Text(
                "VOIDED: kept for the record; not used for suggestions, reports or flags.",
                style="bold red",
            ),
            Text(""),
        ]
    if detail.flags:
        parts += [flags_table(detail.flags), Text("")]
    could = getattr(detail, "could_apply", ())
    if could:
        parts += [could_apply_table(could), Text("")]
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


def answers_table(detail: ScreeningDetail) -> Table:
    return table(
        "Answers",
        ["Section", "Item", "Question", "Answer"],
        (
            [
                a.section,
                a.item_id,
                a.text,
                t(a.label, style="dim" if a.declined or a.implied else ""),
            ]
            for a in detail.answers
        ),
    )


def questionnaire_tree(q: Questionnaire) -> Group:
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


# ------------------------------------------------------------------ pathways ------------
URGENCY_STYLE = {
    "emergency": "bold white on red",
    "same-day": "bold black on yellow",
    "soon": "bold cyan",
    "routine": "green",
}


def urgency_text(urgency: str) -> Text:
    return Text(f" {urgency} ", style=URGENCY_STYLE.get(urgency, ""))


def rules_tree(rules: RuleSet) -> Group:
    from rich.tree import Tree

    root = Tree(Text(f"{rules.id} v{rules.version} (for {rules.questionnaire})", style="bold"))
    for p in rules.pathways:
        node = root.add(Text(f"{p.id}: {for_terminal(p.name)}", style="bold cyan"))
        node.add(Text("For the person: " + for_terminal(p.for_person)))
        route = "self-referral" if p.self_referral else "referral by you"
        node.add(
            Text(
                f"{route}; shares information: {yes_no(p.shares_information)}; follow up after {count(p.follow_up_days, 'day')}",
                style="dim",
            )
        )
        for r in rules.rules:
            if r.pathway == p.id:
                line = Text(f"{r.id} ", style="bold")
                line.append_text(urgency_text(r.urgency))
                line.append(" when " + for_terminal(r.when.source), style="magenta")
                node.add(line)
    return Group(root)


def hours_text(service: Service) -> str:
    if not service.hours:
        return "hours not stated"
    text = "; ".join(str(w) for w in service.hours)
    return text + ("" if service.bank_holidays_open else " (closed bank holidays)")


def services_table(rows: Sequence[tuple[Service, bool]]) -> Table:
    """The directory, readable at 80 columns: the id and phone never break; what the service
    offers, where, whether it is open now and takes self-referrals sit under its name."""

    def about(s: Service, opened: bool) -> Text:
        cell = Text(for_terminal(s.name))
        cell.append(f"\nfor: {for_terminal(', '.join(s.pathways))}", style="dim")
        cell.append(f"\nin: {for_terminal(', '.join(s.areas))}", style="dim")
        cell.append("\nopen now" if opened else "\nclosed now", style="green" if opened else "")
        cell.append(", self-referral" if s.self_referral else ", referral by a worker")
        return cell

    return table(
        None,
        ["ID", "Name", "Phone"],
        [[s.id, about(s, opened), s.phone] for s, opened in rows],
        caption=f"{len(rows)} service{'s' if len(rows) != 1 else ''}",
        ids=("Phone",),
    )


def service_panel(s: Service) -> Panel:
    body = fields(
        [
            ("ID", s.id),
            ("Pathways", ", ".join(s.pathways)),
            ("Areas", ", ".join(s.areas)),
            ("Address", s.address),
            ("Phone", s.phone),
            ("Email", s.email),
            ("Website", s.website),
            ("Hours", hours_text(s)),
            ("Self-referral", yes_no(s.self_referral)),
            ("How to refer", s.how_to_refer),
            ("Documents needed", ", ".join(s.documents_needed) or "none"),
            ("Languages", ", ".join(s.languages)),
            ("Interpreters", yes_no(s.interpreters)),
            ("Accessibility", s.accessibility),
            ("In the probation office", yes_no(s.co_located)),
            ("Eligibility", s.eligibility),
            ("Last checked", s.last_verified.isoformat()),
        ]
    )
    title = Text(for_terminal(s.name))
    if s.fictional:
        title.append("  FICTIONAL", style="bold magenta")
    return Panel(body, title=title, expand=False)


def _service_rows(matches: Sequence[ServiceMatch]) -> Table:
    tbl = Table(show_header=True, header_style="bold", expand=False, box=None, padding=(0, 1))
    for col in ("Service", "Phone", "Hours", "Open now", "Check"):
        tbl.add_column(col, overflow="fold")
    for m in matches:
        s = m.service
        name = t(s.name)
        if s.co_located:
            name.append(" (in this office)", style="green")
        check = (
            Text("\n".join(for_terminal(c) for c in m.conflicts), style="yellow")
            if m.conflicts
            else Text("ok", style="green")
        )
        tbl.add_row(name, t(s.phone), t(hours_text(s)), t(yes_no(m.open_now)), check)
    return tbl


def suggestion_panel(s: PathwaySuggestion, *, take_up: str | None = None) -> Panel:
    """One suggested pathway. The title is the urgency and the name (a long name would cut
    an id in it short); the pathway id is in the command that takes it up (``take_up``: the
    CRN), or on its own line where no command is offered."""
    parts: list[Any] = []
    for r in s.reasons:
        line = Text("• ")
        line.append(for_terminal(r.because))
        line.append(f"  [{r.rule}]", style="dim")
        parts.append(line)
    parts.append(
        Text("For the person: ", style="bold").append(for_terminal(s.for_person), style="")
    )
    parts.append(Text("For you: ", style="bold dim").append(for_terminal(s.for_staff), style="dim"))
    if s.declined and not s.open_referral:
        on, why = s.declined
        parts.append(
            Text(
                f"They said no to this on {on}"
                + (f" ({why})" if why else "")
                + ". Ask again only if things have changed.",
                style="yellow",
            )
        )
    if s.no_gp and not s.open_referral:
        parts.append(Text(for_terminal(s.no_gp), style="bold yellow"))
    if s.completed_on and not s.open_referral:
        parts.append(
            Text(
                f"Completed on {s.completed_on.strftime('%d/%m/%Y')} (achieved).",
                style="green",
            )
        )
    if s.open_referral and s.adjustment and not s.open_referral[0]:
        parts.append(Text("In place: recorded on the person as a way of working.", style="green"))
    elif s.open_referral:
        parts.append(
            Text(
                f"Already open: referral {s.open_referral[0]} ({s.open_referral[1]})",
                style="bold green",
            )
        )
    elif s.adjustment:
        parts.append(Text("A way of working with them, not a referral.", style="italic"))
    elif s.services:
        parts.append(_service_rows(s.services))
    else:
        parts.append(
            Text(
                "No service for this pathway in their area in the directory (see probhealth services load).",
                style="yellow",
            )
        )
    if take_up and not s.open_referral and not s.no_gp:
        verb = "Record it" if s.adjustment else "Take it up"
        parts.append(
            Text(f"{verb}: ", style="bold").append(
                for_terminal(command(f"probhealth refer {take_up} {s.pathway_id}"))
            )
        )
    else:
        parts.append(Text(f"Pathway id: {for_terminal(s.pathway_id)}", style="dim"))
    title = urgency_text(s.urgency)
    title.append(" " + for_terminal(s.name), style="bold")
    border = {"emergency": "red", "same-day": "yellow"}.get(s.urgency, "cyan")
    return Panel(Group(*parts), title=title, title_align="left", border_style=border, expand=True)


def suggestions(report: SuggestReport, *, take_up: bool = True) -> Group:
    """A person's suggestions; with ``take_up``, each open one ends with the command that
    takes it up (not when the decisions are being asked for, as after a screening)."""
    crn = report.person.crn if take_up else None
    head = Text(
        f"Suggestions for {report.person.crn} from screening {report.screening_id} ({clock.show(report.screening_completed_at)}), rules {report.rules}",
        style="bold",
    )
    parts: list[Any] = [head]
    if not report.suggestions and not report.already_open:
        parts.append(Text("No pathway suggested by the rules.", style="dim"))
    parts += [suggestion_panel(s, take_up=crn) for s in report.suggestions]
    if report.already_open:
        parts.append(Text("Already being followed:", style="bold"))
        parts += [suggestion_panel(s, take_up=crn) for s in report.already_open]
    could = getattr(report, "could_apply", ())
    if could:
        rows = [
            [Text(c.urgency, style=SEVERITY_STYLE.get(c.urgency, "")), c.pathway.name, t(c.advice)]
            for c in could
        ]
        parts.append(table("Could apply (partly answered)", ["Urgency", "Pathway", "Why"], rows))
    held = getattr(report, "recently_completed", ())
    if held:
        rows = [
            [
                for_terminal(h.name),
                h.completed_on.strftime("%d/%m/%Y") if h.completed_on else "",
                h.suggest_again_from.strftime("%d/%m/%Y") if h.suggest_again_from else "",
            ]
            for h in held
        ]
        parts.append(
            table(
                "Completed recently (not suggested again yet)",
                ["Pathway", "Completed on", "Suggested again from"],
                rows,
            )
        )
    return Group(*parts)


def batch_summary(summary: BatchSummary) -> Group:
    urgencies = ("emergency", "same-day", "soon", "routine")
    rows = []
    for p in summary.pathways:
        c: dict[str, int] = dict(summary.by_pathway.get(p, {}))
        rows.append(
            [
                p,
                *[str(c.get(u, 0) or "") for u in urgencies],
                str(sum(c.values()) or ""),
                str(summary.already_open.get(p, 0) or ""),
            ]
        )
    tbl = table(
        "Suggested pathways",
        ["Pathway", *urgencies, "Suggested", "Already open"],
        rows,
        ids=("Pathway",),
    )
    emergency = f"{summary.emergency_people:,} with an emergency"
    if summary.emergency_people:
        emergency += f" ({summary.emergency_not_referred:,} with no referral open for it)"
    head = Text(
        f"{count(summary.people, 'person', 'people')} with a completed screening; {summary.with_suggestions:,} with suggestions; "
        f"{emergency}.",
        style="bold red" if summary.emergency_not_referred else "bold",
    )
    return Group(head, tbl)


# ------------------------------------------------------------------ referrals -----------
STATUS_STYLE = {
    "completed": "green",
    "withdrawn": "dim",
    "declined-by-person": "dim",
    "rejected-by-service": "yellow",
    "did-not-attend": "yellow",
}


def referrals_table(rows: Sequence[ReferralRecord], *, due: bool = False) -> Table:
    """Referrals, readable at 80 columns: the id, CRN, status and follow-up date never break
    (a worker types them); the service and the route sit under the pathway's name."""

    def due_cell(r: Any) -> Text:
        if r.follow_up_due is None:
            return Text(DASH, style="dim")
        days = r.overdue_days or 0
        style = "bold red" if days > 0 else ("yellow" if days == 0 else "")
        label = r.follow_up_due.isoformat() + (
            f"\n{count(days, 'day')} late" if days > 0 else "\ntoday" if days == 0 else ""
        )
        return Text(label, style=style)

    def pathway_cell(r: ReferralRecord) -> Text:
        cell = Text(for_terminal(r.pathway_name))
        service = r.service_name or r.service_id  # the id when it left the directory
        route = [for_terminal(service)] if service else []
        if r.self_referral:
            route.append("self-referral")
        if route:
            cell.append("\n" + ", ".join(route), style="dim")
        return cell

    return table(
        "Follow-ups due" if due else "Referrals",
        ["ID", "CRN", "Pathway and service", "Status", "Follow up"],
        [
            [
                str(r.id),
                r.crn,
                pathway_cell(r),
                Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                due_cell(r),
            ]
            for r in rows
        ],
        caption=f"{len(rows)} referral{'s' if len(rows) != 1 else ''}",
        ids=("Status",),
    )


def goals_table(rows: Sequence[GoalRecord], *, caseload: bool = False, due: bool = False) -> Table:
    """Goals; across the caseload with the CRN, and a target date past shown as late."""
    today = clock.today()

    def target(g: GoalRecord) -> Text | None:
        if g.target_date is None:
            return None
        days = (today - g.target_date).days if g.status == "active" else -1
        late = f" ({count(days, 'day')} late)" if days > 0 else " (today)" if days == 0 else ""
        style = "bold red" if days > 0 else "yellow" if days == 0 else ""
        return Text(g.target_date.isoformat() + late, style=style)

    return table(
        "Goals due" if due else "Goals",
        [*(["CRN"] if caseload else []), "ID", "Goal", "Domain", "Target", "Status", "Last review"],
        [
            [
                *([g.crn] if caseload else []),
                str(g.id),
                g.text,
                g.domain,
                target(g),
                g.status,
                # Progress, then the day (no time): whole at 80 columns, never "2026-10-2" / "9".
                f"{g.reviews[-1][0]}\n{clock.to_london(g.reviews[-1][3]).date().isoformat()}"
                if g.reviews
                else None,
            ]
            for g in rows
        ],
        caption=count(len(rows), "goal"),
        ids=("Last review",),
    )


def referral_panel(r: ReferralRecord) -> Panel:
    head = fields(
        [
            ("Person", r.crn),
            ("Pathway", f"{r.pathway_name} ({r.pathway_id})"),
            (
                "Service",
                f"{r.service_name} ({r.service_id})" if r.service_name else r.service_id,
            ),
            (
                "Route",
                "self-referral (the person makes contact)"
                if r.self_referral
                else "referral sent by a worker",
            ),
            ("Status", r.status),
            ("Outcome", r.outcome),
            ("Reason", r.closed_reason),
            ("Urgency", r.urgency),
            ("Follow up by", r.follow_up_due.isoformat() if r.follow_up_due else None),
            ("Next steps", ", ".join(r.next_steps) or "none (closed)"),
            ("Why", "; ".join(r.reasons) if r.reasons else None),
        ]
    )
    history = table(
        "History",
        ["Date", "Step", "Reason", "Note", "Recorded by"],
        [
            [
                e.event_date.isoformat(),
                e.to_status,
                e.reason,
                e.note,
                f"{e.recorded_by}, {clock.show(e.recorded_at)}",
            ]
            for e in r.events
        ],
        ids=("Date", "Step"),
    )
    return Panel(
        Group(head, Text(""), history), title=Text(f"Referral {r.id}", style="bold"), expand=False
    )


_BLOCKS = " ▁▂▃▄▅▆▇█"


def _cell(value: object, kind: str) -> Text:
    if value is None:
        return Text(DASH, style="dim")
    if kind == "pct":
        return Text(f"{value:.1f}", justify="right")
    if kind == "ci":
        lo, hi = value if isinstance(value, list | tuple) else (0, 0)
        return Text(f"{lo:.0f}-{hi:.0f}", justify="right")
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    return t(value)


def _bar(value: float, top: float, width: int = 12) -> str:
    full = 0 if top <= 0 else value / top * width
    whole = int(full)
    return "█" * whole + (_BLOCKS[int((full - whole) * 8)] if whole < width else "")


def _report_grid(tbl: Any, cols: list[Any], bar_of: str | None, part: int, last: bool) -> Table:
    grid = Table(
        title=tbl.title if part == 0 else f"{tbl.title} (continued)",
        title_justify="left",
        header_style="bold",
        expand=False,
        caption=for_terminal(tbl.note) if tbl.note and last else None,
        caption_justify="left",
    )
    for c in cols:
        grid.add_column(
            c.short or c.label,
            overflow="fold",
            justify="left" if c.kind == "text" else "right",
            min_width=16 if c.kind == "text" else None,
            # A long label wraps, so the figures fit beside it (a service's name of 60
            # characters would push every figure into a table of its own at 80 columns).
            max_width=(28 if len(tbl.columns) > 4 else 36) if c.kind == "text" else None,
        )
    top = 0.0
    if bar_of:
        grid.add_column("", no_wrap=True)
        values = [r.get(bar_of) for r in tbl.rows]
        top = max((float(v) for v in values if isinstance(v, int | float)), default=0.0)
    for r in tbl.rows:
        cells = [_cell(r.get(c.key), c.kind) for c in cols]
        if bar_of:
            v = r.get(bar_of)
            bar = _bar(float(v), top) if isinstance(v, int | float) else ""
            cells.append(Text(bar, style="cyan"))
        grid.add_row(*cells)
    if not tbl.rows:
        grid.caption = "Nothing to count."
    return grid


def _column_groups(tbl: Any, columns: list[Any], width: int) -> list[list[Any]]:
    """Value columns in groups whose table fits ``width`` (the label column in each)."""
    from rich.measure import Measurement

    console = out()
    options = console.options.update_width(10_000)

    def natural(cols: list[Any]) -> int:
        return Measurement.get(console, options, _report_grid(tbl, cols, None, 0, True)).maximum

    label = [columns[0]] if columns[0].kind == "text" else []
    groups: list[list[Any]] = [list(label)]
    for c in columns[len(label) :]:
        if len(groups[-1]) > len(label) and natural([*groups[-1], c]) > width:
            groups.append([*label])
        groups[-1].append(c)
    return groups


def health_report(report: Any, width: int = 80) -> Group:
    """The health needs report as rich tables that fit ``width`` columns (a wide table is cut
    into groups of columns, its label column repeated), a bar beside chartable rows."""
    parts: list[RenderableType] = []
    since, until = report.period
    parts.append(
        Text(
            f"Health needs report: {since.isoformat() if since else 'from the start'} to "
            f"{until.isoformat()}; "
            + (", ".join(for_terminal(o) for o in report.offices) or "all offices"),
            style="bold",
        )
    )
    parts.append(Text(report.disclosure, style="dim"))
    section = None
    for tbl in report.tables:
        if tbl.section != section:
            section = tbl.section
            parts.append(Text(""))
            parts.append(Text(section.upper(), style="bold underline"))
        shown = [c for c in tbl.columns if not c.hidden]
        bar_of = tbl.chart[1] if tbl.chart and len(shown) <= 4 else None
        groups = [shown] if bar_of else _column_groups(tbl, shown, width)
        for n, cols in enumerate(groups):
            parts.append(_report_grid(tbl, cols, bar_of, n, n == len(groups) - 1))
    return Group(*parts)
