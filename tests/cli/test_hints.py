"""Commands suggested in messages work when copied: they repeat --demo or a typed --db, and
messages about where files live are shown at the command line (reliability rows 5 and 12)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Cli, add_person


def test_demo_database_hints_carry_demo(tmp_path):
    cli = Cli(None)
    cli("demo", "--people", "3")
    result = cli("--demo", "referral", "update", "99999", "--status", "attended", expect=2)
    assert "probhealth --demo referral list" in result.stderr
    exported = cli("--demo", "export", "people", "--out", str(tmp_path / "p.csv"))
    assert "Exported 3 rows of people" in exported.stderr


def test_the_demo_caseload_says_how_to_keep_working_on_it():
    result = Cli(None)("demo", "--people", "1")
    assert "Added 1 fictional person " in result.stderr
    assert "probhealth --demo export screenings" in result.stderr


def test_typed_db_is_repeated_and_the_environment_is_not(tmp_path):
    db = tmp_path / "my cases.db"
    Cli(None)("--db", str(db), "init")
    typed = Cli(None)("--db", str(db), "suggest", "Q000001", expect=2)
    assert f"probhealth --db '{db}' person list" in typed.stderr
    from_env = Cli(db)("suggest", "Q000001", expect=2)
    assert "List people with: probhealth person list" in from_env.stderr


def test_database_in_a_synced_folder_is_warned_about(tmp_path):
    synced = tmp_path / "OneDrive - Probation" / "cases.db"
    synced.parent.mkdir()
    Cli(synced)("init")
    result = Cli(synced)("person", "list")
    assert "synced folder (onedrive)" in result.stderr


def test_export_into_a_synced_folder_is_warned_about(cli, tmp_path):
    add_person(cli)
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    result = cli("export", "people", "--out", str(folder / "people.csv"))
    assert "copied off this computer" in result.stderr
    assert (folder / "people.csv").exists()


def test_identifiable_warning_only_when_something_was_exported(cli, tmp_path):
    add_person(cli)
    out = tmp_path / "people.csv"
    out.write_text("keep me")
    refused = cli("export", "people", "--identifiable", "--out", str(out), expect=2)
    assert "Identifiable export" not in refused.stderr
    assert out.read_text() == "keep me"
    done = cli("export", "people", "--identifiable", "--out", str(out), "--force")
    assert "Identifiable export" in done.stderr


def test_hints_do_not_leak_into_the_next_command(tmp_path):
    Cli(None)("demo", "--people", "1")
    Cli(tmp_path / "other.db")("init")
    result = Cli(tmp_path / "other.db")("suggest", "Q000001", expect=2)
    assert "probhealth --demo" not in result.stderr
    assert Path(tmp_path / "other.db").exists()


def test_a_json_error_suggests_the_same_command_as_the_line_on_stderr(tmp_path):
    """With --json the error object said "probhealth person list" while stderr said
    "probhealth --demo person list": a script copying the JSON one listed the real caseload."""
    import json

    cli = Cli(None)
    cli("demo", "--people", "1")
    result = cli("--demo", "person", "show", "Q999999", "--json", expect=2)
    message = json.loads(result.stdout)["error"]["message"]
    assert "probhealth --demo person list" in message
    assert result.stderr.strip() == f"Error: {message}"
