"""Helpers shared by tests (imported as ``tests.helpers``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner


class Cli:
    """Run probhealth in-process against one database and check the contract on every call."""

    def __init__(self, db: Path | None) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        expect: int | None = 0,
        env: dict[str, str] | None = None,
    ):
        from probhealth.cli import app

        argv = (["--db", str(self.db)] if self.db else []) + list(args)
        result = self.runner.invoke(app, argv, input=input, env=env, catch_exceptions=True)
        text = result.stdout + result.stderr
        assert "Traceback" not in text, text
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code} != {expect}\nstdout:{result.stdout}\nstderr:{result.stderr}"
            )
        return result


def add_person(cli: Cli, crn: str = "X123456", **extra: str) -> None:
    args = [
        "person",
        "add",
        "--crn",
        crn,
        "--given",
        extra.pop("given", "Ann"),
        "--family",
        extra.pop("family", "Smith"),
        "--dob",
        extra.pop("dob", "1990-01-31"),
        "--sex",
        extra.pop("sex", "female"),
    ]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    cli(*args)


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
