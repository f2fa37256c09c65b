"""Consent binds (issue 13, item 2): every action that needs a purpose x every purpose x every
state (given, declined, withdrawn, never asked).

One prepared database holds a person with every purpose given, a worker referral to a service,
one through the GP and a goal. Each case copies it and sets ONE purpose to the state under
test (the others stay given). "Never asked" removes every decision for that purpose (history
too) and the test checks that the person really shows no decision for it, so the case cannot
silently test "given" instead. An action that needs the purpose must then refuse with one
line naming the purpose, exit 2, and leave the database byte for byte as it was; every other
case must succeed.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from probhealth.validation import CONSENT_PURPOSES
from tests.helpers import Cli, add_person, file_sha

CRN = "X123456"  # has the referrals and the goal the update actions work on
NEW = "Y123456"  # the person new referrals, goals and screenings are made for
ANSWERS = Path(__file__).resolve().parents[2] / "examples" / "answers-low-risk.yaml"
STATES = ("given", "declined", "withdrawn", "never-asked")

# action name -> (command line with {ref_services}/{ref_gp}/{goal}/{out} filled in, purposes)
ACTIONS: dict[str, tuple[list[str], frozenset[str]]] = {
    "screen --answers": (["screen", NEW, "--answers", str(ANSWERS)], frozenset({"screening"})),
    "refer (worker, to a service)": (
        ["refer", NEW, "reconnect"],
        frozenset({"share-with-services"}),
    ),
    "refer (worker, through the GP)": (
        ["refer", NEW, "mental-health-assessment"],
        frozenset({"share-with-gp"}),
    ),
    "refer --worker-referral": (
        ["refer", NEW, "gp-registration", "--worker-referral"],
        frozenset({"share-with-services"}),
    ),
    "refer health trainer": (["refer", NEW, "health-trainer"], frozenset({"health-trainer"})),
    "refer --self-referral": (["refer", NEW, "dentist", "--self-referral"], frozenset()),
    "referral update --status referred (service)": (
        ["referral", "update", "{ref_services}", "--status", "referred"],
        frozenset({"share-with-services"}),
    ),
    "referral update --status referred (GP)": (
        ["referral", "update", "{ref_gp}", "--status", "referred"],
        frozenset({"share-with-gp"}),
    ),
    "goal add": (["goal", "add", NEW, "Walk to the shop each day"], frozenset({"health-trainer"})),
    "goal review": (
        ["goal", "review", "{goal}", "--progress", "partly"],
        frozenset({"health-trainer"}),
    ),
    "letter --to service": (
        ["letter", "{ref_services}", "--to", "service", "--out", "{out}"],
        frozenset({"share-with-services"}),
    ),
    "letter --to gp": (
        ["letter", "{ref_gp}", "--to", "gp", "--out", "{out}"],
        frozenset({"share-with-gp"}),
    ),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> tuple[Path, dict]:
    """The person with every purpose given, a referral each way and a goal."""
    path = tmp_path_factory.mktemp("matrix") / "base.db"
    shutil.copyfile(template_db, path)
    os.chmod(path, 0o600)
    cli = Cli(path)
    env = {"PROBHEALTH_USER": "tester", "NO_COLOR": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for crn in (CRN, NEW):
            add_person(cli, crn, sex="male", dob="1990-01-31")
            for purpose in CONSENT_PURPOSES:
                cli("consent", crn, "--purpose", purpose, "--given")
        ids = {
            "ref_services": json.loads(cli("refer", CRN, "reconnect", "--json").stdout)["id"],
            "ref_gp": json.loads(cli("refer", CRN, "mental-health-assessment", "--json").stdout)[
                "id"
            ],
            "goal": json.loads(cli("goal", "add", CRN, "Drink more water", "--json").stdout)["id"],
        }
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with closing(sqlite3.connect(path)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, ids


def _set_state(cli: Cli, db: Path, purpose: str, state: str) -> None:
    for crn in (CRN, NEW):
        _set_one(cli, db, crn, purpose, state)


def _set_one(cli: Cli, db: Path, crn: str, purpose: str, state: str) -> None:
    if state == "never-asked":
        with closing(sqlite3.connect(db)) as con, con:
            con.execute(
                "DELETE FROM consent WHERE purpose = ? AND person_id = "
                "(SELECT id FROM person WHERE crn = ?)",
                (purpose, crn),
            )
        with closing(sqlite3.connect(db)) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        cli("consent", crn, "--purpose", purpose, f"--{state}")
    shown = json.loads(cli("person", "show", crn, "--json").stdout)["consent"]
    # The state under test is really the person's state, and only that purpose changed.
    assert shown.get(purpose, {}).get("status") == (None if state == "never-asked" else state)
    for other in CONSENT_PURPOSES:
        if other != purpose:
            assert shown[other]["status"] == "given", (other, shown)


@pytest.fixture(scope="module")
def with_state(prepared, tmp_path_factory: pytest.TempPathFactory):
    """The prepared database with one purpose in one state, made once per (purpose, state)."""
    base, _ = prepared
    made: dict[tuple[str, str], Path] = {}

    def get(purpose: str, state: str) -> Path:
        if (purpose, state) not in made:
            db = tmp_path_factory.mktemp("state") / f"{purpose}-{state}.db"
            shutil.copyfile(base, db)
            os.chmod(db, 0o600)
            _set_state(Cli(db), db, purpose, state)
            with closing(sqlite3.connect(db)) as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            made[purpose, state] = db
        return made[purpose, state]

    return get


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_consent_matrix(prepared, with_state, tmp_path, action, purpose, state) -> None:
    _, ids = prepared
    db = tmp_path / "case.db"
    shutil.copyfile(with_state(purpose, state), db)
    os.chmod(db, 0o600)
    cli = Cli(db)
    out = tmp_path / "letter.pdf"
    args, needs = ACTIONS[action]
    args = [a.format(out=out, **ids) for a in args]
    refused = purpose in needs and state != "given"
    before = file_sha(db)
    result = cli(*args, expect=2 if refused else 0)
    if refused:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"({purpose})" in lines[0]
        words = "is not recorded" if state == "never-asked" else f"was {state}"
        assert words in lines[0]
        crn = NEW if NEW in args else CRN
        assert f"probhealth consent {crn} --purpose {purpose} --given" in lines[0]
        assert file_sha(db) == before, "a refused action changed the database"
        assert not out.exists()
    else:
        assert file_sha(db) != before, f"{action} succeeded but wrote nothing"


def test_every_consent_purpose_binds_some_action() -> None:
    """Each purpose is needed by at least one action above, so the matrix tests each one."""
    needed = set().union(*(needs for _, needs in ACTIONS.values()))
    assert needed == set(CONSENT_PURPOSES)
