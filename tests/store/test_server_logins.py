"""Who did it, on a server (issue 17 item 4): on PostgreSQL the audit user is the database
login (session_user), which ``--as`` can add a display name to but never replace; a login
granted only what the README's read-only role gets can report, export pseudonymised, list
and suggest, and any write is one line, exit 2, nothing saved."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from sqlalchemy.engine import make_url

from tests.helpers import Cli, add_person, fingerprint, query

pytestmark = pytest.mark.postgresql_only

# The README's grants for a read-only (commissioner, analyst) login, word for word.
READ_ONLY_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};
GRANT INSERT ON audit_event TO {role};
"""


# The README's grants for the workers' group role (less the ALTER DEFAULT PRIVILEGES lines,
# which only matter for tables made later).
WORKER_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
"""


def test_a_worker_login_with_the_readme_grants_can_do_the_work(db):
    role = f"worker_{uuid.uuid4().hex[:8]}"
    query(db, f"CREATE ROLE {role} LOGIN")
    try:
        for stmt in WORKER_GRANTS.format(role=role).strip().splitlines():
            query(db, stmt)
        url = make_url(db.url).set(username=role).render_as_string(hide_password=False)
        cli = Cli(url)
        add_person(cli, "X100001")
        for purpose in ("screening", "share-with-services", "health-trainer"):
            cli("consent", "X100001", "--purpose", purpose, "--given")
        cli("screen", "X100001", "--answers", "examples/answers-low-risk.yaml")
        rid = json.loads(cli("refer", "X100001", "dentist", "--json").stdout)["id"]
        cli("referral", "update", str(rid), "--status", "referred")
        cli("goal", "add", "X100001", "See a dentist")
        cli("person", "erase", "X100001", "--reason", "entered-in-error", "--yes")
        assert query(db, "select count(*) from person")[0][0] == 0
        assert query(db, "select actor from audit_event order by id desc limit 1")[0][0] == (
            f"{role} (tester)"
        )
    finally:
        query(db, f"DROP OWNED BY {role}")
        query(db, f"DROP ROLE {role}")


@pytest.fixture
def analyst(db):
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    query(db, f"CREATE ROLE {role} LOGIN")
    for stmt in READ_ONLY_GRANTS.format(role=role).strip().splitlines():
        query(db, stmt)
    url = make_url(db.url).set(username=role).render_as_string(hide_password=False)
    yield role, url
    query(db, f"DROP OWNED BY {role}")
    query(db, f"DROP ROLE {role}")


def test_the_audit_user_is_the_login_and_as_only_adds_a_name(db):
    cli = Cli(db.url)
    login = query(db, "SELECT session_user")[0][0]
    add_person(cli, "X100001")
    cli("person", "show", "X100001", env={"PROBHEALTH_USER": "someone.else"})
    actors = [r[0] for r in query(db, "select actor from audit_event order by id")]
    assert login == "tester"  # tests/pg.py: the login is the tests' PROBHEALTH_USER
    assert actors[-2:] == ["tester", "tester (someone.else)"]
    assert all(str(a).startswith(login) for a in actors[1:])  # [0]: db.init, by the migration


def test_a_read_only_login_reads_and_every_write_is_refused(db, analyst, tmp_path):
    role, url = analyst
    owner = Cli(db.url)
    owner("demo", "--people", "6", "--seed", "3")
    add_person(owner, "X100001")
    reader = Cli(url)
    assert "X100001" in reader("person", "list").stdout
    reader("report")
    reader("suggest", "--all")
    reader("export", "people", "--out", str(tmp_path / "people.csv"))
    last = query(db, "select actor, action from audit_event order by id desc limit 1")[0]
    assert last[0] == f"{role} (tester)"  # the login, then the --as / PROBHEALTH_USER name
    before = fingerprint(db)
    for argv in (
        ("person", "add", "--crn", "X100002", "--given", "Bo", "--family", "Li",
         "--dob", "1980-02-02", "--sex", "male"),
        ("consent", "X100001", "--purpose", "screening", "--given"),
        ("person", "edit", "X100001", "--postcode", "CB1 2AB"),
        ("barrier", "add", "X100001", "competing-priorities"),
    ):  # fmt: skip
        result = reader(*argv, expect=2)
        assert "This database login can only read; nothing was saved." in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2
    assert fingerprint(db) == before
    data = json.loads(reader("person", "show", "X100001", "--json").stdout)
    assert data["crn"] == "X100001"


def _with_password(url: str, password: str, **changes: object) -> str:
    return (
        make_url(url)
        .set(password=password, **changes)  # type: ignore[arg-type]
        .render_as_string(hide_password=False)
    )


def test_a_password_in_the_url_is_never_printed(db):
    """Errors and ``db check`` name the database with the password hidden (README: set-up)."""
    secret = "pw-" + uuid.uuid4().hex
    good = _with_password(db.url, secret)  # the test server trusts local logins
    no_db = _with_password(db.url, secret, database="no_such_database")
    no_server = _with_password(db.url, secret, host="127.0.0.1", port=1, query={})
    cases = [
        (good, ("db", "check"), 0, "not run here on a server database"),
        (good, ("db", "check", "--json"), 0, '"integrity_checked": false'),
        (good, ("db", "backup"), 2, "pg_dump --format=custom"),
        (no_db, ("person", "list"), 1, "There is no database"),
        (no_db, ("db", "check"), 1, "There is no database"),
        (no_server, ("person", "list"), 1, "Cannot reach the database server"),
    ]
    for url, argv, code, expected in cases:
        result = Cli(url)(*argv, expect=code)
        text = result.stdout + result.stderr
        assert expected in text, text
        assert secret not in text, text
        assert "postgresql+psycopg" not in text or ":***@" in text, text


@pytest.fixture
def tcp_login(db):  # type: ignore[no-untyped-def]
    """A login with a password, and the server's TCP address, where every login needs its
    password (scripts/pg-scratch: PROBHEALTH_TEST_PG_TCP; the unix socket trusts)."""
    tcp = os.environ.get("PROBHEALTH_TEST_PG_TCP")
    if not tcp:
        pytest.skip("PROBHEALTH_TEST_PG_TCP is not set (scripts/pg-scratch sets it)")
    host, port = tcp.rsplit(":", 1)
    role, password = f"tcp_{uuid.uuid4().hex[:8]}", "pw-" + uuid.uuid4().hex
    query(db, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    for stmt in READ_ONLY_GRANTS.format(role=role).strip().splitlines():
        query(db, stmt)

    def url(pw: str | None) -> str:
        return (
            make_url(db.url)
            .set(username=role, password=pw, host=host, port=int(port), query={})
            .render_as_string(hide_password=False)
        )

    yield url, password
    query(db, f"DROP OWNED BY {role}")
    query(db, f"DROP ROLE {role}")


def test_a_login_refused_over_tcp_is_one_line_and_exit_2(db, tcp_login, tmp_path, monkeypatch):
    """Over host and port the server asks for the password: the right one reads; a wrong one,
    or none, is one clear line, exit 2, and never the password given or the right one."""
    url, password = tcp_login
    add_person(Cli(db.url), "X100001")
    assert "X100001" in Cli(url(password))("person", "list").stdout
    wrong = "pw-" + uuid.uuid4().hex
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    for given in (wrong, None):
        for argv in (("person", "list"), ("db", "check")):
            result = Cli(url(given))(*argv, expect=2)
            text = result.stdout + result.stderr
            lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), text
            assert "The database server refused the login for" in lines[0], text
            assert wrong not in text and password not in text, text
