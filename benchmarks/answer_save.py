"""Median time to save one answer in a guided screening (issue 3), on a real database file.

Each answer is one write transaction (BEGIN IMMEDIATE, upsert, flags, audit event, COMMIT with
synchronous=FULL): the cost a worker waits for between questions. The baseline, measured in
the same run, is one bare SQLite INSERT+COMMIT with the same pragmas, so the ratio shows what
the application adds on top of the unavoidable fsync.

    python benchmarks/answer_save.py [--answers 200]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path


def bare_commit_ms(directory: Path, n: int) -> float:
    con = sqlite3.connect(directory / "bare.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
    samples = []
    for i in range(n):
        t = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t (b) VALUES (?)", (str(i),))
        con.execute("COMMIT")
        samples.append((time.perf_counter() - t) * 1000)
    con.close()
    return statistics.median(samples)


def answer_save_ms(directory: Path, n: int) -> tuple[float, float]:
    os.environ["PROBHEALTH_HOME"] = str(directory)
    from probhealth.paths import resolve_db
    from probhealth.questionnaire import answers as A
    from probhealth.services import definitions, people, screening
    from probhealth.store.db import Store

    store = Store(resolve_db(str(directory / "bench.db")), actor="bench")
    q = definitions.load_questionnaire()
    samples: list[float] = []
    evals: list[float] = []
    person = 0
    while len(samples) < n:
        person += 1
        crn = f"Z{person:06d}"
        people.add_person(
            store,
            people.PersonInput(crn=crn, given="Bench", family="Mark", dob="1980-01-01", sex="male"),
        )
        people.record_consent(store, crn, purpose="screening", status="given")
        active = screening.begin(store, crn, q)
        while len(samples) < n:
            t = time.perf_counter()
            item = active.evaluation().next_item()
            evals.append((time.perf_counter() - t) * 1000)
            if item is None:
                break
            value = A.parse(
                item,
                item.options[0].value
                if item.options
                else ("2026-01-01" if item.type == "date" else "text"),
            )
            t = time.perf_counter()
            screening.save_answer(store, active, item.id, value)
            samples.append((time.perf_counter() - t) * 1000)
    store.close()
    return statistics.median(samples), statistics.median(evals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bare = bare_commit_ms(directory, args.answers)
        save, evaluate = answer_save_ms(directory, args.answers)
    print(f"median save of one answer : {save:7.2f} ms  (includes re-evaluating the questionnaire)")
    print(f"median evaluate (next item): {evaluate:7.2f} ms")
    print(f"bare SQLite insert+commit  : {bare:7.2f} ms  (same pragmas, same disk)")
    print(f"ratio save / bare commit   : {save / bare:7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
