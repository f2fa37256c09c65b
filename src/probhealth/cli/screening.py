"""``probhealth screening list CRN`` and ``probhealth screening show ID``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import MAX_ID, JsonOpt, app_context

app = typer.Typer(help="List and show screenings.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    json_out: JsonOpt = False,
) -> None:
    """A person's screenings, oldest first. Example: probhealth screening list X123456"""
    from probhealth.services import screening

    person, rows = screening.list_for(app_context(ctx).store(), crn)
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    from probhealth.cli import render

    render.print_renderable(render.screenings_table(person.crn, rows))


@app.command("show")
def show(
    ctx: typer.Context,
    screening_id: Annotated[
        int,
        typer.Argument(
            help="Screening id (see screening list).", min=1, max=MAX_ID, show_default=False
        ),
    ],
    answers: Annotated[
        bool, typer.Option("--answers/--no-answers", help="Include every answer.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """One screening: answers with labels, scores and bands, flags, needs, barriers.

    Example: probhealth screening show 12
    """
    from probhealth.services import screening

    detail = screening.show(app_context(ctx).store(), screening_id)
    if json_out:
        output.emit_json(detail.to_json())
        return
    from probhealth.cli import render

    if answers:
        render.print_renderable(render.answers_table(detail))
    render.print_renderable(render.screening_summary(detail))


@app.command("ack")
def ack(
    ctx: typer.Context,
    screening_id: Annotated[
        int,
        typer.Argument(
            help="Screening id (see screening list).", min=1, max=MAX_ID, show_default=False
        ),
    ],
    flags: Annotated[
        list[str] | None,
        typer.Argument(
            help="Flag ids to acknowledge (default: every one not yet acknowledged).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Without a terminal: confirm you have read them.")
    ] = False,
) -> None:
    """Acknowledge safety flags raised without a prompt (e.g. from an answers file).

    The flags are shown first; acknowledging records that you have read them and are acting
    on them. Example: probhealth screening ack 12
    """
    from probhealth.cli.context import interactive
    from probhealth.cli.guided import flag_panel
    from probhealth.errors import NeedsTerminal
    from probhealth.services import screening

    store = app_context(ctx).store()
    pending = screening.pending_flags(store, screening_id, flags or ())
    if not pending:
        output.info(f"Screening {screening_id} has no flags waiting to be acknowledged.")
        return
    output.err().print(flag_panel(pending), soft_wrap=False)
    if not yes:
        if not interactive():
            raise NeedsTerminal(
                "Acknowledging needs confirmation at a terminal.",
                hint="To confirm in a script, add --yes.",
            )
        from probhealth.cli.asker import get_asker

        if not get_asker().confirm("I have read this and will act on it now", default=False):
            output.info("Not acknowledged.")
            return
    screening.acknowledge_flags(store, screening_id, pending)
    output.ok(f"Acknowledged {output.count(len(pending), 'flag')} on screening {screening_id}.")


@app.command("void")
def void(
    ctx: typer.Context,
    screening_id: Annotated[
        int,
        typer.Argument(
            help="Screening id (see screening list).", min=1, max=MAX_ID, show_default=False
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why: wrong-person, entered-in-error, duplicate or other (with --note).",
            show_default=False,
        ),
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="What happened (needed for other).")
    ] = None,
) -> None:
    """Void a completed screening entered wrongly (kept, shown as voided, never used).

    Example: probhealth screening void 12 --reason wrong-person
    """
    from probhealth.services import screening

    done = screening.void(app_context(ctx).store(), screening_id, reason=reason, note=note)
    output.ok(f"Screening {done.screening_id} voided ({done.reason}); it is kept for the record.")
    if done.open_referrals:
        output.warn(
            f"{output.count(done.open_referrals, 'open referral')} came from it; withdraw any that "
            f"were wrong: probhealth referral update ID --status withdrawn --reason entered-in-error "
            f"(see probhealth referral list {done.crn})"
        )
    if done.open_needs:
        output.warn(
            f"{output.count(done.open_needs, 'open need or barrier', 'open needs or barriers')} it recorded "
            f"are still open; check them with: probhealth need list {done.crn}"
        )
