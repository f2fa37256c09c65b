"""probhealth benchmarks: each figure is a ratio against a baseline measured in the same run, on
the same machine, so a slow or busy machine moves both sides together.

    python benchmarks/run.py            # the full set (100 000-row import, 20 000-person export)
    python benchmarks/run.py --quick    # smaller databases, a few minutes

Targets (issue 5): --help <= 2.5x `import typer`; person show <= 1.3x `import typer, sqlmodel,
rich.table`; export screenings <= 3x sqlite3 -csv of the same answers; export peak memory at
10x the rows <= 1.2x; import people <= 3x sqlite3 .import; suggest --all <= 2x reading the
same screenings. Also the median time to save one answer (issue 3). Issue 19: `person show`
typed in `probhealth shell` <= 50 ms and >= 15x faster than the one-shot command (<= 0.067x);
every export <= 3x `sqlite3 -csv` of the equivalent query and faster than `sqlite-utils query
--csv` of it (skipped, with a note, when sqlite-utils is not installed); and the same exports
typed in `probhealth shell` (no start-up) against `sqlite3 -csv`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
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


# The query each export is measured against: the same rows, joins and order, raw values.
EXPORT_BASELINES = {
    "people": "SELECT p.id, p.dob, p.sex, p.office, p.postcode, p.language, p.needs_interpreter, p.release_date, p.created_at FROM person p ORDER BY p.created_at, p.id",
    "consent": "SELECT c.id, c.person_id, c.purpose, c.status, c.method, c.recorded_by, c.recorded_at FROM consent c JOIN person p ON p.id = c.person_id ORDER BY c.id",
    "screenings": "SELECT a.screening_id, a.item_id, a.value, a.declined, a.answered_at FROM answer a JOIN screening s ON s.id = a.screening_id ORDER BY a.screening_id",
    "answers": "SELECT a.screening_id, s.person_id, s.questionnaire_id, s.questionnaire_version, a.item_id, a.value, a.declined, a.answered_at FROM answer a JOIN screening s ON s.id = a.screening_id JOIN person p ON p.id = s.person_id WHERE a.hidden = 0 ORDER BY a.screening_id",
    "needs": "SELECT n.id, n.person_id, n.screening_id, n.domain, n.severity, n.status, n.source, n.created_at, n.updated_at FROM need n JOIN person p ON p.id = n.person_id ORDER BY n.id",
    "barriers": "SELECT b.id, b.person_id, b.screening_id, b.type, b.source, b.created_at, b.resolved_at FROM barrier b JOIN person p ON p.id = b.person_id ORDER BY b.id",
    "suggestions": "SELECT g.id, g.person_id, g.screening_id, g.pathway_id, g.urgency, g.reasons, g.already_open, g.rules_id, g.rules_version, g.created_at FROM suggestion g JOIN person p ON p.id = g.person_id ORDER BY g.id",
    "referrals": "SELECT r.id, r.person_id, r.pathway_id, r.service_id, r.self_referral, r.status, r.urgency, r.screening_id, r.outcome, r.closed_reason, r.follow_up_due, r.created_by, r.created_at, r.closed_at, (SELECT group_concat(e.to_status || '=' || e.event_date) FROM referral_event e WHERE e.referral_id = r.id) FROM referral r JOIN person p ON p.id = r.person_id ORDER BY r.id",
    "referral-events": "SELECT e.id, e.referral_id, r.person_id, r.pathway_id, e.from_status, e.to_status, e.reason, e.event_date, e.recorded_by, e.recorded_at FROM referral_event e JOIN referral r ON r.id = e.referral_id JOIN person p ON p.id = r.person_id ORDER BY e.referral_id, e.id",
    "goals": "SELECT g.id, g.person_id, g.domain, g.target_date, g.status, g.created_by, g.created_at, (SELECT count(*) FROM goal_review v WHERE v.goal_id = g.id), (SELECT v.progress FROM goal_review v WHERE v.goal_id = g.id ORDER BY v.id DESC LIMIT 1), (SELECT max(v.reviewed_at) FROM goal_review v WHERE v.goal_id = g.id) FROM goal g JOIN person p ON p.id = g.person_id ORDER BY g.id",
    "audit": "SELECT id, at, actor, action, entity, entity_id, detail, prev_hash, hash FROM audit_event ORDER BY id",
}


def cli(*args: str) -> list[str]:
    return [PY, "-m", "probhealth", *args]


def _once(cmd: list[str], env: dict[str, str]) -> float:
    return _timed(cmd, env)[0]


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of a command, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu


def _proc_cpu(pid: int) -> float:
    """CPU time (user + system, s) a running process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
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

    def compiled(self, env: dict[str, str]) -> None:
        """Writes the bytecode of the probhealth that ``env`` imports, as an installed package
        has it: with PYTHONDONTWRITEBYTECODE set (as on some shared machines) an editable
        install would otherwise compile every module from source on every run (about 0.1 s
        of CPU a command here), which `sqlite-utils`, installed with its bytecode, never pays."""
        where = subprocess.run(
            [PY, "-c", "import os, probhealth; print(os.path.dirname(probhealth.__file__))"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run([PY, "-m", "compileall", "-q", where], env=env, check=True)

    def exports(
        self,
        db: Path,
        audit_db: Path | None,
        tables: set[str] | None = None,
        before: Path | None = None,
    ) -> None:
        """Every export as a command against `sqlite3 -csv` and `sqlite-utils query --csv` of
        the equivalent query (same rows, joins and order; raw values, no pseudonyms or
        labels), run in turn. The audit table is exported from the import benchmark's
        database (100 000 events), the demo writes only a few. ``before``: the `src` folder of
        another checkout, whose export runs in the same turns (its ratios are printed too)."""
        if not shutil.which("sqlite3"):
            print("  sqlite3 not found: export baselines skipped")
            return
        self.compiled(self.env)
        before_env = None
        if before is not None:
            before_env = {**self.env, "PYTHONPATH": str(before.resolve())}
            self.compiled(before_env)
        utils = shutil.which("sqlite-utils") or (
            str(Path(PY).with_name("sqlite-utils"))
            if Path(PY).with_name("sqlite-utils").exists()
            else None
        )
        if utils is None:
            print("  skipped: sqlite-utils not installed (pip install sqlite-utils)")
        out = self.work / "e.csv"
        for table, query in EXPORT_BASELINES.items():
            if tables is not None and table not in tables:
                continue
            source = audit_db if table == "audit" and audit_db is not None else db
            commands = {
                "sqlite3": [
                    "sqlite3",
                    "-csv",
                    "-readonly",
                    "-cmd",
                    ".timeout 10000",
                    str(source),
                    query,
                ],
                "ours": cli("--db", str(source), "export", table, "--out", str(out), "--force"),
            }
            if before_env is not None:
                commands["before"] = commands["ours"]
            if utils is not None:
                commands["sqlite-utils"] = [utils, "query", "--csv", str(source), query]
            wall: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(3):
                for name, cmd in commands.items():
                    env = before_env if name == "before" and before_env else self.env
                    w, c = _timed(cmd, env)
                    wall[name].append(w)
                    cpu[name].append(c)
            with out.open(newline="") as fh:
                rows = sum(1 for _ in csv.reader(fh)) - 1
            # CPU time (user + system, median of three): on a shared machine wall time
            # moves with other people's work; both are printed.
            took = {name: statistics.median(v) for name, v in cpu.items()}
            walls = {name: statistics.median(v) for name, v in wall.items()}
            ours = took["ours"]
            if "before" in took:
                print(
                    f"{'':<38} before {took['before']:.2f} s -> {ours:.2f} s CPU; before/"
                    + ", ".join(
                        f"{b} {took['before'] / took[b]:.2f}x"
                        for b in ("sqlite3", "sqlite-utils")
                        if b in took
                    ),
                    flush=True,
                )
            for base, target in (("sqlite3", "<=3x"), ("sqlite-utils", "<=1x")):
                if base not in took:
                    continue
                self.record(
                    f"export {table} ({rows:,} rows) vs {base}, CPU",
                    f"{ours:.2f} s",
                    f"{took[base]:.2f} s",
                    ours / took[base],
                    target,
                )
                print(
                    f"{'':<38} wall {walls['ours']:.2f} s vs {walls[base]:.2f} s"
                    f" ({walls['ours'] / walls[base]:.2f}x)",
                    flush=True,
                )

    def shell_exports(
        self, db: Path, audit_db: Path | None, tables: set[str] | None = None
    ) -> None:
        """Every export typed in `probhealth shell` (one shell per database, opened by a first
        export), against `sqlite3 -csv` of its baseline query: the issue's answer to the
        start-up floor, which a one-shot command pays and the shell pays once. CPU time of
        the shell process for each command (user + system, from /proc, in clock ticks),
        median of 3, each turn alternating with `sqlite3`. A command ends when its last
        line ("Audit head after this export: ...") comes on stderr."""
        if not shutil.which("sqlite3") or not Path("/proc/self/stat").exists():
            print("  sqlite3 or /proc not found: exports in the shell skipped")
            return
        self.compiled(self.env)
        out = self.work / "s.csv"
        chosen = [t for t in EXPORT_BASELINES if tables is None or t in tables]
        by_db: dict[Path, list[str]] = {}
        for table in chosen:
            source = audit_db if table == "audit" and audit_db is not None else db
            by_db.setdefault(source, []).append(table)
        for source, names in by_db.items():
            proc = subprocess.Popen(
                cli("--db", str(source), "shell"),
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            assert proc.stdin is not None and proc.stderr is not None

            def typed(table: str, *, proc: subprocess.Popen[str] = proc) -> float:
                assert proc.stdin is not None and proc.stderr is not None
                before = _proc_cpu(proc.pid)
                proc.stdin.write(f"export {table} --out {out} --force\n")
                proc.stdin.flush()
                while True:
                    line = proc.stderr.readline()
                    if not line:
                        raise SystemExit(f"the shell ended during export {table}")
                    if line.startswith("Audit head after this export"):
                        return _proc_cpu(proc.pid) - before

            try:
                typed(names[0])  # opens the database
                for table in names:
                    query = EXPORT_BASELINES[table]
                    base = [
                        "sqlite3",
                        "-csv",
                        "-readonly",
                        "-cmd",
                        ".timeout 10000",
                        str(source),
                        query,
                    ]
                    ours, theirs = [], []
                    for _ in range(3):
                        ours.append(typed(table))
                        theirs.append(_timed(base, self.env)[1])
                    with out.open(newline="") as fh:
                        rows = sum(1 for _ in csv.reader(fh)) - 1
                    mine, sqlite = statistics.median(ours), statistics.median(theirs)
                    self.record(
                        f"export {table} ({rows:,} rows) in the shell vs sqlite3, CPU",
                        f"{mine:.2f} s",
                        f"{sqlite:.2f} s",
                        mine / sqlite,
                        "<=3x",
                    )
            finally:
                proc.stdin.close()
                proc.wait()

    def export_memory(self, small: Path, big: Path, table: str = "screenings") -> None:
        rss = []
        for db in (small, big):
            rss.append(
                peak_rss_kib(
                    cli(
                        "--db",
                        str(db),
                        "export",
                        table,
                        "--out",
                        str(self.work / "m.csv"),
                        "--force",
                    ),
                    self.env,
                )
            )
        self.record(
            f"export {table} peak memory, 10x vs 1x",
            f"{rss[1] / 1024:.0f} MiB",
            f"{rss[0] / 1024:.0f} MiB",
            rss[1] / rss[0],
            "<=1.2x",
        )

    def import_people(self, rows: int) -> Path | None:
        """Returns the imported database (100 000 people, an audit event each)."""
        if not shutil.which("sqlite3"):
            return None
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
        return db

    def suggest_all(self, db: Path) -> None:
        sys.path.insert(0, str(HERE.parent / "src"))
        os.environ.update(self.env)
        from probhealth.paths import resolve_db
        from probhealth.services.definitions import load_rules
        from probhealth.services.suggest import suggest_all
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
    parser.add_argument(
        "--only",
        help="comma-separated benches: help, person-show, shell, import, exports, shell-exports, memory, suggest, save",
    )
    parser.add_argument(
        "--databases",
        type=Path,
        help="use small.db and big.db (and audit.db, if there) from this folder instead of building them",
    )
    parser.add_argument("--tables", help="comma-separated tables for the export benches")
    parser.add_argument(
        "--before",
        type=Path,
        help="the src folder of another checkout: its exports run in the same turns",
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    tables = set(args.tables.split(",")) if args.tables else None

    def want(name: str) -> bool:
        return only is None or name in only

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
        if args.databases:
            small, big = args.databases / "small.db", args.databases / "big.db"
            audit_db: Path | None = args.databases / "audit.db"
            if audit_db is not None and not audit_db.exists():
                audit_db = None
        else:
            small = bench.demo_db("small", small_n)
            big = bench.demo_db("big", big_n)
            audit_db = None
        if want("help"):
            bench.help()
        if want("person-show"):
            bench.person_show(small)
        if want("shell"):
            bench.shell_person_show(small)
        if want("import"):
            audit_db = bench.import_people(import_n) or audit_db
        if want("exports"):
            bench.exports(big, audit_db, tables, args.before)
        if want("shell-exports"):
            bench.shell_exports(big, audit_db, tables)
        if want("memory"):
            bench.export_memory(small, big)
            bench.export_memory(small, big, "answers")
        if want("suggest"):
            bench.suggest_all(big)
        if want("save"):
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
