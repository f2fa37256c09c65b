"""The second process of ``audit verify --records`` (``digests.check``): digests the rows it
is given and writes the digests back, for the first process to compare with the log.

Started as ``python -m probhealth.store.digest_worker`` with its task as JSON on standard
input: the database file, the audit head the first process reads at, and its pieces (a
table's name, key and columns, and a range of rowids or none). It opens the file read-only,
begins a read transaction and first writes the head it sees; the first process uses the
digests only when that head is its own (the same moment), and otherwise digests the pieces
itself. Digests only, never a value. Nothing here imports SQLAlchemy, so it starts quickly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

from probhealth.store import db, digests


def run(task: dict[str, Any], out: BinaryIO) -> None:
    con = db.connect_file(Path(str(task["path"])), readonly=True)
    try:
        con.isolation_level = None
        for pragma in db.read_pragmas():
            con.execute(pragma)
        cursor = con.cursor()
        cursor.execute("BEGIN")
        at = digests.head(cursor)
        if at != task["head"]:
            digests.write_frames(out, at, [])
            return
        pieces = [digests.Piece.from_json(raw) for raw in task["pieces"]]
        digests.write_frames(out, at, (digests.piece_digests(cursor, p) for p in pieces))
    finally:
        con.close()


def main() -> int:
    run(json.loads(sys.stdin.buffer.read()), sys.stdout.buffer)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
