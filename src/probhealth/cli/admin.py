"""``probhealth init`` and ``probhealth db check|migrate|backup``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context
from probhealth.errors import BadInput

if TYPE_CHECKING:
    from probhealth.dbkey import Key

db_app = typer.Typer(help="Look after the database: check, back up, migrate.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Make the new database encrypted (needs probhealth[encrypted]); the key "
            "comes from PROBHEALTH_KEY_FILE, the system keyring or a prompt.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Create the database if needed (safe to run again) and say where it is. Example: probhealth init"""
    from probhealth.services import maintenance

    store = app_context(ctx).store(encrypt=encrypt, create=True)
    result = maintenance.init(store, encrypt=encrypt)
    if json_out:
        output.emit_json(result.to_json())
        return
    verb = "Created" if result.created else "Using"
    kind = "encrypted database" if result.encrypted else "database"
    output.ok(f"{verb} the {kind} at {result.location} (schema {result.revision}).")
    if result.created and result.encrypted:
        # Lose the key and the data is gone: say so when the key is made.
        output.info(
            "Keep a copy of the key somewhere safe (a password manager): without it the "
            "database cannot be opened."
        )
        key = store.key
        if key is not None and key.source == "the prompt" and store.target.path is not None:
            where = shlex.quote(str(store.target.path.absolute()))
            output.info(f"Not to type it for every command: keyring set probhealth {where}")


@db_app.command("check")
def check(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Check the database: integrity, schema version, audit chain. Exit 1 if anything is wrong."""
    from probhealth.services import maintenance

    result = maintenance.check(app_context(ctx).store())
    if json_out:
        output.emit_json(result.to_json())
    else:
        output.info(f"Database: {result.location}")
        output.info(f"Schema: {result.revision} (expected {result.head})")
        if result.integrity:
            output.error(
                f"Integrity check: {len(result.integrity)} problem(s): {result.integrity[0]}"
            )
        elif result.server:
            output.info(
                "Integrity check: not run here on a server database (PostgreSQL's own: data "
                "checksums, amcheck); schema and audit chain checked."
            )
        else:
            output.ok("Integrity check: ok")
        from probhealth.cli.audit import show_chain, show_records

        show_chain(result.audit)
        show_records(result.records)
    if not result.ok:
        raise typer.Exit(1)


@db_app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date (also done automatically on first use)."""
    store = app_context(ctx).store()
    if store.migrated_from is not None or store.created:
        output.ok("The database schema is now up to date.")
    else:
        output.ok("The database schema was already up to date.")


@db_app.command("backup")
def backup(
    ctx: typer.Context,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Backup file to create (default: beside the database, time-stamped)."
        ),
    ] = None,
) -> None:
    """Back up the database safely, even while others are using it. Example: probhealth db backup --out ~/probhealth-backup.db"""
    from probhealth import atomicfile
    from probhealth.services import maintenance

    target = atomicfile.output_path(out) if out is not None else None
    path, size = maintenance.backup(app_context(ctx).store(), target)
    output.ok(f"Backed up to {path} ({size:,} bytes, readable only by you).")


@db_app.command("purge")
def purge(
    ctx: typer.Context,
    closed_before: Annotated[
        str,
        typer.Option(
            "--closed-before",
            help="Erase people with nothing open and no activity since this date (YYYY-MM-DD).",
        ),
    ],
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Really erase them (without it: a dry run that only counts)."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Retention: erase everyone whose records closed before a date. Dry run unless --apply.

    Example: probhealth db purge --closed-before 2020-01-01
    """
    from probhealth.services import erasure

    result = erasure.purge(app_context(ctx).store(), closed_before=closed_before, apply=apply)
    if not result.scrubbed:
        output.warn(erasure.NOT_SCRUBBED)
    if json_out:
        output.emit_json(result.to_json())
    elif result.applied:
        output.ok(
            f"Erased {output.count(result.people, 'person', 'people')} with no activity since {result.before}."
        )
    else:
        output.info(
            f"Dry run: {output.count(result.people, 'person', 'people')} with no activity since {result.before} and nothing open. Add --apply to erase them."
        )


NewKeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--new-key-file",
        envvar="PROBHEALTH_NEW_KEY_FILE",
        help="File whose first line is the new key (keep it 0600). Without it: a prompt.",
        show_default=False,
    ),
]


def _new_key(key_file: Path | None, what: str) -> Key:
    from probhealth.cli.context import interactive, prompt_key
    from probhealth.dbkey import Key, check_new, read_key_file

    if key_file is not None:
        return check_new(Key(read_key_file(key_file), "the new key file"))
    if not interactive():
        raise BadInput(f"{what} needs the new key: give {{opt:new-key-file}} FILE.")
    return check_new(prompt_key("New database key", confirm=True))


@db_app.command("encrypt")
def encrypt(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Encrypt this database in place (needs probhealth[encrypted]): a new encrypted file is
    built and swapped in, the plain one and its -wal removed. The key comes from
    PROBHEALTH_KEY_FILE, the system keyring or a prompt. Run it when no one else is using it.

    Example: PROBHEALTH_KEY_FILE=~/.probhealth-key probhealth db encrypt
    """
    from probhealth.cli.context import key_source
    from probhealth.services import encryption

    store = app_context(ctx).store()
    key = store.key or key_source(store.target, new=True)()
    if key is None:
        raise BadInput(
            "Encrypting needs a key: name its file with PROBHEALTH_KEY_FILE, store it in the "
            "system keyring, or run this at a terminal."
        )
    result = encryption.encrypt(store, key)
    if json_out:
        output.emit_json(result.to_json())
        return
    output.ok(f"Encrypted {result.location} ({result.size:,} bytes); the plain file is gone.")
    output.info("Keep the key safe: without it the database cannot be opened.")


@db_app.command("rekey")
def rekey(ctx: typer.Context, new_key_file: NewKeyFileOpt = None) -> None:
    """Change the key of an encrypted database (a new file built and swapped in).

    Example: probhealth db rekey --new-key-file ~/.probhealth-key-2
    """
    from probhealth.services import encryption

    store = app_context(ctx).store()
    new_key = _new_key(new_key_file, "Changing the key")
    result = encryption.rekey(store, new_key)
    output.ok(f"Changed the key of {result.location}. Give the new key wherever the old one was.")


@db_app.command("decrypt")
def decrypt(
    ctx: typer.Context,
    out: Annotated[str, typer.Option("--out", help="The plain copy to write (a new file).")],
) -> None:
    """Write a plain (unencrypted) copy of an encrypted database; audited. The copy holds
    everything in the clear: keep it 0600 and delete it when done.

    Example: probhealth db decrypt --out /media/encrypted-usb/probhealth-plain.db
    """
    from probhealth import atomicfile
    from probhealth.services import encryption

    result = encryption.decrypt(app_context(ctx).store(), atomicfile.output_path(out))
    output.ok(
        f"Wrote a plain copy to {result.location} ({result.size:,} bytes, readable only by you)."
    )
    output.warn("It is not encrypted: delete it when you no longer need it.")
