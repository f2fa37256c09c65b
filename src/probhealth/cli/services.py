"""``probhealth services check|load|list|show``: the local service directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context

app = typer.Typer(
    help="The service directory: where each kind of help is, when it is open, what it needs.",
    no_args_is_help=True,
)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Directory file, YAML or CSV.", show_default=False)],
) -> None:
    """Check a directory file (pathways must exist in the rules). Example: probhealth services check services.yaml"""
    from probhealth.services.definitions import load_rules
    from probhealth.services.directory import check_file

    services = check_file(file, load_rules())
    fictional = sum(1 for s in services if s.fictional)
    output.ok(
        f"{file}: ok: {len(services)} services"
        + (f" ({fictional} marked fictional)" if fictional else "")
        + "."
    )


@app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Directory file, YAML or CSV.", show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """Add or replace directory entries from a YAML or CSV file (all or nothing).

    Example: probhealth services load examples/services-fictional.yaml
    """
    from probhealth.services.definitions import load_rules
    from probhealth.services.directory import load_path

    result = load_path(app_context(ctx).store(), file, load_rules())
    if json_out:
        output.emit_json(result.to_json())
        return
    output.ok(f"Loaded {file}: {result.added} added, {result.replaced} replaced.")
    if result.fictional:
        output.warn(
            f"{result.fictional} entries are marked fictional: never use them to refer a real person."
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    pathway: Annotated[
        str | None, typer.Option("--pathway", help="Only services offering this pathway.")
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="A postcode district (CB1) or office name.")
    ] = None,
    open_now: Annotated[
        bool,
        typer.Option(
            "--open-now",
            help="Only services open right now (bank holidays count as closed unless stated).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List directory entries. Example: probhealth services list --pathway gp-registration --area CB1 --open-now"""
    from probhealth.services.directory import list_services

    rows = list_services(app_context(ctx).store(), pathway=pathway, area=area, open_now=open_now)
    if json_out:
        output.emit_json([{**s.to_json(), "open_now": opened} for s, opened in rows])
        return
    from probhealth.cli import render

    render.print_renderable(render.services_table(rows))


@app.command("show")
def show(
    ctx: typer.Context,
    service_id: Annotated[str, typer.Argument(help="Service id.", show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """One directory entry in full. Example: probhealth services show cam-gp-mill-road"""
    from probhealth.services.directory import get

    service = get(app_context(ctx).store(), service_id)
    if json_out:
        output.emit_json(service.to_json())
        return
    from probhealth.cli import render

    render.print_renderable(render.service_panel(service))
