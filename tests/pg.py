"""PostgreSQL for the tests: a per-worker pool of databases on the server named by
``PROBHEALTH_TEST_PG`` (``scripts/pg-scratch`` starts a throw-away one and sets it).

Creating a database from a template costs about 0.15 s and dropping one 0.1 s, against about
5 ms to empty one, so each pytest worker keeps a few databases for the whole session: the first
is migrated once and used as the template for the others, and a test that takes one gets it
emptied back to "just migrated" (every table's rows deleted, the rows migrations write put
back, sequences reset) with any connection a previous test left open ended first. The login
must be a superuser (emptying an append-only audit table, creating roles in tests); the one
``scripts/pg-scratch`` makes is. Tests use their databases as the superuser ``tester`` (made
here if missing; the same password as the given login, if any), the tests' PROBHEALTH_USER,
because on a server the audit user is the database login.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

ENV = "PROBHEALTH_TEST_PG"
LOGIN = "tester"


def server_url() -> str | None:
    return os.environ.get(ENV) or None


def libpq(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq URI for psycopg."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def as_login(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=LOGIN).render_as_string(hide_password=False)


def reachable(url: str) -> str | None:
    """None when the server answers and the login may create databases, else why not."""
    try:
        import psycopg

        with psycopg.connect(libpq(url), connect_timeout=5, autocommit=True) as con:
            row = con.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = session_user"
            ).fetchone()
    except Exception as exc:  # any failure to connect: say what it was, once
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    if not row or not row[0]:
        return "the login in PROBHEALTH_TEST_PG is not a superuser"
    return None


@dataclass(frozen=True)
class Snapshot:
    """A database's contents (``Pool.capture``): each table's rows in COPY's text form and each
    sequence's last value (None when never used)."""

    rows: list[tuple[str, bytes]]
    sequences: list[tuple[str, int | None]]


class Pool:
    """Databases for one pytest worker; ``take()`` hands out an empty, migrated one."""

    def __init__(self, admin_url: str, worker: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"ph_{worker}_{uuid.uuid4().hex[:6]}"
        self.names: list[str] = []  # [0] is the template
        self.in_use = 0
        self._tables: list[str] = []
        self._seed: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        self._sequences: list[tuple[str, int | None]] = []
        self._reset: bytes | None = None  # the statements _empty sends, made once

    def _login(self) -> None:
        """The tests' databases are used through a superuser login named ``tester``, the
        tests' PROBHEALTH_USER, so the audit user (the login on a server) reads as on SQLite."""
        import psycopg

        with self._admin() as con:
            if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LOGIN,)).fetchone():
                return
            try:
                con.execute(f"CREATE ROLE {LOGIN} LOGIN SUPERUSER")
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                # Another worker made it just now: two CREATE ROLEs at the same moment can
                # also meet in the catalogue's unique index (seen with -k postgresql).
                pass

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(libpq(self.admin_url), autocommit=True)

    def _new(self) -> str:
        template = f"{self.prefix}_template"  # migrated once, never handed out
        name = f"{self.prefix}_{len(self.names)}"
        with self._admin() as con:
            if not self._tables:
                self._login()
                con.execute(f'CREATE DATABASE "{template}"')
                self.names.append(template)
                self._migrate(template)
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.names.append(name)
        return name

    def _migrate(self, name: str) -> None:
        from probhealth.paths import resolve_db
        from probhealth.store.db import Store

        store = Store(resolve_db(with_database(self.admin_url, name)), actor="fixture")
        store.engine()
        store.close()
        import psycopg

        with psycopg.connect(libpq(with_database(self.admin_url, name))) as con:
            self._tables = [
                r[0]
                for r in con.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ]
            for table in self._tables:
                cur = con.execute(f'SELECT * FROM "{table}"')
                rows = cur.fetchall()
                if rows:
                    columns = [d.name for d in cur.description or ()]
                    self._seed[table] = (columns, rows)
            self._sequences = [
                (f'"{r[0]}"."{r[1]}"', r[2])
                for r in con.execute(
                    "SELECT schemaname, sequencename, last_value FROM pg_sequences"
                    " WHERE schemaname = current_schema()"
                )
            ]

    def take(self) -> str:
        """The URL of an empty, migrated database no other live fixture of this test holds."""
        if self.in_use + 1 < len(self.names):
            name = self.names[self.in_use + 1]
            self._empty(name)
        else:
            name = self._new()
        self.in_use += 1
        return as_login(with_database(self.admin_url, name))

    def new_empty(self) -> str:
        """A new database with nothing in it (no schema), dropped at the end of the session."""
        name = f"{self.prefix}_e{len(self.names)}"
        with self._admin() as con:
            con.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return as_login(with_database(self.admin_url, name))

    def empty(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        assert name in self.names[1:]
        self._empty(name)

    def release_all(self) -> None:
        self.in_use = 0

    def _empty(self, name: str) -> None:
        """Back to "just migrated" in one round trip on one connection: end any connection a
        previous test left open, delete every row, put the migrations' rows back, reset the
        sequences (about 0.08 s as 2 connections and 38 statements sent one by one, under
        load; most of it waiting on the round trips)."""
        import psycopg

        if self._reset is None:
            self._reset = self._reset_script()
        with psycopg.connect(libpq(with_database(self.admin_url, name))) as con:
            con.execute(self._reset)

    def _reset_script(self) -> bytes:
        import psycopg
        from psycopg import sql

        parts: list[sql.Composable] = [
            sql.SQL(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ),
            # Roles' triggers (the audit table is append-only) do not fire for a replica.
            sql.SQL("SET LOCAL session_replication_role = replica"),
        ]
        for table in self._tables:
            parts.append(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        for table, (columns, rows) in self._seed.items():
            for row in rows:
                parts.append(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(table),
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                        sql.SQL(", ").join(map(sql.Literal, row)),
                    )
                )
        for seq, last in self._sequences:
            if last is None:
                parts.append(
                    sql.SQL("SELECT setval({}::regclass, 1, false)").format(sql.Literal(seq))
                )
            else:
                parts.append(
                    sql.SQL("SELECT setval({}::regclass, {}, true)").format(
                        sql.Literal(seq), sql.Literal(last)
                    )
                )
        with psycopg.connect(libpq(self.admin_url)) as con:
            return sql.SQL("; ").join(parts).as_bytes(con)

    def capture(self, url: str) -> Snapshot:
        """Every row and sequence of one of this pool's databases, to ``restore`` into another
        (``tests.conftest.built_once``): COPY's text form, so every value comes back as it
        was stored."""
        import psycopg
        from psycopg import sql

        rows: list[tuple[str, bytes]] = []
        with psycopg.connect(libpq(url)) as con:
            for table in self._tables:
                query = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
                with con.cursor().copy(query) as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                rows.append((table, data))
            sequences = con.execute(
                "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences"
                " WHERE schemaname = current_schema()"
            ).fetchall()
        return Snapshot(rows, [(str(name), last) for name, last in sequences])

    def restore(self, url: str, snapshot: Snapshot) -> None:
        """Make a database of this pool hold exactly what ``snapshot`` holds, on one connection
        in one transaction (triggers, so the append-only audit guard and the foreign keys, off
        as for a replica, as in ``_empty``)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(libpq(url)) as con:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            con.execute("SET LOCAL session_replication_role = replica")
            for table, data in snapshot.rows:
                con.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                if data:
                    query = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                    with con.cursor().copy(query) as copy:
                        copy.write(data)
            for seq, last in snapshot.sequences:
                if last is None:
                    con.execute("SELECT setval(%s::regclass, 1, false)", (seq,))
                else:
                    con.execute("SELECT setval(%s::regclass, %s, true)", (seq, last))

    def drop_all(self) -> None:
        with self._admin() as con:
            for name in reversed(self.names):
                con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.clear()
