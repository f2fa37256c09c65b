"""``probhealth rules check FILE`` and ``probhealth rules show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt

app = typer.Typer(
    help="Check and show the referral rules (pathways and when they are suggested).",
    no_args_is_help=True,
)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Rules YAML file.", show_default=False)],
) -> None:
    """Check a rules file against the questionnaire it names; errors read FILE:LINE: message.

    Example: probhealth rules check my-rules.yaml
    """
    from probhealth.rules.model import check_file
    from probhealth.services.definitions import load_questionnaire

    rules = check_file(file, load_questionnaire())
    output.ok(
        f"{file}: ok: {rules.id} v{rules.version}, {len(rules.pathways)} pathways, {len(rules.rules)} rules."
    )


@app.command("show")
def show(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A rules file (default: PROBHEALTH_RULES or the bundled one).", show_default=False
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List pathways and the rules that suggest them. Example: probhealth rules show"""
    from probhealth.services.definitions import load_rules

    rules = load_rules(file)
    if json_out:
        output.emit_json(
            {
                "id": rules.id,
                "version": rules.version,
                "questionnaire": rules.questionnaire,
                "hash": rules.content_hash,
                "pathways": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "domain": p.domain,
                        "for_person": p.for_person,
                        "for_staff": p.for_staff,
                        "shares_information": p.shares_information,
                        "self_referral": p.self_referral,
                        "follow_up_days": p.follow_up_days,
                        "adjustment": p.adjustment,
                    }
                    for p in rules.pathways
                ],
                "rules": [
                    {
                        "id": r.id,
                        "when": r.when.source,
                        "suggest": r.pathway,
                        "urgency": r.urgency,
                        "because": r.because.source,
                    }
                    for r in rules.rules
                ],
            }
        )
        return
    from probhealth.cli import render

    render.print_renderable(render.rules_tree(rules))
