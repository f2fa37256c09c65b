"""``probhealth audit list|verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context

app = typer.Typer(
    help="The audit log: who did what, when (never names or health values).", no_args_is_help=True
)


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (YYYY-MM-DD).")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this worker.")] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="Only actions starting with this, e.g. export or person."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the newest N events.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")] = False,
) -> None:
    """List audit events. Example: probhealth audit list --since 2026-11-01 --user officer.jones"""
    from probhealth import clock
    from probhealth.services import audit as auditlog

    rows = auditlog.events(
        app_context(ctx).store(), since=since, user=user, action=action, limit=limit
    )
    if json_out:
        output.emit_json([e.to_json() for e in rows])
        return
    from probhealth.cli import render

    render.print_renderable(
        render.table(
            "Audit log",
            ["#", "When", "Who", "Action", "Record", "Detail"],
            [
                [
                    str(e.id),
                    clock.show(e.at),
                    e.actor,
                    e.action,
                    f"{e.entity} {e.entity_id or ''}".strip(),
                    e.detail,
                ]
                for e in rows
            ],
        )
    )


@app.command("verify")
def verify(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")] = False,
) -> None:
    """Check the hash chain; names the first broken event and exits 1 if any was altered."""
    from probhealth.services import audit as auditlog

    result = auditlog.verify(app_context(ctx).store())
    if json_out:
        output.emit_json(result.to_json())
    elif result.ok:
        output.ok(f"Audit log: {result.events} events, chain ok.")
    else:
        output.error(f"Audit log broken at event {result.broken_at}: {result.reason}.")
    if not result.ok:
        raise typer.Exit(1)
