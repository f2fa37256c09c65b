"""The object every command gets as ``ctx.obj``: who is working, which database, and a lazily
opened ``Store``. Building it costs nothing; the store (and SQLAlchemy) load on first use.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from probhealth.errors import BadInput, NeedsTerminal
from probhealth.paths import DbTarget, resolve_db
from probhealth.textsafe import clean_name
from probhealth.validation import MAX_ID

# The --json option of every command that can print JSON.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")]

__all__ = [
    "MAX_ID",
    "AppContext",
    "JsonOpt",
    "app_context",
    "interactive",
    "require_terminal",
    "shared_context",
    "shared_store",
]

if TYPE_CHECKING:
    from probhealth.dbkey import Key
    from probhealth.store.db import Plain, Store


def key_source(target: DbTarget, *, new: bool = False) -> Callable[[], Key | None]:
    """Where an encrypted database's key comes from: PROBHEALTH_KEY_FILE, the system keyring,
    or (at a terminal) a prompt, twice for a new key. Never a command-line argument."""

    def get() -> Key | None:
        from probhealth import dbkey

        key = dbkey.from_env()
        if key is None and target.path is not None:
            key = dbkey.from_keyring(target.path)
        if key is None and interactive():
            key = prompt_key("Database key", confirm=new)
        return dbkey.check_new(key) if new and key is not None else key

    return get


def prompt_key(label: str, *, confirm: bool) -> Key:
    from probhealth.dbkey import Key

    first = getpass.getpass(f"{label}: ").encode()
    if not first:
        raise BadInput("The key is empty; nothing was changed.")
    if confirm and getpass.getpass("Again, to check: ").encode() != first:
        raise BadInput("The two keys differ; nothing was changed.")
    return Key(first, "the prompt")


def default_actor() -> str:
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):  # no login name in some containers
        return os.environ.get("USER") or "unknown"


@dataclass
class AppContext:
    db_option: str | None
    actor_option: str | None
    demo: bool = False  # --demo: the demo database unless --db names another
    typed_db: str | None = None  # --db as typed on the command line (not from the environment)
    shell: bool = False  # one context shared by every command typed in `probhealth shell`
    _store: Store | None = field(default=None, repr=False)
    _plain: Plain | None = field(default=None, repr=False)
    _warned: bool = field(default=False, repr=False)

    @property
    def actor(self) -> str:
        value = self.actor_option or default_actor()
        return clean_name(value, "--as (user name)", max_len=64)

    def target(self, *, demo: bool = False) -> DbTarget:
        return resolve_db(self.db_option, demo=demo)

    def store(self, *, demo: bool = False, encrypt: bool = False, create: bool = False) -> Store:
        """The store, opened (and migrated if needed) on first call. ``encrypt``: a new
        database file is made encrypted (its key asked as for opening one).

        Only ``init`` and the demo (``create``/``demo``) make a new database file: any other
        command on a missing file is refused (a mistyped ``--db`` must not look like an empty
        caseload), except the default location, which a worker at a terminal is asked about."""
        if self._store is not None and demo and not self.demo and self.shell:
            # The shell keeps one database open: fiction must never land in real records.
            raise BadInput(
                "The demo works on the demo database, and this shell is open on another.",
                hint="Leave the shell and run it as its own command, or start the shell with --demo.",
            )
        if self._store is None:
            from probhealth.store.db import Store

            target = self.target(demo=demo or self.demo)
            if not (create or demo or self.demo):
                self._refuse_missing(target)
            store = Store(
                target, actor=self.actor, key=key_source(target, new=encrypt), encrypt=encrypt
            )
            store.engine()
            self._store = store
            self._announce(store)
            self._hint_prefix(demo=demo or self.demo)
        return self._store

    def plain(self) -> Plain | None:
        """The database opened with the standard library's sqlite3 alone, after the same
        checks (``db.open_plain``), for a bulk read that needs no SQLAlchemy (an export); None
        when only ``store()`` will do: a server, an encrypted file, a schema to upgrade, an
        erasure to finish, or a store this process has open already (the shell)."""
        if self._store is not None or self.shell:
            return None
        if self._plain is None:
            from probhealth.store.db import open_plain

            target = self.target(demo=self.demo)
            self._refuse_missing(target)
            plain = open_plain(target, actor=self.actor)
            if plain is None:
                return None
            self._plain = plain
            self._warn_location(target)
            self._hint_prefix(demo=self.demo)
        return self._plain

    def _refuse_missing(self, target: DbTarget) -> None:
        if target.path is None:
            return
        try:
            if target.path.exists():
                return
        except OSError:
            return  # a name too long or otherwise unusable: opening it names the problem
        if not target.explicit and interactive():
            from probhealth.cli.asker import get_asker

            if get_asker().confirm(
                f"There is no database yet at {target.display}. Create it now?", default=False
            ):
                return
        if self.typed_db is not None:
            import shlex

            command = f"probhealth --db {shlex.quote(self.typed_db)} init"
        else:
            command = "probhealth init"
        raise BadInput(
            f"No database at {target.display} — create one with `{command}`, "
            "or check the path; nothing was created."
        )

    def _announce(self, store: Store) -> None:
        from probhealth.cli import output

        if store.backup_path is not None:
            output.info(f"Backed up the database before upgrading it: {store.backup_path}")
        self._warn_location(store.target)

    def _warn_location(self, target: DbTarget) -> None:
        from probhealth.cli import output

        if target.path is not None and not self._warned:
            from probhealth.store.db import storage_warning

            warning = storage_warning(target.path)
            if warning:
                from probhealth.cli.remedies import words

                output.warn(words(warning))
            self._warned = True

    def _hint_prefix(self, *, demo: bool) -> None:
        """Commands suggested in messages repeat the database choice, so they work as copied."""
        from probhealth.cli import COMMANDS, output

        if self.shell:
            # Inside the shell a command is typed without `probhealth` and its options.
            output.set_prog("", [*COMMANDS, "--help"])
            return
        if self.typed_db is not None:
            import shlex

            prefix = f"probhealth --db {shlex.quote(self.typed_db)}"
        elif demo and os.environ.get("PROBHEALTH_DB") is None:
            prefix = "probhealth --demo"
        else:
            return
        output.set_prog(prefix, [c for c in COMMANDS if c != "demo"])

    def close(self) -> None:
        from probhealth.cli import output

        output.reset_prog()
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def forget_store(self) -> None:
        """Close the database; the next command opens it again, with every check."""
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def opened(self) -> Store | None:
        """The store if it is open (None before the first command that needs it)."""
        return self._store


_SHARED: AppContext | None = None


def shared_context() -> AppContext | None:
    """The context every command shares while ``probhealth shell`` runs (None otherwise)."""
    return _SHARED


@contextmanager
def shared_store(context: AppContext) -> Iterator[AppContext]:
    """While this is open, every command run in this process uses ``context`` and its one open
    database instead of opening (and closing) its own."""
    global _SHARED
    previous, _SHARED = _SHARED, context
    context.shell = True
    try:
        yield context
    finally:
        _SHARED = previous
        context.close()


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # pragma: no cover - only if a command is run alone
        raise BadInput("Run commands through the probhealth program.")
    return obj


def interactive() -> bool:
    """True when a person is at a terminal (stdin and stdout are both TTYs)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def require_terminal(instead: str) -> None:
    if not interactive():
        raise NeedsTerminal(f"This needs a terminal to ask questions; {instead}")
