"""``probhealth audit list|verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context

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
    json_out: JsonOpt = False,
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
    for e in rows:
        if e.problem:
            output.warn(f"Event {e.id} is not as probhealth wrote it: {e.problem}.")
    from probhealth.cli import render

    render.print_renderable(
        render.table(
            "Audit log",
            ["#", "When", "Who", "Action", "Record", "Detail"],
            [
                [
                    str(e.id),
                    "(not a time)" if e.at is None else clock.show(e.at),
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
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head noted earlier (ID:HASH as printed here); the log must still hold it.",
        ),
    ] = None,
    records: Annotated[
        bool,
        typer.Option(
            "--records",
            help="Also check every record against the digest its last event recorded.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check the hash chain, its first event and its end (the anchor file beside the database,
    and --expect-head); prints the head to note. With --records, also finds records changed,
    added or deleted outside probhealth. Exits 1 naming each problem found."""
    from probhealth.services import audit as auditlog

    expect = auditlog.parse_head(expect_head) if expect_head is not None else None
    store = app_context(ctx).store()
    result = auditlog.verify(store, expect=expect)
    checked = auditlog.verify_records(store) if records else None
    if json_out:
        data = result.to_json()
        if checked is not None:
            data["records"] = checked.to_json()
            data["ok"] = result.ok and checked.ok
        output.emit_json(data)
    else:
        show_chain(result)
        if checked is not None:
            show_records(checked)
    if not result.ok or (checked is not None and not checked.ok):
        raise typer.Exit(1)


def show_records(checked: object, *, most: int = 20) -> None:
    """The record-digest lines of ``audit verify --records`` and ``db check``."""
    from probhealth.services.audit import RecordCheck

    assert isinstance(checked, RecordCheck)
    if not checked.available:
        output.info("Records: not checked (a server database records no digests).")
        return
    for problem in checked.problems[:most]:
        output.error(f"Record {problem.table} {problem.id}: {problem.reason}.")
    if len(checked.problems) > most:
        output.error(f"... and {len(checked.problems) - most} more (see --json).")
    if checked.ok:
        output.ok(f"Records: {checked.checked} checked, each matches its last audit event.")


def show_chain(result: object) -> None:
    """The audit lines of ``audit verify`` and ``db check``."""
    from probhealth.services.audit import Verification

    assert isinstance(result, Verification)
    for problem in result.problems:
        output.error(f"Audit log broken at event {problem.event_id}: {problem.reason}.")
    if result.ok:
        output.ok(f"Audit log: {result.events} events, chain ok.")
    if result.head is not None and not result.ok:
        output.info(f"The log now ends at {result.head.short()}.")
    elif result.head is not None:
        output.info(
            f"Head: {result.head.short()} (note it; later, audit verify --expect-head "
            f"{result.head.short()} proves no event up to it was removed or changed)."
        )
    if result.anchor_note:
        output.info(f"Not compared with an anchor: {result.anchor_note}.")
    if result.start_note:
        output.info(f"Start of the log: {result.start_note}.")
