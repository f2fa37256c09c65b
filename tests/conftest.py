"""Shared fixtures. No test touches a real user directory: PROBHEALTH_HOME points into
tmp_path for every test (autouse), PROBHEALTH_DB is unset and the worker is "tester".

Migrating a database costs far more than copying one, so one template database is migrated
per session and copied for each test that needs a file (``db_path``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import Cli

settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PROBHEALTH_HOME", str(home))
    monkeypatch.delenv("PROBHEALTH_DB", raising=False)
    monkeypatch.delenv("PROBHEALTH_NOW", raising=False)
    monkeypatch.delenv("PROBHEALTH_DEBUG", raising=False)
    monkeypatch.setenv("PROBHEALTH_USER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(resolve_db(str(path)), actor="fixture")
    store.engine()
    store.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    """A fresh, migrated database file (0600) for one test."""
    path = tmp_path / "probhealth.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[object]:
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    s = Store(resolve_db(str(db_path)), actor="tester")
    yield s
    s.close()


@pytest.fixture
def cli(db_path: Path) -> Cli:
    return Cli(db_path)


@pytest.fixture
def cli_factory(template_db: Path, tmp_path: Path):
    """A new database per call (for Hypothesis examples inside one test)."""
    counter = iter(range(10**6))

    def make() -> Cli:
        path = tmp_path / f"h{next(counter)}.db"
        shutil.copyfile(template_db, path)
        os.chmod(path, 0o600)
        return Cli(path)

    return make
