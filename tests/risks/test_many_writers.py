"""Many workers at once on one database (issue 17): 8 writer processes on PostgreSQL, 4 on
SQLite (one file on one machine), each running mixed commands for its own people: person add,
consents, an answers-file screening, a referral and its next step, a goal. Nothing may fail,
nothing may be lost, and the audit chain must verify. Kept small here (one person, 8 writes per
process); benchmarks/many_writers.py runs 8 x 200 and records throughput and the slowest write.
"""

from __future__ import annotations

import json

import pytest

from tests import many_writers
from tests.helpers import Cli, count, query

pytestmark = pytest.mark.slow


def test_many_writers_lose_nothing(db, backend, isolated_home):
    processes = 8 if backend == "postgresql" else 4
    people = 1
    result = many_writers.run(
        db.url, processes, people, env={"PROBHEALTH_HOME": str(isolated_home)}
    )
    assert result.errors == []
    n = processes * people
    assert result.writes == n * many_writers.WRITES_PER_PERSON
    assert count(db, "person") == n
    assert count(db, "consent") == n * len(many_writers.CONSENTS)
    assert query(db, "select count(*) from screening where status = 'completed'")[0][0] == n
    assert count(db, "referral") == n
    assert query(db, "select count(*) from referral where status = 'referred'")[0][0] == n
    assert count(db, "goal") == n
    actors = {str(r[0]) for r in query(db, "select distinct actor from audit_event")}
    for w in range(processes):  # on PostgreSQL: "login (workerN)", the login first
        assert any(a == f"worker{w}" or a.endswith(f" (worker{w})") for a in actors), actors
    verify = Cli(db.path or db.url)("audit", "verify", "--json")
    assert json.loads(verify.stdout)["ok"] is True
