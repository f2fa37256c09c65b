"""The ``probhealth`` command line: the root app, global options and the one error handler.

Each command group lives in its own module and is thin: parse, one call into a service,
render. Modules here import only typer and light probhealth modules at import time (a ruff
rule and a test enforce it), so ``probhealth --help`` never loads the database stack.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from probhealth import __version__
from probhealth.cli import output
from probhealth.cli.context import AppContext
from probhealth.errors import ProbhealthError


class ProbhealthGroup(TyperGroup):
    """Maps domain errors to one line on stderr and their exit code; hides everything else."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context; typed loosely as TyperGroup does
        try:
            return super().invoke(ctx)
        except ProbhealthError as exc:
            # One line: what is wrong, then what to do.
            output.error(f"Error: {exc}")
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if _is_usage_error(exc):
                raise
            ref = uuid.uuid4().hex[:8]
            output.error(
                f"Internal error (reference {ref}, {type(exc).__name__}). Nothing identifying is shown."
            )
            output.info("Set PROBHEALTH_DEBUG=1 to see the technical details.")
            if os.environ.get("PROBHEALTH_DEBUG"):
                import traceback

                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            ctx.exit(1)


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors click; its exceptions (usage errors, bad parameters) carry their own exit
    # codes and messages and must pass through to be printed by the framework.
    return hasattr(exc, "exit_code") and type(exc).__module__.startswith(("typer", "click"))


app = typer.Typer(
    cls=ProbhealthGroup,
    name="probhealth",
    help="Guided health screening, needs, referral pathways and follow-up for people on probation.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"probhealth {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="PROBHEALTH_DB",
            help="Database file path or URL (default: probhealth.db in the data dir; PROBHEALTH_HOME moves the dir).",
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="PROBHEALTH_USER",
            help="Who is working (recorded in the audit log). Default: your login name.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Guided health screening, needs, referral pathways and follow-up for people on probation."""
    context = AppContext(db_option=db, actor_option=as_user)
    ctx.obj = context
    ctx.call_on_close(context.close)


def _register() -> None:
    from probhealth.cli import (
        admin,
        consent,
        demo,
        export,
        goal,
        importing,
        needs,
        person,
        questionnaire,
        referral,
        rules,
        screen,
        screening,
        services,
        suggest,
    )

    app.command("init")(admin.init)
    app.add_typer(person.app, name="person")
    app.command("consent")(consent.consent)
    app.command("screen")(screen.screen)
    app.add_typer(screening.app, name="screening")
    app.add_typer(needs.need_app, name="need")
    app.add_typer(needs.barrier_app, name="barrier")
    app.command("suggest")(suggest.suggest)
    app.command("refer")(referral.refer)
    app.add_typer(referral.app, name="referral")
    app.add_typer(goal.app, name="goal")
    app.command("export")(export.export)
    app.add_typer(importing.app, name="import")
    app.add_typer(questionnaire.app, name="questionnaire")
    app.add_typer(rules.app, name="rules")
    app.add_typer(services.app, name="services")
    app.add_typer(admin.db_app, name="db")
    app.command("demo")(demo.demo)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
