"""``probhealth transfer`` as a health trainer meets it: the conflicts say what differs, in
values one can choose between, and a dry run points to the next step that will work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import Cli, add_person

CRN = "X123456"


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.key"
    path.write_text("a passphrase for bundles\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def laptop(template_db: Path, tmp_path: Path) -> Cli:
    path = tmp_path / "laptop.db"
    shutil.copyfile(template_db, path)
    path.chmod(0o600)
    return Cli(path)


def _diverged(office: Cli, laptop: Cli, key: Path, tmp_path: Path) -> Path:
    """The same person's postcode changed at the office and on the laptop; the laptop's
    bundle back, written."""
    add_person(office, CRN, postcode="CB1 2AB")
    out = tmp_path / "out.phx"
    office("transfer", "export", CRN, "--out", str(out), "--key-file", str(key))
    laptop("transfer", "import", str(out), "--key-file", str(key))
    laptop("person", "edit", CRN, "--postcode", "CB3 9ZZ")
    office("person", "edit", CRN, "--postcode", "CB2 1AA")
    back = tmp_path / "back.phx"
    laptop("transfer", "export", CRN, "--out", str(back), "--key-file", str(key))
    return back


def test_conflicts_show_both_values_and_no_bookkeeping(db, laptop, key, tmp_path):
    office = Cli(db.url)
    back = _diverged(office, laptop, key, tmp_path)
    said = office("transfer", "import", str(back), "--key-file", str(key)).stderr
    # The step now (settle the conflict) comes before the one for later (send changes back).
    assert said.index("transfer conflicts") < said.index("To send back")

    listed = json.loads(office("transfer", "conflicts", "--json").stdout)
    assert len(listed) == 1
    # Only what a person changed: not the time it was saved.
    assert listed[0]["fields"] == ["postcode"]
    assert listed[0]["values"] == {"postcode": {"ours": "CB2 1AA", "theirs": "CB3 9ZZ"}}

    text = office("transfer", "conflicts").stderr
    assert "updated_at" not in text
    assert "CB2 1AA" in text and "CB3 9ZZ" in text  # the two versions to choose between
    assert "ours" in text and "theirs" in text


def test_dry_run_does_not_send_to_an_empty_conflict_list(db, laptop, key, tmp_path):
    office = Cli(db.url)
    back = _diverged(office, laptop, key, tmp_path)
    r = office("transfer", "import", str(back), "--key-file", str(key), "--dry-run")
    assert "1 conflict" in r.stderr
    # Nothing is recorded by a dry run, so `transfer conflicts` would list nothing yet.
    hint = r.stderr.split("conflict(s).", 1)[1]
    assert "without --dry-run" in hint.split("transfer conflicts", 1)[0]
    assert "Nothing" in office("transfer", "conflicts").stderr


def test_an_export_with_no_one_in_it_is_refused(db, key, tmp_path):
    """A trainer who gives a date after their work would carry an empty bundle to the office
    and think their changes were in it: refused, nothing written."""
    office = Cli(db.url)
    out = tmp_path / "back.phx"
    # Nobody here yet.
    r = office("transfer", "export", "--all", "--out", str(out), "--key-file", str(key), expect=2)
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
    # A person added on 2026-12-02; nothing changed since 2026-12-05.
    then = {"PROBHEALTH_NOW": "2026-12-02T10:00:00Z"}
    office("person", "add", "--crn", CRN, "--given", "Ann", "--family", "Smith",
           "--dob", "1990-01-31", "--sex", "female", env=then)  # fmt: skip
    later = {"PROBHEALTH_NOW": "2026-12-09T10:00:00Z"}
    args = ("transfer", "export", "--out", str(out), "--key-file", str(key))
    r = office(*args, "--changed-since", "2026-12-05", env=later, expect=2)
    assert "2026-12-05" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    # A date still to come is a typing slip, not an empty bundle.
    r = office(*args, "--changed-since", "2026-12-10", env=later, expect=2)
    assert "after today" in r.stderr and not out.exists()
    # The day of the change carries the person.
    office(*args, "--changed-since", "2026-12-02", env=later)
    assert out.exists()


def test_ctrl_c_says_nothing_was_imported_or_written(db, laptop, key, tmp_path, monkeypatch):
    from probhealth.services import transfer

    office = Cli(db.url)
    add_person(office, CRN)
    out = tmp_path / "out.phx"
    office("transfer", "export", CRN, "--out", str(out), "--key-file", str(key))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(transfer, "import_bundle", interrupted)
    r = laptop("transfer", "import", str(out), "--key-file", str(key), expect=130)
    assert r.stderr.strip().splitlines() == [
        "Stopped: nothing was imported (all or nothing). Run the same command again."
    ]
    monkeypatch.setattr(transfer, "export", interrupted)
    again = tmp_path / "again.phx"
    r = office("transfer", "export", CRN, "--out", str(again), "--key-file", str(key), expect=130)
    assert r.stderr.strip().splitlines() == ["Stopped: no bundle was written."]
    assert not again.exists()


def test_a_bundle_imported_again_says_nothing_was_new(db, laptop, key, tmp_path):
    office = Cli(db.url)
    add_person(office, CRN)
    out = tmp_path / "out.phx"
    office("transfer", "export", CRN, "--out", str(out), "--key-file", str(key))
    first = laptop("transfer", "import", str(out), "--key-file", str(key))
    assert "Nothing new" not in first.stderr
    again = laptop("transfer", "import", str(out), "--key-file", str(key))
    assert "Nothing new: every record in the bundle is already here." in again.stderr


def test_each_end_says_the_next_step(db, laptop, key, tmp_path):
    """The export says how the bundle is opened at the other end; the import gives the
    --changed-since date that will carry back what changes from now on."""
    office = Cli(db.url)
    add_person(office, CRN)
    out = tmp_path / "caseload.phx"
    r = office("transfer", "export", CRN, "--out", str(out), "--key-file", str(key))
    assert "probhealth transfer import caseload.phx" in r.stderr
    # The other end is another database: this one's --db would be wrong there.
    r = office("--db", str(db.url), "transfer", "export", CRN, "--out", str(tmp_path / "y.phx"),
               "--key-file", str(key))  # fmt: skip
    assert "At the other end: probhealth transfer import y.phx" in r.stderr
    assert "passphrase" in r.stderr  # sent apart from the bundle
    now = {"PROBHEALTH_NOW": "2026-12-02T09:00:00Z"}
    r = laptop("transfer", "import", str(out), "--key-file", str(key), env=now)
    assert "probhealth transfer export --changed-since 2026-12-02 --out" in r.stderr
    # Nothing new: no new starting point to give.
    r = laptop("transfer", "import", str(out), "--key-file", str(key), env=now)
    assert "--changed-since" not in r.stderr


def test_a_short_bundle_passphrase_is_refused(db, tmp_path):
    """A bundle of a whole caseload travels by email or USB stick: a passphrase like '1234'
    would be guessed offline in minutes. Refused before anything is written."""
    office = Cli(db.url)
    add_person(office, CRN)
    short = tmp_path / "short.key"
    short.write_text("cambridge1\n")
    short.chmod(0o600)
    out = tmp_path / "out.phx"
    r = office("transfer", "export", CRN, "--out", str(out), "--key-file", str(short), expect=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "at least 12" in lines[0] and "cambridge1" not in lines[0]
    assert not out.exists()


def test_resolve_takes_only_the_fields_named(db, laptop, key, tmp_path):
    """The laptop changed the postcode, the office the language: keeping one whole version
    would undo the other side's change. --field takes theirs for the fields named only."""
    office = Cli(db.url)
    add_person(office, CRN, postcode="CB1 2AB")
    out = tmp_path / "out.phx"
    office("transfer", "export", CRN, "--out", str(out), "--key-file", str(key))
    laptop("transfer", "import", str(out), "--key-file", str(key))
    laptop("person", "edit", CRN, "--postcode", "CB3 9ZZ")
    office("person", "edit", CRN, "--language", "Polish")
    back = tmp_path / "back.phx"
    laptop("transfer", "export", CRN, "--out", str(back), "--key-file", str(key))
    office("transfer", "import", str(back), "--key-file", str(key))
    listed = json.loads(office("transfer", "conflicts", "--json").stdout)
    assert sorted(listed[0]["fields"]) == ["language", "postcode"]
    cid = str(listed[0]["id"])
    r = office("transfer", "resolve", cid, "--keep", "theirs", "--field", "dob", expect=2)
    assert "language, postcode" in r.stderr  # the fields that differ, to choose from
    office("transfer", "resolve", cid, "--keep", "theirs", "--field", "postcode")
    shown = json.loads(office("person", "show", CRN, "--json").stdout)
    assert (shown["postcode"], shown["language"]) == ("CB3 9ZZ", "Polish")
    assert json.loads(office("transfer", "conflicts", "--json").stdout) == []
    # Back on the laptop the settled version wins without a new conflict.
    again = tmp_path / "again.phx"
    office("transfer", "export", CRN, "--out", str(again), "--key-file", str(key))
    laptop("transfer", "import", str(again), "--key-file", str(key))
    assert json.loads(laptop("transfer", "conflicts", "--json").stdout) == []
    shown = json.loads(laptop("person", "show", CRN, "--json").stdout)
    assert (shown["postcode"], shown["language"]) == ("CB3 9ZZ", "Polish")
    for cli in (office, laptop):
        assert json.loads(cli("audit", "verify", "--records", "--json").stdout)["ok"]


def test_a_bundle_does_not_bring_back_a_person_erased_here(db, laptop, key, tmp_path):
    """The office erased someone at their request; the laptop's next bundle still held them
    and the import quietly added them back. Refused, nothing imported, with what to do."""
    office = Cli(db.url)
    add_person(office, CRN)
    add_person(office, "X654321", given="Bea")
    out = tmp_path / "out.phx"
    office("transfer", "export", "--all", "--out", str(out), "--key-file", str(key))
    laptop("transfer", "import", str(out), "--key-file", str(key))
    office("person", "erase", CRN, "--reason", "erasure-request", "--yes")
    back = tmp_path / "back.phx"
    laptop("transfer", "export", "--all", "--out", str(back), "--key-file", str(key))
    r = office("transfer", "import", str(back), "--key-file", str(key), expect=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and CRN in lines[0] and "erase" in lines[0]
    office("person", "show", CRN, expect=2)  # still erased
    # Erased where the bundle was made too: the new bundle imports.
    laptop("person", "erase", CRN, "--reason", "erasure-request", "--yes")
    again = tmp_path / "again.phx"
    laptop("transfer", "export", "--all", "--out", str(again), "--key-file", str(key))
    office("transfer", "import", str(again), "--key-file", str(key))
    office("person", "show", CRN, expect=2)
    assert json.loads(office("audit", "verify", "--json").stdout)["ok"]
