"""What `probhealth report` costs beyond its own SQL, and whether its memory stays flat.

    python benchmarks/report.py                 # 2 000 and 20 000 demo people (a few minutes)
    python benchmarks/report.py --people 5000   # 500 and 5 000

Makes two demo caseloads (N/10 and N people), then, each as a ratio in the same run:

1. `probhealth report --out report.html` on N people against the same aggregate queries run
   alone: the exact statements the report sends to the database (captured from a run, with
   their parameters) replayed by a bare `python -c "import sqlite3 ..."`, both as whole
   processes run alternately. Target (issue 16): <= 3x.
2. The same in one process (start-up left out): building the report and rendering the HTML
   against executing the captured statements through the same sqlite3 module.
3. Peak memory (RSS) of `report --out` on N people against N/10. Target: <= 1.2x (flat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from run import PY, cli, peak_rss_kib  # noqa: E402

REPLAY = (
    "import json, sqlite3, sys\n"
    "con = sqlite3.connect(sys.argv[1])\n"
    "for sql, params, many in json.load(open(sys.argv[2])):\n"
    "    (con.executemany if many else con.execute)(sql, params).fetchall()\n"
)


def _once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def paired(
    base: list[str], ours: list[str], env: dict[str, str], repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) of two commands run alternately, so a busy machine's slow spells
    fall on both sides; CPU time is the steadier figure on a shared machine."""
    a = [(_once(base, env), _once(ours, env)) for _ in range(repeat)]
    return (
        (statistics.median(x[0][0] for x in a), statistics.median(x[0][1] for x in a)),
        (statistics.median(x[1][0] for x in a), statistics.median(x[1][1] for x in a)),
    )


def demo_db(path: Path, people: int, env: dict[str, str]) -> Path:
    t = time.perf_counter()
    subprocess.run(
        cli("--db", str(path), "demo", "--people", str(people), "--seed", "7"),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"  (built {people:,} fictional people in {time.perf_counter() - t:.1f} s)", flush=True)
    return path


def capture(db: Path) -> tuple[list[tuple[str, Any, bool]], float, float]:
    """The report's statements with their parameters, and the in-process medians of building
    and rendering the report and of executing those statements alone (seconds)."""
    from sqlalchemy import event

    from probhealth.documents.report import render_report_html
    from probhealth.paths import resolve_db
    from probhealth.services import definitions
    from probhealth.services import report as service
    from probhealth.store.db import Store

    store = Store(resolve_db(str(db)), actor="bench")
    rules = definitions.load_rules()
    engine = store.engine()
    statements: list[tuple[str, Any, bool]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        plain = [list(p) for p in params] if many else list(params)
        statements.append((sql, plain, many))

    def whole() -> None:
        render_report_html(service.build(store, rules, service.Options()), "now")

    event.listen(engine, "before_cursor_execute", record)
    whole()
    event.remove(engine, "before_cursor_execute", record)
    ours = []
    for _ in range(3):
        t = time.perf_counter()
        whole()
        ours.append(time.perf_counter() - t)
    store.close()
    base = []
    for _ in range(3):
        con = sqlite3.connect(db)
        t = time.perf_counter()
        for sql, params, many in statements:
            (con.executemany if many else con.execute)(sql, params).fetchall()
        base.append(time.perf_counter() - t)
        con.close()
    return statements, statistics.median(ours), statistics.median(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="probhealth-bench-report-"))
    env = {
        **os.environ,
        "PROBHEALTH_HOME": str(work / "home"),
        "PROBHEALTH_USER": "bench",
        "NO_COLOR": "1",
    }
    env.pop("PROBHEALTH_DB", None)
    os.environ.update({k: env[k] for k in ("PROBHEALTH_HOME", "PROBHEALTH_USER")})
    rows = []
    try:
        small = demo_db(work / "small.db", args.people // 10, env)
        big = demo_db(work / "big.db", args.people, env)
        statements, ours_in, base_in = capture(big)
        stmts = work / "statements.json"
        stmts.write_text(json.dumps(statements), encoding="utf-8")
        out = work / "report.html"
        report_cmd = cli("--db", str(big), "report", "--out", str(out), "--force")
        base, ours = paired([PY, "-c", REPLAY, str(big), str(stmts)], report_cmd, env, args.repeat)
        rows.append(
            (
                f"report --out html ({args.people:,} people) vs its SQL alone, wall",
                f"{ours[0]:.2f} s",
                f"{base[0]:.2f} s",
                ours[0] / base[0],
                "<=3x",
            )
        )
        rows.append(
            (
                "  the same, CPU time",
                f"{ours[1]:.2f} s",
                f"{base[1]:.2f} s",
                ours[1] / base[1],
                "<=3x",
            )
        )
        rows.append(
            (
                "  the same in one process (no start-up)",
                f"{ours_in:.2f} s",
                f"{base_in:.2f} s",
                ours_in / base_in,
                "",
            )
        )
        rss_small = peak_rss_kib(
            cli("--db", str(small), "report", "--out", str(out), "--force"), env
        )
        rss_big = peak_rss_kib(report_cmd, env)
        rows.append(
            (
                f"report peak memory, {args.people:,} vs {args.people // 10:,} people",
                f"{rss_big / 1024:.0f} MiB",
                f"{rss_small / 1024:.0f} MiB",
                rss_big / rss_small,
                "<=1.2x",
            )
        )
        print(f"  ({len(statements)} statements; HTML {out.stat().st_size / 1024:.0f} KiB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| benchmark | probhealth | baseline | ratio | target | |")
    print("|---|---|---|---|---|---|")
    for name, ours_s, base_s, ratio, target in rows:
        verdict = ""
        if target:
            verdict = "met" if ratio <= float(target.strip("<=x")) else "NOT met"
        print(f"| {name} | {ours_s} | {base_s} | {ratio:.2f}x | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
