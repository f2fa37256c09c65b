"""``probhealth today``: the caseload at a glance — open safety flags, follow-ups due and
overdue, goals due, people not yet screened."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context


def today(
    ctx: typer.Context,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            help="Rows shown in each section (0: all); the counts are always whole.",
            min=0,
            show_default=True,
        ),
    ] = 20,
    office: Annotated[
        str | None,
        typer.Option("--office", help="Only people of this office (any letter case)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The day's work across the caseload, or one office's: open safety flags (not acknowledged, or no action recorded since), referral follow-ups overdue and due today, health goals due, and people not yet screened. Each section shows its count and its first rows. Example: probhealth today --office Cambridge"""
    from probhealth.services import caseload
    from probhealth.services.definitions import load_rules

    day = caseload.today(app_context(ctx).store(), load_rules(), limit=limit or None, office=office)
    if json_out:
        output.emit_json(day.to_json())
        return
    from probhealth.cli import render

    render.print_renderable(render.today(day))
