"""Schema migrations with Alembic, run programmatically (no alembic.ini needed).

Imported only when a database is new or behind (``Store._open``). The whole upgrade
runs in one ``BEGIN IMMEDIATE`` transaction, so a crash mid-migration leaves the database at
its old revision, and a second process arriving at the same moment waits, then finds the
schema current. An existing database is backed up first, with SQLite's online backup API.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

from probhealth import clock

if TYPE_CHECKING:
    from probhealth.store.db import Store

SCRIPT_LOCATION = "probhealth.store:migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    engine = store.engine().execution_options(probhealth_write=True)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def backup_file(source: Path, dest: Path) -> Path:
    """Copy a live SQLite database with the online backup API into a new 0600 file."""
    fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    return dest


def backup_before_migration(store: Store, revision: str) -> Path:
    assert store.target.path is not None
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    dest = store.target.path.with_name(f"{store.target.path.name}.pre-{revision}-{stamp}.bak")
    return backup_file(store.target.path, dest)
