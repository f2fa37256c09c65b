"""Many workers writing to one database at once (issue 17): each process runs the commands a
worker would, through the command line's own code, for its own people: person add, three
consents, a screening from an answers file, a referral and its next step, a goal. Used by
tests/risks/test_many_writers.py (small) and benchmarks/many_writers.py (8 x 200 writes).

    python -m tests.many_writers WORKER PEOPLE     # one writer; PROBHEALTH_DB names the database
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "answers-low-risk.yaml"
WRITES_PER_PERSON = 8
CONSENTS = ("screening", "share-with-services", "health-trainer")


def _crn(worker: int, n: int) -> str:
    return f"W{worker:02d}{n:04d}"


def _writer(worker: int, people: int) -> None:
    import typer.testing
    from typer.testing import CliRunner

    from probhealth.cli import app

    # typer's CliRunner turns the app into a click tree on every call (about three quarters
    # of a call's time, all CPU, which blurs the contention this measures): once per process,
    # as tests/conftest.py does in the test processes.
    convert = getattr(typer.testing, "_get_command", None)
    if convert is not None:
        tree = convert(app)
        typer.testing._get_command = lambda _app: tree  # type: ignore[attr-defined]
    runner = CliRunner()

    def run(*args: str) -> str:
        start = time.perf_counter()
        result = runner.invoke(app, list(args), catch_exceptions=True)
        ms = (time.perf_counter() - start) * 1000
        error = (
            result.exit_code != 0
            or result.exception not in (None,)
            and not isinstance(result.exception, SystemExit)
        )
        line = {"cmd": args[0], "ms": round(ms, 2), "code": result.exit_code}
        if error:
            line["error"] = (result.stderr or repr(result.exception))[-300:]
        print(json.dumps(line), flush=True)
        return result.stdout

    for n in range(people):
        crn = _crn(worker, n)
        run("person", "add", "--crn", crn, "--given", "Many", "--family", f"Writer{worker}",
            "--dob", "1995-03-04", "--sex", "male", "--office", f"Office{worker % 4}")  # fmt: skip
        for purpose in CONSENTS:
            run("consent", crn, "--purpose", purpose, "--given", "--method", "verbal")
        run("screen", crn, "--answers", str(ANSWERS), "--json")
        out = run("refer", crn, "dentist", "--json")
        try:
            rid = str(json.loads(out)["id"])
        except (ValueError, KeyError):
            rid = "0"
        run("referral", "update", rid, "--status", "referred")
        run("goal", "add", crn, f"Register with a dentist ({worker}/{n})")


@dataclass
class Result:
    processes: int
    people: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.latencies)


def run(db: str, processes: int, people: int, env: dict[str, str] | None = None) -> Result:
    """Start ``processes`` writers at once on ``db``, each for ``people`` people
    (``WRITES_PER_PERSON`` writes each); wait for all of them."""
    base = {**os.environ, **(env or {}), "PROBHEALTH_DB": db, "NO_COLOR": "1"}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.many_writers", str(w), str(people)],
            cwd=ROOT,
            env={**base, "PROBHEALTH_USER": f"worker{w}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(processes)
    ]
    result = Result(processes, people, 0.0)
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            result.errors.append(f"writer exit {proc.returncode}: {err[-500:]}")
        for line in out.splitlines():
            item = json.loads(line)
            result.latencies.append(item["ms"])
            if "error" in item:
                result.errors.append(f"{item['cmd']}: exit {item['code']}: {item['error']}")
    result.seconds = time.perf_counter() - start
    return result


if __name__ == "__main__":
    _writer(int(sys.argv[1]), int(sys.argv[2]))
