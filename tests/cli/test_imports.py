"""Start-up stays light: --help and --version load no database, prompt or migration module."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "questionary",
    "alembic",
    "prompt_toolkit",
    "fpdf",
    "jinja2",
    "matplotlib",
    "numpy",
    "PIL",
)

PROBE = """
import io, json, sys
sys.argv = ["probhealth", *json.loads(sys.argv[1])]
real = sys.stdout
sys.stdout = io.StringIO()
from probhealth.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout = real
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["person", "--help"],
        ["db", "--help"],
        ["handout", "--help"],
        ["letter", "--help"],
        ["report", "--help"],
    ],
)
def test_no_heavy_imports(argv, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_python_dash_m(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "probhealth", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and out.stdout.startswith("probhealth ")


@pytest.mark.sqlite_only("the plain export (sqlite3 alone) is for SQLite files")
@pytest.mark.parametrize("table", ["people", "referrals"])
def test_a_plain_export_loads_neither_pydantic_nor_rich(db_path, tmp_path, table):
    """Issue 19: an export's start-up is most of a small table's time. Its options are text
    and flags (``cli.plaintext``: no pydantic adapters) and its two lines of messages go to a
    pipe as they are (``cli.output``: no rich)."""
    out = tmp_path / f"{table}.csv"
    argv = ["--db", str(db_path), "export", table, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")},
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not loaded & {"pydantic", "rich", *HEAVY}, loaded & {"pydantic", "rich", *HEAVY}
    assert f"of {table} " in done.stderr and "Audit head after this export" in done.stderr
    assert out.read_text().startswith("person," if table == "people" else "referral_id,")
