"""The store tests run on a plain and on an encrypted (SQLCipher) database file: ``db`` is
parametrised again here; for the encrypted one PROBHEALTH_KEY_FILE names its key, so the
command line (``Cli``), ``store`` and ``tests.helpers.connect`` open it. (On PostgreSQL the
encrypted case is skipped: encryption at rest is for SQLite files.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import DbHandle


@pytest.fixture(params=["plain", "encrypted"])
def db(
    request: pytest.FixtureRequest,
    db: DbHandle,
    tmp_path: Path,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> DbHandle:
    if request.param == "plain":
        return db
    if db.path is None:
        pytest.skip("encryption at rest is for SQLite files")
    source: Path = request.getfixturevalue("encrypted_template_db")
    monkeypatch.setenv("PROBHEALTH_KEY_FILE", str(key_file))
    path = tmp_path / "encrypted.db"
    shutil.copyfile(source, path)
    os.chmod(path, 0o600)
    return DbHandle("sqlite", str(path), path)
