"""``probhealth handout CRN`` and ``probhealth letter``: documents for the person and the NHS.

Rendering (fpdf2, Jinja2) loads only inside the commands; the format is the ``--out`` file's
extension (.pdf, .html, .txt); without ``--out`` the text is shown here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context, interactive

if TYPE_CHECKING:
    from probhealth.services.handout import Handout
    from probhealth.services.letters import Letter

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file (default: PROBHEALTH_RULES or the bundled one)."),
]
OutOption = Annotated[
    str | None,
    typer.Option(
        "--out",
        help="Write to this file; the extension picks the format: .pdf (A4), .html or .txt.",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]


def _warn_sender(missing: tuple[str, ...]) -> None:
    if missing:
        from probhealth.services.office import settings_path

        output.warn(
            f"office.yaml has no entry for {' or '.join(missing)}. Add it to {settings_path()}."
        )


def handout(
    ctx: typer.Context,
    crn: Annotated[str, typer.Argument(help="Case reference number.", show_default=False)],
    out: OutOption = None,
    large_print: Annotated[
        bool, typer.Option("--large-print", help="18 pt text, one item to a section.")
    ] = False,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            help="Only these pathways (repeat the option; 'goals' for health goals). "
            "At a terminal, without it, a checklist asks.",
        ),
    ] = None,
    force: ForceOption = False,
    rules_file: RulesOption = None,
    json_out: JsonOpt = False,
) -> None:
    """A plain-language "what happens next" sheet for the person: where, when, what to bring.

    Examples:

    \b
      probhealth handout X123456 --out handout.pdf
      probhealth handout X123456 --include dentist --include goals --large-print
    """
    from probhealth import atomicfile
    from probhealth.services import definitions
    from probhealth.services import handout as service

    rules = definitions.load_rules(rules_file)
    store = app_context(ctx).store()
    target = atomicfile.output_path(out) if out is not None else None
    chosen = list(include) if include else None
    if chosen is None and not json_out and interactive():
        options = service.choices(store, crn, rules)
        if len(options) > 1 or any(c.sensitive or c.private for c in options):
            from probhealth.cli.asker import get_asker

            chosen = get_asker().checkbox(
                "What should go on the handout? (the person chooses)",
                [(c.key, c.label + _ask_first(c.sensitive, c.private)) for c in options],
                checked=[c.key for c in options if not (c.sensitive or c.private)],
                instruction="(space to tick or untick, Enter when done)",
            )
    result = service.produce(
        store, crn, rules, out=target, force=force, include=chosen, large_print=large_print
    )
    _warn_sender(result.sender_missing)
    for pathway_id in result.left_out_sensitive:
        pathway = rules.pathway(pathway_id)
        name = pathway.name if pathway else pathway_id
        if pathway is not None and not pathway.sensitive:
            output.warn(
                f"Not on the handout: {name}. Others who see the sheet could read it as a "
                "diagnosis or as drug use. Ask if they want it on, then add it with "
                f"--include {pathway_id}."
            )
            continue
        output.warn(
            f"Not on the handout: {name}. A sheet found by "
            "the person who hurts them could put them in danger. Ask if it is safe, then add it "
            f"with --include {pathway_id}."
        )
    _show(result, "handout", json_out)


def _ask_first(sensitive: bool, private: bool) -> str:
    """What a box that starts unticked says beside its name."""
    if sensitive:
        return " (only if it is safe)"
    return " (only if they want it on)" if private else ""


def _show(result: Handout | Letter, what: str, json_out: bool) -> None:
    """A document made: as JSON, as text on the screen (not written), or where it went."""
    if json_out:
        output.emit_json(result.to_json())
        return
    if result.path is None:
        import sys

        from probhealth.textsafe import for_terminal

        sys.stdout.write(for_terminal(result.text()))
        return
    output.ok(f"Wrote the {what} to {result.path} ({result.format}, readable only by you).")


def letter(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="The referral id; with --gp-registration, the person's CRN.", show_default=False
        ),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="gp (needs share-with-gp consent) or service (needs share-with-services).",
        ),
    ] = "service",
    gp_registration: Annotated[
        bool,
        typer.Option(
            "--gp-registration",
            help="A letter the person takes to any GP practice to support registering.",
        ),
    ] = False,
    office_address: Annotated[
        bool,
        typer.Option(
            "--office-address",
            help="With --gp-registration: the person agrees to get letters at the probation office.",
        ),
    ] = False,
    out: OutOption = None,
    force: ForceOption = False,
    rules_file: RulesOption = None,
    json_out: JsonOpt = False,
) -> None:
    """A referral letter to the GP or the service, shared only with the person's consent.

    Examples:

    \b
      probhealth letter 3 --to gp --out letter.pdf
      probhealth letter --gp-registration X123456 --office-address --out gp.pdf
    """
    from probhealth import atomicfile
    from probhealth.errors import BadInput
    from probhealth.services import letters as service

    store = app_context(ctx).store()
    path = atomicfile.output_path(out) if out is not None else None
    if gp_registration:
        result = service.gp_registration_letter(
            store, target, office_address=office_address, out=path, force=force
        )
    else:
        if office_address:
            raise BadInput("--office-address goes with --gp-registration.")
        text = target.strip()
        if not (text.isascii() and text.isdigit()):
            raise BadInput(
                f"{target!r} is not a referral id; for a GP registration letter add --gp-registration."
            )
        from probhealth.services import definitions

        rules = definitions.load_rules(rules_file)
        result = service.referral_letter(store, int(text), rules, to=to, out=path, force=force)
    _warn_sender(result.sender_missing)
    _show(result, "letter", json_out)
