"""``probhealth import people FILE.csv`` and ``probhealth import services FILE.csv``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context

app = typer.Typer(
    help="Bulk import from CSV (all or nothing unless --skip-bad).", no_args_is_help=True
)


@app.command("people")
def people(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with the columns of `export people --identifiable`.", show_default=False
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad", help="Import the good rows; write the bad ones, with reasons, to a CSV."
        ),
    ] = False,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            help="With --skip-bad: where to write the rejected rows (default: FILE-rejects.csv).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing rejects file.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON only, on stdout.")
    ] = False,
) -> None:
    """Add many people at once, with the same checks as person add.

    Example: probhealth import people caseload.csv --dry-run
    """
    from probhealth import atomicfile
    from probhealth.services import importing

    store = app_context(ctx).store()
    with output.progress("Importing people", enabled=not json_out):
        report = importing.import_people(
            store,
            file,
            dry_run=dry_run,
            skip_bad=skip_bad,
            rejects=atomicfile.output_path(rejects, "{opt:rejects}")
            if rejects is not None
            else None,
            force=force,
        )
    if json_out:
        output.emit_json(report.to_json())
    else:
        for p in report.problems[:50]:
            output.error(f"{file}:{p.line}: {p.column}: {p.reason}")
        for w in report.warnings[:50]:
            output.warn(f"{file}:{w.line}: {w.reason}")
        if len(report.problems) > 50:
            output.info(f"... and {len(report.problems) - 50} more problems.")
        if dry_run:
            output.info(
                f"Dry run: {report.rows} rows, {report.good} good, {report.bad_lines} bad. Nothing was written."
            )
        elif report.problems and not skip_bad:
            output.error(
                f"{report.bad_lines} bad row(s) of {report.rows}: nothing was imported. Fix them, or use --skip-bad."
            )
        else:
            output.ok(
                f"Imported {report.imported:,} of {output.count(report.rows, 'person', 'people')}."
            )
            if report.rejects:
                output.warn(f"{report.bad_lines} rejected rows written to {report.rejects}.")
    if report.problems and not skip_bad:
        raise typer.Exit(2)


@app.command("services")
def services(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="Directory CSV (or YAML) with the service columns.", show_default=False
        ),
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON only, on stdout.")
    ] = False,
) -> None:
    """Add or replace directory entries from CSV (all or nothing). Example: probhealth import services services.csv"""
    from probhealth.services.definitions import load_rules
    from probhealth.services.directory import load_path

    result = load_path(app_context(ctx).store(), file, load_rules())
    if json_out:
        output.emit_json(result.to_json())
    else:
        output.ok(f"Loaded {file}: {result.added} added, {result.replaced} replaced.")
