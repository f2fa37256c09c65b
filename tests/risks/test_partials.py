"""A killed export leaves no identifiable data behind for long (issue 14 item 10): the next
write into that folder removes the temporary files interrupted writes of ours left there,
and only those."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import add_person


def _partial(folder: Path, name: str, *, mode: int = 0o600, age: float = 60) -> Path:
    path = folder / name
    path.write_text("crn,given_name\nX123456,Zebedee\n")
    path.chmod(mode)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_the_next_export_removes_stale_partials_and_says_so(cli, tmp_path):
    add_person(cli)
    out = tmp_path / "out"
    out.mkdir()
    stale = _partial(out, ".people.csv.k3j_x9q2.partial")
    other_name = _partial(out, ".people.csv.partial")  # not our naming
    not_private = _partial(out, ".notes.csv.abcdefgh.partial", mode=0o644)  # not ours
    fresh = _partial(out, ".people.csv.zzzzzzzz.partial", age=-60)  # just written: may be starting
    # a write in progress in another process: it holds the lock on its temporary file
    live = _partial(out, ".people.csv.aaaaaaaa.partial")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
            str(live),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = cli("export", "people", "--identifiable", "--out", str(out / "people.csv"))
    finally:
        holder.communicate("")
    assert "Removed 1 unfinished export file" in result.stderr, [p.name for p in out.iterdir()]
    assert not stale.exists()
    assert other_name.exists() and not_private.exists() and fresh.exists() and live.exists()
    assert (out / "people.csv").exists()


def test_a_killed_export_is_cleaned_by_the_next_one(tmp_path):
    """The real thing: SIGKILL while the temporary file is open, then export again."""
    from probhealth import atomicfile

    target = tmp_path / "answers.csv"
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from probhealth import atomicfile\n"
        "with atomicfile.atomic_text(Path(sys.argv[1])) as fh:\n"
        "    fh.write('x' * 100000); fh.flush()\n"
        "    print('writing', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert len(left) == 1 and left[0].stat().st_mode & 0o777 == 0o600
    assert atomicfile.sweep_partials(tmp_path) == []  # locked: a write in progress
    child.kill()
    child.communicate()  # waits, and closes its pipes
    then = time.time() - 10
    os.utime(left[0], (then, then))
    with atomicfile.atomic_text(target) as fh:
        fh.write("ok\n")
    assert not left[0].exists() and target.read_text() == "ok\n"
    assert atomicfile.take_swept() == [left[0]]


def _holding(path: Path) -> subprocess.Popen[str]:
    """Another process writing ``path``: it holds the lock on it until told to stop."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_the_anchors_and_backups_own_temporaries_are_swept_too(cli, db_path):
    """The audit anchor and db backup write under ".NAME.PID-XXXXXXXX.partial" (a backup's
    SQLite may add "-journal"): a write command removes those a killed process left beside
    the database, and leaves alone one still held by a running write."""
    folder = db_path.parent
    name = db_path.name
    stale_anchor = _partial(folder, f".{name}.audit-head.4242-0a1b2c3d.partial")
    stale_backup = _partial(folder, f".{name}.bak.4243-deadbeef.partial")
    stale_journal = _partial(folder, f".{name}.bak.4243-deadbeef.partial-journal")
    orphan_journal = _partial(folder, f".{name}.bak.4244-00c0ffee.partial-journal")
    live = _partial(folder, f".{name}.audit-head.4245-aaaaaaaa.partial")
    live_journal = _partial(folder, f".{name}.audit-head.4245-aaaaaaaa.partial-journal")
    holder = _holding(live)
    try:
        add_person(cli)  # a write: the anchor moves, and its folder is swept first
    finally:
        holder.communicate("")
    assert not stale_anchor.exists() and not stale_backup.exists()
    assert not stale_journal.exists() and not orphan_journal.exists()
    assert live.exists() and live_journal.exists()


def test_db_backup_sweeps_what_a_killed_backup_left(cli, db_path, tmp_path):
    add_person(cli)
    out = tmp_path / "backups"
    out.mkdir()
    stale = _partial(out, ".copy.db.4242-0a1b2c3d.partial")
    journal = _partial(out, ".copy.db.4242-0a1b2c3d.partial-journal")
    foreign = _partial(out, ".copy.db.4242-NOTHEX!!.partial")  # not our naming
    cli("db", "backup", "--out", str(out / "copy.db"))
    assert not stale.exists() and not journal.exists()
    assert foreign.exists() and (out / "copy.db").exists()
