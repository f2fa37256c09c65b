"""The seam between the guided screening and the keyboard.

``Asker`` is what the terminal UI needs from a prompt library. ``cli/prompts.py`` implements
it with questionary (the only module that imports it); tests implement it with scripted
answers, because CliRunner cannot drive prompt_toolkit. ``get_asker`` is the one place the
real implementation is chosen, so tests can swap it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

Choice = tuple[str, str]  # (key returned, text shown)


class Asker(Protocol):
    def select(
        self,
        message: str,
        choices: Sequence[Choice],
        *,
        default: str | None = None,
        instruction: str | None = None,
    ) -> str: ...

    def checkbox(
        self,
        message: str,
        choices: Sequence[Choice],
        *,
        checked: Sequence[str] = (),
        instruction: str | None = None,
    ) -> list[str]: ...

    def text(self, message: str, *, default: str = "", instruction: str | None = None) -> str: ...

    def confirm(self, message: str, *, default: bool = False) -> bool: ...


def _questionary() -> Asker:
    from probhealth.cli.prompts import QuestionaryAsker

    return QuestionaryAsker()


asker_factory: Callable[[], Asker] = _questionary


def get_asker() -> Asker:
    return asker_factory()
