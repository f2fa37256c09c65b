"""The README's laptop workflow, command for command: an encrypted laptop database takes the
caseload out of the office, works offline, and brings the changes back."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.helpers import Cli

README = Path(__file__).resolve().parents[2] / "README.md"
ANSWERS = Path(__file__).resolve().parents[2] / "examples" / "answers-low-risk.yaml"


def _workflow() -> list[list[str]]:
    text = README.read_text()
    section = text.split("## Laptop workflow", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("probhealth "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_readme_laptop_workflow(tmp_path, key_file, monkeypatch):
    pytest.importorskip("sqlcipher3")
    monkeypatch.chdir(tmp_path)
    bundle_key = tmp_path / "bundle.key"
    bundle_key.write_text("a passphrase for bundles\n")
    bundle_key.chmod(0o600)
    office = Cli(tmp_path / "office" / "probhealth.db")
    laptop = Cli(tmp_path / "laptop" / "probhealth.db")
    env = {"PROBHEALTH_KEY_FILE": str(key_file), "PROBHEALTH_TRANSFER_KEY_FILE": str(bundle_key)}
    office("init")  # the office's database exists already
    for crn in ("X100001", "X100002"):
        office("person", "add", "--crn", crn, "--given", "Ann", "--family", "Smithson",
               "--dob", "1990-01-31", "--sex", "female")  # fmt: skip
        office("consent", crn, "--purpose", "screening", "--given", "--method", "verbal")
        office("consent", crn, "--purpose", "health-trainer", "--given", "--method", "verbal")

    steps = _workflow()
    assert len(steps) == 5, steps
    where = [office, laptop, laptop, laptop, office]
    for n, (cli, args) in enumerate(zip(where, steps, strict=True), start=1):
        cli(*args, env=env)
        if n == 2:
            assert json.loads(laptop("db", "check", "--json", env=env).stdout)["ok"]
            assert laptop.db is not None and b"SQLite format 3" not in laptop.db.read_bytes()[:16]
        if n == 3:  # work offline on the laptop
            listed = json.loads(laptop("person", "list", "--json", env=env).stdout)
            assert sorted(p["crn"] for p in listed) == ["X100001", "X100002"]
            laptop("screen", "X100001", "--answers", str(ANSWERS), "--json", env=env)
            laptop("goal", "add", "X100002", "Register with a GP", env=env)
    # At the office: the laptop's work is there, nothing in conflict.
    screenings = json.loads(office("screening", "list", "X100001", "--json").stdout)
    assert len(screenings) == 1
    goals = json.loads(office("goal", "list", "X100002", "--json").stdout)
    assert [g["text"] for g in goals] == ["Register with a GP"]
    assert json.loads(office("transfer", "conflicts", "--json").stdout) == []
    for cli in (office, laptop):
        assert json.loads(cli("audit", "verify", "--json", env=env).stdout)["ok"]
