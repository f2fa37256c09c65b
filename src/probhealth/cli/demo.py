"""``probhealth demo``: the tour, on a separate demo database."""

from __future__ import annotations

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context


def demo(ctx: typer.Context) -> None:
    """Try the tool on a fictional person, in a separate demo database (demo.db).

    Example: probhealth demo
    """
    from probhealth import demo as demo_service
    from probhealth.cli import render

    app_ctx = app_context(ctx)
    store = app_ctx.store(demo=True)
    output.info(f"Demo database: {store.target.display} (fictional people only).")
    setup = demo_service.tour_person(store)
    if setup.created:
        output.ok(
            f"Added the fictional person {setup.person.crn} and recorded their consent to screening."
        )
    render.print_renderable(render.person_panel(setup.person))
