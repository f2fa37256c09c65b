"""``probhealth consent CRN --purpose P --given|--declined|--withdrawn``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context
from probhealth.errors import BadInput
from probhealth.validation import CONSENT_PURPOSES


def consent(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help=f"One of: {', '.join(CONSENT_PURPOSES)}. With --history: show only this purpose.",
        ),
    ] = None,
    given: Annotated[bool, typer.Option("--given", help="The person agreed.")] = False,
    declined: Annotated[bool, typer.Option("--declined", help="The person said no.")] = False,
    withdrawn: Annotated[
        bool, typer.Option("--withdrawn", help="The person took back an earlier yes.")
    ] = False,
    method: Annotated[str | None, typer.Option("--method", help="verbal or written.")] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="A short note (kept with the decision).")
    ] = None,
    history: Annotated[
        bool,
        typer.Option("--history", help="Show every decision recorded instead of recording one."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Record a consent decision (history is kept). Example: probhealth consent X123456 --purpose screening --given --method verbal"""
    from probhealth.services import people

    store = app_context(ctx).store()
    if history:
        records = people.consent_history(store, crn, purpose=purpose)
        if json_out:
            output.emit_json([r.to_json() for r in records])
            return
        from probhealth import clock
        from probhealth.cli import render

        render.print_renderable(
            render.table(
                None,
                ["Purpose", "Decision", "Method", "When", "By", "Note"],
                [
                    [
                        r.purpose,
                        render.consent_text(r),
                        r.method,
                        clock.show(r.recorded_at),
                        r.recorded_by,
                        r.note,
                    ]
                    for r in records
                ],
            )
        )
        return
    chosen = [
        name
        for name, flag in (("given", given), ("declined", declined), ("withdrawn", withdrawn))
        if flag
    ]
    if len(chosen) != 1:
        raise BadInput("Say exactly one of --given, --declined or --withdrawn.")
    if purpose is None:
        raise BadInput(f"Say which --purpose the decision is for: {', '.join(CONSENT_PURPOSES)}.")
    record = people.record_consent(
        store, crn, purpose=purpose, status=chosen[0], method=method, note=note
    )
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(f"Recorded: {record.purpose} consent {record.status}.")
