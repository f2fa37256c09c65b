"""What record digests (issue 14 item 2) cost: saving an answer, and checking every record.

1. The median time to save one answer with record digests on, and with them off in the same
   run (the temporary triggers not installed): the ratio is what digests add to each save.
   Target: a save stays under 20 ms.
2. ``audit verify --records`` (in-process, every record's digest recomputed and compared with
   the audit log) on a demo caseload, against reading the same rows with a plain
   ``SELECT *`` of every table. Target: a few seconds for 20 000 people.

    python benchmarks/record_digests.py [--answers 200] [--people 20000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def save_ms(directory: Path, n: int, *, digests_on: bool) -> float:
    import answer_save

    from probhealth.store import digests

    original = digests.install
    if not digests_on:
        digests.install = lambda conn: False  # type: ignore[assignment]
    try:
        sub = directory / ("on" if digests_on else "off")
        sub.mkdir()
        median, _ = answer_save.answer_save_ms(sub, n)
    finally:
        digests.install = original  # type: ignore[assignment]
    return median


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds of ``fn()``, the best of ``REPEATS`` runs (the machine is shared)."""
    best = (float("inf"), float("inf"))
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


REPEATS = 3


def verify_s(db: Path) -> tuple[tuple[float, float], tuple[float, float], int]:
    """``audit verify --records`` in-process, and a plain ``SELECT *`` of the same tables
    through Python's sqlite3 (every row read into Python), in the same run."""
    from probhealth.paths import resolve_db
    from probhealth.services import audit
    from probhealth.store.db import Store

    store = Store(resolve_db(str(db)), actor="bench")
    store.engine()
    results = []

    def ours() -> None:
        results.append(audit.verify_records(store))

    mine = _timed(ours)
    store.close()
    result = results[-1]
    assert result.ok, result.problems[:3]
    con = sqlite3.connect(db)
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('audit_event', 'alembic_version')"
        )
    ]

    def plain() -> None:
        for name in names:
            for _row in con.execute(f'SELECT * FROM "{name}"'):
                pass

    base = _timed(plain)
    con.close()
    return mine, base, result.checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--db", help="verify this database instead of building a demo one")
    parser.add_argument("--skip-save", action="store_true", help="only the verify figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if not args.skip_save:
            off = save_ms(directory, args.answers, digests_on=False)
            on = save_ms(directory, args.answers, digests_on=True)
            print(f"save one answer, digests on : {on:7.2f} ms (target < 20 ms)")
            print(f"save one answer, digests off: {off:7.2f} ms")
            print(f"ratio on / off              : {on / off:7.2f}x")
        if args.db:
            db = Path(args.db)
        else:
            db = directory / "demo.db"
            env = {**os.environ, "PROBHEALTH_HOME": str(directory / "home"), "NO_COLOR": "1"}
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "probhealth",
                    "--db",
                    str(db),
                    "demo",
                    "--people",
                    str(args.people),
                    "--seed",
                    "7",
                ],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            print(f"  (built {args.people:,} demo people in {time.perf_counter() - t:.1f} s)")
        ours, base, checked = verify_s(db)
        print(
            f"verify --records ({checked:,} records), wall / CPU: {ours[0]:6.2f} s / {ours[1]:6.2f} s"
        )
        print(f"plain SELECT * of the same tables, wall / CPU: {base[0]:6.2f} s / {base[1]:6.2f} s")
        print(
            f"ratio, wall / CPU (target 2x or less): {ours[0] / base[0]:6.2f}x / {ours[1] / base[1]:6.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
