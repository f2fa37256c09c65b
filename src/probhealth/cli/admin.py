"""``probhealth init`` and ``probhealth db check|migrate|backup``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context

db_app = typer.Typer(help="Look after the database: check, back up, migrate.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")]


def init(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Create the database if needed (safe to run again) and say where it is. Example: probhealth init"""
    from probhealth.services import maintenance

    result = maintenance.init(app_context(ctx).store())
    if json_out:
        output.emit_json(result.to_json())
        return
    verb = "Created" if result.created else "Using"
    output.ok(f"{verb} the database at {result.location} (schema {result.revision}).")


@db_app.command("check")
def check(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Check the database: integrity, schema version, audit chain. Exit 1 if anything is wrong."""
    from probhealth.services import maintenance

    result = maintenance.check(app_context(ctx).store())
    if json_out:
        output.emit_json(result.to_json())
    else:
        output.info(f"Database: {result.location}")
        output.info(f"Schema: {result.revision} (expected {result.head})")
        if result.integrity:
            output.error(
                f"Integrity check: {len(result.integrity)} problem(s): {result.integrity[0]}"
            )
        else:
            output.ok("Integrity check: ok")
        from probhealth.cli.audit import show_chain

        show_chain(result.audit)
    if not result.ok:
        raise typer.Exit(1)


@db_app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date (also done automatically on first use)."""
    store = app_context(ctx).store()
    if store.migrated_from is not None or store.created:
        output.ok("The database schema is now up to date.")
    else:
        output.ok("The database schema was already up to date.")


@db_app.command("backup")
def backup(
    ctx: typer.Context,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Backup file to create (default: beside the database, time-stamped)."
        ),
    ] = None,
) -> None:
    """Back up the database safely, even while others are using it. Example: probhealth db backup --out ~/probhealth-backup.db"""
    from probhealth import atomicfile
    from probhealth.services import maintenance

    target = atomicfile.output_path(out) if out is not None else None
    path, size = maintenance.backup(app_context(ctx).store(), target)
    output.ok(f"Backed up to {path} ({size:,} bytes, readable only by you).")


@db_app.command("purge")
def purge(
    ctx: typer.Context,
    closed_before: Annotated[
        str,
        typer.Option(
            "--closed-before",
            help="Erase people with nothing open and no activity since this date (YYYY-MM-DD).",
        ),
    ],
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Really erase them (without it: a dry run that only counts)."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Retention: erase everyone whose records closed before a date. Dry run unless --apply.

    Example: probhealth db purge --closed-before 2020-01-01
    """
    from probhealth.services import erasure

    result = erasure.purge(app_context(ctx).store(), closed_before=closed_before, apply=apply)
    if not result.scrubbed:
        output.warn(erasure.NOT_SCRUBBED)
    if json_out:
        output.emit_json(result.to_json())
    elif result.applied:
        output.ok(
            f"Erased {output.count(result.people, 'person', 'people')} with no activity since {result.before}."
        )
    else:
        output.info(
            f"Dry run: {output.count(result.people, 'person', 'people')} with no activity since {result.before} and nothing open. Add --apply to erase them."
        )
