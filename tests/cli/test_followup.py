"""The decisions after a screening, in the terminal (``cli/followup.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from probhealth.cli.followup import TerminalFollowUp
from probhealth.directory.model import load_file
from probhealth.services.suggest import ServiceMatch

SERVICES = Path(__file__).resolve().parents[2] / "examples" / "services-fictional.yaml"


class Asked:
    """A scripted asker that records the choices it was shown and picks the first."""

    def __init__(self) -> None:
        self.shown: list[Sequence[tuple[str, str]]] = []

    def select(self, message: str, choices: Sequence[tuple[str, str]], **_: Any) -> str:
        self.shown.append(choices)
        return choices[0][0]


def test_a_service_warning_is_shown_whole_not_cut_in_its_choice(capsys, narrow) -> None:
    """The warning on a service rode in its one-line choice, which questionary cuts at the
    screen's edge: "Cambridge Community Food Bank (fictional)  ⚠ Needs a referral from you,
    an". Each warning is now printed whole (wrapped between words) before the choice, and
    the choice only marks it."""
    food = next(s for s in load_file(SERVICES) if s.id == "cam-food-bank")
    warning = "Needs a referral from you, and consent to share with services is not recorded"
    asker = Asked()
    picked = TerminalFollowUp("X123456", asker).service(  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        [ServiceMatch(food, (warning,), open_now=False)],
    )
    assert picked == "cam-food-bank"
    ((label_food, label_later),) = [[t for _, t in c] for c in asker.shown]
    assert label_food == f"{food.name}  ⚠ (see above)" and label_later == "Choose later"
    printed = capsys.readouterr().out
    assert max(len(line) for line in printed.splitlines()) <= 80
    assert " ".join(printed.split()) == f"⚠ {food.name}: {warning}"


def test_decisions_left_for_later_say_how_to_take_them_up(capsys) -> None:
    """After the demo's decisions, three left "for later" were never mentioned again (and
    with none recorded nothing was said at all): the next step is now named."""
    ui = TerminalFollowUp("X123456", Asked())  # type: ignore[arg-type]
    ui.finished(0, left=3)
    ui.finished(2, left=1)
    ui.finished(1)
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        "3 suggestions left to decide later. Take them up with: probhealth follow-up X123456"
        " Recorded 2 decisions. See them with: probhealth referral list X123456"
        " 1 suggestion left to decide later. Take it up with: probhealth follow-up X123456"
        " Recorded 1 decision. See them with: probhealth referral list X123456"
    )
