"""A missing database is refused, never silently created (issue 13, item 5).

``probhealth --db ~/casework/typo.db person list`` used to create the folder and an empty
database and print "0 people": an officer would think their caseload had vanished. Only
``init`` and the demo create a database; the default location is also created by any command
once the worker at a terminal says yes.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import Cli, ScriptedAsker


@pytest.mark.parametrize(
    "argv",
    [
        ["person", "list"],
        ["person", "show", "X123456"],
        ["referral", "list", "--due"],
        ["export", "people", "--out", "-"],
        ["db", "check"],
        ["suggest", "--all"],
    ],
)
def test_a_mistyped_db_path_is_refused_and_nothing_is_created(tmp_path, argv):
    typo = tmp_path / "casework" / "typo.db"
    result = Cli(None)("--db", str(typo), *argv, expect=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"No database at {typo}" in lines[0]
    assert f"probhealth --db {typo} init" in lines[0]
    assert result.stdout == ""
    assert not typo.exists() and not typo.parent.exists()


def test_a_missing_file_named_by_the_environment_is_refused(tmp_path):
    missing = tmp_path / "gone.db"
    result = Cli(missing)("person", "list", "--json", expect=2)
    assert "No database at" in result.stderr and "`probhealth init`" in result.stderr
    assert not missing.exists()


def test_the_default_location_is_not_created_without_a_terminal(isolated_home):
    result = Cli(None)("person", "list", expect=2)
    assert f"No database at {isolated_home / 'probhealth.db'}" in result.stderr
    assert not isolated_home.exists()


def test_init_creates_it_and_then_commands_work(tmp_path):
    path = tmp_path / "casework" / "real.db"
    cli = Cli(None)
    assert "Created the database" in cli("--db", str(path), "init").stderr
    assert path.exists()
    assert json.loads(cli("--db", str(path), "person", "list", "--json").stdout) == []


def test_the_demo_creates_its_own_database(isolated_home):
    Cli(None)("demo", "--people", "1")
    assert (isolated_home / "demo.db").exists()
    assert not (isolated_home / "probhealth.db").exists()


@pytest.mark.parametrize("answer", [True, False])
def test_at_a_terminal_the_default_location_is_created_after_asking(
    isolated_home, monkeypatch, answer
):
    import probhealth.cli.asker as asker_mod
    import probhealth.cli.context as context_mod

    asker = ScriptedAsker([answer])
    monkeypatch.setattr(context_mod, "interactive", lambda: True)
    monkeypatch.setattr(asker_mod, "asker_factory", lambda: asker)
    result = Cli(None)("person", "list", "--json", expect=0 if answer else 2)
    assert (isolated_home / "probhealth.db").exists() is answer
    assert any("no database yet" in str(a).lower() for a in asker.asked), asker.asked
    if answer:
        assert json.loads(result.stdout) == []


def test_a_typed_path_is_never_created_even_at_a_terminal(tmp_path, monkeypatch):
    import probhealth.cli.context as context_mod

    monkeypatch.setattr(context_mod, "interactive", lambda: True)
    typo = tmp_path / "typo.db"
    Cli(None)("--db", str(typo), "person", "list", expect=2)
    assert not typo.exists()


def test_json_errors_are_a_json_object_on_stdout_too(tmp_path):
    # Issue 13 item 11: with --json, an error is the line on stderr and a JSON object on stdout.
    missing = tmp_path / "gone.db"
    result = Cli(missing)("person", "list", "--json", expect=2)
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 2 and error["message"].startswith("No database at")
    assert result.stderr.startswith("Error: No database at")
    plain = Cli(missing)("person", "list", expect=2)
    assert plain.stdout == ""
