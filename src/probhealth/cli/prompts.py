"""questionary behind the ``Asker`` seam: the only module that imports questionary.

``unsafe_ask`` is used everywhere so Ctrl-C raises ``KeyboardInterrupt`` (``ask`` would swallow
it and return None, which could save a half-finished answer). Number keys pick a choice.
"""

from __future__ import annotations

from collections.abc import Sequence

import questionary
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
        result = questionary.select(
            for_terminal(message),
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
        result = questionary.checkbox(
            for_terminal(message),
            choices=_choices(choices, checked),
            instruction=instruction or "(space to tick, enter when done)",
            qmark="?",
            style=STYLE,
        ).unsafe_ask()
        return [str(r) for r in result]

    def text(self, message: str, *, default: str = "", instruction: str | None = None) -> str:
        result = questionary.text(
            for_terminal(message), default=default, instruction=instruction, qmark="?", style=STYLE
        ).unsafe_ask()
        return str(result)

    def confirm(self, message: str, *, default: bool = False) -> bool:
        return bool(
            questionary.confirm(
                for_terminal(message),
                default=default,
                qmark="?",
                style=STYLE,
                auto_enter=False,  # y/n then Enter, like every other answer: no stray Enter
            ).unsafe_ask()
        )
