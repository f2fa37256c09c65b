"""The questionary asker: questions wrap at word boundaries at the terminal's width.

prompt_toolkit breaks a line wherever the edge of the screen falls, so at 80 columns the
drugs question read "... not prescribed for you, o / r taken more ..." and its instruction
"(Use shortcuts or arrow k / eys)". The asker now hands questionary a question already
wrapped, with the instruction on the last line only if it fits whole.
"""

from __future__ import annotations

from typing import Any

import pytest

from probhealth.cli import prompts

DRUGS = (
    "In the last 12 months, have you used drugs that were not prescribed for you, or taken"
    " more of a prescribed medicine than you should?"
)


class _Answered:
    def __init__(self, value: Any) -> None:
        self.value = value

    def unsafe_ask(self) -> Any:
        return self.value


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What questionary was asked to show: (message, instruction), at 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    seen: list[tuple[str, str]] = []

    def fake(answer: Any, default_instruction: str = "") -> Any:
        def prompt(message: str, **kwargs: Any) -> _Answered:
            seen.append((message, kwargs.get("instruction") or default_instruction))
            return _Answered(answer)

        return prompt

    monkeypatch.setattr(prompts.questionary, "select", fake("1"))
    monkeypatch.setattr(prompts.questionary, "checkbox", fake(["1"]))
    monkeypatch.setattr(prompts.questionary, "text", fake("x"))
    monkeypatch.setattr(prompts.questionary, "confirm", fake(True, "(y/N)"))
    return seen


def _screen_lines(message: str, instruction: str) -> list[str]:
    """The lines as questionary draws them: "? " + message + " " + instruction."""
    return f"? {message} {instruction}".split("\n")


def test_long_questions_wrap_between_words(asked: list[tuple[str, str]]) -> None:
    asker = prompts.QuestionaryAsker()
    asker.select(DRUGS, [("1", "Yes"), ("2", "No")])
    asker.checkbox(DRUGS, [("1", "Weekends")])
    asker.text(
        DRUGS,
        instruction="(A date: YYYY-MM-DD or DD/MM/YYYY. Type < to go back, or - for 'prefer"
        " not to say'.)",
    )
    asker.confirm(
        "Do they agree to you sharing their details with this service? Record their answer"
    )
    assert len(asked) == 4
    for message, instruction in asked:
        lines = _screen_lines(message, instruction)
        assert all(len(line) <= 79 for line in lines), lines
        # every word of the question is whole on one line
        for word in message.split():
            assert any(word in line.split() for line in lines), (word, lines)
    select_lines = _screen_lines(*asked[0])
    assert select_lines[-1].strip() == "(Use shortcuts or arrow keys)"  # too long to share a line


def test_a_short_question_keeps_its_instruction_beside_it(asked: list[tuple[str, str]]) -> None:
    prompts.QuestionaryAsker().select("Do you smoke?", [("1", "Yes"), ("2", "No")])
    ((message, instruction),) = asked
    assert message == "Do you smoke?" and instruction == "(Use shortcuts or arrow keys)"


def test_a_long_answer_is_shown_whole_beside_its_question(asked: list[tuple[str, str]]) -> None:
    """The answer questionary shows after the question took the instruction's place and was
    cut: "do they agree? Agreed: they will contact the s / ervice themselves"."""
    agreed = "Agreed: they will contact the service themselves"
    prompts.QuestionaryAsker().select(
        "Crisis support now (emergency): do they agree?", [("self", agreed), ("later", "Later")]
    )
    ((message, _),) = asked
    assert all(len(line) <= 79 for line in f"? {message} {agreed}".split("\n"))
