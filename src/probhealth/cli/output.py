"""Where output goes: results to stdout, messages to stderr, JSON printed plainly.

Data is never interpolated into rich markup here: every message is a ``Text`` built from a
string that has passed ``for_terminal``. ``NO_COLOR`` is honoured by rich itself.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from probhealth.textsafe import for_terminal

if TYPE_CHECKING:
    from rich.console import Console


@lru_cache(maxsize=2)
def console(stderr: bool = False) -> Console:
    from rich.console import Console

    # Messages on stderr are never wrapped, so each stays one line for logs and scripts.
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def err() -> Console:
    return console(stderr=True)


def out() -> Console:
    return console(stderr=False)


def _say(text: str, style: str | None) -> None:
    from rich.text import Text

    err().print(Text(for_terminal(text), style=style or ""))


def info(text: str) -> None:
    _say(text, None)


def ok(text: str) -> None:
    _say(text, "green")


def warn(text: str) -> None:
    _say(text, "yellow")


def error(text: str) -> None:
    _say(text, "bold red")


def emit_json(data: Any) -> None:
    """Print JSON alone on stdout (ensure_ascii keeps any control character escaped)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=True, default=str) + "\n")
    sys.stdout.flush()
