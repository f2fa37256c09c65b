"""``probhealth person add|list|show|edit``."""

from __future__ import annotations

from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context

app = typer.Typer(help="Add, find, show and edit people on probation.", no_args_is_help=True)

CrnArg = Annotated[
    str, typer.Argument(help="Case reference number, e.g. X123456.", show_default=False)
]
StageOpt = Annotated[
    str | None,
    typer.Option(
        "--stage",
        help="pre-sentence, community-order, suspended-sentence, licence or post-sentence-supervision.",
    ),
]


@app.command("add")
def add(
    ctx: typer.Context,
    crn: Annotated[
        str, typer.Option("--crn", help="Case reference number: one letter and six digits.")
    ],
    given: Annotated[str, typer.Option("--given", help="Given (first) name.")],
    family: Annotated[str, typer.Option("--family", help="Family name (surname).")],
    dob: Annotated[str, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")],
    sex: Annotated[
        str,
        typer.Option(
            "--sex", help="female, male, intersex or not-stated (used for screening eligibility)."
        ),
    ],
    postcode: Annotated[
        str | None, typer.Option("--postcode", help="UK postcode, or its district (CB1).")
    ] = None,
    office: Annotated[str | None, typer.Option("--office", help="Probation office.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Preferred language.")] = None,
    release_date: Annotated[
        str | None,
        typer.Option("--release-date", help="Date of the last release from custody, YYYY-MM-DD."),
    ] = None,
    needs_interpreter: Annotated[
        bool, typer.Option("--needs-interpreter", help="The person needs an interpreter.")
    ] = False,
    communication_needs: Annotated[
        str | None,
        typer.Option(
            "--communication-needs", help="Anything that helps communication (reading, hearing...)."
        ),
    ] = None,
    nhs_number: Annotated[
        str | None,
        typer.Option("--nhs-number", help="NHS number, 10 digits (its check digit is checked)."),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Postal address on one line, without the postcode."),
    ] = None,
    nation: Annotated[
        str | None,
        typer.Option(
            "--nation",
            help="england or wales (pathways differ). Default: the office's nation in office.yaml, else PROBHEALTH_NATION, else england.",
        ),
    ] = None,
    stage: StageOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a person. Example: probhealth person add --crn X123456 --given Ann --family Smith --dob 1990-01-31 --sex female"""
    from probhealth.services.people import PersonInput, add_person

    app_ctx = app_context(ctx)
    record = add_person(
        app_ctx.store(),
        PersonInput(
            crn=crn,
            given=given,
            family=family,
            dob=dob,
            sex=sex,
            postcode=postcode,
            office=office,
            language=language,
            needs_interpreter=needs_interpreter,
            communication_needs=communication_needs,
            release_date=release_date,
            nhs_number=nhs_number,
            address=address,
            nation=nation,
            stage=stage,
        ),
    )
    for warning in record.warnings:
        output.warn(warning)
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(
            f"Added {record.crn}. Next: record consent with `probhealth consent {record.crn} --purpose screening --given`."
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    office: Annotated[
        str | None, typer.Option("--office", help="Only people at this office.")
    ] = None,
    search: Annotated[str | None, typer.Option("--search", help="Part of a name or CRN.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Show at most this many.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List people. Example: probhealth person list --office Cambridge --search smith"""
    from probhealth.services.people import list_people

    people = list_people(app_context(ctx).store(), office=office, search=search, limit=limit)
    if json_out:
        output.emit_json([p.to_json() for p in people])
        return
    from probhealth.cli import render

    render.print_renderable(render.people_table(people))


@app.command("show")
def show(ctx: typer.Context, crn: CrnArg, json_out: JsonOpt = False) -> None:
    """Show one person with their current consent and open safety flags. Example: probhealth person show X123456"""
    from probhealth.services.flags import open_flags
    from probhealth.services.people import show_person

    store = app_context(ctx).store()
    record = show_person(store, crn)
    flags = open_flags(store, crn)
    if json_out:
        output.emit_json(record.to_json() | {"open_flags": [f.to_json() for f in flags]})
        return
    from probhealth.cli import render

    render.print_renderable(render.person_panel(record, render.open_flags(flags)))


show.shows_flags = True  # type: ignore[attr-defined]


@app.command("edit")
def edit(
    ctx: typer.Context,
    crn: CrnArg,
    new_crn: Annotated[str | None, typer.Option("--crn", help="Correct the CRN.")] = None,
    given: Annotated[str | None, typer.Option("--given")] = None,
    family: Annotated[str | None, typer.Option("--family")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="YYYY-MM-DD.")] = None,
    sex: Annotated[str | None, typer.Option("--sex")] = None,
    postcode: Annotated[str | None, typer.Option("--postcode")] = None,
    office: Annotated[str | None, typer.Option("--office")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    release_date: Annotated[str | None, typer.Option("--release-date", help="YYYY-MM-DD.")] = None,
    needs_interpreter: Annotated[
        bool | None,
        typer.Option(
            "--needs-interpreter/--no-interpreter",
            help="Whether an interpreter is needed.",
            show_default=False,
        ),
    ] = None,
    communication_needs: Annotated[str | None, typer.Option("--communication-needs")] = None,
    nhs_number: Annotated[
        str | None, typer.Option("--nhs-number", help="10 digits; its check digit is checked.")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Postal address on one line, no postcode.")
    ] = None,
    nation: Annotated[str | None, typer.Option("--nation", help="england or wales.")] = None,
    stage: StageOpt = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(
            "--clear",
            help="Empty a field: postcode, office, language, communication_needs, release_date, nhs_number, address, nation, stage.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a person's details. Example: probhealth person edit X123456 --office Ilfracombe"""
    from probhealth.services.people import edit_person

    changes = {
        "crn": new_crn,
        "given": given,
        "family": family,
        "dob": dob,
        "sex": sex,
        "postcode": postcode,
        "office": office,
        "language": language,
        "release_date": release_date,
        "needs_interpreter": needs_interpreter,
        "communication_needs": communication_needs,
        "nhs_number": nhs_number,
        "address": address,
        "nation": nation,
        "stage": stage,
    }
    record = edit_person(
        app_context(ctx).store(), crn, changes, tuple(c.replace("-", "_") for c in clear or ())
    )
    for warning in record.warnings:
        output.warn(warning)
    if json_out:
        output.emit_json(record.to_json())
    else:
        output.ok(f"Saved {record.crn}.")


@app.command("erase")
def erase(
    ctx: typer.Context,
    crn: CrnArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="erasure-request, entered-in-error, duplicate-record, retention-period or other.",
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask to confirm (for scripts).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Erase a person and every record about them, for good (a tombstone stays in the audit log).

    Example: probhealth person erase X123456 --reason erasure-request
    """
    from probhealth.cli.context import interactive
    from probhealth.errors import BadInput, NeedsTerminal
    from probhealth.services import erasure

    store = app_context(ctx).store()
    if not yes:
        if not interactive():
            raise NeedsTerminal(
                "Erasing needs confirmation at a terminal.",
                hint="To confirm in a script, add --yes.",
            )
        from probhealth.cli.asker import get_asker

        typed = get_asker().text(
            f"This erases {crn.strip().upper()} and everything about them, for good. Type the CRN to confirm"
        )
        if typed.strip().upper() != crn.strip().upper():
            raise BadInput("The CRN typed does not match; nothing was erased.")
    result = erasure.erase_person(store, crn, reason=reason)
    if not result.scrubbed:
        output.warn(erasure.NOT_SCRUBBED)
    if json_out:
        output.emit_json(result.to_json())
        return
    total = sum(result.counts.values()) + 1
    output.ok(
        f"Erased {result.crn}: {total} records removed. Backups and exports made earlier still hold them; delete those too."
    )
    for sent_at, bundle_hash in result.bundles:
        output.warn(
            f"Their records went in a transfer bundle on {sent_at} (hash {bundle_hash[:16]}): "
            "erase them in the database that imported it too."
        )
