"""Two writers on one database (issue 6): two processes each make 500 writes through the same
code the command line uses (add a person, record consent, save an audit event each time).
Pass: 0 errors, 0 lost rows, integrity_check ok, audit chain ok.

    python benchmarks/stress.py [--writes 500] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path


def writer(db: str, worker: int, writes: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from probhealth.errors import ProbhealthError
    from probhealth.paths import resolve_db
    from probhealth.services import people
    from probhealth.store.db import Store

    store = Store(resolve_db(db), actor=f"officer{worker}")
    errors = 0
    latencies = []
    done = 0
    for n in range(writes):
        crn = f"{'VW'[worker % 2]}{worker:02d}{n:04d}"
        t = time.perf_counter()
        try:
            if n % 2 == 0:
                people.add_person(
                    store,
                    people.PersonInput(
                        crn=crn, given="Stress", family="Test", dob="1980-01-01", sex="male"
                    ),
                )
            else:
                previous = f"{'VW'[worker % 2]}{worker:02d}{n - 1:04d}"
                people.record_consent(store, previous, purpose="screening", status="given")
            done += 1
        except ProbhealthError as exc:
            errors += 1
            print(f"worker {worker}: {exc}", file=sys.stderr)
        latencies.append((time.perf_counter() - t) * 1000)
    store.close()
    queue.put(
        {
            "worker": worker,
            "done": done,
            "errors": errors,
            "median_ms": statistics.median(latencies),
            "max_ms": max(latencies),
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROBHEALTH_HOME"] = tmp
        db = str(Path(tmp) / "stress.db")
        from probhealth.paths import resolve_db
        from probhealth.store.db import Store

        Store(resolve_db(db), actor="setup").engine()
        ctx = multiprocessing.get_context("spawn")  # fresh interpreters, no inherited connection
        queue = ctx.Queue()
        procs = [
            ctx.Process(target=writer, args=(db, w, args.writes, queue))
            for w in range(args.processes)
        ]
        started = time.perf_counter()
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
        con = sqlite3.connect(db)
        people_rows = con.execute("select count(*) from person").fetchone()[0]
        consent_rows = con.execute("select count(*) from consent").fetchone()[0]
        audit_rows = con.execute("select count(*) from audit_event").fetchone()[0]
        integrity = con.execute("pragma integrity_check").fetchone()[0]
        con.close()
        from probhealth.services import audit as auditlog

        store = Store(resolve_db(db), actor="check")
        chain = auditlog.verify(store)
        store.close()
    writes = args.writes * args.processes
    errors = sum(r["errors"] for r in results)
    expected_people = sum((args.writes + 1) // 2 for _ in results)
    expected_consent = sum(args.writes // 2 for _ in results)
    lost = (expected_people - people_rows) + (expected_consent - consent_rows)
    summary = {
        "processes": args.processes,
        "writes": writes,
        "seconds": round(elapsed, 2),
        "writes_per_second": round(writes / elapsed),
        "errors": errors,
        "lost_rows": lost,
        "people": people_rows,
        "consents": consent_rows,
        "audit_events": audit_rows,
        "integrity": integrity,
        "audit_chain": "ok" if chain.ok else f"broken at {chain.broken_at}",
        "median_ms": max(r["median_ms"] for r in results),
        "max_ms": max(r["max_ms"] for r in results),
    }
    print(json.dumps(summary, indent=2))
    ok = errors == 0 and lost == 0 and integrity == "ok" and chain.ok and audit_rows == writes
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
