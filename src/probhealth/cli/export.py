"""``probhealth export TABLE --out FILE``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context


def export(
    ctx: typer.Context,
    table: Annotated[
        str,
        typer.Argument(
            help="people, consent, screenings, answers, needs, barriers, suggestions, referrals, referral-events, goals or audit.",
            show_default=False,
        ),
    ],
    out: Annotated[str, typer.Option("--out", help="CSV file to write, or - for standard output.")],
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (YYYY-MM-DD), inclusive.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this date (YYYY-MM-DD), inclusive.")
    ] = None,
    office: Annotated[
        str | None, typer.Option("--office", help="Only people at this office.")
    ] = None,
    questionnaire: Annotated[
        str | None,
        typer.Option("--questionnaire", help="Only screenings of this questionnaire id."),
    ] = None,
    labels: Annotated[
        bool,
        typer.Option(
            "--labels", help="Write option labels instead of values (screenings, answers)."
        ),
    ] = False,
    identifiable: Annotated[
        bool,
        typer.Option(
            "--identifiable",
            help="Include names, CRN, date of birth, postcode and free text. Recorded in the audit log.",
        ),
    ] = False,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel", help="Start the file with a UTF-8 BOM so Excel reads accents correctly."
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Export a table to CSV: pseudonymised, spreadsheet-safe, written atomically (0600).

    Example: probhealth export screenings --out screenings.csv --since 2026-01-01
    """
    from probhealth import atomicfile, validation
    from probhealth.services import export as service

    target = None if out == "-" else atomicfile.output_path(out)
    options = service.Options(
        table=table.strip().lower(),
        out=target,
        force=force,
        identifiable=identifiable,
        labels=labels,
        excel=excel,
        since=validation.iso_date(since, "--since") if since else None,
        until=validation.iso_date(until, "--until") if until else None,
        office=office,
        questionnaire=questionnaire,
    )
    context = app_context(ctx)
    # The tables SQLite writes itself need no SQLAlchemy: the file opened with sqlite3 alone
    # after the same checks (None when it needs the full open).
    store = (context.plain() if service.plain_ok(options) else None) or context.store()
    if target is not None:
        from probhealth.store.location import export_warning

        checked = atomicfile.check_target(target, force=force)  # refuse before warning
        warning = export_warning(checked.resolve().parent / checked.name)
        if warning:
            output.warn(warning)
    with output.progress(f"Exporting {options.table}", enabled=target is not None) as advance:
        result = service.run(store, options, progress=lambda done, total: advance(done, total or 0))
    where = "standard output" if result.target == "-" else result.target
    swept = atomicfile.take_swept()
    if swept:
        output.info(
            f"Removed {output.count(len(swept), 'unfinished export file')} that an interrupted "
            f"export left in {swept[0].parent}."
        )
    output.ok(
        f"Exported {output.count(result.rows, 'row')} of {options.table} ({result.columns} columns) to {where}"
        + ("" if identifiable else ", pseudonymised")
        + "."
    )
    if result.audit_head:
        output.info(f"Audit head after this export: {result.audit_head}.")
    if result.withheld_rows or result.withheld_cells:
        left = [
            output.count(n, word)
            for n, word in (
                (result.withheld_rows, "row"),
                (result.withheld_cells, "flag" if options.table == "screenings" else "reason"),
            )
            if n
        ]
        output.warn(
            f"Left out as sensitive: {' and '.join(left)}, there only because of a sensitive "
            "answer such as domestic abuse. The pseudonymised export keeps them."
        )
    if identifiable:
        output.warn(
            "Identifiable export: names, CRNs, dates of birth, postcodes and notes are included. "
            "This is recorded in the audit log. Keep the file encrypted and delete it when done."
        )
