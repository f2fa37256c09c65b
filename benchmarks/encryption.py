"""The cost of encryption at rest (issue 18): the same work on a plain and on an encrypted
(SQLCipher) copy of one demo database, in the same run, as ratios encrypted / plain.

    python benchmarks/encryption.py               # 2 000 demo people
    python benchmarks/encryption.py --people 500  # quicker

- ``person show`` as a command (start-up, opening the file with its quick check, the key's
  derivation -- PBKDF2-HMAC-SHA512, 256 000 rounds, once a process -- and the query), run
  alternately plain / encrypted;
- saving one answer in a guided screening (median, in one process: the write transaction a
  worker waits for between questions);
- ``export screenings`` as a command (a streamed read of every answer).

Needs ``pip install -e '.[encrypted]'``. Figures only: no timed asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable


def cli(*args: str) -> list[str]:
    return [PY, "-m", "probhealth", *args]


def once(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return took


def paired(plain: list[str], enc: list[str], env: dict[str, str], n: int) -> tuple[float, float]:
    a, b = [], []
    for _ in range(n):
        a.append(once(plain, env))
        b.append(once(enc, env))
    return statistics.median(a), statistics.median(b)


def answer_save_ms(db: Path, key_file: Path | None, n: int, first: int) -> float:
    from probhealth import dbkey
    from probhealth.paths import resolve_db
    from probhealth.questionnaire import answers as A
    from probhealth.services import definitions, people, screening
    from probhealth.store.db import Store

    key = None if key_file is None else dbkey.Key(key_file.read_bytes().strip(), "the key file")
    store = Store(resolve_db(str(db)), actor="bench", key=lambda: key)
    q = definitions.load_questionnaire()
    samples: list[float] = []
    person = first
    while len(samples) < n:
        person += 1
        crn = f"Y{person:06d}"
        people.add_person(
            store,
            people.PersonInput(crn=crn, given="Bench", family="Mark", dob="1980-01-01", sex="male"),
        )
        people.record_consent(store, crn, purpose="screening", status="given")
        active = screening.begin(store, crn, q)
        while len(samples) < n:
            item = active.evaluation().next_item()
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
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--answers", type=int, default=150)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="probhealth-enc-bench-"))
    try:
        env = {
            **os.environ,
            "PROBHEALTH_HOME": str(work / "home"),
            "PROBHEALTH_USER": "bench",
            "NO_COLOR": "1",
        }
        env.pop("PROBHEALTH_DB", None)
        os.environ.update({k: env[k] for k in ("PROBHEALTH_HOME", "PROBHEALTH_USER")})
        key = work / "db.key"
        key.write_text("benchmark passphrase\n")
        key.chmod(0o600)
        plain, enc = work / "plain.db", work / "encrypted.db"
        t = time.perf_counter()
        subprocess.run(
            cli("--db", str(plain), "demo", "--people", str(args.people), "--seed", "7"),
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.copyfile(plain, enc)
        enc.chmod(0o600)
        keyed = env | {"PROBHEALTH_KEY_FILE": str(key)}
        once(cli("--db", str(enc), "db", "encrypt"), keyed)
        print(
            f"built {args.people:,} demo people, plain {plain.stat().st_size / 1e6:.1f} MB, "
            f"encrypted {enc.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - t:.0f} s)"
        )
        rows = []
        a, b = paired(
            cli("--db", str(plain), "person", "show", "Z100001"),
            cli("--db", str(enc), "person", "show", "Z100001"),
            keyed,
            args.repeat,
        )
        rows.append(("person show (command)", f"{a * 1000:.0f} ms", f"{b * 1000:.0f} ms", b / a))
        print(*rows[-1], flush=True)
        out = work / "s.csv"
        a, b = paired(
            cli("--db", str(plain), "export", "screenings", "--out", str(out), "--force"),
            cli("--db", str(enc), "export", "screenings", "--out", str(out), "--force"),
            keyed,
            max(3, args.repeat // 2),
        )
        rows.append(("export screenings (command)", f"{a:.2f} s", f"{b:.2f} s", b / a))
        print(*rows[-1], flush=True)
        sa, sb = [], []
        for r in range(3):  # alternate, so a busy spell falls on both sides
            sa.append(answer_save_ms(plain, None, args.answers // 3, r * 1000))
            sb.append(answer_save_ms(enc, key, args.answers // 3, r * 1000))
        a, b = statistics.median(sa), statistics.median(sb)
        rows.append(("save one answer (median)", f"{a:.2f} ms", f"{b:.2f} ms", b / a))
        print(f"\n{'':<30} {'plain':>10} {'encrypted':>10} {'ratio':>7}")
        for name, pa, pb, ratio in rows:
            print(f"{name:<30} {pa:>10} {pb:>10} {ratio:6.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
