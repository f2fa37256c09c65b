"""Stored text reaches the terminal only through the filter (issue 14 item 9).

Hostile text is written straight into every free-text column of a worked caseload (as
another program, or an older version, could have left it), then every show and list command
is run in a real pseudo-terminal: no escape sequence, C1 control, bidi override or
zero-width character from the data may reach the screen, and nothing crashes."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pexpect
import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = "\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;SGVsbG8=\x07\x1b]8;;http://x.test\x07L\x1b]8;;\x07\x9b31m\u202eevil\u200b"
FORBIDDEN = ("\x1b]", "\x1b[2J", "\x9b", "\u202e", "\u200b", "\x07")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:+/ -]*$")

COMMANDS = [
    ("person", "show", "X123456"),
    ("person", "list"),
    ("consent", "X123456", "--purpose", "screening", "--history"),
    ("screening", "list", "X123456"),
    ("screening", "show", "1"),
    ("need", "list", "X123456"),
    ("barrier", "list", "X123456"),
    ("referral", "list"),
    ("referral", "show", "1"),
    ("goal", "list", "X123456"),
    ("suggest", "X123456"),
    ("audit", "list", "--limit", "5"),
]


FREE_TEXT = re.compile(
    r"(^|_)(name|note|notes|text|title|office|address|language|needs|reason|advice|outcome|progress|description)$"
)


def _free_text_columns(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every column that holds words a person typed or a file supplied (names, notes, titles,
    goal text, office, address...), found by name in the schema, and the answers."""
    found = [("answer", "value")]
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        if table in ("audit_event", "alembic_version", "meta", "questionnaire_def"):
            continue
        for col in con.execute(f'PRAGMA table_info("{table}")').fetchall():
            if FREE_TEXT.search(col[1]) and col[1] != "name_key":
                found.append((table, col[1]))
    return found


@pytest.fixture
def hostile(cli, db_path, tmp_path):  # type: ignore[no-untyped-def]
    cli("services", "load", str(ROOT / "examples" / "services-fictional.yaml"))
    add_person(cli, "X123456", sex="male", office="Cambridge")
    cli("consent", "X123456", "--purpose", "screening", "--given", "--note", "spoken to")
    cli("consent", "X123456", "--purpose", "share-with-services", "--given")
    cli("consent", "X123456", "--purpose", "health-trainer", "--given")
    answers = negative_file(tmp_path, gp_registered="no", phq9_1=1, phq9_2=0, phq9_9=3)
    cli("screen", "X123456", "--answers", str(answers))
    cli("refer", "X123456", "gp-registration", "--note", "called the practice")
    cli("goal", "add", "X123456", "Register with a GP")
    cli("barrier", "add", "X123456", "transport", "--note", "no bus fare")
    with closing(sqlite3.connect(db_path)) as con:
        columns = _free_text_columns(con)
        for table, name in columns:
            if table == "answer":  # answers are JSON: a string answer holding the payload
                con.execute(
                    "UPDATE answer SET value = ? WHERE value LIKE '\"%'",
                    (json.dumps("Mill Road " + PAYLOAD),),
                )
            else:
                con.execute(
                    f'UPDATE "{table}" SET "{name}" = "{name}" || ? WHERE "{name}" IS NOT NULL',
                    (PAYLOAD,),
                )
        con.commit()
    assert len(columns) >= 12, columns  # names, notes, titles, goal text, answers...
    return db_path


# Runs each command line in argv[1] (JSON) through the real entry point, one after another in
# this one process, writing to the terminal it was started on; a marker line after each.
PTY_DRIVER = r"""
import json, sys
from probhealth import cli

for n, argv in enumerate(json.loads(sys.argv[1])):
    sys.argv = ["probhealth", *argv]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    print(f"\n@@ command {n} ended: {code} @@", flush=True)
"""


def _pty(db: Path, home: Path, commands: list[tuple[str, ...]]) -> list[str]:
    """What each command shows in a real pseudo-terminal (one process runs them all: a
    process start per command was most of this test's time)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH")}
    env.update(
        {
            "PROBHEALTH_DB": str(db),
            "PROBHEALTH_HOME": str(home),
            "PROBHEALTH_USER": "tester",
            "TERM": "xterm",
            "COLUMNS": "200",
            "LINES": "50",
        }
    )
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        sys.executable,
        ["-c", PTY_DRIVER, json.dumps(commands)],
        env=env,
        encoding="utf-8",
        codec_errors="surrogateescape",
        dimensions=(50, 200),
        timeout=60,
    )
    shown = []
    for n in range(len(commands)):
        child.expect(rf"@@ command {n} ended: (\S+) @@")
        assert child.match.group(1) == "0", (commands[n], child.before)
        shown.append(child.before or "")
    child.expect(pexpect.EOF)
    child.close()
    return shown


@pytest.mark.slow
def test_no_stored_control_character_reaches_a_terminal(hostile, tmp_path):
    shown = 0
    for args, out in zip(COMMANDS, _pty(hostile, tmp_path / "home", COMMANDS), strict=True):
        assert "Internal error" not in out and "Traceback" not in out, (args, out)
        for bad in FORBIDDEN:
            assert bad not in out, (args, repr(bad), out)
        shown += out.count("\\x1b")
    assert shown >= len(COMMANDS) // 2  # the payload was shown, escaped, not hidden


def test_the_console_filters_text_a_renderer_did_not(capsys):
    """Break-on-purpose guard: a ``Text`` built straight from data still comes out inert."""
    from rich.table import Table
    from rich.text import Text

    from probhealth.cli import output

    table = Table()
    table.add_column("a")
    table.add_row(Text("x" + PAYLOAD))
    output.console.cache_clear()
    output.out().print(table)
    output.out().print(Text(PAYLOAD))
    out = capsys.readouterr().out
    for bad in FORBIDDEN:
        assert bad not in out, repr(bad)


def test_a_stored_answer_that_is_not_json_is_named_not_a_crash(hostile, cli):
    with closing(sqlite3.connect(hostile)) as con:
        con.execute(
            "UPDATE answer SET value = 'not json {' WHERE rowid = (SELECT min(rowid) FROM answer)"
        )
        con.commit()
    result = cli("screening", "show", "1", expect=1)
    assert "is damaged" in result.stderr and "Internal error" not in result.stderr
