"""``probhealth goal add|review|list``: a health trainer's goals with the person."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import MAX_ID, JsonOpt, app_context

app = typer.Typer(help="Health goals set with the person, and their reviews.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    text: Annotated[
        str, typer.Argument(help="The goal, in the person's words.", show_default=False)
    ],
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="Need domain, e.g. smoking, alcohol, primary-care-access."),
    ] = None,
    target_date: Annotated[str | None, typer.Option("--target-date", help="YYYY-MM-DD.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Set a goal. Example: probhealth goal add X123456 "Register with a GP" --domain primary-care-access --target-date 2026-12-15"""
    from probhealth.services import goals

    record = goals.add(app_context(ctx).store(), crn, text, domain=domain, target_date=target_date)
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(f"Goal {record.id} set for {record.crn}.")


@app.command("review")
def review(
    ctx: typer.Context,
    goal_id: Annotated[int, typer.Argument(help="Goal id.", min=1, max=MAX_ID, show_default=False)],
    progress: Annotated[
        str, typer.Option("--progress", help="achieved, partly, not-yet or dropped.")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Review a goal. Example: probhealth goal review 2 --progress partly --note "went to the surgery once" """
    from probhealth.services import goals

    record = goals.review(app_context(ctx).store(), goal_id, progress=progress, note=note)
    if json_out:
        output.emit_json(record.to_json())
    else:
        # Whose goal it was, so a goal id mistyped shows at once (the ids run across people).
        output.ok(
            f"Goal {record.id} for {record.crn} reviewed: {progress.strip().lower()}"
            f" (goal is {record.status})."
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    crn: Annotated[
        str | None,
        typer.Argument(
            help="Case reference number (none: the whole caseload).", show_default=False
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Include achieved and dropped goals.")
    ] = False,
    due: Annotated[
        bool,
        typer.Option(
            "--due", help="Only active goals whose target date is today or past, oldest first."
        ),
    ] = False,
    office: Annotated[
        str | None,
        typer.Option("--office", help="Across the caseload: only people of this office."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """A person's goals, or the whole caseload's (a health trainer's day: --due).

    Examples:

    \b
      probhealth goal list X123456
      probhealth goal list --due
    """
    from probhealth.errors import BadInput
    from probhealth.services import goals

    store = app_context(ctx).store()
    if crn is not None and office is not None:
        raise BadInput("--office is for the whole caseload; give a CRN or --office, not both.")
    if crn is not None:
        rows = goals.list_for(store, crn, include_closed=all_, due=due)
    else:
        rows = goals.caseload(store, due=due, include_closed=all_, office=office)
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    from probhealth.cli import render

    render.print_renderable(render.goals_table(rows, caseload=crn is None, due=due))
