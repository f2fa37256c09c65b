"""Where output goes: results to stdout, messages to stderr, JSON printed plainly.

Data is never interpolated into rich markup here: every message is a ``Text`` built from a
string that has passed ``for_terminal``. ``NO_COLOR`` is honoured by rich itself.

A one-line message to a stream that is no terminal is written as the line itself, without
loading rich: rich would write exactly that (no styles off a terminal, no wrapping on
stderr), and loading it is a good part of a short command's start (an export, issue 19).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from probhealth.textsafe import for_terminal

if TYPE_CHECKING:
    from rich.console import Console


@lru_cache(maxsize=2)
def console(stderr: bool = False) -> Console:
    from rich.console import Console
    from rich.segment import Segment

    class FilteredConsole(Console):
        """Every piece of text passes ``for_terminal`` on its way out (issue 14 item 9): a
        renderer that forgot the filter (a table cell built as ``Text(value)``) cannot send
        ESC, C1, bidi or zero-width characters from stored data to the terminal. Rich's own
        control segments (cursor moves of a progress bar) and styles are not text; they pass."""

        def render(self, renderable: Any, options: Any = None) -> Any:
            for segment in super().render(renderable, options):
                if segment.control or segment.text.isprintable():
                    yield segment
                else:
                    yield Segment(for_terminal(segment.text), segment.style, segment.control)

    # Messages on stderr are never wrapped, so each stays one line for logs and scripts.
    return FilteredConsole(stderr=stderr, highlight=False, soft_wrap=stderr)


def err() -> Console:
    return console(stderr=True)


def out() -> Console:
    return console(stderr=False)


_PROG: re.Pattern[str] | None = None
_PREFIX = "probhealth"


def set_prog(prefix: str, commands: Iterable[str]) -> None:
    """Make the commands suggested in messages carry the global options in use, e.g.
    ``probhealth --demo referral list Z900001``, so a hint works when copied as it is."""
    global _PROG, _PREFIX
    _PREFIX = prefix
    names = "|".join(re.escape(c) for c in sorted(commands, key=len, reverse=True))
    _PROG = re.compile(rf"(?<![\w./-])probhealth (?=(?:{names})\b)")


def reset_prog() -> None:
    global _PROG, _PREFIX
    _PROG, _PREFIX = None, "probhealth"


def command(text: str) -> str:
    """``text`` with every suggested ``probhealth COMMAND`` given the global options in use."""
    if _PROG is None:
        return text
    return _PROG.sub(lambda _: _PREFIX + " " if _PREFIX else "", text)


def plainly(stream: Any) -> bool:
    """Whether rich is sure to treat ``stream`` as no terminal, and so to write text to it
    as it is: the stream says it is no TTY, nothing in the environment tells rich otherwise,
    and rich has not been loaded (no live display of its can be drawing on it). When this is
    False, rich decides, as it always did."""
    if "rich" in sys.modules or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    try:
        return stream.isatty() is False
    except (AttributeError, ValueError):  # no isatty, or closed: rich knows what to do
        return False


def terminal(stderr: bool = False) -> bool:
    """Whether stdout (or stderr) is a terminal, as rich sees it."""
    if plainly(sys.stderr if stderr else sys.stdout):
        return False
    return console(stderr).is_terminal


def _say(text: str, style: str | None, *, here: bool = True) -> None:
    line = for_terminal(command(text) if here else text)
    if line.isprintable() and plainly(sys.stderr):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
        return
    from rich.text import Text

    err().print(Text(line, style=style or ""))


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 person``, ``2 people``, ``1,204 rows``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def info(text: str) -> None:
    _say(text, None)


def elsewhere(text: str) -> None:
    """Like ``info``, for a command to run on another database (the other end of a
    transfer): this one's ``--db`` or ``--demo`` would be wrong there, so none is added."""
    _say(text, None, here=False)


def ok(text: str) -> None:
    _say(text, "green")


def warn(text: str) -> None:
    _say(text, "yellow")


def error(text: str) -> None:
    _say(text, "bold red")


class _Progress:
    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and terminal()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if self.enabled:
            from rich.progress import Progress

            self._progress = Progress(console=err())
            self._progress.__enter__()
            self._task = self._progress.add_task(self.label, total=None)

        def advance(done: int, total: int) -> None:
            if self._progress is not None:
                self._progress.update(self._task, completed=done, total=total)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


def progress(label: str, *, enabled: bool = True) -> _Progress:
    """A progress bar on stderr when stdout is a terminal; nothing when piped."""
    return _Progress(label, enabled)


def emit_json(data: Any) -> None:
    """Print JSON alone on stdout (ensure_ascii keeps any control character escaped)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=True, default=str) + "\n")
    sys.stdout.flush()
