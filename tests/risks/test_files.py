"""Files no one else can open, files cut short, files that are not ours (issue 14, items 4-7
and 12; reliability rows 8 and 11).

Another user's ``-wal`` or a folder others can write to is refused before SQLite opens
anything; a file one byte short, a foreign SQLite file or a garbage ``-journal`` is refused
untouched; every hint naming a path runs as one command when pasted into a shell.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import Cli, add_person, file_sha

ADD = ["person", "add", "--crn", "Q654321", "--given", "Bo", "--family", "Jones"]
ADD += ["--dob", "1980-02-02", "--sex", "male"]
OTHER_UID = 54321


def _files(folder: Path) -> dict[str, str]:
    return {p.name: file_sha(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _error(result) -> str:
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ------------------------------------------------------------ item 4: who can open it ----
def test_a_shared_sticky_folder_with_a_planted_wal_is_refused_before_anything_is_written(
    tmp_path,
):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    for name in ("v.db-wal", "v.db-shm"):
        (shared / name).touch()
        os.chmod(shared / name, 0o666)
    before = _files(shared)
    result = Cli(shared / "v.db")("init", expect=2)  # only init creates a database
    assert "its folder can be written by other users" in _error(result)
    assert _files(shared) == before  # no database created, the planted files untouched


@pytest.mark.sqlite_only("SQLite's -wal file beside the database")
def test_a_planted_world_readable_wal_beside_an_existing_database_is_refused(db_path):
    wal = Path(f"{db_path}-wal")
    wal.touch()
    os.chmod(wal, 0o666)
    before = file_sha(db_path)
    result = Cli(db_path)(*ADD, expect=2)
    line = _error(result)
    assert "the -wal file beside it" in line and "can be read by other users" in line
    assert f"chmod 600 {wal}" in line
    assert file_sha(db_path) == before and wal.stat().st_size == 0


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_companion_file_readable_by_others_is_refused_for_a_new_database_too(tmp_path, suffix):
    db = tmp_path / "new.db"
    side = Path(f"{db}{suffix}")
    side.write_bytes(b"")
    os.chmod(side, 0o644)
    result = Cli(db)("init", expect=2)
    assert f"the {suffix} file beside it" in _error(result)
    assert not db.exists()


@pytest.mark.sqlite_only("SQLite's -wal file beside the database")
@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a file to another user")
def test_a_companion_file_owned_by_another_user_is_refused(db_path):
    wal = Path(f"{db_path}-wal")
    wal.touch(mode=0o600)
    os.chown(wal, OTHER_UID, OTHER_UID)
    result = Cli(db_path)("person", "list", expect=2)
    assert "belongs to another user account" in _error(result)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a folder to another user")
def test_a_folder_owned_by_another_user_is_refused(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, OTHER_UID, OTHER_UID)
    result = Cli(folder / "v.db")("init", expect=2)
    assert "its folder belongs to another user account" in _error(result)
    assert not (folder / "v.db").exists()


def test_a_home_folder_anyone_can_change_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "user"
    home.mkdir()
    os.chmod(home, 0o777)
    monkeypatch.setenv("PROBHEALTH_HOME", str(home / ".local" / "share" / "probhealth"))
    result = Cli(None)("init", expect=2)
    line = _error(result)
    assert f"the folder {home} above it can be changed by anyone" in line
    assert f"chmod 700 {home}" in line
    assert not (home / ".local").exists()


def test_a_group_writable_folder_of_our_own_gets_the_chmod_that_fixes_it(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    os.chmod(folder, 0o770)
    result = Cli(folder / "v.db")("init", expect=2)
    assert f"Fix it with: chmod 700 {folder}" in _error(result)
    os.chmod(folder, 0o700)
    Cli(folder / "v.db")("init")


def test_what_probhealth_creates_passes_its_own_checks(tmp_path):
    db = tmp_path / "fresh" / "v.db"
    cli = Cli(db)
    cli("init")
    add_person(cli)
    add_person(cli, "X654321")
    cli("person", "list")
    assert (db.parent.stat().st_mode & 0o777) == 0o700
    for p in db.parent.iterdir():
        assert p.stat().st_mode & 0o077 == 0, p


# ------------------------------------------------- item 12: hints run as one command -----
HOSTILE = "x'; touch $HOME-PWNED; echo '"


def _run_pasted(command: str, home: Path) -> list[str]:
    """Paste ``command`` into sh with chmod and mv replaced by functions that print their
    arguments one per line; returns those lines."""
    assert subprocess.run(["sh", "-n", "-c", command], check=False).returncode == 0
    script = "chmod() { printf '%s\\n' \"$@\"; }; mv() { printf '%s\\n' \"$@\"; }; " + command
    out = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        env={"HOME": str(home), "PATH": os.environ["PATH"]},
        check=False,
    )
    return out.stdout.splitlines()


def test_the_chmod_hint_for_a_hostile_path_is_one_harmless_command(tmp_path):
    folder = tmp_path / HOSTILE
    folder.mkdir(mode=0o700)
    db = folder / "v.db"
    Cli(db)("init")
    os.chmod(db, 0o644)
    line = _error(Cli(db)("person", "list", expect=2))
    command = line.split("Fix it with: ", 1)[1]
    home = tmp_path / "h"
    assert _run_pasted(command, home) == ["600", str(db)]
    assert not Path(f"{home}-PWNED").exists()


@pytest.mark.parametrize("action", ["restrict-file", "restrict-folder", "move-aside"])
def test_every_file_remedy_quotes_its_path(tmp_path, action):
    from probhealth.cli.remedies import word
    from probhealth.errors import Remedy

    path = f"/srv/{HOSTILE}/v.db"
    line = word(Remedy.of(action, path=path))
    command = line.split("with: ", 1)[1]
    home = tmp_path / "h"
    args = _run_pasted(command, home)
    assert path in args and len(args) == 2
    assert not Path(f"{home}-PWNED").exists()


# ------------------------------------------------------------ item 5: cut short ----------
def _populated(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "v.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    add_person(Cli(path))
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    Path(f"{path}-wal").unlink(missing_ok=True)
    Path(f"{path}-shm").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("cut", [1, 4096], ids=["one byte", "one page"])
@pytest.mark.parametrize("command", [["person", "list"], ADD, ["db", "check"]])
def test_a_file_cut_short_is_refused_untouched(tmp_path, template_db, cut, command):
    path = _populated(tmp_path, template_db)
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    before = file_sha(path)
    result = Cli(path)(*command, expect=2)
    assert "is damaged: shorter than it should be" in _error(result)
    assert file_sha(path) == before


# ------------------------------------------------------------ item 6: foreign files ------
def _sqlite(path: Path, *sql: str) -> Path:
    with closing(sqlite3.connect(path)) as con:
        for statement in sql:
            con.execute(statement)
        con.commit()
    os.chmod(path, 0o600)
    return path


FOREIGN = {
    "alembic after downgrade base": (
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    ),
    "another alembic app": (
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('9f1c2ab7d3e4')",
        "CREATE TABLE things (x)",
    ),
    "only a view": ("CREATE VIEW v AS SELECT 1 AS x",),
    "only a user_version": ("PRAGMA user_version = 7",),
}


@pytest.mark.parametrize("case", FOREIGN)
def test_a_foreign_sqlite_file_is_never_converted(tmp_path, case):
    path = _sqlite(tmp_path / "theirs.db", *FOREIGN[case])
    before = file_sha(path)
    result = Cli(path)(*ADD, expect=2)
    line = _error(result)
    assert "belongs to another application" in line
    assert "newer version of probhealth" not in line
    assert file_sha(path) == before
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(tmp_path.glob("*backup*"))


def test_an_empty_sqlite_file_is_still_set_up(tmp_path):
    path = _sqlite(tmp_path / "blank.db", "VACUUM")
    add_person(Cli(path))


def test_a_newer_probhealth_is_still_called_that(tmp_path, template_db):
    path = tmp_path / "newer.db"
    shutil.copyfile(template_db, path)
    _sqlite(path, "UPDATE alembic_version SET version_num = '9999'")
    result = Cli(path)("person", "list", expect=2)
    assert "written by a newer version of probhealth (schema 9999)" in _error(result)


# ------------------------------------------------------------ item 7: garbage journal ----
@pytest.mark.sqlite_only("SQLite's -journal file beside the database")
def test_a_garbage_journal_is_named_for_what_it_is(db_path):
    journal = Path(f"{db_path}-journal")
    journal.write_bytes(bytes(range(1, 256)) * 12)
    os.chmod(journal, 0o600)
    before = file_sha(db_path)
    line = _error(Cli(db_path)("person", "list", expect=2))
    assert "v.db-journal" in line or "probhealth.db-journal" in line
    assert "is not a SQLite journal" in line and "read-only" not in line
    assert re.search(r"move it away with: mv \S+-journal \S+-journal\.bad", line)
    assert file_sha(db_path) == before
    journal.rename(f"{journal}.bad")
    Cli(db_path)("person", "list")
