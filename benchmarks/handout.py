"""How long a handout takes to produce, beyond the command's start-up.

    python benchmarks/handout.py          # 50 demo people, every format

Makes a demo caseload in a temporary folder, then times, in one process (so start-up is left
out), building each person's handout and rendering it as text, HTML and PDF, and prints the
median and the slowest per format, plus the first PDF's cold start (fonts loaded once).
Target (issue 15): well under a second each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROBHEALTH_HOME"] = tmp
        from probhealth.documents import render
        from probhealth.paths import resolve_db
        from probhealth.services import definitions, demodata, directory, handout, people
        from probhealth.store.db import Store

        store = Store(resolve_db(str(Path(tmp) / "bench.db")), actor="bench")
        rules = definitions.load_rules()
        directory.ensure_demo_directory(store, rules)
        demodata.generate(store, definitions.load_questionnaire(), rules, args.people, seed=5)
        crns = [p.crn for p in people.list_people(store)]
        times: dict[str, list[float]] = {"build": [], "txt": [], "html": [], "pdf": []}
        cold = None
        for crn in crns:
            t = time.perf_counter()
            doc = handout.build(store, crn, rules).document
            times["build"].append(time.perf_counter() - t)
            for fmt in ("txt", "html", "pdf"):
                t = time.perf_counter()
                render(doc, fmt)
                took = time.perf_counter() - t
                if fmt == "pdf" and cold is None:
                    cold = took
                    continue
                times[fmt].append(took)
        store.close()
    print(f"{len(crns)} handouts (demo caseload), seconds:")
    for name, values in times.items():
        print(f"  {name:6} median {statistics.median(values):.4f}  max {max(values):.4f}")
    print(f"  first pdf (fonts loaded) {cold:.4f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
