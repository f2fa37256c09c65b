"""Encryption at rest (SQLCipher, probhealth[encrypted]): init --encrypt, db encrypt / rekey /
decrypt; a wrong or missing key refused with the file unchanged; WAL, two writers, erasure's
scrub, backups and migrations on an encrypted file; and no personal data in its raw bytes,
its -wal, its backup or a transfer bundle."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.helpers import Cli, connect, file_sha

pytest.importorskip("sqlcipher3")

CRN = "X123456"
NAME = b"Smithson"  # the family name used below
ANSWER = b"Mill Road Surgery"  # a free-text answer in examples/answers-low-risk.yaml
ANSWERS = Path(__file__).resolve().parents[2] / "examples" / "answers-low-risk.yaml"
SECRETS = (NAME, CRN.encode(), ANSWER, NAME.lower(), CRN.lower().encode())


def _key(text: str, tmp_path: Path, name: str = "k") -> Path:
    path = tmp_path / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def _env(key: Path) -> dict[str, str]:
    return {"PROBHEALTH_KEY_FILE": str(key)}


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _fill(cli: Cli, env: dict[str, str]) -> None:
    assert cli.db is not None
    if not cli.db.exists():
        cli("init", env=env)  # only init makes a database
    cli("person", "add", "--crn", CRN, "--given", "Ann", "--family", "Smithson",
        "--dob", "1990-01-31", "--sex", "female", env=env)  # fmt: skip
    cli("consent", CRN, "--purpose", "screening", "--given", "--method", "verbal", env=env)
    cli("consent", CRN, "--purpose", "health-trainer", "--given", "--method", "verbal", env=env)
    cli("screen", CRN, "--answers", str(ANSWERS), "--json", env=env)


def _no_secrets(path: Path) -> None:
    raw = path.read_bytes()
    assert raw, path
    for secret in SECRETS:
        assert secret not in raw, (path.name, secret)


@pytest.fixture
def encrypted(tmp_path: Path, key_file: Path) -> tuple[Cli, dict[str, str]]:
    db = tmp_path / "data" / "laptop.db"
    cli = Cli(db)
    env = _env(key_file)
    report = json.loads(cli("init", "--encrypt", "--json", env=env).stdout)
    assert report["created"] and report["encrypted"]
    return cli, env


def test_init_encrypt_and_no_personal_data_in_db_wal_backup_or_bundle(encrypted, tmp_path):
    from probhealth import dbkey
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store, is_plain_sqlite

    cli, env = encrypted
    db = cli.db
    assert db is not None
    _fill(cli, env)
    assert not is_plain_sqlite(db) and oct(db.stat().st_mode & 0o777) == "0o600"
    shown = json.loads(cli("person", "show", CRN, "--json", env=env).stdout)
    assert "Smithson" in json.dumps(shown)
    # With a connection open after a write, the -wal holds the latest pages: encrypted too.
    key = dbkey.Key(Path(env["PROBHEALTH_KEY_FILE"]).read_bytes().strip(), "the key file")
    store = Store(resolve_db(str(db)), actor="t", key=lambda: key)
    from probhealth.services import needs

    needs.add_barrier(store, CRN, "transport", note="Smithson has no bus fare")
    wal = Path(f"{db}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    _no_secrets(db)
    _no_secrets(wal)
    store.close()
    backup = tmp_path / "backup.db"
    cli("db", "backup", "--out", str(backup), env=env)
    _no_secrets(backup)
    assert not is_plain_sqlite(backup)
    # The backup opens with the same key, and holds the same records.
    listed = json.loads(Cli(backup)("person", "list", "--json", env=env).stdout)
    assert [p["crn"] for p in listed] == [CRN]
    bundle = tmp_path / "b.phx"
    cli("transfer", "export", CRN, "--out", str(bundle), "--key-file", env["PROBHEALTH_KEY_FILE"],
        env=env)  # fmt: skip
    _no_secrets(bundle)
    # A plain database written the same way does hold them (the scan can fail).
    plain = Cli(tmp_path / "plain.db")
    _fill(plain, {})
    assert plain.db is not None and NAME in plain.db.read_bytes()


def test_wrong_or_missing_key_one_line_exit_2_file_unchanged(encrypted, tmp_path):
    cli, env = encrypted
    _fill(cli, env)
    db = cli.db
    assert db is not None
    before, names = file_sha(db), _files(db.parent)
    wrong = _key("not the key", tmp_path, "wrong")
    for extra in (_env(wrong), {}):
        for args in (("person", "list"), ("person", "show", CRN), ("db", "check"), ("init",)):
            r = cli(*args, env=extra, expect=2)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1, r.stderr
            assert "not the key" not in r.stderr and "a long laptop" not in r.stderr
            if extra:
                assert "key is wrong" in lines[0]
                # ... and what to do about it (it said only "Nothing was changed.").
                assert "Check the key in the key file (PROBHEALTH_KEY_FILE)" in lines[0]
            else:
                assert "no key was given" in lines[0] and "PROBHEALTH_KEY_FILE" in lines[0]
            assert file_sha(db) == before and _files(db.parent) == names
    # The key from the keyring, when no key file is named.
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        stored: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):  # type: ignore[no-untyped-def]
            return self.stored.get((service, username))

        def set_password(self, service, username, password):  # type: ignore[no-untyped-def]
            self.stored[(service, username)] = password

        def delete_password(self, service, username):  # type: ignore[no-untyped-def]
            self.stored.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        keyring.set_password("probhealth", str(db.absolute()), "a long laptop passphrase")
        listed = json.loads(cli("person", "list", "--json").stdout)
        assert [p["crn"] for p in listed] == [CRN]
    finally:
        keyring.set_keyring(previous)


def test_encrypted_file_without_the_extra_names_the_extra(encrypted, monkeypatch):
    import probhealth.store.db as db_mod

    cli, env = encrypted
    assert cli.db is not None
    before = file_sha(cli.db)
    monkeypatch.setattr(db_mod, "cipher_module", lambda: None)
    r = cli("person", "list", env=env, expect=2)
    assert len(r.stderr.strip().splitlines()) == 1
    assert "pip install 'probhealth[encrypted]'" in r.stderr
    r = Cli(cli.db.parent / "new.db")("init", "--encrypt", env=env, expect=2)
    assert "probhealth[encrypted]" in r.stderr
    assert not (cli.db.parent / "new.db").exists()
    assert file_sha(cli.db) == before


def test_two_writers_and_erasure_scrub_on_an_encrypted_file(encrypted, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from probhealth import dbkey
    from probhealth.paths import resolve_db
    from probhealth.services import erasure, goals
    from probhealth.store.db import Store

    cli, env = encrypted
    _fill(cli, env)
    assert cli.db is not None
    monkeypatch.setenv("PROBHEALTH_KEY_FILE", env["PROBHEALTH_KEY_FILE"])
    stores = [Store(resolve_db(str(cli.db)), actor=w, key=dbkey.from_env) for w in "ab"]

    def work(store: Store) -> int:
        for n in range(5):
            goals.add(store, CRN, f"Goal from {store.actor} {n}")
        return len(goals.list_for(store, CRN))

    try:
        with ThreadPoolExecutor(2) as pool:  # two writers at once, each its own connection
            assert max(pool.map(work, stores)) == 10
        result = erasure.erase_person(stores[0], CRN, reason="erasure-request")
        stores[1].close()
        assert result.scrubbed  # the deleted pages moved out of the -wal into the file
    finally:
        for s in stores:
            s.close()
    wal = Path(f"{cli.db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with closing(_open(cli.db, env)) as con:
        assert con.execute("select count(*) from person").fetchone()[0] == 0
        assert con.execute("select count(*) from goal").fetchone()[0] == 0
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert json.loads(cli("audit", "verify", "--json", env=env).stdout)["ok"]


def _open(path: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    from probhealth.dbkey import Key
    from probhealth.store.db import connect_file

    return connect_file(path, key=Key(Path(env["PROBHEALTH_KEY_FILE"]).read_bytes().strip(), "k"))


def test_quick_check_on_open_refuses_a_damaged_encrypted_file(encrypted):
    cli, env = encrypted
    _fill(cli, env)
    assert cli.db is not None
    data = bytearray(cli.db.read_bytes())
    data[3 * 4096 + 100] ^= 0xFF  # a byte inside page 4
    cli.db.write_bytes(bytes(data))
    before = file_sha(cli.db)
    r = cli("person", "list", env=env, expect=2)
    assert "damaged" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert file_sha(cli.db) == before


def test_db_encrypt_rekey_decrypt(tmp_path, key_file):
    from probhealth.store.db import is_plain_sqlite

    folder = tmp_path / "office"
    cli = Cli(folder / "probhealth.db")
    _fill(cli, {})
    db = cli.db
    assert db is not None and NAME in db.read_bytes()
    env = _env(key_file)
    # No key: refused, nothing changed.
    before = file_sha(db)
    r = cli("db", "encrypt", expect=2)
    assert "PROBHEALTH_KEY_FILE" in r.stderr and file_sha(db) == before
    # In place: a new encrypted file swapped in; no plain file, -wal or temporary file left.
    cli("db", "encrypt", env=env)
    assert not is_plain_sqlite(db)
    assert _files(folder) == {"probhealth.db", "probhealth.db.audit-head"}
    _no_secrets(db)
    listed = json.loads(cli("person", "list", "--json", env=env).stdout)
    assert [p["crn"] for p in listed] == [CRN]
    cli("db", "encrypt", env=env, expect=2)  # already encrypted
    # A new key: the old one no longer opens it.
    new = _key("a brand new passphrase", tmp_path, "new")
    cli("db", "rekey", env=env | {"PROBHEALTH_NEW_KEY_FILE": str(new)})
    cli("person", "list", env=env, expect=2)
    new_env = _env(new)
    assert json.loads(cli("screening", "list", CRN, "--json", env=new_env).stdout)
    # An explicit plain copy, audited in the encrypted database.
    out = tmp_path / "plain-copy.db"
    cli("db", "decrypt", "--out", str(out), env=new_env)
    assert is_plain_sqlite(out) and NAME in out.read_bytes()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert json.loads(Cli(out)("audit", "verify", "--json").stdout)["ok"]
    cli("db", "decrypt", "--out", str(out), env=new_env, expect=2)  # never replaced
    with closing(_open(db, new_env)) as con:
        actions = [r[0] for r in con.execute("select action from audit_event order by id")]
        details = " ".join(r[0] for r in con.execute("select detail from audit_event"))
    ours = [a for a in actions if a in ("db.encrypt", "db.rekey", "db.decrypt")]
    assert ours == ["db.encrypt", "db.rekey", "db.decrypt"] and actions[-1] == "db.decrypt"
    assert "passphrase" not in details
    assert json.loads(cli("audit", "verify", "--json", env=new_env).stdout)["ok"]


def test_db_encrypt_refuses_while_another_connection_is_open(tmp_path, key_file):
    cli = Cli(tmp_path / "probhealth.db")
    _fill(cli, {})
    assert cli.db is not None
    other = sqlite3.connect(cli.db)
    other.execute("select count(*) from person").fetchall()  # a reader in WAL mode
    try:
        before = file_sha(cli.db)
        r = cli("db", "encrypt", env=_env(key_file), expect=1)
        assert "Others are using the database" in r.stderr
        assert file_sha(cli.db) == before
        assert _files(tmp_path) >= {"probhealth.db"}
        assert not [n for n in _files(tmp_path) if n.startswith(".probhealth.db.")]
    finally:
        other.close()


def test_migrations_on_an_encrypted_file(tmp_path, key_file):
    """An encrypted database at revision 0001 is backed up (encrypted) and upgraded."""
    from probhealth import dbkey
    from probhealth.paths import resolve_db
    from probhealth.store import migrate, schema
    from probhealth.store.db import Store, is_plain_sqlite, prepare_sqlite_file

    key = dbkey.Key(key_file.read_bytes().strip(), "the key file")
    path = tmp_path / "old.db"
    store = Store(resolve_db(str(path)), actor="t", key=lambda: key, encrypt=True)
    store.created = True
    prepare_sqlite_file(store.target)
    store.key, store.salt = key, dbkey.new_salt()
    engine = store._create_engine()
    store._engine = engine
    store._write_engine = engine.execution_options(probhealth_write=True)
    migrate.upgrade(store, "0001")
    store.close()
    assert not is_plain_sqlite(path)
    upgraded = Store(resolve_db(str(path)), actor="t", key=lambda: key)
    upgraded.engine()
    assert upgraded.migrated_from == "0001" and upgraded.encrypted
    assert upgraded.backup_path is not None and not is_plain_sqlite(upgraded.backup_path)
    upgraded.close()
    env = _env(key_file)
    with closing(_open(path, env)) as con:
        assert con.execute("select version_num from alembic_version").fetchone()[0] == schema.HEAD
    with closing(_open(upgraded.backup_path, env)) as con:
        assert con.execute("select version_num from alembic_version").fetchone()[0] == "0001"


@pytest.mark.sqlite_only("plain and SQLCipher-encrypted SQLite files")
def test_connect_helper_reads_both_kinds(db_path):
    """The parametrised ``db_path`` really gives one plain and one encrypted file."""
    from probhealth.store.db import is_plain_sqlite

    with closing(connect(db_path)) as con:
        assert con.execute("select count(*) from alembic_version").fetchone()[0] == 1
    encrypted = os.environ.get("PROBHEALTH_KEY_FILE") is not None
    assert is_plain_sqlite(db_path) is not encrypted


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_key_asked_at_a_terminal_twice_for_a_new_database_never_echoed(tmp_path):
    """At a terminal with no key file or keyring entry, init --encrypt asks for the key
    twice, then opening asks once; the key is never echoed."""
    import pexpect

    db = tmp_path / "data" / "pty.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH")}
    env |= {"PROBHEALTH_HOME": str(tmp_path / "home"), "PROBHEALTH_USER": "tester",
            "TERM": "dumb", "NO_COLOR": "1"}  # fmt: skip
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    secret = "typed at the terminal"

    def run(*args: str, answers: int) -> str:
        child = pexpect.spawn(
            sys.executable, ["-m", "probhealth", "--db", str(db), *args], env=env,
            encoding="utf-8", timeout=60,
        )  # fmt: skip
        for _ in range(answers):
            child.expect(["Database key: ", "Again, to check: "])
            child.sendline(secret)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        return str(child.before)

    out = run("init", "--encrypt", answers=2)
    assert "Created the encrypted database" in out and secret not in out
    assert "Keep a copy of the key" in out and "keyring set probhealth" in out
    out = run("person", "list", answers=1)
    assert "0 people" in out and secret not in out
    from probhealth.store.db import is_plain_sqlite

    assert not is_plain_sqlite(db)


def test_a_short_new_key_is_refused(tmp_path, key_file):
    """A stolen laptop's file can be tried offline: a new key has at least 12 characters.
    An existing database still opens with the key it has."""
    pytest.importorskip("sqlcipher3")
    short = _key("laptop1", tmp_path, "short")
    cli = Cli(tmp_path / "data" / "laptop.db")
    r = cli("init", "--encrypt", env=_env(short), expect=2)
    assert "at least 12" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "laptop1" not in r.stderr
    assert cli.db is not None and not cli.db.exists()
    cli("init", "--encrypt", env=_env(key_file))
    before = cli.db.read_bytes()
    r = cli("db", "rekey", "--new-key-file", str(short), env=_env(key_file), expect=2)
    assert "at least 12" in r.stderr and cli.db.read_bytes() == before
    plain = Cli(tmp_path / "plain.db")
    plain("init")
    r = plain("db", "encrypt", env=_env(short), expect=2)
    assert "at least 12" in r.stderr
