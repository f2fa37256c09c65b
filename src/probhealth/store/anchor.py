"""The audit head kept outside the database (issue 14 item 1).

The hash chain proves that no event in its middle was changed, but not that its tail or its
start is still there: delete the last events (or all of them) and what is left is still a
valid chain. So the head of the chain -- the last event's id and hash -- is also written to a
small 0600 file beside the database (``NAME.audit-head``) after every write, and
``audit verify`` compares the chain with it.

The file only ever moves forward: a chain shorter than the file says is reported, never
written over. It lags only when a command ended between its commit and this update; a lag
is harmless (the next write catches up). Anyone who can replace both the database and this
file can hide a change from it; the head that ``audit verify`` prints, noted elsewhere and
given back with ``--expect-head``, and the head carried by exports, do not have that limit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".audit-head"
HEAD_KEY = "probhealth_audit_head"  # session.info: (id, hash) of the last event appended
_swept: set[Path] = set()  # folders this process has swept of stale temporary files


@dataclass(frozen=True)
class Head:
    event: int
    hash: str

    def short(self) -> str:
        """How a person notes it: ``ID:first 16 hex digits``."""
        return f"{self.event}:{self.hash[:16]}"


def path_for(db: Path) -> Path:
    return db.with_name(db.name + SUFFIX)


class Unreadable(Exception):
    """The anchor file exists but does not hold a head."""


def read(db: Path) -> Head | None:
    """The recorded head; None when there is no anchor file. ``Unreadable`` for garbage."""
    try:
        raw = path_for(db).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    try:
        data = json.loads(raw[:4096].decode("ascii"))
        head = Head(int(data["event"]), str(data["hash"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise Unreadable("it does not hold an event number and hash") from None
    if head.event < 0 or len(head.hash) != 64:
        raise Unreadable("it does not hold an event number and hash")
    return head


def may_advance(db: Path, head: Head, hash_of: Callable[[int], str | None]) -> bool:
    """Whether the anchor may move to ``head``: only forward, and only along the same chain
    (the event the file names still has the hash it names). Asked inside the write
    transaction, with ``hash_of`` reading an event's stored hash; so a log cut and written
    on past its old end never carries the anchor with it."""
    try:
        current = read(db)
    except Unreadable:
        return True
    if current is None:
        return True
    if current.event >= head.event:
        return False
    return current.event == 0 or hash_of(current.event) == current.hash


def advance(db: Path, head: Head) -> None:
    """Record ``head`` (callers ask ``may_advance`` first). Never raises: the data is
    committed by now, and a lagging anchor is caught up by the next write."""
    from probhealth import atomicfile

    target = path_for(db)
    if target.parent not in _swept:  # once a process: what a killed write left (ours only)
        _swept.add(target.parent)
        atomicfile.sweep_partials(target.parent, report=False)
    tmp = atomicfile.temporary_name(target)
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            atomicfile.hold(fd)
            os.write(fd, json.dumps({"event": head.event, "hash": head.hash}).encode() + b"\n")
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
