"""Start-up stays light: --help and --version load no database, prompt or migration module."""

from __future__ import annotations

import json
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
