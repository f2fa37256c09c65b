"""questionary behind the ``Asker`` seam, and the shell's line reader: the only module that
imports questionary or prompt_toolkit.

``unsafe_ask`` is used everywhere so Ctrl-C raises ``KeyboardInterrupt`` (``ask`` would swallow
it and return None, which could save a half-finished answer). Number keys pick a choice.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import questionary
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from questionary import Style

from probhealth.cli.asker import Choice
from probhealth.textsafe import for_terminal

STYLE = Style(
    [
        ("qmark", "fg:ansicyan bold"),
        ("question", "bold"),
        ("pointer", "fg:ansicyan bold"),
        ("highlighted", "fg:ansicyan bold"),
        ("selected", "fg:ansigreen"),
        ("instruction", "fg:ansibrightblack italic"),
    ]
)


SELECT_HELP = "(Use shortcuts or arrow keys)"
CHECKBOX_HELP = "(space to tick, enter when done)"
CONFIRM_HELP = "(y/N)"


def _fit(message: str, instruction: str | None) -> str:
    """The question, filtered and wrapped at word boundaries to the terminal's width:
    prompt_toolkit breaks a long line wherever the edge falls ("o / r taken", "shor /
    tcuts"), which a worker reading aloud stumbles over. The instruction questionary adds
    after the question goes on the last line if it fits whole, else on a line of its own."""
    text = for_terminal(message)
    width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
    lines: list[str] = []
    for n, part in enumerate(text.split("\n")):
        head = "? " if n == 0 else ""  # questionary's mark and space before the first line
        wrapped = textwrap.wrap(head + part, width, break_on_hyphens=False) or [head]
        wrapped[0] = wrapped[0][len(head) :] if n == 0 else wrapped[0]
        lines += wrapped
    if (
        instruction
        and len(lines[-1]) + (2 if len(lines) == 1 else 0) + len(instruction) + 2 > width
    ):
        lines[-1] += "\n"
    return "\n".join(lines)


def _choices(choices: Sequence[Choice], checked: Sequence[str] = ()) -> list[questionary.Choice]:
    return [
        questionary.Choice(title=for_terminal(title), value=key, checked=key in checked)
        for key, title in choices
    ]


class QuestionaryAsker:
    def select(
        self,
        message: str,
        choices: Sequence[Choice],
        *,
        default: str | None = None,
        instruction: str | None = None,
    ) -> str:
        items = _choices(choices)
        chosen = next((c for c in items if c.value == default), None)
        instruction = instruction or (SELECT_HELP if len(items) <= 36 else "(Use arrow keys)")
        # Once answered, the answer takes the instruction's place: the longer must fit.
        echoed = max([instruction, *(for_terminal(title) for _, title in choices)], key=len)
        result = questionary.select(
            _fit(message, echoed),
            choices=items,
            default=chosen,
            instruction=instruction,
            qmark="?",
            style=STYLE,
            use_shortcuts=len(items) <= 36,
            use_arrow_keys=True,
            use_jk_keys=False,
        ).unsafe_ask()
        return str(result)

    def checkbox(
        self,
        message: str,
        choices: Sequence[Choice],
        *,
        checked: Sequence[str] = (),
        instruction: str | None = None,
    ) -> list[str]:
        instruction = instruction or CHECKBOX_HELP
        result = questionary.checkbox(
            _fit(message, instruction),
            choices=_choices(choices, checked),
            instruction=instruction,
            qmark="?",
            style=STYLE,
        ).unsafe_ask()
        return [str(r) for r in result]

    def text(self, message: str, *, default: str = "", instruction: str | None = None) -> str:
        if instruction:  # a typed answer's help can be longer than a line: wrap it too
            width = max(shutil.get_terminal_size((80, 24)).columns - 2, 20)
            instruction = "\n".join(textwrap.wrap(instruction, width, break_on_hyphens=False))
        result = questionary.text(
            _fit(message, instruction),
            default=default,
            instruction=instruction,
            qmark="?",
            style=STYLE,
        ).unsafe_ask()
        return str(result)

    def confirm(self, message: str, *, default: bool = False) -> bool:
        return bool(
            questionary.confirm(
                _fit(message, CONFIRM_HELP),
                default=default,
                qmark="?",
                style=STYLE,
                auto_enter=False,  # y/n then Enter, like every other answer: no stray Enter
            ).unsafe_ask()
        )


# -- the shell's own prompt (prompt_toolkit, which questionary brings) ---------------------------


class _Completer(Completer):
    """Asks ``complete(text before the cursor)`` for (text, start position, meta) triples."""

    def __init__(self, complete: Callable[[str], list[tuple[str, int, str]]]) -> None:
        self.complete = complete

    def get_completions(self, document: Document, complete_event: object) -> Iterator[Completion]:
        for text, start, meta in self.complete(document.text_before_cursor):
            yield Completion(text, start_position=start, display_meta=meta or None)


class _PrivateFileHistory(FileHistory):
    """A history file that skips the lines ``keep`` refuses and can forget a word (an erased
    person's CRN) in every line already written."""

    def __init__(self, path: Path, keep: Callable[[str], bool]) -> None:
        super().__init__(str(path))
        self.path = path
        self.keep = keep

    def store_string(self, string: str) -> None:
        if self.keep(string):
            super().store_string(string)

    def forget(self, word: str) -> None:
        entries: list[list[str]] = []
        current: list[str] = []  # prompt_toolkit's format: "# time" then "+line" lines
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.startswith("#") or not line.strip():
                if current:
                    entries.append(current)
                current = [line] if line.startswith("#") else []
            else:
                current.append(line)
        if current:
            entries.append(current)
        kept = [e for e in entries if not any(word in ln for ln in e if ln.startswith("+"))]
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join("\n" + "".join(e) for e in kept))
        os.replace(tmp, self.path)


class ShellReader:
    def __init__(
        self,
        message: str,
        complete: Callable[[str], list[tuple[str, int, str]]],
        *,
        history_file: Path | None,
        keep: Callable[[str], bool],
    ) -> None:
        self.history: History = (
            _PrivateFileHistory(history_file, keep) if history_file else InMemoryHistory()
        )
        self.message = message
        self.complete = complete
        self.session = self._session()

    def _session(self) -> PromptSession[str]:
        return PromptSession(
            history=self.history,
            completer=_Completer(self.complete),
            complete_while_typing=False,
            enable_history_search=False,
            style=STYLE,
        )

    def read(self) -> str | None:
        """One line; None on Ctrl-D. Ctrl-C raises ``KeyboardInterrupt``."""
        try:
            return self.session.prompt(self.message)
        except EOFError:
            return None

    def forget(self, word: str) -> None:
        """Remove every line holding ``word`` from the history (file and this session)."""
        if isinstance(self.history, _PrivateFileHistory):
            self.history.forget(word)
        strings = getattr(self.history, "_loaded_strings", None)
        if isinstance(strings, list):
            strings[:] = [s for s in strings if word not in s]
        self.session = self._session()  # a new line buffer, from the history without it


def shell_reader(
    message: str,
    complete: Callable[[str], list[tuple[str, int, str]]],
    *,
    history_file: Path | None,
    keep: Callable[[str], bool],
) -> ShellReader:
    return ShellReader(message, complete, history_file=history_file, keep=keep)
