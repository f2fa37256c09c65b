"""Many workers at once (issue 17): 8 processes x 200 mixed writes on one PostgreSQL database,
4 x 200 on one SQLite file (person add, three consents, an answers-file screening, a referral
and its next step, a goal: 8 writes a person, 25 people a process). Baseline, in the same run:
one process making the same 200 writes alone on a fresh database of the same kind. Pass: 0
errors, 0 lost rows, audit chain ok. Prints throughput (writes/s) against the baseline, the
median and the slowest write.

    python benchmarks/many_writers.py [--people 25] [--backend both|sqlite|postgresql]

PostgreSQL is the server PROBHEALTH_TEST_PG names, or else one scripts/pg-scratch starts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import many_writers  # noqa: E402
from tests.helpers import Cli, DbHandle, count  # noqa: E402


def _fresh(backend: str, work: Path, name: str) -> DbHandle:
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store

    if backend == "sqlite":
        path = work / f"{name}.db"
        url = str(path)
    else:
        import psycopg
        from tests.pg import libpq, with_database

        admin = os.environ["PROBHEALTH_TEST_PG"]
        with psycopg.connect(libpq(admin), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "bench_{name}" WITH (FORCE)')
            con.execute(f'CREATE DATABASE "bench_{name}"')
        url = with_database(admin, f"bench_{name}")
        path = None
    store = Store(resolve_db(url), actor="bench")
    store.engine()
    store.close()
    return DbHandle(backend, url, path)


def measure(backend: str, processes: int, people: int, work: Path) -> dict[str, object]:
    env = {"PROBHEALTH_HOME": str(work / "home")}
    rows = {}
    for label, procs in (("baseline", 1), ("many", processes)):
        db = _fresh(backend, work, f"{backend}_{label}")
        result = many_writers.run(db.url, procs, people, env=env)
        lost = procs * people - count(db, "person")
        verify = Cli(db.path or db.url)("audit", "verify", "--json", env=env)
        rows[label] = {
            "processes": procs,
            "writes": result.writes,
            "errors": len(result.errors),
            "lost_people": lost,
            "audit_ok": json.loads(verify.stdout)["ok"],
            "seconds": round(result.seconds, 1),
            "writes_per_s": round(result.writes / result.seconds, 1),
            "median_ms": round(statistics.median(result.latencies), 1),
            "max_ms": round(max(result.latencies), 1),
        }
        for error in result.errors[:5]:
            print(f"  {backend} {label}: {error}", file=sys.stderr)
    ratio = rows["many"]["writes_per_s"] / rows["baseline"]["writes_per_s"]  # type: ignore[operator]
    return {"backend": backend, **rows, "throughput_ratio": round(ratio, 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=25)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args()
    if args.backend != "sqlite" and not os.environ.get("PROBHEALTH_TEST_PG"):
        script = ROOT / "scripts" / "pg-scratch"
        return subprocess.call([str(script), sys.executable, *sys.argv])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            processes = 8 if backend == "postgresql" else 4
            row = measure(backend, processes, args.people, Path(tmp))
            print(json.dumps(row), flush=True)
            many = row["many"]
            ok = ok and not many["errors"] and not many["lost_people"] and many["audit_ok"]  # type: ignore[index]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
