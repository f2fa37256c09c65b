"""Messages written without rich off a terminal are the bytes rich writes (issue 19)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SAY = """
import json, sys
if sys.argv[1] == "rich":
    import rich  # loaded: every message goes through rich, as before
from probhealth.cli import output
for text in json.loads(sys.argv[2]):
    output.info(text)
    output.ok(text)
    output.warn(text)
    output.error(text)
with output.progress("Exporting people") as advance:
    advance(10, 0)
sys.stdout.write(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "rich")))
"""

ONE_LINE = [
    "Exported 1,204 rows of people (11 columns) to /tmp/people.csv, pseudonymised.",
    "Audit head after this export: 1828:09d85603d228309a.",
    "x" * 300 + " " + "y" * 50,
    "[bold red]not markup[/bold red] :smile: [link=x]",
    "wide 漢字 and e\u0301 combining, emoji 🙂, rtl שלום",
    "  leading and trailing  ",
    "",
]
OTHER = ["tab\there", "two\nlines", "escape \x1b[31m red \u202e bidi"]


def _run(mode: str, texts: list[str]) -> tuple[bytes, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "40"  # narrower than the messages: rich must not wrap them
    done = subprocess.run(
        [sys.executable, "-c", SAY, mode, json.dumps(texts)],
        capture_output=True,
        env=env,
        check=True,
    )
    return done.stderr, json.loads(done.stdout)


@pytest.mark.parametrize("texts", [ONE_LINE, ONE_LINE + OTHER], ids=["one-line", "mixed"])
def test_plain_messages_are_the_bytes_rich_writes(texts: list[str]) -> None:
    plain, loaded = _run("plain", texts)
    rich, loaded_rich = _run("rich", texts)
    assert plain == rich
    assert "rich.console" in loaded_rich
    if texts == ONE_LINE:
        assert loaded == []  # neither the messages nor the progress bar loaded rich
        assert plain.count(b"\n") == 4 * len(texts)
    else:
        assert b"\\x1b" in plain and b"\x1b" not in plain  # for_terminal, either way


def test_a_terminal_or_a_forced_colour_is_left_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    from probhealth.cli import output

    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delitem(sys.modules, "rich", raising=False)
    assert output.plainly(Pipe()) is True
    assert output.plainly(Tty()) is False
    assert output.plainly(object()) is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert output.plainly(Pipe()) is False
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert output.plainly(Pipe()) is False
