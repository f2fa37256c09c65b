"""``demo --people N``: fictional, consistent, reproducible synthetic caseloads."""

from __future__ import annotations

import json
import sqlite3

from probhealth.demodata import FAMILY


def test_demo_people(cli, db_path):
    result = cli("demo", "--people", "60", "--seed", "5")
    assert "Added 60 fictional people" in result.stderr
    con = sqlite3.connect(db_path)
    crns = [r[0] for r in con.execute("select crn from person")]
    families = {r[0] for r in con.execute("select family_name from person")}
    statuses = {r[0] for r in con.execute("select status from referral")}
    screened = con.execute("select count(*) from screening where status = 'completed'").fetchone()[
        0
    ]
    flagged = con.execute("select count(*) from flag").fetchone()[0]
    con.close()
    assert len(crns) == 60 and all(c.startswith("Z") for c in crns)
    assert families <= set(FAMILY)
    assert screened > 40 and flagged > 0
    assert len(statuses) >= 4  # referrals at various states
    check = json.loads(cli("db", "check", "--json").stdout)
    assert check["ok"] is True
    summary = json.loads(cli("suggest", "--all", "--json").stdout)
    assert summary["people"] == screened


def test_demo_people_twice_adds_more_with_new_crns(cli, db_path):
    cli("demo", "--people", "5")
    cli("demo", "--people", "5")
    con = sqlite3.connect(db_path)
    assert con.execute("select count(distinct crn) from person").fetchone()[0] == 10
    con.close()


def test_demo_people_is_reproducible(cli_factory):
    outputs = []
    for _ in range(2):
        cli = cli_factory()
        cli("demo", "--people", "8", "--seed", "11")
        outputs.append(json.loads(cli("suggest", "--all", "--json").stdout))
    assert outputs[0] == outputs[1]
