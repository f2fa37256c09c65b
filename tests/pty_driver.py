"""Drive the real ``probhealth screen`` prompts (questionary in a pseudo-terminal) with pexpect.

Each prompt kind has a marker in its instruction line; the driver reads the question, looks the
item up in the bundled questionnaire, and presses the keys a worker would press.

No fixed sleeps: the driver waits for what the screen shows (the next prompt's question and
instruction), then sends that prompt's keys in one write. The prompt is already reading by
then, and keys typed ahead are kept by the terminal until it reads them, in order.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect

from probhealth.services.definitions import load_questionnaire
from tests.helpers import negative_answer

Q = load_questionnaire()
BY_TEXT = {item.text: item for item in Q.items}
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
SELECT = r"\(Use shortcuts or arrow keys\)"
CHECKBOX = r"\(space to tick, enter when done\)"
TEXT = r"Type < to go back"
CONFIRM = r"I have read this and will act on it now"
DONE = r"Screening \d+ complete"
DOWN = "\x1b[B"


def probhealth_cmd() -> list[str]:
    return [sys.executable, "-m", "probhealth"]


class PtyScreen:
    def __init__(
        self,
        db: Path,
        crn: str,
        *,
        overrides: dict[str, object] | None = None,
        home: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH")}
        env.update(
            {
                "PROBHEALTH_DB": str(db),
                "PROBHEALTH_USER": "tester",
                "TERM": "xterm",
                "NO_COLOR": "1",
                "COLUMNS": "400",
                "PROMPT_TOOLKIT_NO_CPR": "1",
            }
        )
        if home:
            env["PROBHEALTH_HOME"] = str(home)
        cmd = probhealth_cmd()
        self.child = pexpect.spawn(
            cmd[0],
            [*cmd[1:], "screen", crn, *args],
            env=env,
            encoding="utf-8",
            timeout=20,
            dimensions=(50, 400),
        )
        self.overrides = overrides or {}
        self.answered: list[
            str
        ] = []  # items whose answer was confirmed by the next prompt appearing
        self.pending: str | None = None
        self.seen_text = ""
        self._shown: int | None = None  # a prompt on screen, read but not yet answered

    def _question(self) -> str:
        text = ANSI.sub("", self.child.before or "")
        lines = [
            ln.strip() for ln in text.replace("\r", "\n").split("\n") if ln.strip().startswith("? ")
        ]
        return lines[-1][2:].strip() if lines else ""

    def _item(self, question: str):  # type: ignore[no-untyped-def]
        for text, item in BY_TEXT.items():
            if question.startswith(text[:60]):
                return item
        raise AssertionError(f"unknown question on screen: {question!r}")

    def wait_for_prompt(self) -> None:
        """Wait until the next prompt is on screen (the answer before it is saved), without
        answering it; the next ``step`` answers it."""
        while True:
            kind = self.child.expect([SELECT, CHECKBOX, TEXT, CONFIRM, DONE, pexpect.EOF])
            self.seen_text += ANSI.sub("", self.child.before or "")
            if kind in (0, 1, 2) and not self._question():
                # The instruction again with no question line before it: a late redraw of the
                # prompt just answered (under load the terminal output arrives in bursts), not
                # a new prompt. Wait for the screen to show the next question.
                continue
            self._shown = kind
            return

    def step(self) -> str:
        """Answer one prompt; returns the kind handled ('done' at the end)."""
        if self._shown is None:
            self.wait_for_prompt()
        kind, self._shown = self._shown, None
        assert kind is not None
        if self.pending is not None and kind != 5:
            self.answered.append(self.pending)
            self.pending = None
        if kind == 4:
            if self.pending:
                self.answered.append(self.pending)
                self.pending = None
            return "done"  # the screening is saved; the suggestions follow
        if kind == 5:
            return "eof"
        if kind == 3:
            self.child.send("y\r")  # y then Enter (auto_enter is off: no stray Enter)
            self.child.expect(CONFIRM)  # the redraw of the answered prompt
            return "confirm"
        question = self._question()
        if kind == 0 and "do they agree?" in question:
            # The referral decisions after the screening: "Decide later" is the default.
            self.child.send("\r")
            return "decision"
        item = self._item(question)
        value = self.overrides.get(item.id, negative_answer(item))
        if kind == 0:
            index = next(n for n, o in enumerate(item.options) if o.value == value)
            self.child.send(f"{index + 1}\r")
        elif kind == 1:
            wanted = {n for n, o in enumerate(item.options) if o.value in value}  # type: ignore[operator]
            keys = "".join((" " if n in wanted else "") + DOWN for n in range(len(item.options)))
            self.child.send(keys + "\r")
        else:
            self.child.send(f"{value}\r")
            # questionary redraws a finished text prompt with its instruction: consume it.
            self.child.expect(TEXT)
        self.pending = item.id
        return "answer"

    def kill(self) -> None:
        os.kill(self.child.pid, 9)
        self.child.wait()

    def finish(self) -> None:
        while self.step() != "eof":
            pass
        self.child.expect(pexpect.EOF)
        self.child.close()
