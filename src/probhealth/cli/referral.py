"""``probhealth refer CRN PATHWAY`` and ``probhealth referral update|list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import MAX_ID, JsonOpt, app_context
from probhealth.errors import BadInput
from probhealth.referral_states import OUTCOMES, REASONS, STATUSES

app = typer.Typer(help="Follow referrals until they close.", no_args_is_help=True)


def refer(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    pathway: Annotated[
        str, typer.Argument(help="Pathway id (see probhealth rules show).", show_default=False)
    ],
    service: Annotated[
        str | None,
        typer.Option("--service", help="Directory entry id (see probhealth services list)."),
    ] = None,
    self_referral: Annotated[
        bool | None,
        typer.Option(
            "--self-referral/--worker-referral",
            help="The person contacts the service themselves (no details shared), or you send the referral (needs consent to share). Default: the pathway's usual route.",
            show_default=False,
        ),
    ] = None,
    referred: Annotated[
        bool,
        typer.Option(
            "--referred",
            help="Record it as already sent (or, for a self-referral, contact already made).",
        ),
    ] = False,
    follow_up: Annotated[
        str | None,
        typer.Option(
            "--follow-up",
            help="When to follow up: days from today, or YYYY-MM-DD. Default: the pathway's interval.",
        ),
    ] = None,
    declined: Annotated[
        bool,
        typer.Option("--declined", help="The person does not want it (needs --reason)."),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="With --declined: not-wanted-now, already-getting-help, prefers-other-help, cannot-attend, other.",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A short note.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record that the person takes up a pathway (or, with --declined, that they do not).

    Example: probhealth refer X123456 gp-registration --service cam-gp-larkspur
    """
    from probhealth.services import referrals
    from probhealth.services.definitions import load_rules

    if declined and referred:
        raise BadInput("Say one of --declined or --referred, not both.")
    record = referrals.refer(
        app_context(ctx).store(),
        crn,
        pathway,
        load_rules(),
        service_id=service,
        self_referral=self_referral,
        note=note,
        follow_up=follow_up,
        status="declined-by-person" if declined else "referred" if referred else "agreed",
        reason=reason,
    )
    if json_out:
        output.emit_json(record.to_json())
        return
    if isinstance(record, referrals.AdjustmentRecord):
        output.ok(
            f"{record.pathway_name} is a way of working: "
            + ("already recorded" if record.already else "recorded")
            + f" on {record.crn} (communication needs), not as a referral."
        )
        return
    if declined:
        output.ok(f"Recorded: they do not want {record.pathway_name} now ({record.closed_reason}).")
        return
    kind = "self-referral" if record.self_referral else "referral"
    output.ok(
        f"Referral {record.id} ({kind}) for {record.pathway_name}: {record.status}; follow up by {record.follow_up_due}."
    )
    output.info(f"Next: probhealth referral update {record.id} --status {record.next_steps[0]}")


@app.command("update")
def update(
    ctx: typer.Context,
    referral_id: Annotated[
        int, typer.Argument(help="Referral id.", min=1, max=MAX_ID, show_default=False)
    ],
    status: Annotated[str, typer.Option("--status", help=f"The new step: {', '.join(STATUSES)}.")],
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Coded reason for withdrawn / declined-by-person / rejected-by-service: "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in REASONS.items()),
        ),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", help=f"With --status completed: {', '.join(OUTCOMES)}."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="When it happened (or the appointment date), YYYY-MM-DD. Default: today."
        ),
    ] = None,
    follow_up: Annotated[
        str | None,
        typer.Option("--follow-up", help="Next follow-up: days from today, or YYYY-MM-DD."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Move a referral to its next step (history is kept).

    Example: probhealth referral update 3 --status appointment-booked --date 2026-12-02
    """
    from probhealth.services import referrals
    from probhealth.services.definitions import load_rules

    record = referrals.update(
        app_context(ctx).store(),
        referral_id,
        load_rules(),
        status=status,
        reason=reason,
        note=note,
        event_date=date,
        outcome=outcome,
        follow_up=follow_up,
    )
    if json_out:
        output.emit_json(record.to_json())
        return
    due = f"; follow up by {record.follow_up_due}" if record.follow_up_due else "; closed"
    # Whose referral it was, so a referral id mistyped shows at once (ids run across people).
    output.ok(
        f"Referral {record.id} ({record.crn}, {record.pathway_name}) is now {record.status}{due}."
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    crn: Annotated[str | None, typer.Argument(help="Only this person.", show_default=False)] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help="Only open referrals whose follow-up is due today or overdue, oldest first.",
        ),
    ] = False,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only these statuses (comma-separated), or open / closed."),
    ] = None,
    office: Annotated[
        str | None, typer.Option("--office", help="Only people of this office (any letter case).")
    ] = None,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker", help="Only referrals this worker made (the name the audit log records)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List referrals; with --json each carries its history, as referral show does.

    Examples:

    \b
      probhealth referral list --due
      probhealth referral list --due --office Cambridge --worker asmith
    """
    from probhealth.services import referrals
    from probhealth.services.definitions import load_rules

    rows = referrals.listing(
        app_context(ctx).store(),
        load_rules(),
        crn=crn,
        due=due,
        status=status,
        office=office,
        worker=worker,
        history=json_out,
    )
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    from probhealth.cli import render

    render.print_renderable(render.referrals_table(rows, due=due))


@app.command("show")
def show(
    ctx: typer.Context,
    referral_id: Annotated[
        int, typer.Argument(help="Referral id.", min=1, max=MAX_ID, show_default=False)
    ],
    json_out: JsonOpt = False,
) -> None:
    """One referral with its whole history. Example: probhealth referral show 3"""
    from probhealth.services import referrals
    from probhealth.services.definitions import load_rules

    record = referrals.show(app_context(ctx).store(), referral_id, load_rules())
    if json_out:
        output.emit_json(record.to_json())
        return
    from probhealth.cli import render

    render.print_renderable(render.referral_panel(record))
