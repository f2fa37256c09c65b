"""Hostile input through the real CLI (reliability rows 13-21).

Every text-taking option and argument of every command gets the same table of payloads (path
traversal, NUL, very long text, SQL-looking text, spreadsheet formulas, terminal escapes, rich
markup, bidi and zero-width characters, decomposed accents). For each call the contract is:
exit 0 or 2 (never a traceback), one ``Error: ...`` line on stderr when it fails, no ESC, CSI,
NUL, BEL, bidi override or zero-width space in any output, and an unchanged database file when
the input was refused. Each slot also runs once with a good value, so a slot cannot pass by
failing before the option under test is even read.

Then: values people typed are stored literally and shown inert; unsafe export and backup
targets are refused without writing anywhere; every file loader refuses code-running,
exploding, deep, huge, binary and wrongly encoded files quickly; and Hypothesis feeds arbitrary
text through ``person add --given`` and ``barrier add --note``.

Speed: typer's conversion of the app to a click tree is done once per process for every test
module (``_click_tree_once`` in tests/conftest.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import Cli, DbHandle, add_person, file_sha, fingerprint

REPO = Path(__file__).resolve().parents[2]
SERVICES_FILE = REPO / "examples" / "services-fictional.yaml"
DATA = REPO / "src" / "probhealth" / "data"
QUESTIONNAIRE_FILE = DATA / "probation-health.yaml"
RULES_FILE = DATA / "rules.yaml"

# Characters that must never reach a terminal from data (rows 19 and 21).
FORBIDDEN = {
    "\x1b": "ESC",
    "\x9b": "CSI (C1)",
    "\x00": "NUL",
    "\x07": "BEL",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u200b": "ZERO WIDTH SPACE",
}

PAYLOADS: list[tuple[str, str]] = [
    ("traversal", "../../etc/passwd"),
    ("absolute", "/etc/passwd"),
    ("backslash-traversal", "..\\..\\x"),
    ("nul", "a\x00b"),
    ("300-chars", "x" * 300),
    ("sql-or", "' OR 1=1 --"),
    ("sql-drop", "x; DROP TABLE person"),
    ("paren", ")"),
    ("smart-quote", "\u2019"),
    ("formula-hyperlink", '=HYPERLINK("http://x","y")'),
    ("formula-at", "@SUM(1)"),
    ("formula-tab", "\t=1"),
    ("osc-title", "\x1b]0;PWNED\x07"),
    ("csi-clear", "\x1b[2J"),
    ("c1-csi", "\x9b31m"),
    ("markup-bold", "[bold]x[/bold]"),
    ("markup-close", "[/]"),
    ("markup-link", "[link=file:///etc/passwd]x[/link]"),
    ("bidi-override", "a\u202eb"),
    ("zero-width", "a\u200bb"),
    ("decomposed", "Jos\u0065\u0301"),
]

V = "<V>"  # where the payload goes in a command line


# --------------------------------------------------------------------------------------------
# Shared machinery


def db_state(path: Path) -> str:
    """The database as stored: the main file plus any committed-but-not-checkpointed WAL."""
    wal = Path(f"{path}-wal")
    return file_sha(path) + (file_sha(wal) if wal.exists() and wal.stat().st_size else "")


def stored(db: DbHandle) -> str:
    """What the database holds now: on SQLite the file and its WAL after a checkpoint (so a
    later write shows), on a server every row (``fingerprint``)."""
    if db.path is None:
        return fingerprint(db)
    _checkpoint(db.path)
    return db_state(db.path)


def forbidden_in(text: str) -> list[str]:
    return [name for ch, name in FORBIDDEN.items() if ch in text]


def call(cli: Cli, *args: str) -> tuple[Any, str | None]:
    """Run the CLI; a traceback or an escaped exception becomes a problem, not a crash."""
    try:
        return cli(*args, expect=None), None
    except AssertionError as exc:  # the helper saw "Traceback" in the output
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        return None, f"traceback ({lines[-1][:160] if lines else '?'})"
    except Exception as exc:
        return None, f"exception escaped the CLI: {type(exc).__name__}: {str(exc)[:160]}"


def contract(result: Any, *, allowed: tuple[int, ...] = (0, 2)) -> list[str]:
    """Problems with one call's exit code and output (empty when it keeps the contract)."""
    problems = []
    if result.exit_code not in allowed:
        problems.append(f"exit {result.exit_code} (allowed {allowed})")
    bad = forbidden_in(result.stdout + result.stderr)
    if bad:
        problems.append(f"{', '.join(bad)} in output")
    if result.exit_code != 0:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        if len(lines) != 1 or not lines[0].startswith("Error: "):
            problems.append(f"stderr is not one 'Error: ...' line: {result.stderr[:300]!r}")
    return problems


def tree(root: Path) -> dict[str, str]:
    """Every path under root (hidden ones too) with a digest of regular files' contents."""
    found: dict[str, str] = {}
    for path in root.rglob("*"):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir"
    return found


def one_error_line(result: Any) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {result.stderr!r}"
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


# --------------------------------------------------------------------------------------------
# A database with something of everything, built once and copied for every call


@dataclass(frozen=True)
class Seed:
    db: Path
    answers: Path
    people_csv: Path
    state: str


def _checkpoint(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


@pytest.fixture(scope="module")
def seed(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Seed:
    from tests.cli.test_screen import negative_file

    base = tmp_path_factory.mktemp("hostile-seed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROBHEALTH_HOME", str(base / "home"))
        mp.setenv("PROBHEALTH_USER", "tester")
        mp.setenv("NO_COLOR", "1")
        mp.setenv("COLUMNS", "200")
        for name in ("PROBHEALTH_DB", "PROBHEALTH_NOW", "PROBHEALTH_DEBUG"):
            mp.delenv(name, raising=False)
        db = base / "seed.db"
        shutil.copyfile(template_db, db)
        os.chmod(db, 0o600)
        cli = Cli(db)
        cli("services", "load", str(SERVICES_FILE))
        add_person(cli, sex="male", postcode="CB1 2AB", office="Cambridge")
        cli("consent", "X123456", "--purpose", "screening", "--given")
        cli("consent", "X123456", "--purpose", "health-trainer", "--given")  # goals need it
        answers = negative_file(base, gp_registered="no", hvs_1="often", id_documents="no")
        cli("screen", "X123456", "--answers", str(answers))
        cli("barrier", "add", "X123456", "competing-priorities", "--note", "works nights")
        cli("refer", "X123456", "gp-registration", "--self-referral")  # referral 1: agreed
        cli("refer", "X123456", "dentist", "--self-referral", "--referred")  # referral 2
        cli("referral", "update", "2", "--status", "accepted")  # ... now accepted
        cli("goal", "add", "X123456", "Register with a GP")  # goal 1
        needs = json.loads(cli("need", "list", "X123456", "--json").stdout)
        assert needs and needs[0]["id"] == 1, needs
        barriers = json.loads(cli("barrier", "list", "X123456", "--json").stdout)
        assert "stigma" not in {b["type"] for b in barriers}
    _checkpoint(db)
    people_csv = base / "people.csv"
    people_csv.write_text(
        "crn,given_name,family_name,dob,sex\nY111111,Cara,Lee,1980-05-06,female\n",
        encoding="utf-8",
    )
    return Seed(db, answers, people_csv, db_state(db))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder to run in (relative output paths land here); HOME points inside tmp too."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    return cwd


def fresh_copy(seed: Seed, path: Path) -> Cli:
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(seed.db, path)
    os.chmod(path, 0o600)
    return Cli(path)


# --------------------------------------------------------------------------------------------
# 1. Every text option and argument x every payload


def _today(days: int = 0) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Slot:
    name: str
    argv: tuple[str, ...]  # with V where the payload goes; {ANS}, {PEOPLE} filled from the seed
    good: str  # a value that succeeds (exit 0), proving the option is reached


def _set(argv: list[str], option: str) -> tuple[str, ...]:
    out = list(argv)
    if option in out:
        out[out.index(option) + 1] = V
    else:
        out += [option, V]
    return tuple(out)


PERSON_ADD = [
    "person",
    "add",
    "--crn",
    "Y123456",
    "--given",
    "Ann",
    "--family",
    "Smith",
    "--dob",
    "1990-01-31",
    "--sex",
    "female",
]
PERSON_FIELDS = [
    ("--crn", "Y654321"),
    ("--given", "Bea"),
    ("--family", "Jones"),
    ("--dob", "1985-02-03"),
    ("--sex", "male"),
    ("--postcode", "CB1 2AB"),
    ("--office", "Cambridge"),
    ("--language", "Welsh"),
    ("--release-date", _today(-30)),
    ("--communication-needs", "large print"),
]

SLOTS: list[Slot] = [
    *(Slot(f"person add {opt}", _set(PERSON_ADD, opt), good) for opt, good in PERSON_FIELDS),
    Slot("person edit CRN", ("person", "edit", V, "--office", "Ely"), "X123456"),
    *(
        Slot(f"person edit {opt}", ("person", "edit", "X123456", opt, V), good)
        for opt, good in [*PERSON_FIELDS, ("--clear", "office")]
    ),
    Slot("person list --search", ("person", "list", "--search", V), "smith"),
    Slot("person list --office", ("person", "list", "--office", V), "Cambridge"),
    Slot("person show CRN", ("person", "show", V), "X123456"),
    Slot(
        "person erase CRN",
        ("person", "erase", V, "--reason", "duplicate-record", "--yes"),
        "X123456",
    ),
    Slot(
        "person erase --reason",
        ("person", "erase", "X123456", "--reason", V, "--yes"),
        "duplicate-record",
    ),
    Slot("consent CRN", ("consent", V, "--purpose", "screening", "--given"), "X123456"),
    Slot("consent --purpose", ("consent", "X123456", "--purpose", V, "--given"), "screening"),
    Slot(
        "consent --method",
        ("consent", "X123456", "--purpose", "screening", "--given", "--method", V),
        "verbal",
    ),
    Slot(
        "consent --note",
        ("consent", "X123456", "--purpose", "screening", "--given", "--note", V),
        "agreed today",
    ),
    Slot(
        "consent --history CRN",
        ("consent", V, "--purpose", "screening", "--history"),
        "X123456",
    ),
    Slot("barrier add CRN", ("barrier", "add", V, "stigma"), "X123456"),
    Slot("barrier add TYPE", ("barrier", "add", "X123456", V), "stigma"),
    Slot(
        "barrier add --note",
        ("barrier", "add", "X123456", "stigma", "--note", V),
        "works nights",
    ),
    Slot("barrier list CRN", ("barrier", "list", V), "X123456"),
    Slot("need list CRN", ("need", "list", V), "X123456"),
    Slot("need update ID", ("need", "update", V, "--status", "being-addressed"), "1"),
    Slot("need update --status", ("need", "update", "1", "--status", V), "being-addressed"),
    Slot(
        "need update --note",
        ("need", "update", "1", "--status", "being-addressed", "--note", V),
        "booked",
    ),
    Slot("refer CRN", ("refer", V, "food-support"), "X123456"),
    Slot("refer PATHWAY", ("refer", "X123456", V), "food-support"),
    Slot(
        "refer --service",
        ("refer", "X123456", "food-support", "--service", V),
        "cam-food-bank",
    ),
    Slot("refer --note", ("refer", "X123456", "food-support", "--note", V), "by phone"),
    Slot("refer --follow-up", ("refer", "X123456", "food-support", "--follow-up", V), "14"),
    Slot("referral update ID", ("referral", "update", V, "--status", "referred"), "1"),
    Slot("referral update --status", ("referral", "update", "1", "--status", V), "referred"),
    Slot(
        "referral update --reason",
        ("referral", "update", "1", "--status", "withdrawn", "--reason", V),
        "moved-area",
    ),
    Slot(
        "referral update --note",
        ("referral", "update", "1", "--status", "referred", "--note", V),
        "called them",
    ),
    Slot(
        "referral update --date",
        ("referral", "update", "1", "--status", "referred", "--date", V),
        _today(),
    ),
    Slot(
        "referral update --outcome",
        ("referral", "update", "2", "--status", "completed", "--outcome", V),
        "achieved",
    ),
    Slot(
        "referral update --follow-up",
        ("referral", "update", "1", "--status", "referred", "--follow-up", V),
        "14",
    ),
    Slot("referral list --status", ("referral", "list", "--status", V), "open"),
    Slot("referral list CRN", ("referral", "list", V), "X123456"),
    Slot("referral show ID", ("referral", "show", V), "1"),
    Slot("goal add CRN", ("goal", "add", V, "Walk daily"), "X123456"),
    Slot("goal add TEXT", ("goal", "add", "X123456", V), "Walk daily"),
    Slot(
        "goal add --domain",
        ("goal", "add", "X123456", "Walk daily", "--domain", V),
        "primary-care-access",
    ),
    Slot(
        "goal add --target-date",
        ("goal", "add", "X123456", "Walk daily", "--target-date", V),
        _today(30),
    ),
    Slot("goal review --progress", ("goal", "review", "1", "--progress", V), "partly"),
    Slot(
        "goal review --note",
        ("goal", "review", "1", "--progress", "partly", "--note", V),
        "went once",
    ),
    Slot("goal list CRN", ("goal", "list", V), "X123456"),
    Slot("export TABLE", ("export", V, "--out", "-"), "people"),
    Slot("export --out", ("export", "people", "--out", V), "people.csv"),
    Slot("export --since", ("export", "people", "--out", "-", "--since", V), "2020-01-01"),
    Slot("export --until", ("export", "people", "--out", "-", "--until", V), _today()),
    Slot("export --office", ("export", "people", "--out", "-", "--office", V), "Cambridge"),
    Slot(
        "export --questionnaire",
        ("export", "screenings", "--out", "-", "--questionnaire", V),
        "probation-health",
    ),
    Slot("import people FILE", ("import", "people", V), "{PEOPLE}"),
    Slot("import services FILE", ("import", "services", V), str(SERVICES_FILE)),
    Slot("services list --pathway", ("services", "list", "--pathway", V), "food-support"),
    Slot("services list --area", ("services", "list", "--area", V), "CB1"),
    Slot("services show ID", ("services", "show", V), "cam-food-bank"),
    Slot("services check FILE", ("services", "check", V), str(SERVICES_FILE)),
    Slot("services load FILE", ("services", "load", V), str(SERVICES_FILE)),
    Slot("audit list --since", ("audit", "list", "--since", V), "2020-01-01"),
    Slot("audit list --user", ("audit", "list", "--user", V), "tester"),
    Slot("audit list --action", ("audit", "list", "--action", V), "person"),
    Slot("questionnaire show ID", ("questionnaire", "show", V), "probation-health@3"),
    Slot("questionnaire check FILE", ("questionnaire", "check", V), str(QUESTIONNAIRE_FILE)),
    Slot("rules check FILE", ("rules", "check", V), str(RULES_FILE)),
    Slot("rules show FILE", ("rules", "show", V), str(RULES_FILE)),
    Slot("suggest CRN", ("suggest", V), "X123456"),
    Slot("suggest --rules", ("suggest", "X123456", "--rules", V), str(RULES_FILE)),
    Slot("suggest --all --office", ("suggest", "--all", "--office", V), "Cambridge"),
    # The seed screened X123456 with these answers today: --new, or a duplicate (issue 13).
    Slot("screen CRN", ("screen", V, "--answers", "{ANS}", "--new"), "X123456"),
    Slot("screen --answers", ("screen", "X123456", "--answers", V, "--new"), "{ANS}"),
    Slot(
        "screen --setting",
        ("screen", "X123456", "--answers", "{ANS}", "--new", "--setting", V),
        "home visit",
    ),
    Slot(
        "screen --questionnaire",
        ("screen", "X123456", "--answers", "{ANS}", "--new", "--questionnaire", V),
        str(QUESTIONNAIRE_FILE),
    ),
    Slot("screening list CRN", ("screening", "list", V), "X123456"),
    Slot("screening show ID", ("screening", "show", V), "1"),
    Slot("db backup --out", ("db", "backup", "--out", V), "backup.db"),
    Slot("db purge --closed-before", ("db", "purge", "--closed-before", V), "2020-01-01"),
    Slot("--as USER", ("--as", V, "person", "list"), "officer.jones"),
]


def _argv(slot: Slot, value: str, seed: Seed) -> list[str]:
    fill = {"{ANS}": str(seed.answers), "{PEOPLE}": str(seed.people_csv)}
    argv = [value if token == V else token for token in slot.argv]
    return [fill.get(token, token) for token in argv]


def _person_table_intact(db: Path) -> bool:
    con = sqlite3.connect(db)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return "person" in names and con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        con.close()


@pytest.mark.parametrize("slot", SLOTS, ids=[s.name for s in SLOTS])
def test_every_payload_in_every_text_option(slot: Slot, seed: Seed, work: Path) -> None:
    tmp = work.parent
    outside_before = sorted(p.name for p in tmp.parent.iterdir())
    passwd = file_sha(Path("/etc/passwd"))
    db = tmp / "probhealth.db"
    failures: list[str] = []
    for label, payload in [*PAYLOADS, ("good value", slot.good)]:
        cli = fresh_copy(seed, db)
        result, crash = call(cli, *_argv(slot, payload, seed))
        if crash:
            failures.append(f"{label} {payload!r}: {crash}")
            continue
        if label == "good value":
            if result.exit_code != 0:
                failures.append(f"the good value {payload!r} failed: {result.stderr.strip()!r}")
            continue
        problems = contract(result)
        if result.exit_code == 2 and db_state(db) != seed.state:
            problems.append("the database changed although the input was refused")
        if not _person_table_intact(db):
            problems.append("the person table is gone or the database is damaged")
        if problems:
            failures.append(f"{label} {payload!r}: {'; '.join(problems)}")
    # Relative outputs (export/backup to a payload name) may land in the working folder only.
    stray = [
        p
        for p in tmp.rglob("*")
        if not (p == work or work in p.parents or p.name.startswith("probhealth.db"))
    ]
    assert not stray, f"files written outside the working folder: {stray}"
    assert sorted(p.name for p in tmp.parent.iterdir()) == outside_before
    assert file_sha(Path("/etc/passwd")) == passwd
    assert not failures, f"{slot.name}:\n" + "\n".join(failures)


def test_rich_styling_is_off_so_any_escape_seen_came_from_data(cli: Cli) -> None:
    """The no-ESC assertions mean something only if rich adds no colour codes of its own."""
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    from probhealth.cli import output

    add_person(cli)  # a green "Added" message
    styled = cli("need", "list", "X123456")  # a styled table
    assert "\x1b" not in styled.stdout + styled.stderr
    assert output.out().color_system is None and output.err().color_system is None
    # ...and rich itself does not strip ESC from data (reference V1): the check can fail.
    probe = StringIO()
    Console(file=probe, force_terminal=True, color_system=None).print(Text("a\x1b]0;x\x07b"))
    assert "\x1b" in probe.getvalue()


SQL_LIKE = ["' OR 1=1 --", "x; DROP TABLE person", ")", "\u2019", "%", "_", "a%", "*"]
FILTERS = [
    ("person", "list", "--search"),
    ("person", "list", "--office"),
    ("services", "list", "--pathway"),
    ("audit", "list", "--user"),
    ("audit", "list", "--action"),
]


@pytest.mark.parametrize("text", SQL_LIKE)
def test_sql_looking_filters_match_literally(text: str, seed: Seed, work: Path) -> None:
    """Nothing in the seed contains these characters, so a literal match finds nothing
    (row 15; `%` and `_` would match everything if passed to LIKE unescaped)."""
    cli = fresh_copy(seed, work.parent / "probhealth.db")
    failures = []
    for command in FILTERS:
        result = cli(*command, text, "--json", expect=None)
        if result.exit_code == 0 and (rows := json.loads(result.stdout)):
            actions = sorted({r.get("action", r.get("crn", r.get("id"))) for r in rows})
            failures.append(f"{' '.join(command)} {text!r} matched {len(rows)} rows: {actions}")
        elif result.exit_code not in (0, 2):
            failures.append(f"{' '.join(command)} {text!r}: exit {result.exit_code}")
    exported = cli("export", "people", "--office", text, "--out", "-", expect=None)
    assert exported.exit_code in (0, 2)
    if exported.exit_code == 0:
        assert len(list(csv.reader(io.StringIO(exported.stdout)))) == 1  # header only
    assert cli("person", "list", "--json").stdout.count('"crn"') == 1  # still there
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------------------------
# 2. What a person typed is stored literally and shown inert

PEOPLE = [
    ("[bold]Ann[/bold]", "[link=file:///etc/passwd]Smith[/link]"),
    ("Siân", "O'Brien"),
    ("Łukasz", "محمد"),
    ("Jos\u0065\u0301", "[/]"),
    ("Zoë", "Nguyễn"),
]


@pytest.mark.parametrize(("given_name", "family"), PEOPLE)
def test_typed_text_is_stored_literally_and_shown_inert(
    cli: Cli, given_name: str, family: str
) -> None:
    worker = "[red]officer[/red]"
    note = f"[bold]{given_name}[/bold] said yes [/]"
    link_note = "[link=file:///etc/passwd]leaflet[/link] O'Brien"
    nfc_given = unicodedata.normalize("NFC", given_name)
    added = cli(
        "person",
        "add",
        "--crn",
        "X123456",
        "--given",
        given_name,
        "--family",
        family,
        "--dob",
        "1990-01-31",
        "--sex",
        "female",
        "--office",
        "[i]Cambridge[/i]",
        "--json",
    )
    record = json.loads(added.stdout)
    assert (record["given_name"], record["family_name"]) == (nfc_given, family)
    assert record["office"] == "[i]Cambridge[/i]"
    cli("--as", worker, "consent", "X123456", "--purpose", "screening", "--given", "--note", note)
    cli("barrier", "add", "X123456", "stigma", "--note", link_note)
    cli("--as", worker, "refer", "X123456", "gp-registration", "--self-referral", "--note", note)
    expected_note = unicodedata.normalize("NFC", note)

    shown = {
        "person show": (cli("person", "show", "X123456"), [nfc_given, family, "[i]Cambridge[/i]"]),
        "person list": (cli("person", "list"), [nfc_given, family]),
        "consent --history": (
            cli("consent", "X123456", "--purpose", "screening", "--history"),
            [expected_note, worker],
        ),
        "barrier list": (cli("barrier", "list", "X123456"), [link_note]),
        "referral show": (cli("referral", "show", "1"), [expected_note, worker]),
    }
    for what, (result, texts) in shown.items():
        out = result.stdout + result.stderr
        assert not forbidden_in(out), what
        for text in texts:
            assert text in out, f"{what} does not show {text!r} literally:\n{out}"
    history = json.loads(
        cli("consent", "X123456", "--purpose", "screening", "--history", "--json").stdout
    )
    assert history[-1]["note"] == expected_note


def _food_bank_entry_named(name_yaml: str) -> str:
    """The services file with one entry (the food bank) whose name is ``name_yaml``."""
    text = SERVICES_FILE.read_text(encoding="utf-8")
    start = text.index("  - id: cam-food-bank")
    entry = text[start : text.index("\n\n", start)]
    original = "name: Cambridge Community Food Bank (fictional)"
    assert original in entry
    return "services:\n" + entry.replace(original, "name: " + name_yaml) + "\n"


@pytest.mark.parametrize(
    "name_yaml",
    ['"\\e]0;PWNED\\a Food"', '"Food \\u202e bank"', '"Food\\x9b31m"', '"Food\\u200b"'],
    ids=["osc-title", "bidi-override", "c1-csi", "zero-width"],
)
def test_control_characters_in_a_definition_file_are_refused_naming_the_file(
    cli: Cli, db: DbHandle, work: Path, name_yaml: str
) -> None:
    """Service names are shown to workers: control characters (written as YAML escapes) are
    refused, and like every other file error the message says FILE:LINE."""
    path = work / "hostile-services.yaml"
    path.write_text(_food_bank_entry_named(name_yaml), encoding="utf-8")
    before = stored(db)
    result = cli("services", "load", str(path), expect=2)
    line = one_error_line(result)
    assert not forbidden_in(result.stdout + result.stderr)
    assert stored(db) == before
    assert line.startswith(f"Error: {path}:"), f"the error does not name FILE:LINE: {line}"


@pytest.mark.parametrize(
    "name", ["[link=file:///etc/passwd]Food[/link]", "[/]", "[bold]Food[/bold]", "O'Brien's"]
)
def test_markup_in_a_definition_file_is_shown_literally(cli: Cli, work: Path, name: str) -> None:
    path = work / "markup-services.yaml"
    path.write_text(_food_bank_entry_named(json.dumps(name)), encoding="utf-8")
    cli("services", "load", str(path))
    for args in (("services", "show", "cam-food-bank"), ("services", "list")):
        out = cli(*args).stdout
        assert name in out and not forbidden_in(out), out


def test_formula_looking_values_are_neutralised_in_csv_exports(cli: Cli, work: Path) -> None:
    """Row 14: a stored value that a spreadsheet would run is written with a leading apostrophe,
    line by line, and the original comes back with csvsafe.restore."""
    from probhealth.csvsafe import TRIGGERS, restore

    add_person(
        cli,
        given='=HYPERLINK("http://x","y")',
        family="@SUM(1)",
        office="+Cambridge",
        communication_needs="ok\n=1+2\n-3",
    )
    notes = [" =1", "\u00a0=1", "-1+1", "fine\n@SUM(1)", '=1+2";=1+2']
    kinds = ["stigma", "transport", "money", "language", "opening-times"]
    for kind, note in zip(kinds, notes, strict=True):
        cli("barrier", "add", "X123456", kind, "--note", note)
    stored = {
        '=HYPERLINK("http://x","y")',
        "@SUM(1)",
        "+Cambridge",
        "ok\n=1+2\n-3",
        *(n.strip() for n in notes),
    }
    seen = set()
    for table in ("people", "barriers"):
        target = work / f"{table}.csv"
        cli("export", table, "--identifiable", "--out", str(target))
        rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
        for row in rows[1:]:
            for cell in row:
                for line in cell.split("\n"):
                    stripped = line.lstrip()
                    assert not stripped or stripped[0] not in TRIGGERS, (table, cell)
                seen.add(restore(cell))
    assert stored <= seen, stored - seen


# --------------------------------------------------------------------------------------------
# 3. Unsafe export and backup targets (row 13)


@dataclass(frozen=True)
class Target:
    name: str
    out: str
    force: bool = False


EXPORT_TARGETS = [
    Target("parent", "../escape.csv"),
    Target("parent-after-sub", "sub/../../escape.csv"),
    Target("absolute-with-dotdot", "{cwd}/../escape.csv"),
    Target("backslash-dotdot", "..\\..\\escape.csv"),
    Target("absolute-missing-folder", "{tmp}/no-such-folder/x.csv"),
    Target("relative-missing-folder", "no-such-folder/x.csv"),
    Target("name-with-slash", "a/b"),
    Target("dangling-symlink", "dangling.csv"),
    Target("dangling-symlink-force", "dangling.csv", force=True),
    Target("symlink-to-outside-file", "link.csv"),
    Target("symlink-to-outside-file-force", "link.csv", force=True),
    Target("symlink-to-folder", "dirlink"),
    Target("directory", "sub"),
    Target("directory-trailing-slash", "sub/"),
    Target("dot", "."),
    Target("existing-file-no-force", "existing.csv"),
    Target("trailing-slash-new-name", "newdir/"),
    Target("nul", "a\x00b.csv"),
    Target("300-char-name", "x" * 300 + ".csv"),
]


def _plant(tmp: Path, cwd: Path) -> Path:
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "victim.csv").write_text("keep me\n")
    (cwd / "sub").mkdir()
    (cwd / "existing.csv").write_text("keep me too\n")
    os.symlink(outside / "not-yet.csv", cwd / "dangling.csv")
    os.symlink(outside / "victim.csv", cwd / "link.csv")
    os.symlink(outside, cwd / "dirlink")
    return outside


@pytest.mark.parametrize("target", EXPORT_TARGETS, ids=[t.name for t in EXPORT_TARGETS])
def test_unsafe_export_targets_are_refused_without_writing(
    target: Target, cli: Cli, db: DbHandle, work: Path
) -> None:
    add_person(cli)
    tmp = work.parent
    _plant(tmp, work)
    db_before = stored(db)
    out = target.out.format(cwd=work, tmp=tmp)
    before = tree(tmp)
    outside_before = sorted(p.name for p in tmp.parent.iterdir())
    args = ["export", "people", "--out", out] + (["--force"] if target.force else [])
    result, crash = call(cli, *args)
    assert crash is None, crash
    assert result.exit_code == 2, f"{out!r} was accepted: {result.stderr!r}"
    one_error_line(result)
    assert not forbidden_in(result.stdout + result.stderr)
    after = {k: v for k, v in tree(tmp).items() if not k.startswith("probhealth.db-")}
    before = {k: v for k, v in before.items() if not k.startswith("probhealth.db-")}
    assert after == before, f"written: {set(after) ^ set(before)}"
    assert not list(tmp.rglob("*.partial")), "a temporary file was left behind"
    assert stored(db) == db_before
    assert sorted(p.name for p in tmp.parent.iterdir()) == outside_before


BACKUP_TARGETS = [
    Target("dangling-symlink", "dangling.csv"),
    Target("symlink-to-outside-file", "link.csv"),
    Target("directory", "sub"),
    Target("existing-file", "existing.csv"),
    Target("missing-folder", "no-such-folder/x.db"),
    Target("absolute-existing", "/etc/passwd"),
    Target("nul", "a\x00b.db"),
    Target("300-char-name", "x" * 300 + ".db"),
]


@pytest.mark.sqlite_only("db backup copies SQLite files; on a server it explains pg_dump")
@pytest.mark.parametrize("target", BACKUP_TARGETS, ids=[t.name for t in BACKUP_TARGETS])
def test_unsafe_backup_targets_are_refused_without_writing(
    target: Target, cli: Cli, db_path: Path, work: Path
) -> None:
    add_person(cli)
    tmp = work.parent
    _plant(tmp, work)
    before = {k: v for k, v in tree(tmp).items() if not k.startswith("probhealth.db")}
    passwd = file_sha(Path("/etc/passwd"))
    result, crash = call(cli, "db", "backup", "--out", target.out)
    assert crash is None, crash
    assert result.exit_code == 2, f"{target.out!r}: exit {result.exit_code} {result.stderr!r}"
    one_error_line(result)
    after = {k: v for k, v in tree(tmp).items() if not k.startswith("probhealth.db")}
    assert after == before, f"written: {set(after) ^ set(before)}"
    assert file_sha(Path("/etc/passwd")) == passwd


# --------------------------------------------------------------------------------------------
# --db (global option)


@dataclass(frozen=True)
class DbCase:
    name: str
    value: str
    refused: bool  # True: must exit 1 or 2; False: may also work, but only at that exact path


DB_CASES = [
    DbCase("directory", "{tmp}/adir", True),
    DbCase("dev-null", "/dev/null", True),
    DbCase("etc-passwd", "/etc/passwd", True),
    DbCase("not-sqlite", "{tmp}/notes.txt", True),
    DbCase("dangling-symlink", "{tmp}/dangling.db", True),
    DbCase("nul", "{tmp}/a\x00b.db", True),
    DbCase("300-char-name", "{tmp}/" + "x" * 300 + ".db", True),
    DbCase("dotdot", "{cwd}/../viadotdot.db", False),
    DbCase("relative-dotdot", "../relative.db", False),
    DbCase("missing-folder", "{tmp}/missing/deeper/x.db", False),
    DbCase("question-mark", "{tmp}/what?.db", False),
    DbCase("percent-escape", "{tmp}/a%41b.db", False),
    DbCase("memory-url", "sqlite:///:memory:", False),
]


@pytest.mark.parametrize("case", DB_CASES, ids=[c.name for c in DB_CASES])
def test_db_option_refuses_or_opens_exactly_that_file(case: DbCase, work: Path) -> None:
    tmp = work.parent
    (tmp / "adir").mkdir()
    notes = tmp / "notes.txt"
    notes.write_text("not a database\n")
    os.chmod(notes, 0o600)
    os.symlink(tmp / "nowhere.db", tmp / "dangling.db")
    value = case.value.format(tmp=tmp, cwd=work)
    before = tree(tmp)
    outside_before = sorted(p.name for p in tmp.parent.iterdir())
    passwd = file_sha(Path("/etc/passwd"))
    result, crash = call(Cli(None), "--db", value, "person", "list")
    assert crash is None, crash
    assert not forbidden_in(result.stdout + result.stderr)
    created = sorted(set(tree(tmp)) - set(before))
    if case.refused or result.exit_code != 0:
        assert result.exit_code in (1, 2), f"exit {result.exit_code}: {result.stderr!r}"
        one_error_line(result)
        assert tree(tmp) == before, f"created although refused: {created}"
    else:
        # It worked: the only new files are that database (-wal/-shm, audit anchor), its folders.
        path = Path(value) if "://" not in value else None
        if path is None:
            assert created == [], f"an in-memory database left files behind: {created}"
        else:
            db_file = (work / path).resolve() if not path.is_absolute() else path.resolve()
            expected = {db_file, *db_file.parents}
            unexpected = [
                c
                for c in created
                if (tmp / c).resolve() not in expected
                and not (tmp / c).name.startswith(db_file.name + "-")
                and (tmp / c).name != db_file.name + ".audit-head"  # the audit anchor
            ]
            assert not unexpected, f"{value!r} opened or created other files: {unexpected}"
            # The database, its -wal/-shm and its own folder are private (row 11); folders
            # above it may follow the umask, like mkdir -p.
            private = [db_file, db_file.parent] if db_file.parent != tmp else [db_file]
            private += list(db_file.parent.glob(db_file.name + "-*"))
            for p in private:
                if p.exists():
                    mode = p.stat().st_mode
                    assert mode & 0o077 == 0, f"{p} is readable by others ({oct(mode)})"
    assert sorted(p.name for p in tmp.parent.iterdir()) == outside_before
    assert file_sha(Path("/etc/passwd")) == passwd


# --------------------------------------------------------------------------------------------
# 4. File loaders (rows 16-18)

ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + ALIAS_BOMB


SERVICE_COLUMNS = (
    "id,name,fictional,pathways,areas,address,phone,email,website,hours,bank_holidays,"
    "self_referral,how_to_refer,documents_needed,languages,interpreters,accessibility,"
    "co_located,eligibility,last_verified"
)


def _hostile_files(folder: Path, marker: Path) -> dict[str, dict[str, Path]]:
    """name -> {suffix -> path} for every hostile file, in .yaml, .csv and .json forms."""
    contents: dict[str, bytes | None] = {
        "python-object-new": f'x: !!python/object/new:os.system ["touch {marker}"]\n'.encode(),
        "python-object-apply": f'x: !!python/object/apply:os.system ["touch {marker}"]\n'.encode(),
        "python-name": b"x: !!python/name:os.system\n",
        "alias-bomb": ALIAS_BOMB.encode(),
        "deep-flow": b"[" * 50000,
        "2-MiB": b"a: b\n" * (2 * 1024 * 1024 // 5 + 1),
        "invalid-utf8": b"a: \xff\xfe\xc3\x28\n",
        "utf16-bom": "\ufeffa: b\n".encode("utf-16"),
        "nul-byte": b"a: b\x00c\n",
        "raw-escape": b"a: \x1b]0;PWNED\x07\n",
        "huge-csv-header": b"x" * 200_000 + b",y\n",
        "huge-csv-row": (SERVICE_COLUMNS + "\na," + "x" * 200_000 + ",,dentist,CB1\n").encode(),
        "directory": None,
        "missing": None,
    }
    files: dict[str, dict[str, Path]] = {}
    for name, data in contents.items():
        files[name] = {}
        for suffix in (".yaml", ".csv", ".json"):
            path = folder / f"{name}{suffix}"
            if name == "directory":
                path.mkdir()
            elif data is not None:
                path.write_bytes(data)
            files[name][suffix] = path
    return files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Path]], Path]:
    folder = tmp_path_factory.mktemp("hostile-files")
    marker = folder / "hostile-marker"
    return _hostile_files(folder, marker), marker


LOADERS: list[tuple[str, tuple[str, ...], str]] = [
    ("questionnaire check", ("questionnaire", "check", V), ".yaml"),
    ("questionnaire show FILE", ("questionnaire", "show", V), ".yaml"),
    ("rules check", ("rules", "check", V), ".yaml"),
    ("rules show FILE", ("rules", "show", V), ".yaml"),
    ("suggest --rules", ("suggest", "X123456", "--rules", V), ".yaml"),
    ("services check yaml", ("services", "check", V), ".yaml"),
    ("services check csv", ("services", "check", V), ".csv"),
    ("services load yaml", ("services", "load", V), ".yaml"),
    ("services load csv", ("services", "load", V), ".csv"),
    ("import services yaml", ("import", "services", V), ".yaml"),
    ("import services csv", ("import", "services", V), ".csv"),
    ("import people", ("import", "people", V), ".csv"),
    ("screen --answers yaml", ("screen", "X123456", "--answers", V), ".yaml"),
    ("screen --answers json", ("screen", "X123456", "--answers", V), ".json"),
    (
        "screen --questionnaire",
        ("screen", "X123456", "--answers", "{ANS}", "--questionnaire", V),
        ".yaml",
    ),
]
HOSTILE_NAMES = [
    "python-object-new",
    "python-object-apply",
    "python-name",
    "alias-bomb",
    "deep-flow",
    "2-MiB",
    "invalid-utf8",
    "utf16-bom",
    "nul-byte",
    "raw-escape",
    "huge-csv-header",
    "huge-csv-row",
    "directory",
    "missing",
]


@pytest.mark.parametrize("file_kind", HOSTILE_NAMES)
@pytest.mark.parametrize(("loader", "argv", "suffix"), LOADERS, ids=[x[0] for x in LOADERS])
def test_file_loaders_refuse_hostile_files(
    loader: str,
    argv: tuple[str, ...],
    suffix: str,
    file_kind: str,
    hostile: tuple[dict[str, dict[str, Path]], Path],
    seed: Seed,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files, marker = hostile
    path = files[file_kind][suffix]

    def no_shell(*args: object, **kwargs: object) -> int:
        raise AssertionError(f"a loaded file ran os.system{args}")

    monkeypatch.setattr(os, "system", no_shell)
    cli = fresh_copy(seed, work.parent / "probhealth.db")
    fill = {V: str(path), "{ANS}": str(seed.answers)}
    result, crash = call(cli, *(fill.get(a, a) for a in argv))
    assert not marker.exists(), "the YAML tag ran a shell command"
    assert crash is None, crash
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.stderr!r}"
    assert not forbidden_in(result.stdout + result.stderr)
    line = one_error_line(result)
    assert line.startswith(f"Error: {path}"), f"the error does not name the file: {line}"
    assert db_state(work.parent / "probhealth.db") == seed.state


# --------------------------------------------------------------------------------------------
# 5. Arbitrary text (Hypothesis)

HOSTILE_ALPHABET = [
    *"aZé ,.'-\n\t\r[]/=@+",
    "\x00",
    "\x1b",
    "\x07",
    "\x7f",
    "\x85",
    "\x9b",
    "\u00a0",
    "\u0301",
    "\u200b",
    "\u200e",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2028",
    "\u061c",
    "\ufeff",
    "\ue000",
    "\uffff",
    "\U0001f600",
    "\u0627",
    "\u0142",
]
TEXT = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.sampled_from(HOSTILE_ALPHABET), max_size=40),
)


def _all_output(*results: Any) -> str:
    return "".join(r.stdout + r.stderr for r in results)


@pytest.mark.slow
@given(text=TEXT)
def test_any_given_name_is_refused_or_round_trips(cli_factory: Any, text: str) -> None:
    cli = cli_factory()
    args = ["person", "add", "--crn", "X123456", "--given", text, "--family", "Smith"]
    added = cli(*args, "--dob", "1990-01-31", "--sex", "female", "--json", expect=None)
    assert added.exit_code in (0, 2), added.stderr
    assert not forbidden_in(_all_output(added))
    if added.exit_code == 2:
        one_error_line(added)
        return
    expected = unicodedata.normalize("NFC", text).strip()
    assert json.loads(added.stdout)["given_name"] == expected
    shown = cli("person", "show", "X123456", "--json")
    assert json.loads(shown.stdout)["given_name"] == expected
    rendered = cli("person", "show", "X123456")
    listed = cli("person", "list")
    assert not forbidden_in(_all_output(shown, rendered, listed))


@pytest.mark.slow
@given(text=TEXT)
def test_any_barrier_note_is_refused_or_round_trips(cli_factory: Any, text: str) -> None:
    cli = cli_factory()
    add_person(cli)
    added = cli("barrier", "add", "X123456", "stigma", "--note", text, "--json", expect=None)
    assert added.exit_code in (0, 2), added.stderr
    assert not forbidden_in(_all_output(added))
    if added.exit_code == 2:
        one_error_line(added)
        return
    expected = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    listed = cli("barrier", "list", "X123456", "--json")
    notes = [b["note"] for b in json.loads(listed.stdout) if b["type"] == "stigma"]
    assert notes in ([expected], [None] if not expected else [expected]), (notes, expected)
    assert json.loads(added.stdout)["note"] == notes[0]
    rendered = cli("barrier", "list", "X123456")
    assert not forbidden_in(_all_output(listed, rendered))
