"""The guided screening as the worker sees it (issue 13, item 11): progress over the whole
screening, a resumed screening names the flags already raised, and reading help and food
(``notice`` flags) never stop it for an acknowledgement."""

from __future__ import annotations

import re

from tests.cli.test_screen import person, policy, terminal  # noqa: F401 - fixtures
from tests.helpers import ScriptedAsker

QUESTION = re.compile(r"Question (\d+) of about (\d+)")


def test_progress_counts_the_whole_screening(cli, person, terminal):  # noqa: F811
    """It said "Section title · 1 of 3", a count that started again in each section and grew
    with it; now "Question 12 of about 40" over the whole screening."""
    asker = terminal(ScriptedAsker([policy()] * 80))
    out = cli("screen", person).stdout
    shown = [(int(a), int(b)) for a, b in QUESTION.findall(out)]
    asked = sum(1 for kind, message in asker.asked if kind != "confirm" and "agree" not in message)
    assert [n for n, _ in shown] == list(range(1, len(shown) + 1))
    assert len(shown) == asked >= 30
    totals = {about for _, about in shown}
    assert all(n <= about for n, about in shown)
    assert max(totals) - min(totals) <= 5  # an estimate from the start, not a growing count


def test_a_resumed_screening_names_the_flags_already_raised(cli, person, terminal):  # noqa: F811
    seen: list[str] = []

    def until_acknowledged(kind, message, choices):  # type: ignore[no-untyped-def]
        if seen and seen[-1] == "confirm":
            raise KeyboardInterrupt  # the worker stops right after acknowledging
        seen.append(kind)
        return policy({"phq9_1": 1, "phq9_9": 1, "hvs_1": "often"})(kind, message, choices)

    terminal(ScriptedAsker([until_acknowledged] * 80))
    cli("screen", person, expect=130)
    assert "confirm" in seen
    terminal(ScriptedAsker([policy()] * 80))
    out = cli("screen", person).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("Flags raised so far"))
    assert "(emergency, acknowledged)" in line
    assert "Resuming screening" in out


def test_reading_help_and_food_do_not_interrupt(cli, person, terminal):  # noqa: F811
    asker = terminal(ScriptedAsker([policy({"sils_1": "often", "hvs_1": "often"})] * 80))
    result = cli("screen", person)
    assert "complete" in result.stderr
    assert "confirm" not in [kind for kind, _ in asker.asked]
    assert "EMERGENCY" not in result.stdout and "Same day" not in result.stdout
