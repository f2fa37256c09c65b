"""probhealth benchmarks: each figure is a ratio against a baseline measured in the same run, on
the same machine, so a slow or busy machine moves both sides together.

    python benchmarks/run.py            # the full set (100 000-row import, 20 000-person export)
    python benchmarks/run.py --quick    # smaller databases, a few minutes

Targets (issue 5): --help <= 2.5x `import typer`; person show <= 1.3x `import typer, sqlmodel,
rich.table`; export screenings <= 3x sqlite3 -csv of the same answers; export peak memory at
10x the rows <= 1.2x; import people <= 3x sqlite3 .import; suggest --all <= 2x reading the
same screenings. Also the median time to save one answer (issue 3). Issue 19: `person show`
typed in `probhealth shell` <= 50 ms and >= 15x faster than the one-shot command (<= 0.067x).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
)


def cli(*args: str) -> list[str]:
    return [PY, "-m", "probhealth", *args]


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return took


def run_time(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time (s) of a command; raises if it fails."""
    return statistics.median(_once(cmd, env) for _ in range(repeat))


def paired_times(
    base: list[str], ours: list[str], env: dict[str, str], repeat: int
) -> tuple[float, float]:
    """Median wall times of two commands run alternately (base, ours, base, ...), so a shared
    machine's slow spells fall on both sides of the ratio."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        a.append(_once(base, env))
        b.append(_once(ours, env))
    return statistics.median(a), statistics.median(b)


def peak_rss_kib(cmd: list[str], env: dict[str, str]) -> int:
    out = subprocess.run(
        [PY, "-c", RSS_WRAPPER, *cmd], env=env, capture_output=True, text=True, check=True
    )
    rss, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return int(rss)


def in_process(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.work = Path(tempfile.mkdtemp(prefix="probhealth-bench-"))
        self.env = {
            **os.environ,
            "PROBHEALTH_HOME": str(self.work / "home"),
            "PROBHEALTH_USER": "bench",
            "NO_COLOR": "1",
        }
        self.env.pop("PROBHEALTH_DB", None)
        self.rows: list[tuple[str, str, str, float, str, str]] = []

    def record(self, name: str, ours: str, baseline: str, ratio: float, target: str) -> None:
        limit = float(target.lstrip("<=x ").rstrip("x")) if target else None
        verdict = "" if limit is None else ("met" if ratio <= limit else "NOT met")
        self.rows.append((name, ours, baseline, ratio, target, verdict))
        print(
            f"{name:<38} {ours:>16} {baseline:>16} {ratio:7.2f}x  {target:>7} {verdict}", flush=True
        )

    def demo_db(self, name: str, people: int) -> Path:
        path = self.work / f"{name}.db"
        t = time.perf_counter()
        subprocess.run(
            cli("--db", str(path), "demo", "--people", str(people), "--seed", "7"),
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(
            f"  (built {name}: {people:,} fictional people in {time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        return path

    # ------------------------------------------------------------------------ benches --
    def help(self) -> None:
        base, ours = paired_times([PY, "-c", "import typer"], cli("--help"), self.env, 9)
        self.record(
            "--help vs import typer",
            f"{ours * 1000:.0f} ms",
            f"{base * 1000:.0f} ms",
            ours / base,
            "<=2.5x",
        )

    def person_show(self, db: Path) -> None:
        base, ours = paired_times(
            [PY, "-c", "import typer, sqlmodel, rich.table"],
            cli("--db", str(db), "person", "show", "Z100001"),
            self.env,
            9,
        )
        self.record(
            "person show vs import floor",
            f"{ours * 1000:.0f} ms",
            f"{base * 1000:.0f} ms",
            ours / base,
            "<=1.3x",
        )

    def shell_person_show(self, db: Path) -> None:
        """`person show` typed in `probhealth shell` (after the first), against the same
        command run on its own. Commands go in on stdin; the panel's last line ends each."""
        one_shot = run_time(cli("--db", str(db), "person", "show", "Z100001"), self.env, 9)
        proc = subprocess.Popen(
            cli("--db", str(db), "shell"),
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert proc.stdin is not None and proc.stdout is not None
        samples = []
        for n in range(101):
            t = time.perf_counter()
            proc.stdin.write(f"person show Z{100001 + n % 50}\n")
            proc.stdin.flush()
            while not proc.stdout.readline().startswith("╰"):
                pass
            if n:  # the first includes opening the database
                samples.append(time.perf_counter() - t)
        proc.stdin.close()
        proc.wait()
        ours = statistics.median(samples)
        self.record(
            "person show in the shell vs one-shot",
            f"{ours * 1000:.1f} ms",
            f"{one_shot * 1000:.0f} ms",
            ours / one_shot,
            "<=0.067x",
        )

    def export(self, db: Path, screenings: int) -> None:
        if not shutil.which("sqlite3"):
            print("  sqlite3 not found: export and import baselines skipped")
            return
        out = self.work / "s.csv"
        query = "SELECT a.screening_id, a.item_id, a.value, a.declined, a.answered_at FROM answer a JOIN screening s ON s.id = a.screening_id ORDER BY a.screening_id"
        base = run_time(["sqlite3", "-csv", "-readonly", str(db), query], self.env, 3)
        ours = run_time(
            cli("--db", str(db), "export", "screenings", "--out", str(out), "--force"), self.env, 3
        )
        with out.open(newline="") as fh:
            rows = sum(1 for _ in csv.reader(fh)) - 1
        assert rows == screenings, (rows, screenings)
        self.record(
            f"export screenings ({rows:,} rows)",
            f"{ours:.2f} s",
            f"{base:.2f} s",
            ours / base,
            "<=3x",
        )

    def export_memory(self, small: Path, big: Path) -> None:
        rss = []
        for db in (small, big):
            rss.append(
                peak_rss_kib(
                    cli(
                        "--db",
                        str(db),
                        "export",
                        "screenings",
                        "--out",
                        str(self.work / "m.csv"),
                        "--force",
                    ),
                    self.env,
                )
            )
        self.record(
            "export peak memory, 10x rows vs 1x",
            f"{rss[1] / 1024:.0f} MiB",
            f"{rss[0] / 1024:.0f} MiB",
            rss[1] / rss[0],
            "<=1.2x",
        )

    def import_people(self, rows: int) -> None:
        if not shutil.which("sqlite3"):
            return
        path = self.work / "people.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "crn",
                    "given_name",
                    "family_name",
                    "dob",
                    "sex",
                    "postcode",
                    "office",
                    "language",
                    "needs_interpreter",
                ]
            )
            for n in range(rows):
                w.writerow(
                    [
                        f"Y{n:06d}",
                        "Sam",
                        f"Example{n % 97}",
                        f"{1960 + n % 40}-0{1 + n % 9}-1{n % 9}",
                        ("male", "female")[n % 2],
                        "CB1 2AB",
                        "Cambridge",
                        "English",
                        "no",
                    ]
                )
        samples_base, samples_ours = [], []
        for attempt in range(2):
            raw = self.work / f"raw{attempt}.db"
            t = time.perf_counter()
            subprocess.run(
                ["sqlite3", str(raw), ".mode csv", f".import {path} person"],
                check=True,
                env=self.env,
            )
            samples_base.append(time.perf_counter() - t)
            db = self.work / f"import{attempt}.db"
            subprocess.run(
                cli("--db", str(db), "init"),
                env=self.env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            t = time.perf_counter()
            subprocess.run(
                cli("--db", str(db), "import", "people", str(path)),
                env=self.env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            samples_ours.append(time.perf_counter() - t)
        base, ours = min(samples_base), min(samples_ours)
        self.record(
            f"import people ({rows:,} rows)", f"{ours:.2f} s", f"{base:.2f} s", ours / base, "<=3x"
        )

    def suggest_all(self, db: Path) -> None:
        sys.path.insert(0, str(HERE.parent / "src"))
        os.environ.update(self.env)
        from probhealth.paths import resolve_db
        from probhealth.services.definitions import load_rules, suggest_all
        from probhealth.store.caseload import read_only
        from probhealth.store.db import Store

        store = Store(resolve_db(str(db)), actor="bench")
        rules = load_rules()

        def read() -> None:
            with store.raw() as conn:
                for _ in read_only(conn):
                    pass

        base = in_process(read, 3)
        ours = in_process(lambda: suggest_all(store, rules), 3)
        store.close()
        self.record(
            "suggest --all vs reading", f"{ours:.2f} s", f"{base:.2f} s", ours / base, "<=2x"
        )

    def answer_save(self) -> None:
        sys.path.insert(0, str(HERE))
        import answer_save

        directory = self.work / "save"
        directory.mkdir()
        bare = answer_save.bare_commit_ms(directory, 100)
        save, _ = answer_save.answer_save_ms(directory, 100)
        self.record(
            "save one answer (median) vs bare commit",
            f"{save:.1f} ms",
            f"{bare:.2f} ms",
            save / bare,
            "",
        )

    def report(self) -> str:
        lines = [
            "| benchmark | probhealth | baseline | ratio | target | |",
            "|---|---|---|---|---|---|",
        ]
        lines += [f"| {n} | {o} | {b} | {r:.2f}x | {t} | {v} |" for n, o, b, r, t, v in self.rows]
        return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="probhealth benchmarks (ratios against same-run baselines)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller databases (a few minutes)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()
    small_n, big_n, import_n = (500, 5000, 100_000) if args.quick else (2000, 20000, 100_000)
    bench = Bench(args.quick)
    print(
        f"probhealth benchmarks on {platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}){' --quick' if args.quick else ''}",
        flush=True,
    )
    print(
        f"{'benchmark':<38} {'probhealth':>16} {'baseline':>16} {'ratio':>8}  {'target':>7}",
        flush=True,
    )
    try:
        small = bench.demo_db("small", small_n)
        big = bench.demo_db("big", big_n)
        bench.help()
        bench.person_show(small)
        bench.shell_person_show(small)
        screenings = (
            int(
                subprocess.run(
                    ["sqlite3", str(big), "select count(*) from screening"],
                    capture_output=True,
                    text=True,
                ).stdout
                or 0
            )
            if shutil.which("sqlite3")
            else 0
        )
        bench.export(big, screenings)
        bench.export_memory(small, big)
        bench.import_people(import_n)
        bench.suggest_all(big)
        bench.answer_save()
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    print()
    print(bench.report())
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    dict(
                        zip(
                            ("name", "ours", "baseline", "ratio", "target", "verdict"),
                            r,
                            strict=True,
                        )
                    )
                    for r in bench.rows
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
