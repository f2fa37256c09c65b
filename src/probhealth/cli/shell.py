"""``probhealth shell``: one start, then commands typed one after another in the same process.

Every line runs through the real command tree (the same ``build_app`` as ``probhealth`` itself),
so options, output, ``--json``, messages and exit codes are those of the one-shot commands, and
a command added to ``COMMANDS`` works here with no change. What the shell adds:

- one context (``shared_store``): the database is opened once and stays open between commands,
  holding no transaction; before each command it checks the file is still the one it opened
  and its schema is current, and opens it again (with every check) if not;
- an error prints its one line and the prompt comes back; Ctrl-C cancels the running command
  (its write, if any, is rolled back whole and the connections are dropped) and never the shell;
- completion of commands, options, CRNs, pathway, referral and screening ids;
- history in memory only, unless ``--history`` (a 0600 file in the data folder, without the
  lines that carry personal details, and without an erased person's CRN).

Without a terminal it reads one command per line from stdin (``#`` starts a comment) and exits
with the code of the last command that failed (0 if none did).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from probhealth.cli import output
from probhealth.cli.context import AppContext, app_context, interactive, shared_store

if TYPE_CHECKING:
    from probhealth.store.db import Store

HISTORY_FILE = "shell-history"
LEAVE = ("exit", "quit")
# Lines carrying these options hold personal details or free text: kept for the session
# only, never written to the history file.
PRIVATE_OPTIONS = (
    "--given",
    "--family",
    "--dob",
    "--postcode",
    "--note",
    "--communication-needs",
    "--search",
    "--nhs-number",
    "--address",
    "--language",
    "--release-date",
    "--reason",
)
PRIVATE_COMMANDS = (("goal", "add"),)  # the goal's text is an argument
# Parameter names whose values the shell can complete.
CRN_PARAMS = ("crn",)
PATHWAY_PARAMS = ("pathway",)
REFERRAL_PARAMS = ("referral_id",)
SCREENING_PARAMS = ("screening_id",)

Completion = tuple[str, int, str]  # text, start position (<= 0), meta


def shell(
    ctx: typer.Context,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help=f"Keep the commands typed in {HISTORY_FILE} in the data folder (0600), for the next session. Default: in memory only.",
        ),
    ] = False,
) -> None:
    """Type commands one after another without starting probhealth each time.

    Commands are the usual ones without `probhealth` in front (person show X123456,
    suggest X123456, referral list --due). Tab completes commands, options, CRNs and ids;
    Ctrl-C cancels the running command; Ctrl-D or `exit` leaves. Without a terminal it runs
    one command per line from standard input.

    Example: probhealth --demo shell
    """
    app_ctx = app_context(ctx)
    session = Shell(app_ctx)
    code = session.run(history=history)
    if code:
        raise typer.Exit(code)


class Shell:
    def __init__(self, app_ctx: AppContext) -> None:
        self.app_ctx = app_ctx
        self._command: Any = None  # the click command tree, built once
        self._pathways: list[tuple[str, str]] | None = None

    # -- the command tree --------------------------------------------------------------------
    @property
    def command(self) -> Any:
        if self._command is None:
            from typer.main import get_command

            from probhealth.cli import build_app

            self._command = get_command(build_app())
        return self._command

    # -- running -----------------------------------------------------------------------------
    def run(self, *, history: bool) -> int:
        with shared_store(self.app_ctx):
            store = self.app_ctx.store()  # open now: a refused file stops the shell at once
            self.app_ctx._hint_prefix(demo=self.app_ctx.demo)
            if interactive():
                return self._interactive(store, history=history)
            return self._from_stdin()

    def _interactive(self, store: Store, *, history: bool) -> int:
        from probhealth.cli.prompts import shell_reader

        path = history_path() if history else None
        reader = shell_reader(
            self.prompt_text(store), self.complete, history_file=path, keep=keep_in_file
        )
        output.info(
            "Type commands without `probhealth` (person show X123456). Tab completes; "
            "`help` lists the commands; Ctrl-D or `exit` leaves."
        )
        if path is not None:
            output.info(f"History is kept in {path}.")
        last = 0
        while True:
            try:
                line = reader.read()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            if line is None:
                return last
            words = self._words(line)
            if words is None:
                continue
            if words and words[0] in LEAVE:
                return last
            code = self.execute(words)
            if code is None:
                return 1
            if code == 0 and words[:2] == ["person", "erase"] and len(words) > 2:
                reader.forget(words[2].strip().upper())
            last = code

    def _from_stdin(self) -> int:
        failed = 0
        for raw in sys.stdin:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = self._words(line)
            if words is None:
                failed = 2
                continue
            if words[0] in LEAVE:
                break
            code = self.execute(words)
            if code is None:
                return 1
            if code:
                failed = code
        return failed

    @staticmethod
    def _words(line: str) -> list[str] | None:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            output.error(f"Error: {exc}. Check the quotes in the command.")
            return None
        if words and words[0] == "help":
            words = [*words[1:], "--help"]
        return words

    def execute(self, words: Sequence[str]) -> int | None:
        """Run one command line; its exit code, or None when the shell must stop."""
        if not words:
            return 0
        if words[0] == "shell":
            output.error("Error: You are in the shell already.")
            return 2
        if not self._still_current():
            return None
        try:
            code = self.command.main(
                args=list(words), prog_name="probhealth", standalone_mode=False
            )
        except SystemExit as exc:  # a command that exits the interpreter's way
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except KeyboardInterrupt:
            code = 130
        except Exception as exc:
            code = self._framework_error(exc)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if code == 130:
            self._after_interrupt()
        return code if isinstance(code, int) else 0

    def _framework_error(self, exc: Exception) -> int:
        """Errors raised before a command starts (an unknown command, Ctrl-D in a prompt)."""
        name = type(exc).__name__
        if name == "Abort":
            return 1
        if hasattr(exc, "format_message"):
            where = getattr(getattr(exc, "ctx", None), "command_path", None) or "probhealth"
            output.error(f"Error: {exc.format_message()} See: {where} --help")
            return int(getattr(exc, "exit_code", 2))
        from probhealth.cli import internal_error

        internal_error(exc)
        return 1

    def _after_interrupt(self) -> None:
        """Ctrl-C may have landed anywhere: drop every connection (rolling back whatever was
        under way) so no transaction or lock outlives the command."""
        import gc

        self.app_ctx.forget_store()
        gc.collect()

    def _still_current(self) -> bool:
        store = self.app_ctx.opened
        if store is None:
            return True
        change = store.changed_under()
        if change is None:
            return True
        if change == "removed":
            output.error(
                f"Error: The database {store.target.display} is no longer there (moved or "
                "deleted). Leaving the shell; start it again to carry on."
            )
            return False
        what = "replaced by another file" if change == "replaced" else "changed by another program"
        output.warn(f"The database was {what}; opening it again.")
        self.app_ctx.forget_store()
        return True

    # -- what the prompt shows ---------------------------------------------------------------
    def prompt_text(self, store: Store) -> str:
        target = store.target
        where = target.path.name if target.path is not None else target.display
        return f"probhealth [{where} · {self.app_ctx.actor}]> "

    # -- completion --------------------------------------------------------------------------
    def complete(self, before: str) -> list[Completion]:
        try:
            return self._complete(before)
        except Exception:  # completion must never break the prompt
            return []

    def _complete(self, before: str) -> list[Completion]:
        try:
            words = shlex.split(before)
        except ValueError:
            return []
        current = "" if not before or before[-1].isspace() else (words.pop() if words else "")
        start = -len(current)
        cmd = self.command
        rest = list(words)
        while rest and hasattr(cmd, "commands") and rest[0] in cmd.commands:
            cmd = cmd.commands[rest.pop(0)]
        if hasattr(cmd, "commands"):  # a group: the next word is a command
            if rest:
                return []
            names = sorted(n for n, c in cmd.commands.items() if not getattr(c, "hidden", False))
            if cmd is self.command:
                names = [n for n in names if n != "shell"] + ["help", "exit"]
            return [
                (n, start, _short_help(cmd.commands.get(n))) for n in names if n.startswith(current)
            ]
        options = {o: p for p in cmd.params if p.param_type_name == "option" for o in p.opts}
        if current.startswith("-"):
            used = {w for w in rest if w in options}
            names = [o for o in options if o not in used or options[o].multiple] + ["--help"]
            return [(o, start, "") for o in names if o.startswith(current)]
        param = self._param_at(cmd, rest, options)
        if param is None:
            return []
        return [(v, start, meta) for v, meta in self._values(param.name, current)]

    @staticmethod
    def _param_at(cmd: Any, rest: list[str], options: dict[str, Any]) -> Any:
        if rest and rest[-1] in options and not options[rest[-1]].is_flag:
            return options[rest[-1]]
        position, skip = 0, False
        for word in rest:
            if skip:
                skip = False
            elif word in options:
                skip = not options[word].is_flag
            elif not word.startswith("-"):
                position += 1
        arguments = [p for p in cmd.params if p.param_type_name == "argument"]
        if position < len(arguments):
            return arguments[position]
        if arguments and arguments[-1].nargs == -1:
            return arguments[-1]
        return None

    def _values(self, name: str, current: str) -> list[tuple[str, str]]:
        if name in PATHWAY_PARAMS:
            return [(p, n) for p, n in self.pathways() if p.startswith(current)]
        lookup: Callable[[Any, str], Any] | None = None
        from probhealth.store import completion

        if name in CRN_PARAMS:
            lookup = completion.crns
        elif name in REFERRAL_PARAMS:
            lookup = completion.referrals
        elif name in SCREENING_PARAMS:
            lookup = completion.screenings
        if lookup is None:
            return []
        with self.app_ctx.store().read() as session:
            found = lookup(session, current)
        return [(v, "") if isinstance(v, str) else v for v in found]

    def pathways(self) -> list[tuple[str, str]]:
        if self._pathways is None:
            from probhealth.services.definitions import load_rules

            self._pathways = [(p.id, p.name) for p in load_rules().pathways]
        return self._pathways


def _short_help(cmd: Any) -> str:
    if cmd is None:
        return ""
    text = cmd.get_short_help_str(limit=60) if hasattr(cmd, "get_short_help_str") else ""
    return str(text)


def keep_in_file(line: str) -> bool:
    """Whether a line may be written to the history file (see ``PRIVATE_OPTIONS``)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return False
    if tuple(words[:2]) in PRIVATE_COMMANDS:
        return False
    return not any(w.split("=", 1)[0] in PRIVATE_OPTIONS for w in words)


def history_path() -> Path:
    """The history file in the data folder, created 0600 (the folder 0700) if missing."""
    from probhealth.paths import data_dir

    folder = data_dir()
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    path = folder / HISTORY_FILE
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
