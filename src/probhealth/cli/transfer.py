"""``probhealth transfer export|import|conflicts|resolve``: carry people's records between
databases (laptop and office, office and office) in an encrypted bundle.

The passphrase never comes from a command-line argument: from a key file (``--key-file`` or
``PROBHEALTH_TRANSFER_KEY_FILE``: its first line) or, at a terminal, a prompt.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context, interactive
from probhealth.errors import BadInput

app = typer.Typer(
    help="Carry people's records to another database and back, encrypted, without loss.",
    no_args_is_help=True,
)
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        envvar="PROBHEALTH_TRANSFER_KEY_FILE",
        help="File whose first line is the bundle passphrase (keep it 0600). Without it: a prompt.",
        show_default=False,
    ),
]


def _passphrase(key_file: Path | None, *, confirm: bool) -> bytes:
    if key_file is not None:
        from probhealth.dbkey import read_key_file

        return read_key_file(key_file)
    if not interactive():
        raise BadInput(
            "A bundle passphrase is needed: give {opt:key-file} FILE (or PROBHEALTH_TRANSFER_KEY_FILE)."
        )
    import getpass

    first = getpass.getpass("Bundle passphrase: ").encode()
    if confirm and getpass.getpass("Again, to check: ").encode() != first:
        raise BadInput("The two passphrases differ; nothing was written.")
    if not first:
        raise BadInput("The passphrase is empty; nothing was written.")
    return first


@app.command("export")
def export(
    ctx: typer.Context,
    crns: Annotated[
        list[str] | None, typer.Argument(help="CRNs of the people to carry.", show_default=False)
    ] = None,
    out: Annotated[str, typer.Option("--out", help="Bundle file to write.")] = "",
    all_people: Annotated[bool, typer.Option("--all", help="Everyone in this database.")] = False,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            help="People with any record changed on or after this date (YYYY-MM-DD).",
        ),
    ] = None,
    key_file: KeyFileOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write everything about some people to an encrypted bundle file.

    Example: probhealth transfer export X123456 --out ann.phx --key-file ~/.probhealth-key
    """
    from probhealth import atomicfile
    from probhealth.services import transfer

    if not out:
        raise BadInput("Give the bundle file to write with {opt:out} FILE.")
    target = atomicfile.output_path(out)
    store = app_context(ctx).store()
    people = transfer.choose_people(
        store, crns=list(crns or []), all_people=all_people, changed_since=changed_since
    )
    try:
        passphrase = _passphrase(key_file, confirm=True)
        result = transfer.export(
            store, person_ids=people, out=target, passphrase=passphrase, force=force
        )
    except KeyboardInterrupt:
        # The bundle is written beside its target and renamed whole: nothing is left half.
        output.warn("Stopped: no bundle was written.")
        raise typer.Exit(130) from None
    if json_out:
        output.emit_json(result.to_json())
        return
    output.ok(
        f"Wrote {output.count(result.people, 'person', 'people')} "
        f"({output.count(result.records, 'record')}, {result.size:,} bytes, encrypted) to {result.path}."
    )
    output.info(f"Bundle hash {result.bundle_hash[:16]}, recorded in the audit log.")
    output.elsewhere(
        f"At the other end: probhealth transfer import {shlex.quote(Path(result.path).name)}"
        " (send the passphrase apart from the bundle, never in the same email)."
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A bundle made by transfer export.", show_default=False)
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; change nothing.")
    ] = False,
    key_file: KeyFileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Merge a bundle into this database: new records added, the same skipped, clashes kept
    as conflicts. All or nothing.

    Example: probhealth transfer import ann.phx --key-file ~/.probhealth-key --dry-run
    """
    from probhealth.services import transfer

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"Cannot read {file}: {exc.strerror}.") from None
    try:
        passphrase = _passphrase(key_file, confirm=False)
        store = app_context(ctx).store()
        with output.progress("Merging the bundle", enabled=not json_out) as advance:
            result = transfer.import_bundle(
                store, data, passphrase=passphrase, dry_run=dry_run, progress=advance
            )
    except KeyboardInterrupt:
        # One transaction: an interrupted merge is rolled back whole.
        output.warn("Stopped: nothing was imported (all or nothing). Run the same command again.")
        raise typer.Exit(130) from None
    if json_out:
        output.emit_json(result.to_json())
        return
    c = result.counts
    what = "Would import" if dry_run else "Imported"
    output.ok(
        f"{what} {output.count(result.people, 'person', 'people')}: {c['added']:,} added, "
        f"{c['updated']:,} updated, {c['same']:,} already here, {c['kept_ours']:,} newer here, "
        f"{c['merged']:,} referral(s) merged by their events, {c['conflicts']:,} conflict(s)."
    )
    if c["conflicts"] and dry_run:
        # A dry run records nothing: `transfer conflicts` would list none of these yet.
        output.warn(
            "Both sides changed some records. Import without --dry-run to keep both versions,"
            " then see them with: probhealth transfer conflicts"
        )
    elif c["conflicts"]:
        output.warn("Both sides changed some records: see them with: probhealth transfer conflicts")
    if not dry_run and not (c["added"] or c["updated"] or c["merged"] or c["conflicts"]):
        # Imported before (or everything in it already came another way): say so plainly.
        output.info("Nothing new: every record in the bundle is already here.")
    elif not dry_run:
        # The day to carry changes back from: a later date would leave some behind.
        from probhealth import clock

        output.info(
            "To send back what changes here from now on: probhealth transfer export "
            f"--changed-since {clock.today().isoformat()} --out back.phx"
        )


@app.command("conflicts")
def conflicts(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """List records changed in two places since they last met (nothing was overwritten)."""
    from probhealth.services import transfer

    rows = transfer.list_conflicts(app_context(ctx).store())
    if json_out:
        output.emit_json([r.to_json() for r in rows])
        return
    if not rows:
        output.info("Nothing found.")
        return
    for r in rows:
        output.info(
            f"{r.id}: {r.crn or '?'} {r.record_name()} differs in {', '.join(r.fields) or 'nothing now'}"
        )
        for name, pair in r.values.items():
            output.info(
                f"   {name}: ours (here) {_shown(pair['ours'])}, theirs {_shown(pair['theirs'])}"
            )
    output.info(
        "Settle one with: probhealth transfer resolve ID --keep ours|theirs"
        " (--field NAME: theirs for that field only)"
    )


def _shown(value: object) -> str:
    return "(empty)" if value is None or value == "" else repr(value)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    conflict_id: Annotated[int, typer.Argument(help="The conflict's number (transfer conflicts).")],
    keep: Annotated[
        str, typer.Option("--keep", help="ours (the version here) or theirs (the bundle's).")
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="With --keep theirs: take theirs for this field only, ours for the rest "
            "(repeat for more).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Settle a conflict by keeping one version, or theirs for some fields (audited).
    Example: probhealth transfer resolve 1 --keep theirs --field postcode"""
    from probhealth.services import transfer

    fields = list(field or [])
    kept = transfer.resolve(app_context(ctx).store(), conflict_id, keep=keep, fields=fields)
    if fields:
        output.ok(
            f"Conflict {conflict_id} settled: theirs for {', '.join(fields)}, ours for the rest."
        )
    else:
        output.ok(f"Conflict {conflict_id} settled: kept {kept}.")
