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


def verify_s(db: Path) -> tuple[float, float, int]:
    from probhealth.paths import resolve_db
    from probhealth.services import audit
    from probhealth.store.db import Store

    store = Store(resolve_db(str(db)), actor="bench")
    store.engine()
    t = time.perf_counter()
    result = audit.verify_records(store)
    ours = time.perf_counter() - t
    store.close()
    assert result.ok, result.problems[:3]
    con = sqlite3.connect(db)
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('audit_event', 'alembic_version')"
        )
    ]
    t = time.perf_counter()
    for name in names:
        for _row in con.execute(f'SELECT * FROM "{name}"'):
            pass
    base = time.perf_counter() - t
    con.close()
    return ours, base, result.checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--people", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        off = save_ms(directory, args.answers, digests_on=False)
        on = save_ms(directory, args.answers, digests_on=True)
        print(f"save one answer, digests on : {on:7.2f} ms (target < 20 ms)")
        print(f"save one answer, digests off: {off:7.2f} ms")
        print(f"ratio on / off              : {on / off:7.2f}x")
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
        print(f"verify --records ({checked:,} records): {ours:6.2f} s")
        print(f"plain SELECT * of the same tables     : {base:6.2f} s")
        print(f"ratio                                 : {ours / base:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
