"""Secrets and identifiers stay out of output (reliability row 25): SQL parameters are hidden in
errors, an internal error prints a reference and a type, never data; even the debug traceback
shows no locals and no parameters."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.helpers import add_person

NAMES = ("Zebedee", "Quasimodo", "X123456")


def test_engine_hides_parameters(store):
    engine = store.engine()
    assert engine.hide_parameters is True


@pytest.mark.parametrize("debug", [False, True])
def test_failing_command_prints_no_identifiers(cli, monkeypatch, debug):
    add_person(cli, "X123456", given="Zebedee", family="Quasimodo")
    import probhealth.store.people as repo

    def boom(session, person):  # type: ignore[no-untyped-def]
        # A realistic driver error whose statement carries the person's values.
        raise IntegrityError(
            "INSERT INTO person (crn, given_name) VALUES (?, ?)",
            ("X123456", "Zebedee"),
            Exception("UNIQUE constraint failed"),
        )

    monkeypatch.setattr(repo, "add", boom)
    env = {"PROBHEALTH_DEBUG": "1"} if debug else {"PROBHEALTH_DEBUG": ""}
    result = (
        cli(
            "person",
            "add",
            "--crn",
            "Y000001",
            "--given",
            "Zebedee",
            "--family",
            "Quasimodo",
            "--dob",
            "1990-01-01",
            "--sex",
            "male",
            expect=None,
            env=env,
        )
        if not debug
        else None
    )
    if debug:
        from typer.testing import CliRunner

        from probhealth.cli import app

        result = CliRunner().invoke(
            app,
            [
                "--db",
                str(cli.db),
                "person",
                "add",
                "--crn",
                "Y000001",
                "--given",
                "Zebedee",
                "--family",
                "Quasimodo",
                "--dob",
                "1990-01-01",
                "--sex",
                "male",
            ],
            env=env,
        )
    assert result is not None and result.exit_code == 1
    output = result.stdout + result.stderr
    assert "Internal error" in output or "database reported an error" in output
    for name in NAMES:
        assert name not in output, name


def test_an_unexpected_error_is_reported_by_reference_only(cli, monkeypatch):
    """The last line of defence: an unexpected exception whose text carries a person's details
    is reported as 'Internal error (reference, type)', never with its text."""
    import probhealth.store.people as repo

    def boom(session, person):  # type: ignore[no-untyped-def]
        raise ValueError("X123456 Zebedee Quasimodo")

    monkeypatch.setattr(repo, "add", boom)
    result = cli(
        "person", "add", "--crn", "X123456", "--given", "Zebedee", "--family", "Quasimodo",
        "--dob", "1990-01-01", "--sex", "male",
        expect=1, env={"PROBHEALTH_DEBUG": ""},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Internal error (reference " in output and "ValueError" in output
    for name in ("Zebedee", "Quasimodo", "X123456"):
        assert name not in output, name


def test_sqlalchemy_errors_from_the_store_hide_parameters(store):
    from sqlalchemy import text

    from probhealth.errors import ProbhealthError
    from probhealth.services import people

    people.add_person(
        store,
        people.PersonInput(
            crn="X123456", given="Zebedee", family="Quasimodo", dob="1990-01-31", sex="male"
        ),
    )
    with pytest.raises(ProbhealthError) as caught, store.write() as session:
        session.execute(
            text("INSERT INTO person (id, crn) VALUES (:a, :b)"), {"a": "Zebedee", "b": "Quasimodo"}
        )
    message = str(caught.value)
    assert "Zebedee" not in message and "Quasimodo" not in message


def test_tracebacks_never_show_locals():
    from probhealth.cli import app

    assert app.pretty_exceptions_show_locals is False
