"""``probhealth shell`` without a terminal (commands from stdin), its completion and history
rules, and how it notices a database changed under it. The pty tests are in test_shell_pty.py."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat

import pytest

from tests.helpers import Cli, add_person


def shell(cli: Cli, *lines: str, expect: int | None = 0, args: tuple[str, ...] = ()):
    return cli(*args, "shell", input="\n".join(lines) + "\n", expect=expect)


def test_json_output_is_the_one_shot_commands(cli):
    add_person(cli)
    cli("consent", "X123456", "--purpose", "screening", "--given")
    commands = [
        ["person", "show", "X123456", "--json"],
        ["person", "list", "--json"],
        ["screening", "list", "X123456", "--json"],
        ["referral", "list", "--json"],
    ]
    one_shot = "".join(cli(*c).stdout for c in commands)
    result = shell(cli, *(" ".join(c) for c in commands))
    # The audit trail differs (more views recorded), not the output.
    assert result.stdout == one_shot


def test_an_error_prints_its_line_and_the_next_command_runs(cli):
    add_person(cli)
    result = shell(
        cli,
        "person show X999999",
        "nonsense",
        "person show X123456 --json",
        "# a comment",
        "person show 'unclosed",
        expect=2,
    )
    assert json.loads(result.stdout)["crn"] == "X123456"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("Error: ") and "X999999" in lines[0]
    assert "No such command 'nonsense'" in lines[1] and "See: --help" in lines[1]
    assert "quotes" in lines[2]
    assert "Traceback" not in result.stderr


def test_exit_code_is_the_last_failure_and_exit_stops(cli):
    add_person(cli)
    assert shell(cli, "person show X123456", expect=0).exit_code == 0
    result = shell(cli, "person show nope", "exit", "person show nope2", expect=2)
    assert "nope2" not in result.stderr


def test_messages_suggest_commands_as_typed_in_the_shell(cli):
    add_person(cli)
    result = shell(
        cli, "person add --crn X654321 --given Bo --family Lee --dob 1980-02-02 --sex male"
    )
    assert "`consent X654321 --purpose screening --given`" in result.stderr
    assert "probhealth consent" not in result.stderr


def test_global_options_and_a_nested_shell_are_refused(cli):
    result = shell(cli, "--as someone person list", "shell", expect=2)
    lines = result.stderr.strip().splitlines()
    assert "chosen when the shell starts" in lines[0]
    assert "in the shell already" in lines[1]


def test_global_options_given_to_the_shell_apply_to_every_command(cli, cli_factory):
    other = cli_factory()  # a second database on the same backend
    add_person(other, "X222222")
    result = cli("--db", str(other.db), "shell", input="person list --json\n")
    assert [p["crn"] for p in json.loads(result.stdout)] == ["X222222"]


def test_the_tour_is_refused_on_a_real_database(cli):
    result = shell(cli, "person list --json", "demo", expect=2)
    assert "demo database" in result.stderr


def test_a_command_added_to_the_tree_works_without_edits(cli, monkeypatch):
    from probhealth import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "start-again", ("admin", "init", "command"))
    result = shell(cli, "start-again")
    assert result.exit_code == 0


def test_one_database_is_opened_for_every_command(cli, monkeypatch):
    from probhealth.store import db

    opened = []
    real = db.Store._open

    def counting(self):  # type: ignore[no-untyped-def]
        opened.append(1)
        real(self)

    monkeypatch.setattr(db.Store, "_open", counting)
    add_person(cli)
    opened.clear()
    shell(cli, *["person show X123456 --json"] * 5)
    assert len(opened) == 1


@pytest.mark.sqlite_only("the SQLite file replaced under an open shell")
def test_a_replaced_database_is_opened_again(cli, db_path, tmp_path):
    from probhealth.cli.context import AppContext
    from probhealth.cli.shell import Shell

    add_person(cli)
    session = Shell(AppContext(db_option=str(db_path), actor_option="tester", shell=True))
    store = session.app_ctx.store()
    assert store.changed_under() is None
    copy = tmp_path / "copy.db"
    shutil.copyfile(db_path, copy)
    os.chmod(copy, 0o600)
    os.replace(copy, db_path)
    assert store.changed_under() == "replaced"
    assert session._still_current()
    assert session.app_ctx.opened is None  # opened again, with every check, on next use
    store = session.app_ctx.store()
    assert store.changed_under() is None
    con = sqlite3.connect(db_path)
    con.execute("UPDATE alembic_version SET version_num = 'zzzz_newer'")
    con.commit()
    con.close()
    assert store.changed_under() == "migrated"
    os.remove(db_path)
    assert store.changed_under() == "removed"
    assert not session._still_current()
    session.app_ctx.close()


@pytest.mark.sqlite_only("the SQLite file removed under an open shell")
def test_a_removed_database_ends_the_shell_without_creating_another(cli, db_path):
    from probhealth.cli.context import AppContext
    from probhealth.cli.shell import Shell

    session = Shell(AppContext(db_option=str(db_path), actor_option="tester", shell=True))
    session.app_ctx.store()
    os.remove(db_path)
    assert session.execute(["person", "list"]) is None
    assert not db_path.exists()
    session.app_ctx.close()


@pytest.fixture
def completing(cli, db):  # type: ignore[no-untyped-def]
    from probhealth.cli.context import AppContext
    from probhealth.cli.shell import Shell

    for crn in ("X123456", "X123457", "Y000001"):
        add_person(cli, crn)
        cli("consent", crn, "--purpose", "share-with-services", "--given")
    cli("refer", "X123456", "dentist")
    session = Shell(AppContext(db_option=db.url, actor_option="tester", shell=True))
    yield session
    session.app_ctx.close()


def texts(found):  # type: ignore[no-untyped-def]
    return [t for t, _, _ in found]


def test_completion_of_commands_options_crns_and_ids(completing):
    c = completing.complete
    assert {"person", "referral", "help", "exit"} <= set(texts(c("")))
    assert "shell" not in texts(c(""))
    assert texts(c("per")) == ["person"]
    assert c("per")[0][1] == -3
    assert set(texts(c("person "))) >= {"add", "list", "show", "edit"}
    assert texts(c("person show x12")) == ["X123456", "X123457"]
    assert texts(c("person show ")) == ["X123456", "X123457", "Y000001"]
    assert "--json" in texts(c("person show X123456 --"))
    assert texts(c("referral list --due Y")) == ["Y000001"]
    assert texts(c("person edit X123456 --crn ")) == []  # a new CRN: nothing to offer
    assert "dentist" in texts(c("refer X123456 den"))
    assert texts(c("refer X123456 dentist --service ")) == []
    found = c("referral show ")
    assert texts(found) == ["1"] and "X123456 dentist" in found[0][2]
    assert texts(c("referral update 1 --status agreed --note ")) == []
    assert c("person show 'X12") == []  # an open quote completes nothing, quietly


def test_history_file_is_private_and_keeps_no_personal_details(tmp_path, isolated_home):
    from probhealth.cli.shell import history_path, keep_in_file

    path = history_path()
    assert path.parent == isolated_home
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(isolated_home.stat().st_mode) == 0o700
    assert keep_in_file("person show X123456")
    assert keep_in_file("referral update 3 --status attended")
    for line in (
        "person add --crn X1 --given Ann --family Smith --dob 1990-01-01 --sex female",
        "barrier add X123456 money --note 'rent arrears'",
        "person list --search=smith",
        'goal add X123456 "Register with a GP"',
        "person show 'unclosed",
    ):
        assert not keep_in_file(line), line


def test_history_forgets_an_erased_persons_crn(tmp_path):
    from probhealth.cli.prompts import _PrivateFileHistory
    from probhealth.cli.shell import keep_in_file

    path = tmp_path / "h"
    history = _PrivateFileHistory(path, keep_in_file)
    for line in ("person show X123456", "referral list --due", "suggest X123456", "person list"):
        history.store_string(line)
    history.store_string("person add --crn X1 --given Ann")
    history.forget("X123456")
    assert list(_PrivateFileHistory(path, keep_in_file).load_history_strings()) == [
        "person list",
        "referral list --due",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
