"""``probhealth need list|update`` and ``probhealth barrier add|list|resolve``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import MAX_ID, JsonOpt, app_context
from probhealth.taxonomy import BARRIER_TYPES, NEED_DOMAINS, NEED_SEVERITIES, NEED_STATUSES

need_app = typer.Typer(
    help="A person's health needs (from screenings or recorded by you).", no_args_is_help=True
)
barrier_app = typer.Typer(help="Barriers that get in the way of care.", no_args_is_help=True)
CrnArg = Annotated[str, typer.Argument(help="Case reference number.", show_default=False)]


@need_app.command("list")
def need_list(
    ctx: typer.Context,
    crn: CrnArg,
    all_: Annotated[bool, typer.Option("--all", help="Include met and declined needs.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """A person's open needs. Example: probhealth need list X123456"""
    from probhealth import clock
    from probhealth.services import needs

    rows = needs.list_needs(app_context(ctx).store(), crn, include_closed=all_)
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    from probhealth.cli import render

    render.print_renderable(
        render.table(
            "Needs",
            ["ID", "Need", "Severity", "Status", "From", "Updated"],
            [
                [
                    str(r.id),
                    r.label,
                    render.t(r.severity, render.SEVERITY_STYLE.get(r.severity, "")),
                    r.status,
                    f"screening {r.screening_id}" if r.screening_id else r.source,
                    clock.show(r.updated_at),
                ]
                for r in rows
            ],
        )
    )


@need_app.command("add")
def need_add(
    ctx: typer.Context,
    crn: CrnArg,
    domain: Annotated[
        str,
        typer.Argument(
            metavar="DOMAIN", help=f"One of: {', '.join(NEED_DOMAINS)}.", show_default=False
        ),
    ],
    severity: Annotated[
        str, typer.Option("--severity", help=f"One of: {', '.join(NEED_SEVERITIES)}.")
    ] = "moderate",
    note: Annotated[str | None, typer.Option("--note", help="A short note.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a need the screening did not find. Example: probhealth need add X123456 housing --severity high"""
    from probhealth.services import needs

    record = needs.add_need(app_context(ctx).store(), crn, domain, severity=severity, note=note)
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(f"Recorded need {record.id}: {record.domain} ({record.severity}).")


@need_app.command("update")
def need_update(
    ctx: typer.Context,
    need_id: Annotated[
        int, typer.Argument(help="Need id (see need list).", min=1, max=MAX_ID, show_default=False)
    ],
    status: Annotated[str, typer.Option("--status", help=f"One of: {', '.join(NEED_STATUSES)}.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Change a need's status. Example: probhealth need update 3 --status being-addressed"""
    from probhealth.services import needs

    record = needs.update_need(app_context(ctx).store(), need_id, status=status, note=note)
    output.ok(f"Need {record.id} ({record.domain}) is now {record.status}.")


@barrier_app.command("add")
def barrier_add(
    ctx: typer.Context,
    crn: CrnArg,
    barrier_type: Annotated[
        str,
        typer.Argument(
            metavar="TYPE", help=f"One of: {', '.join(BARRIER_TYPES)}.", show_default=False
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="A short note.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a barrier. Example: probhealth barrier add X123456 competing-priorities --note "works nights" """
    from probhealth.services import needs

    record = needs.add_barrier(app_context(ctx).store(), crn, barrier_type, note)
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(f"Recorded barrier {record.id}: {record.label}.")


@barrier_app.command("list")
def barrier_list(
    ctx: typer.Context,
    crn: CrnArg,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved barriers.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """A person's current barriers. Example: probhealth barrier list X123456"""
    from probhealth import clock
    from probhealth.services import needs

    rows = needs.list_barriers(app_context(ctx).store(), crn, include_resolved=all_)
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    from probhealth.cli import render

    render.print_renderable(
        render.table(
            "Barriers",
            ["ID", "Barrier", "From", "Note", "Recorded", "Resolved"],
            [
                [
                    str(r.id),
                    r.label,
                    f"screening {r.screening_id}" if r.screening_id else r.source,
                    r.note,
                    clock.show(r.created_at),
                    clock.show(r.resolved_at) if r.resolved_at else None,
                ]
                for r in rows
            ],
        )
    )


@barrier_app.command("resolve")
def barrier_resolve(
    ctx: typer.Context,
    barrier_id: Annotated[
        int,
        typer.Argument(
            help="Barrier id (see barrier list).", min=1, max=MAX_ID, show_default=False
        ),
    ],
) -> None:
    """Mark a barrier as no longer in the way. Example: probhealth barrier resolve 4"""
    from probhealth.services import needs

    record = needs.resolve_barrier(app_context(ctx).store(), barrier_id)
    output.ok(f"Barrier {record.id} ({record.type}) resolved.")
