"""``probhealth today``: the caseload at a glance — open safety flags, follow-ups due."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context


def today(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")] = False,
) -> None:
    """The day's work across the caseload: open safety flags (not acknowledged, or no action recorded since), then referral follow-ups due today or overdue. Example: probhealth today"""
    from probhealth.services import caseload
    from probhealth.services.definitions import load_rules

    day = caseload.today(app_context(ctx).store(), load_rules())
    if json_out:
        output.emit_json(day.to_json())
        return
    from probhealth.cli import render

    render.print_renderable(render.today(day))
