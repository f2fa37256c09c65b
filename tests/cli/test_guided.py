"""The guided screening's terminal pieces (``cli/guided.py``)."""

from __future__ import annotations

import pytest
from rich.console import Console

from probhealth.cli.guided import flag_panel
from probhealth.services.definitions import load_questionnaire
from probhealth.textsafe import for_terminal

URGENT_FLAGS = [f for f in load_questionnaire().flags if f.severity in ("emergency", "same-day")]


@pytest.mark.parametrize("flag", URGENT_FLAGS, ids=lambda f: f.id)
def test_each_crisis_step_stays_indented_under_its_bullet_at_80_columns(flag) -> None:  # type: ignore[no-untyped-def]
    """The actions wrapped back to the panel's edge, so "A&E." and "press 2)." stood alone
    at the left like new steps. Each continuation line is now indented under its text."""
    console = Console(width=80, record=True, color_system=None)
    console.print(flag_panel([flag]))
    lines = [line[2:-2].rstrip() for line in console.export_text().splitlines()[1:-1]]
    assert all(len(line) <= 76 for line in lines)
    title, message = for_terminal(flag.title), " ".join(for_terminal(flag.message).split())
    steps_at = next(i for i, line in enumerate(lines) if line.startswith("  • "))
    assert lines[0] == title
    assert " ".join(" ".join(lines[1:steps_at]).split()) == message
    steps: list[str] = []
    for line in lines[steps_at:]:
        if line.startswith("  • "):
            steps.append(line[4:])
        else:
            assert line.startswith("    ") and line[4] != " ", (line, lines)
            steps[-1] += " " + line[4:]
    assert steps == [" ".join(for_terminal(a).split()) for a in flag.actions]
