"""``probhealth suggest CRN`` and ``probhealth suggest --all``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context
from probhealth.errors import BadInput


def suggest(
    ctx: typer.Context,
    crn: Annotated[
        str | None, typer.Argument(help="Case reference number (or use --all).", show_default=False)
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Everyone with a completed screening: summary counts.")
    ] = False,
    office: Annotated[
        str | None, typer.Option("--office", help="With --all: only this office.")
    ] = None,
    rules_file: Annotated[
        Path | None,
        typer.Option("--rules", help="Rules file (default: PROBHEALTH_RULES or the bundled one)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Suggested pathways for a person's latest screening, each with why, and local services.

    Examples:

    \b
      probhealth suggest X123456
      probhealth suggest --all --office Cambridge
    """
    from probhealth.services import definitions
    from probhealth.services import suggest as service

    if all_ == (crn is not None):
        raise BadInput("Give a CRN, or --all for everyone (not both).")
    if office and not all_:
        raise BadInput("--office goes with --all.")
    rules = definitions.load_rules(rules_file)
    store = app_context(ctx).store()
    if all_:
        from probhealth.cli import render

        with output.progress("Evaluating rules", enabled=not json_out) as advance:
            summary = service.suggest_all(store, rules, office=office, progress=advance)
        if json_out:
            output.emit_json(summary.to_json())
        else:
            render.print_renderable(render.batch_summary(summary))
        return
    assert crn is not None
    report = service.suggest_for(store, crn, rules)
    if json_out:
        output.emit_json(report.to_json())
        return
    from probhealth.cli import render

    render.print_renderable(render.suggestions(report))
