"""Where probhealth keeps its data, and how a ``--db`` value becomes a database URL.

No heavy imports here: the CLI calls this while building its context.

- ``PROBHEALTH_HOME`` overrides the data directory (default: platformdirs' user data dir).
- ``PROBHEALTH_DB`` or ``--db`` names the database: a path, or a SQLAlchemy URL
  (``sqlite:///...``, ``postgresql+psycopg://...``).
- The demo database is ``demo.db`` beside the real one, unless a database is named explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "probhealth"
DB_FILENAME = "probhealth.db"
DEMO_DB_FILENAME = "demo.db"


def data_dir() -> Path:
    """The directory that holds the default database (not created here)."""
    home = os.environ.get("PROBHEALTH_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """probhealth's own cache directory (platformdirs' user cache dir; not created here):
    what can be rebuilt at any time, as matplotlib's font list."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class DbTarget:
    """A resolved database: its SQLAlchemy URL and, for SQLite files, the file path."""

    url: str
    path: Path | None  # None for a server database (PostgreSQL) or in-memory SQLite
    explicit: bool  # named by --db / PROBHEALTH_DB rather than the default

    @property
    def display(self) -> str:
        """Where the data is, for messages: the file path, or the URL without a password."""
        if self.path is not None:
            return str(self.path)
        return _mask_password(self.url)


def _mask_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def _looks_like_url(value: str) -> bool:
    head = value.split("://", 1)[0]
    return "://" in value and head.replace("+", "").replace("-", "").isalnum()


def resolve_db(value: str | None, *, demo: bool = False) -> DbTarget:
    """Resolve ``--db``/``PROBHEALTH_DB`` (``value`` wins) or the default location.

    ``demo=True`` picks ``demo.db`` beside the default database when nothing was named.
    """
    named = value or os.environ.get("PROBHEALTH_DB") or None
    if named:
        if "\x00" in named:
            from probhealth.errors import BadInput

            raise BadInput(
                "The database path contains a NUL character.",
                hint="Give the path of a database file with {opt:db} or PROBHEALTH_DB.",
            )
        if _looks_like_url(named):
            if named.startswith("sqlite:///") and len(named) > len("sqlite:///"):
                rest = named[len("sqlite:///") :]
                if rest.split("?", 1)[0] in (":memory:", ""):
                    return DbTarget(url="sqlite://", path=None, explicit=True)
                path = Path(rest).expanduser()
                return DbTarget(url=f"sqlite:///{path}", path=path, explicit=True)
            if named in ("sqlite://", "sqlite:///"):
                return DbTarget(url="sqlite://", path=None, explicit=True)
            return DbTarget(url=named, path=None, explicit=True)
        path = Path(named).expanduser()
        return DbTarget(url=f"sqlite:///{path}", path=path, explicit=True)
    path = data_dir() / (DEMO_DB_FILENAME if demo else DB_FILENAME)
    return DbTarget(url=f"sqlite:///{path}", path=path, explicit=False)
