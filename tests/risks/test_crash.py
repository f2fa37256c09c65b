"""Crash safety of the bulk writers (reliability rows 1 and 7, issue 6): an export killed with
SIGKILL leaves no partial file under the target name; an import killed with SIGKILL leaves all
of the rows or none; the database always passes integrity_check."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]


def run(db: Path, *args: str, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROBHEALTH_HOME": str(home), "PROBHEALTH_USER": "tester"}
    env.pop("PROBHEALTH_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "probhealth", "--db", str(db), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def fresh(db: Path, template: Path) -> Path:
    """A new, migrated database (a copy of the session's template, as the ``db`` fixture
    gives): what ``init`` makes, without a process start for each of the six."""
    shutil.copyfile(template, db)
    db.chmod(0o600)
    return db


def integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("pragma integrity_check").fetchone()[0]
    finally:
        con.close()


def test_export_killed_leaves_no_partial_file(tmp_path):
    db = tmp_path / "big.db"
    home = tmp_path / "home"
    assert run(db, "demo", "--people", "600", home=home).wait() == 0
    started = time.perf_counter()
    assert run(db, "export", "answers", "--out", str(tmp_path / "full.csv"), home=home).wait() == 0
    took = time.perf_counter() - started
    with (tmp_path / "full.csv").open(newline="") as fh:
        expected_rows = sum(1 for _ in csv.reader(fh))
    rnd = random.Random(7)
    for n in range(6):
        target = tmp_path / f"out{n}.csv"
        proc = run(db, "export", "answers", "--out", str(target), home=home)
        time.sleep(rnd.uniform(0.3, took))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if target.exists():  # finished before the kill: then it is complete
            data = target.read_bytes()
            assert data.endswith(b"\r\n")
            with target.open(newline="") as fh:
                assert sum(1 for _ in csv.reader(fh)) == expected_rows
        assert integrity(db) == "ok"
    # Leftover hidden temporaries may remain after SIGKILL, never under a target's name.
    assert all(
        p.name.startswith(".")
        or p.name in {"big.db", "big.db.audit-head", "full.csv", "home"}
        or p.name.startswith("out")
        for p in tmp_path.iterdir()
    )


def test_import_killed_is_all_or_nothing(tmp_path, template_db):
    home = tmp_path / "home"
    source = tmp_path / "people.csv"
    rows = 15000
    with source.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["crn", "given_name", "family_name", "dob", "sex"])
        for n in range(rows):
            w.writerow([f"Y{n:06d}", "Sam", "Example", "1980-01-02", "male"])
    timing = fresh(tmp_path / "timing.db", template_db)
    started = time.perf_counter()
    assert run(timing, "import", "people", str(source), home=home).wait() == 0
    took = time.perf_counter() - started
    rnd = random.Random(11)
    outcomes = set()
    for n in range(5):
        db = fresh(tmp_path / f"i{n}.db", template_db)
        proc = run(db, "import", "people", str(source), home=home)
        time.sleep(rnd.uniform(0.2, max(0.3, took * 0.9)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert integrity(db) == "ok"
        con = sqlite3.connect(db)
        count = con.execute("select count(*) from person").fetchone()[0]
        events = con.execute(
            "select count(*) from audit_event where action = 'person.import'"
        ).fetchone()[0]
        con.close()
        assert count in (0, rows), count
        assert events == count  # the audit events went in with the rows, or not at all
        outcomes.add(count)
    assert 0 in outcomes  # at least one kill landed mid-import


def _stdout_export(db: Path, home: Path, stdout: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROBHEALTH_HOME": str(home), "PROBHEALTH_USER": "tester"}
    env.pop("PROBHEALTH_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "probhealth", "--db", str(db), "export", "answers", "--out", "-"],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


def test_export_to_a_reader_that_goes_away_stops_quietly(tmp_path):
    """``export --out - | head``: no traceback and no 'Exception ignored' when the pipe closes."""
    db, home = tmp_path / "p.db", tmp_path / "home"
    assert run(db, "demo", "--people", "200", home=home).wait() == 0
    proc = _stdout_export(db, home, subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(200)
    proc.stdout.close()  # like `head -c 200`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait() == 1
    assert err == "", err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_export_to_a_full_device_says_so(tmp_path):
    """Row 7 on standard output: a full disk is one clear line, not an internal error."""
    db, home = tmp_path / "p.db", tmp_path / "home"
    assert run(db, "demo", "--people", "50", home=home).wait() == 0
    with open("/dev/full", "wb") as full:
        proc = _stdout_export(db, home, full)
        _, err = proc.communicate()
    assert proc.returncode == 1
    text = err.decode()
    assert "disk is full" in text and "Internal error" not in text and "Traceback" not in text
