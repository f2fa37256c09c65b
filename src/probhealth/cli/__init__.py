"""The ``probhealth`` command line: the root app, global options and the one error handler.

Each command group lives in its own module and is thin: parse, one call into a service,
render. Modules here import only typer and light probhealth modules at import time (a ruff
rule and a test enforce it), so ``probhealth --help`` never loads the database stack.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from probhealth import __version__
from probhealth.cli import output, plaintext
from probhealth.cli.context import AppContext
from probhealth.errors import BadInput, ProbhealthError

plaintext.install()  # text options without pydantic: about 0.1 s of every command's start


def _say_notices(ctx: Any) -> None:
    """What the store asks to be said after a command (a view the full disk kept out of the
    audit log)."""
    obj = ctx.find_root().obj
    store = obj.opened if isinstance(obj, AppContext) else None
    if store is not None and store.notices:
        for notice in dict.fromkeys(store.notices):
            output.warn(notice)
        store.notices.clear()


class ProbhealthGroup(TyperGroup):
    """Maps domain errors to one line on stderr and their exit code; hides everything else."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context; typed loosely as TyperGroup does
        wants_json = _wants_json(ctx)  # read now: invoking consumes the arguments
        try:
            result = super().invoke(ctx)
            _say_notices(ctx)
            return result
        except ProbhealthError as exc:
            from probhealth.cli.remedies import explain

            # One line: what is wrong, then what to do.
            line = explain(exc)
            output.error(f"Error: {line}")
            if wants_json:
                # --json promised JSON on stdout: an error object, so a script reads it too.
                output.emit_json(
                    {
                        "error": {
                            "message": output.command(line),  # as on stderr: --demo/--db kept
                            "exit_code": exc.exit_code,
                            "kind": type(exc).__name__,
                        }
                    }
                )
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # Whoever read our output (`| head`) has gone: stop quietly, and point stdout at
            # /dev/null so the interpreter's final flush does not complain either.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            ctx.exit(1)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise internal_error(exc) from None
            output.error(
                "Error: The disk is full; the output is incomplete. Free some space and try again."
            )
            ctx.exit(1)
        except Exception as exc:  # the last line of defence
            if _is_usage_error(exc):
                # Click prints usage errors on three lines; keep our contract of one.
                message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
                where = getattr(getattr(exc, "ctx", None), "command_path", None) or "probhealth"
                output.error(f"Error: {message} See: {where} --help")
                ctx.exit(2)
            raise internal_error(exc) from None


def _wants_json(ctx: Any) -> bool:
    """Whether the command line being run asked for ``--json``."""
    protected: list[str] = list(getattr(ctx, "_protected_args", None) or [])
    rest: list[str] = list(getattr(ctx, "args", None) or [])
    return "--json" in protected + rest


def internal_error(exc: BaseException) -> BaseException:
    """Report an unexpected error by reference only; returns the exit to raise."""
    import uuid

    ref = uuid.uuid4().hex[:8]
    output.error(
        f"Internal error (reference {ref}, {type(exc).__name__}). Nothing identifying is shown."
    )
    output.info("Set PROBHEALTH_DEBUG=1 to see the technical details.")
    if os.environ.get("PROBHEALTH_DEBUG"):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return typer.Exit(1)


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors click; its exceptions (usage errors, bad parameters) carry their own exit
    # codes and messages and must pass through to be printed by the framework.
    return hasattr(exc, "exit_code") and type(exc).__module__.startswith(("typer", "click"))


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"probhealth {__version__}\n")
        raise typer.Exit()


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
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Work on the demo database (demo.db beside the real one), as `probhealth demo` does.",
        ),
    ] = False,
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
    from probhealth.cli.context import shared_context

    shared = shared_context()
    if shared is not None:
        # Inside `probhealth shell`: every command shares the shell's context and database.
        typed = [
            name
            for name in ("db", "demo", "as_user")
            if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
        ]
        if typed:
            raise BadInput(
                "--db, --demo and --as are chosen when the shell starts.",
                hint="Leave the shell (Ctrl-D) and start it again with them.",
            )
        ctx.obj = shared
        return
    source = ctx.get_parameter_source("db")  # an enum of typer's vendored click
    typed_db = db if getattr(source, "name", None) == "COMMANDLINE" else None
    context = AppContext(db_option=db, actor_option=as_user, demo=demo, typed_db=typed_db)
    ctx.obj = context
    ctx.call_on_close(context.close)


# name -> (module in probhealth.cli, attribute, "command" or "group")
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("admin", "init", "command"),
    "person": ("person", "app", "group"),
    "consent": ("consent", "consent", "command"),
    "screen": ("screen", "screen", "command"),
    "screening": ("screening", "app", "group"),
    "follow-up": ("screen", "follow_up", "command"),
    "need": ("needs", "need_app", "group"),
    "barrier": ("needs", "barrier_app", "group"),
    "suggest": ("suggest", "suggest", "command"),
    "refer": ("referral", "refer", "command"),
    "referral": ("referral", "app", "group"),
    "goal": ("goal", "app", "group"),
    "handout": ("documents", "handout", "command"),
    "letter": ("documents", "letter", "command"),
    "export": ("export", "export", "command"),
    "report": ("report", "report", "command"),
    "import": ("importing", "app", "group"),
    "questionnaire": ("questionnaire", "app", "group"),
    "rules": ("rules", "app", "group"),
    "services": ("services", "app", "group"),
    "db": ("admin", "db_app", "group"),
    "audit": ("audit", "app", "group"),
    "transfer": ("transfer", "app", "group"),
    "today": ("caseload", "today", "command"),
    "demo": ("demo", "demo", "command"),
    "shell": ("shell", "shell", "command"),
}


def flag_line(f: Any) -> str:
    """One open safety flag, as the worker sees it at the top of a command (no answers)."""
    from probhealth import clock

    return (
        f"Open safety flag for {f.crn}: {f.title} ({f.severity}, raised {clock.show(f.raised_at)}, "
        f"{f.why_open}; screening {f.screening_id})."
    )


def _flag_banner(ctx: Any, crn: Any) -> None:
    """Open urgent safety flags of the person a command is about, in red on stderr, before
    the command runs: a disclosed risk stays in sight (issue 13). Silent when there are none
    or the CRN or database is wrong (the command itself says so)."""
    from probhealth.cli.context import app_context

    if not isinstance(crn, str) or not crn.strip():
        return
    try:
        from probhealth.services.flags import open_flags

        flags = open_flags(app_context(ctx).store(), crn)
    except ProbhealthError:
        return
    for f in flags:
        output.error(flag_line(f))


def _with_flag_banner(fn: Any) -> Any:
    """``fn`` (a command taking ``ctx`` and a ``crn``) that first shows the person's open
    safety flags; other commands, and those that show flags themselves, unchanged."""
    import functools
    import inspect

    if getattr(fn, "_flag_banner", False) or getattr(fn, "shows_flags", False):
        return fn
    params = inspect.signature(fn).parameters
    if "crn" not in params or "ctx" not in params:
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _flag_banner(kwargs.get("ctx"), kwargs.get("crn"))
        return fn(*args, **kwargs)

    wrapper._flag_banner = True  # type: ignore[attr-defined]
    return wrapper


def _banner_all(app: typer.Typer) -> None:
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = _with_flag_banner(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _banner_all(group.typer_instance)


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree: every command, or just ``only`` (typer converts the whole tree on each
    run, so a single command starts faster when the others are left out)."""
    import importlib

    new = typer.Typer(
        cls=ProbhealthGroup,
        name="probhealth",
        help="Guided health screening, needs, referral pathways and follow-up for people on probation.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(root)
    for name, (module, attr, kind) in COMMANDS.items():
        if only is not None and name != only:
            continue
        target = getattr(importlib.import_module(f"probhealth.cli.{module}"), attr)
        if kind == "group":
            _banner_all(target)
            new.add_typer(target, name=name)
        else:
            new.command(name)(_with_flag_banner(target))
    return new


_FULL: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole tree, built on first use (tests, ``--help``), not at import."""
    global _FULL
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _FULL is None:
        _FULL = build_app()
    return _FULL


_VALUE_OPTIONS = ("--db", "--as")


def _command_name(argv: list[str]) -> str | None:
    """The command being run, skipping global options; None for help or version."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _VALUE_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            if arg.split("=", 1)[0] in _VALUE_OPTIONS or arg == "--demo":
                continue
            return None  # --help, --version or an unknown option: the full tree answers
        return arg if arg in COMMANDS else None
    return None


def main() -> None:
    """Console-script entry point."""
    name = _command_name(sys.argv[1:])
    (build_app(name) if name else __getattr__("app"))()
