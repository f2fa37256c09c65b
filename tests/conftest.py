"""Shared fixtures. No test touches a real user directory: PROBHEALTH_HOME points into
tmp_path for every test (autouse), PROBHEALTH_DB is unset and the worker is "tester".

Migrating a database costs far more than copying one, so one template database is migrated
per session and copied for each test that needs a file (``db_path``).

Two backends. A test that asks for ``db`` (or ``cli``, ``store``, ``cli_factory``, which use
it) and not for ``db_path`` runs once per backend: ``[sqlite]`` on a file, ``[postgresql]`` on
a database of the server named by ``PROBHEALTH_TEST_PG`` (``tests/pg.py``). A test that asks
for ``db_path`` reads the SQLite file itself and runs on SQLite only; ``@pytest.mark.sqlite_only
("why")`` marks a test that is SQLite-only by nature (file modes, WAL, damaged files) and is
skipped on PostgreSQL with that reason. ``--db-backend`` (or ``PROBHEALTH_TEST_BACKEND``)
chooses sqlite, postgresql or both (the default when a server is named); with
``--require-postgres`` (or ``PROBHEALTH_REQUIRE_PG=1``, as CI sets) a missing server is an
error, not a skip. The summary prints the pass count on each backend.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests import pg
from tests.helpers import Cli, DbHandle, close_server_connections

# pytest keeps each test module's assertion-rewritten code (tests/__pycache__) only where Python
# may write bytecode. With PYTHONDONTWRITEBYTECODE set (this machine sets it) every pytest
# worker rewrote every test module again on every run: about half of collecting the suite
# (~5 s of CPU a worker). The pytest processes write it; the processes tests start keep the
# environment's setting (scripts/test compiles probhealth for them).
sys.dont_write_bytecode = False

settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


BACKENDS = ("sqlite", "postgresql")
_BACKEND_ID = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgresql)(?:-[^\]]*)?\]$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("probhealth")
    group.addoption(
        "--db-backend",
        choices=("sqlite", "postgresql", "both"),
        default=os.environ.get("PROBHEALTH_TEST_BACKEND") or None,
        help="database backend(s) for tests that use one (default: both when "
        "PROBHEALTH_TEST_PG names a server, else sqlite)",
    )
    group.addoption(
        "--require-postgres",
        action="store_true",
        default=os.environ.get("PROBHEALTH_REQUIRE_PG") == "1",
        help="fail instead of leaving PostgreSQL out when no server is reachable",
    )


def pytest_configure(config: pytest.Config) -> None:
    choice = config.getoption("--db-backend")
    require = config.getoption("--require-postgres")
    url = pg.server_url()
    if choice is None:
        choice = "both" if (url or require) else "sqlite"
    backends = list(BACKENDS) if choice == "both" else [choice]
    config.stash[_missing_pg] = (
        None if url or choice != "sqlite" else "PROBHEALTH_TEST_PG is not set"
    )
    if "postgresql" in backends:
        why = "PROBHEALTH_TEST_PG is not set" if url is None else pg.reachable(url)
        if why is not None:
            if require or choice == "postgresql":
                raise pytest.UsageError(
                    f"PostgreSQL tests were asked for but cannot run: {why}. "
                    "Start a throw-away server: scripts/pg-scratch pytest"
                )
            backends.remove("postgresql")
            config.stash[_missing_pg] = why
    config.stash[_backends] = backends


_backends = pytest.StashKey[list[str]]()
_missing_pg = pytest.StashKey["str | None"]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.stash[_backends]
    marker = metafunc.definition.get_closest_marker("sqlite_only")
    params = []
    if metafunc.definition.get_closest_marker("postgresql_only") is not None:
        missing = metafunc.config.stash[_missing_pg] or "--db-backend=sqlite"
        skip = () if "postgresql" in chosen else pytest.mark.skip(reason=f"PostgreSQL: {missing}")
        metafunc.parametrize("backend", [pytest.param("postgresql", id="postgresql", marks=skip)])
        return
    if "sqlite" in chosen:
        params.append(pytest.param("sqlite", id="sqlite"))
    else:
        params.append(
            pytest.param(
                "sqlite", id="sqlite", marks=pytest.mark.skip(reason="--db-backend=postgresql")
            )
        )
    if "postgresql" in chosen:
        if marker is not None:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            params.append(pytest.param("postgresql", id="postgresql", marks=_skip(why)))
        elif "db_path" not in metafunc.fixturenames:
            params.append(pytest.param("postgresql", id="postgresql"))
        # else: the test reads the SQLite file itself (db_path); it runs on SQLite only
    metafunc.parametrize("backend", params)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests (marked ``slow`` or ``browser``) first, the order otherwise unchanged:
    pytest-xdist hands tests out in this order, so the long ones run while the other workers
    take the many short ones, and none starts near the end with every other worker idle."""
    items.sort(
        key=lambda item: (
            not any(item.iter_markers("slow")) and not any(item.iter_markers("browser"))
        )
    )


def _skip(why: str) -> pytest.MarkDecorator:
    return pytest.mark.skip(reason=f"SQLite only: {why}")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            match = _BACKEND_ID.search(getattr(report, "nodeid", ""))
            key = match.group(1) if match else "no database"
            counts.setdefault(key, {}).setdefault(outcome, 0)
            counts[key][outcome] += 1
    terminalreporter.section("database backends")
    for key in (*BACKENDS, "no database"):
        if key in counts:
            text = ", ".join(f"{n} {o}" for o, n in counts[key].items())
            terminalreporter.write_line(f"{key}: {text}")
    missing = config.stash.get(_missing_pg, None)
    if missing:
        terminalreporter.write_line(
            f"postgresql: not run ({missing}). One line starts a throw-away server for a run: "
            "scripts/pg-scratch pytest"
        )


_TREES: dict[int, tuple[Any, Any]] = {}


@pytest.fixture(scope="session", autouse=True)
def _click_tree_once() -> Iterator[None]:
    """typer's ``CliRunner.invoke`` turns the whole typer app into a click command tree on
    every call (evaluating every command's annotations): about three quarters of an
    in-process command's time. The tree only depends on the app, which is built once per
    process (``probhealth.cli.app``), so it is converted once per app and reused, as
    ``probhealth shell`` does for its commands. Each invocation still gets a fresh click
    context, so the checks ``tests.helpers.Cli`` makes are unchanged."""
    import typer.testing

    original = getattr(typer.testing, "_get_command", None)
    if original is None:  # typer changed: run at its normal speed
        yield
        return

    def once(app: Any) -> Any:
        key = id(app)
        if key not in _TREES:
            _TREES[key] = (app, original(app))  # holds the app, so its id stays its own
        return _TREES[key][1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(typer.testing, "_get_command", once)
        yield


@pytest.fixture(autouse=True)
def _server_connections() -> Iterator[None]:
    """The connections ``tests.helpers.query`` keeps during a test end with it."""
    yield
    close_server_connections()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PROBHEALTH_HOME", str(home))
    monkeypatch.delenv("PROBHEALTH_DB", raising=False)
    monkeypatch.delenv("PROBHEALTH_NOW", raising=False)
    monkeypatch.delenv("PROBHEALTH_DEBUG", raising=False)
    monkeypatch.delenv("PROBHEALTH_KEY_FILE", raising=False)
    monkeypatch.delenv("PROBHEALTH_NEW_KEY_FILE", raising=False)
    # Never the machine's own keyring: an empty one (tests of the keyring set their own).
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("PROBHEALTH_USER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    # The console reads COLUMNS when it is made and is kept for the process: one made before
    # this test (by a session fixture building data once a process, where COLUMNS is the
    # worker's own, or by a test that narrowed it) must not set this test's width.
    from probhealth.cli import output

    output.console.cache_clear()
    return home


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Output at 80 columns, a worker's terminal and the width rich gives a pipe (the suite
    runs at 200)."""
    from probhealth.cli import output

    monkeypatch.setenv("COLUMNS", "80")
    output.console.cache_clear()  # the console reads COLUMNS when it is made
    yield
    output.console.cache_clear()


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


KEY_TEXT = "a long laptop passphrase\n"


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database key file (0600) shared by the tests of encrypted databases."""
    path = tmp_path_factory.mktemp("key") / "db.key"
    path.write_text(KEY_TEXT)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def encrypted_template_db(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Path:
    """The template database, encrypted (SQLCipher; needs probhealth[encrypted])."""
    pytest.importorskip("sqlcipher3")
    from probhealth.dbkey import Key
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    path = tmp_path_factory.mktemp("template-enc") / "template.db"
    key = Key(KEY_TEXT.strip().encode(), "the key file")
    store = Store(resolve_db(str(path)), actor="fixture", key=lambda: key, encrypt=True)
    store.engine()
    with store.raw() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture(scope="session")
def pg_pool(worker_id: str) -> Iterator[pg.Pool]:
    url = pg.server_url()
    assert url is not None
    pool = pg.Pool(url, worker_id)
    yield pool
    pool.drop_all()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return "sqlite"  # replaced by the parameter pytest_generate_tests gives


def _new_db(request: pytest.FixtureRequest, backend: str, name: str) -> DbHandle:
    if backend == "postgresql":
        pool: pg.Pool = request.getfixturevalue("pg_pool")
        request.addfinalizer(pool.release_all)
        return DbHandle("postgresql", pool.take(), None)
    template: Path = request.getfixturevalue("template_db")
    tmp_path: Path = request.getfixturevalue("tmp_path")
    path = tmp_path / name
    shutil.copyfile(template, path)
    os.chmod(path, 0o600)
    return DbHandle("sqlite", str(path), path)


@pytest.fixture
def db(request: pytest.FixtureRequest, backend: str) -> DbHandle:
    """A fresh, migrated database for one test, on the test's backend."""
    return _new_db(request, backend, "probhealth.db")


@pytest.fixture
def db_path(db: DbHandle) -> Path:
    """A fresh, migrated database file (0600) for one test (SQLite only)."""
    assert db.path is not None
    return db.path


@pytest.fixture
def store(db: DbHandle) -> Iterator[object]:
    """A store on ``db``; the key of an encrypted file from PROBHEALTH_KEY_FILE."""
    from probhealth import dbkey
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    s = Store(resolve_db(db.url), actor="tester", key=dbkey.from_env)
    yield s
    s.close()


@pytest.fixture
def cli(db: DbHandle) -> Cli:
    return Cli(db.path or db.url)


_BUILT: dict[tuple[str, ...], tuple[Any, Any]] = {}


@pytest.fixture
def built_once(
    request: pytest.FixtureRequest, db: DbHandle, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Any]:
    """Build a test's starting data once per process and backend, copy it for every other test.

    ``built_once(build)`` runs ``build()`` (which fills ``db``, through the CLI or services)
    the first time it is asked with that function (and ``key``) on this backend; it then keeps
    a copy of the database -- the file with its audit head on SQLite (the backup API, so a
    connection left open does not matter), every row and sequence on PostgreSQL
    (``tests.pg.Pool.capture``) -- and ``build``'s result. Later tests get that copy put into
    their own fresh ``db`` and the same result, instead of running the same commands again.
    Only for data a test reads or changes in the database: ``build`` must leave nothing else
    a test relies on (files in ``tmp_path``, environment) and return nothing tied to the first
    test (paths in its ``tmp_path``). Not for encrypted files."""

    def once(build: Callable[[], Any], key: object = None) -> Any:
        name = (build.__module__, build.__qualname__, repr(key), db.backend)
        if name in _BUILT:
            saved, result = _BUILT[name]
            _restore(request, db, saved)
            return result
        result = build()
        _BUILT[name] = (_capture(request, db, tmp_path_factory), result)
        return result

    return once


def _capture(request: pytest.FixtureRequest, db: DbHandle, tmp: pytest.TempPathFactory) -> Any:
    if db.path is None:
        pool: pg.Pool = request.getfixturevalue("pg_pool")
        return pool.capture(db.url)
    from contextlib import closing

    from probhealth.store.anchor import path_for

    copy = tmp.mktemp("built") / "built.db"
    with closing(sqlite3.connect(db.path)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    head = path_for(db.path)
    return copy, head.read_bytes() if head.exists() else None


def _restore(request: pytest.FixtureRequest, db: DbHandle, saved: Any) -> None:
    if db.path is None:
        pool: pg.Pool = request.getfixturevalue("pg_pool")
        pool.restore(db.url, saved)
        return
    from contextlib import closing

    from probhealth.store.anchor import path_for

    copy, head = saved
    with closing(sqlite3.connect(copy)) as src, closing(sqlite3.connect(db.path)) as dst:
        src.backup(dst)
    target = path_for(db.path)
    target.unlink(missing_ok=True)
    if head is not None:
        target.write_bytes(head)
        target.chmod(0o600)


@pytest.fixture
def cli_factory(request: pytest.FixtureRequest, backend: str, db: DbHandle):
    """A new database per call (for Hypothesis examples inside one test). On PostgreSQL the
    databases come from the worker's pool, so a test holds at most 4 from one factory at
    once: the fifth call empties and hands out the first again."""
    counter = iter(range(10**6))
    made: list[DbHandle] = []

    def make() -> Cli:
        n = next(counter)
        if backend == "postgresql" and len(made) >= 4:
            pool: pg.Pool = request.getfixturevalue("pg_pool")
            again = made[n % 4]
            pool.empty(again.url)
            return Cli(again.url)
        new = _new_db(request, backend, f"h{n}.db")
        made.append(new)
        return Cli(new.path or new.url)

    return make
