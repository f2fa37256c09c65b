"""``probhealth screen CRN``: the guided screening, or ``--answers FILE`` without prompts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import app_context, interactive
from probhealth.cli.remedies import explain
from probhealth.errors import ConsentRequired, NeedsTerminal

if TYPE_CHECKING:
    from probhealth.questionnaire.model import Questionnaire
    from probhealth.services.screening import ScreeningDetail
    from probhealth.store.db import Store


def screen(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            help="YAML or JSON file mapping item id to answer (value or label); no prompts.",
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Abandon an unfinished screening and start again.")
    ] = False,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Start a new screening for someone screened before (or save the same answers "
            "file again the same day).",
        ),
    ] = False,
    take_over: Annotated[
        bool,
        typer.Option(
            "--take-over",
            help="Work on a screening open in another session (that session can no longer save).",
        ),
    ] = False,
    questionnaire: Annotated[
        Path | None,
        typer.Option(
            "--questionnaire", help="Use this questionnaire file instead of the bundled one."
        ),
    ] = None,
    setting: Annotated[
        str | None,
        typer.Option(
            "--setting",
            help="Where it happens, e.g. 'probation office', 'home visit', 'prison gate'.",
        ),
    ] = "probation office",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON only, on stdout.")
    ] = False,
) -> None:
    """Run a health screening with a person (resumes an unfinished one).

    Examples:

    \b
      probhealth screen X123456
      probhealth screen X123456 --answers answers.yaml --json
    """
    from probhealth.services import definitions, screening

    store = app_context(ctx).store()
    q = definitions.load_questionnaire(questionnaire)
    if answers is not None:
        data = screening.load_answers_data(answers)
        detail = screening.run_answers_file(
            store, crn, q, data, file=str(answers), setting=setting, new=new
        )
        _report(detail, json_out)
        return
    if not interactive():
        raise NeedsTerminal(
            "screen asks questions and needs a terminal.",
            hint=f"Without one, give the answers in a file: probhealth screen {crn} --answers FILE",
        )
    run_guided(
        store,
        crn,
        q,
        restart=restart,
        setting=setting,
        json_out=json_out,
        take_over=take_over,
        new=new,
    )


def run_guided(
    store: Store,
    crn: str,
    q: Questionnaire,
    *,
    restart: bool,
    setting: str | None,
    json_out: bool,
    resume_command: str | None = None,
    take_over: bool = False,
    new: bool = False,
) -> None:
    from probhealth.cli.asker import get_asker
    from probhealth.cli.guided import TerminalUI
    from probhealth.services import guided, people, screening

    asker = get_asker()
    active = None

    def agrees(exc: ConsentRequired) -> bool:
        output.warn(explain(exc))
        return asker.confirm(
            "Has the person agreed to the screening now? Record their consent (verbal)",
            default=False,
        )

    def begin() -> screening.Active:
        try:
            return screening.begin(
                store, crn, q, restart=restart, setting=setting, take_over=take_over, new=new
            )
        except screening.ScreenedBefore as exc:
            # Said when, then asked: a second screening is never started silently.
            output.warn(
                f"{exc.crn} was last screened on {screening.when_screened(exc.completed_at)} "
                f"(screening {exc.screening_id})."
            )
            if not asker.confirm("Start a new screening now?", default=False):
                output.info(
                    f"No new screening started. See the last one with: probhealth screening show {exc.screening_id}"
                )
                raise typer.Exit(0) from None
            return screening.begin(
                store, crn, q, restart=restart, setting=setting, take_over=take_over, new=True
            )

    def recorded() -> None:
        output.ok("Consent to screening recorded.")

    try:
        active = people.with_consent(store, crn, "screening", begin, agrees, recorded)
        detail = guided.run(store, active, TerminalUI(asker))
    except KeyboardInterrupt:
        if active is not None:
            from probhealth.errors import ProbhealthError

            try:
                screening.release(store, active)
            except ProbhealthError:  # busy or read-only: the hold is released when stale
                pass
        again = resume_command or f"probhealth screen {crn.strip().upper()}"
        output.warn(f"Stopped. Every answer given so far is saved. Carry on with: {again}")
        raise typer.Exit(130) from None
    output.ok(f"Screening {detail.id} complete.")
    _report(detail, json_out)
    if not json_out:
        from probhealth.cli.followup import offer

        try:
            offer(store, crn, detail.id, asker)
        except KeyboardInterrupt:
            output.warn(
                f"Stopped. The screening is saved; carry on with the decisions with: probhealth follow-up {crn.strip().upper()}"
            )
            raise typer.Exit(130) from None


def follow_up(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
) -> None:
    """Carry on with the decisions after a screening (agreed, declined or later, for each
    suggestion): those already recorded for the latest screening are not asked again.

    Example: probhealth follow-up X123456
    """
    from probhealth.cli.asker import get_asker
    from probhealth.cli.followup import offer

    store = app_context(ctx).store()
    if not interactive():
        raise NeedsTerminal(
            "follow-up asks about each suggestion and needs a terminal.",
            hint=f"Without one, record each decision with: probhealth refer {crn} PATHWAY",
        )
    try:
        offer(store, crn, None, get_asker())
    except KeyboardInterrupt:
        output.warn(
            f"Stopped. Decisions made so far are saved. Carry on with: probhealth follow-up {crn.strip().upper()}"
        )
        raise typer.Exit(130) from None


def _report(detail: ScreeningDetail, json_out: bool) -> None:
    if json_out:
        output.emit_json(detail.to_json())
        return
    from probhealth.cli import render
    from probhealth.cli.guided import flag_panel

    unacknowledged = detail.unacknowledged()
    if unacknowledged:
        # No one acknowledged these at a prompt: show them where they cannot be missed.
        output.err().print(flag_panel(unacknowledged), soft_wrap=False)
        output.warn(
            f"Act on these now, then record that you have: probhealth screening ack {detail.id}"
        )
    if detail.ignored:
        output.warn(
            "Answered but not asked by the questions' order (kept, and read for risk): "
            + ", ".join(detail.ignored)
        )
    for c in detail.could_apply:
        output.warn(f"Could apply: {c.title}. {c.advice}.")
    render.print_renderable(render.screening_summary(detail))
