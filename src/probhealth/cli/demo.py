"""``probhealth demo``: the tour, on a separate demo database."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context, interactive


def demo(
    ctx: typer.Context,
    people: Annotated[
        int | None,
        typer.Option(
            "--people",
            min=1,
            max=200_000,
            help="Instead of the tour: add N fictional people with screenings and referrals.",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="With --people: the random seed (the same seed gives the same people)."
        ),
    ] = 1,
) -> None:
    """Try the tool on a fictional person, in a separate demo database (demo.db).

    At a terminal it runs a guided screening of the fictional person Z900001; without one it
    runs the same screening from a sample answers file. With --people N it fills the demo
    database with N fictional people instead.

    Examples:

    \b
      probhealth demo
      probhealth demo --people 1000 && probhealth --demo export screenings --out s.csv
    """
    if people is not None:
        _caseload(ctx, people, seed)
        return
    from probhealth.cli import render
    from probhealth.services import definitions, screening
    from probhealth.services import demo as demo_service

    app_ctx = app_context(ctx)
    store = app_ctx.store(demo=True)
    output.info(
        f"Demo database: {store.target.display} (fictional people only; your real records are not touched)."
    )
    setup = demo_service.tour_person(store)
    if setup.created:
        output.ok(
            f"Added the fictional person {setup.person.crn} and recorded their consent to screening."
        )
    render.print_renderable(render.person_panel(setup.person))
    q = definitions.load_questionnaire()
    from probhealth.services.definitions import load_rules
    from probhealth.services.directory import ensure_demo_directory

    loaded = ensure_demo_directory(store, load_rules())
    if loaded is not None:
        output.info(
            f"Loaded the fictional service directory ({loaded.added} services) into the demo database."
        )
    if interactive():
        from probhealth.cli.screen import run_guided

        output.info("Now a guided screening. Answer as if you were Sam; nothing here is real.")
        run_guided(
            store,
            setup.person.crn,
            q,
            restart=False,
            setting="demo",
            json_out=False,
            resume_command="probhealth demo",
            new=True,  # the tour may be taken again
        )
        output.info("This was the demo database: add --demo to any command to keep working on it.")
        return
    output.info("No terminal here, so the demo answers come from a sample file.")
    detail = screening.run_answers_file(
        store,
        setup.person.crn,
        q,
        demo_service.sample_answers(),
        file="demo answers",
        setting="demo",
        new=True,
    )
    render.print_renderable(render.screening_summary(detail))
    output.info(
        f"Run `probhealth demo` in a terminal to answer the questions yourself, or see the screening with: probhealth screening list {setup.person.crn}"
    )


def _caseload(ctx: typer.Context, n: int, seed: int) -> None:
    from probhealth.services import definitions, demodata
    from probhealth.services.definitions import load_rules
    from probhealth.services.directory import ensure_demo_directory

    store = app_context(ctx).store(demo=True)
    output.info(f"Demo database: {store.target.display} (fictional people only).")
    rules = load_rules()
    ensure_demo_directory(store, rules)
    with output.progress("Creating fictional people") as advance:
        report = demodata.generate(
            store, definitions.load_questionnaire(), rules, n, seed=seed, progress=advance
        )
    output.ok(
        f"Added {output.count(report.people, 'fictional person', 'fictional people')} ({report.first_crn} to {report.last_crn}), "
        f"{output.count(report.screenings, 'completed screening')} and {output.count(report.referrals, 'referral')}."
    )
    output.info(
        "Work on them with the same database, for example: probhealth export screenings --out s.csv"
    )
