"""Encryption at rest: ``db encrypt`` (a plain file becomes an encrypted one), ``db rekey``
(a new key) and ``db decrypt --out`` (an explicit plain copy). Each is audited (never the
key); encrypt and rekey build a new file and swap it in (see ``store/encryption.py``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probhealth import dbkey
from probhealth.dbkey import Key
from probhealth.errors import BadInput, Remedy
from probhealth.store import audit
from probhealth.store import encryption as repo
from probhealth.store.db import Store


@dataclass(frozen=True)
class Done:
    location: str
    action: str
    size: int
    events: int

    def to_json(self) -> dict[str, Any]:
        return {"database": self.location, "done": self.action, "bytes": self.size}


def _local(store: Store) -> Path:
    store.engine()  # opened and checked (and the key tried) before anything else
    if store.target.path is None:
        raise BadInput("Encryption at rest is for SQLite files; a server database has its own.")
    return store.target.path


def encrypt(store: Store, key: Key) -> Done:
    path = _local(store)
    if store.encrypted:
        raise BadInput(
            f"{store.target.display} is already encrypted.", remedy=Remedy.of("rekey-db")
        )
    return _rebuild(store, path, key, "db.encrypt")


def rekey(store: Store, new_key: Key) -> Done:
    path = _local(store)
    if not store.encrypted:
        raise BadInput(f"{store.target.display} is not encrypted.", remedy=Remedy.of("encrypt-db"))
    assert store.key is not None
    if new_key.same_as(store.key):
        raise BadInput("The new key is the same as the old one; nothing was changed.")
    return _rebuild(store, path, new_key, "db.rekey")


def _rebuild(store: Store, path: Path, key: Key, action: str) -> Done:
    events = repo.audit_events(store)
    salt = dbkey.new_salt()  # the new file's own
    tmp = repo.temp_beside(path, "new")
    try:
        with repo.held(store):
            repo.copy_into(store, tmp, key, salt)
            if repo.check_copy(tmp, key, salt) != events:
                raise BadInput("The new file is not a whole copy; nothing was changed.")
            repo.swap_in(path, tmp)
    finally:
        repo.remove_with_side_files(tmp)
    store.key, store.salt = key, salt
    store.key_source = lambda: key
    with store.write() as session:
        audit.append(session, actor=store.actor, action=action, entity="database")
    return Done(store.target.display, action, repo.size(path), events + 1)


def decrypt(store: Store, out: Path) -> Done:
    """A plain copy of an encrypted database at ``out`` (a new file), audited here."""
    from probhealth import atomicfile

    _local(store)
    if not store.encrypted:
        raise BadInput(f"{store.target.display} is not encrypted.", remedy=Remedy.of("backup-db"))
    out = atomicfile.check_target(out, force=False, exists_hint="Choose another {opt:out}.")
    tmp = repo.temp_beside(out, "plain")
    try:
        repo.copy_into(store, tmp, None, None)
        events = repo.check_copy(tmp, None, None)
        try:
            os.link(tmp, out)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise BadInput(f"{out} appeared meanwhile; choose another {{opt:out}}.") from None
    finally:
        repo.remove_with_side_files(tmp)
    with store.write() as session:
        audit.append(
            session,
            actor=store.actor,
            action="db.decrypt",
            entity="database",
            detail={"bytes": repo.size(out)},
        )
    return Done(str(out), "db.decrypt", repo.size(out), events)
