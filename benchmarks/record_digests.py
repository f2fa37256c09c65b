"""What record digests (issue 14 item 2) cost: saving an answer, and checking every record.

1. The median time to save one answer with record digests on, and with them off in the same
   run (the temporary triggers not installed): the ratio is what digests add to each save.
   Target: a save stays under 20 ms.
2. ``audit verify --records`` (in-process, every record's digest recomputed and compared with
   the audit log) on a demo caseload, in one process and with the second process a large
   database gets, against reading the same rows with a plain ``SELECT *`` of every table
   (interleaved, best of 3; CPU counts the second process). Targets: CPU about 2x the plain
   read, and a few seconds of waiting for 20 000 people.

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


REPEATS = 3


def verify_s(db: Path) -> tuple[dict[str, tuple[float, float]], int]:
    """``audit verify --records`` in-process, in one process and with the second process
    (as a large database gets it), and a plain ``SELECT *`` of the same tables through
    Python's sqlite3 (every row read into Python), in the same run, interleaved."""
    from probhealth.paths import resolve_db
    from probhealth.services import audit
    from probhealth.store.db import Store

    store = Store(resolve_db(str(db)), actor="bench")
    store.engine()
    con = sqlite3.connect(db)
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('audit_event', 'alembic_version')"
        )
    ]
    results = []

    def plain() -> None:
        for name in names:
            for _row in con.execute(f'SELECT * FROM "{name}"'):
                pass

    cases = {
        "plain": plain,
        "one": lambda: results.append(audit.verify_records(store, split=False)),
        "two": lambda: results.append(audit.verify_records(store, split=True)),
    }
    best = {k: (float("inf"), float("inf")) for k in cases}
    for _ in range(REPEATS):
        for key, fn in cases.items():
            wall, cpu = _once(fn)
            best[key] = (min(best[key][0], wall), min(best[key][1], cpu))
    store.close()
    con.close()
    assert all(r.ok for r in results), results[-1].problems[:3]
    return best, results[-1].checked


def _once(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds of ``fn()``; CPU counts this process and its finished children
    (the check's second process). The best of ``REPEATS`` is kept (the machine is shared)."""
    wall, before = time.perf_counter(), os.times()
    fn()
    after = os.times()
    cpu = sum(
        getattr(after, f) - getattr(before, f)
        for f in ("user", "system", "children_user", "children_system")
    )
    return time.perf_counter() - wall, cpu


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
        best, checked = verify_s(db)
        base = best["plain"]
        print(f"plain SELECT * of the same tables, wall / CPU: {base[0]:6.2f} s / {base[1]:6.2f} s")
        for key, label in (("one", "one process"), ("two", "two processes")):
            w, c = best[key]
            print(
                f"verify --records ({checked:,} records), {label}, wall / CPU: {w:6.2f} s / "
                f"{c:6.2f} s; {w / base[0]:5.2f}x / {c / base[1]:5.2f}x plain (CPU target 2x)"
            )
        print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
