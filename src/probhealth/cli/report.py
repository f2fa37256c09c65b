"""``probhealth report``: the health needs report for commissioners (terminal, HTML, PDF, JSON,
CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context


def report(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (YYYY-MM-DD), inclusive.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Up to this date (YYYY-MM-DD), inclusive. Default: today."),
    ] = None,
    office: Annotated[
        list[str] | None,
        typer.Option("--office", help="Only people at this office (repeat for several)."),
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="Headlines by office, month, sex or age-band.")
    ] = "office",
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            help="Write the report as one file: .html (self-contained, charts, printable) "
            "or .pdf (A4).",
        ),
    ] = None,
    csv_dir: Annotated[
        str | None, typer.Option("--csv", help="Write one CSV file per table into this folder.")
    ] = None,
    suppress_below: Annotated[
        int,
        typer.Option(
            "--suppress-below", help="Counts from 1 up to this number less one are shown as <N."
        ),
    ] = 5,
    rules_file: Annotated[
        Path | None,
        typer.Option("--rules", help="Rules file (default: PROBHEALTH_RULES or the bundled one)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Health needs report from pseudonymised counts: reach, needs, access, barriers,
    referrals, service gaps, goals and trends. Small numbers are suppressed.

    Examples:

    \b
      probhealth report --since 2026-01-01 --csv report-tables
      probhealth report --office Cambridge --by age-band
      probhealth report --out report.html
      probhealth report --out report.pdf
    """
    from probhealth import validation
    from probhealth.services import definitions
    from probhealth.services import report as service

    options = service.Options(
        since=validation.iso_date(since, "--since") if since else None,
        until=validation.iso_date(until, "--until") if until else None,
        offices=tuple(o.strip() for o in office or () if o.strip()),
        by=by.strip().lower(),
        threshold=suppress_below,
    )
    rules = definitions.load_rules(rules_file)
    store = app_context(ctx).store()
    result = service.build(store, rules, options)
    if csv_dir is not None:
        written = service.write_csv(result, Path(csv_dir).expanduser(), force=force)
        output.ok(f"Wrote {output.count(len(written), 'CSV file')} to {csv_dir}.")
    if out is not None:
        path = service.write_html(result, Path(out), force=force)
        how = (
            "A4 pages" if path.suffix.lower() == ".pdf" else "open it in a browser; it prints on A4"
        )
        output.ok(f"Wrote the report to {path} ({how}).")
    if json_out:
        output.emit_json(result.to_json())
    elif csv_dir is None and out is None:
        from probhealth.cli import render

        render.print_renderable(render.health_report(result, output.out().width))
