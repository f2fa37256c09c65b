"""``probhealth questionnaire check FILE`` and ``probhealth questionnaire show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probhealth.cli import output
from probhealth.cli.context import JsonOpt, app_context

app = typer.Typer(help="Check and show questionnaire definitions.", no_args_is_help=True)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Questionnaire YAML file.", show_default=False)],
) -> None:
    """Check a questionnaire file; errors read FILE:LINE: message. Example: probhealth questionnaire check my.yaml"""
    from probhealth.questionnaire.model import check_file

    q = check_file(file)
    output.ok(
        f"{file}: ok: {q.id} v{q.version}, {len(q.items)} items in {len(q.sections)} sections, "
        f"{len(q.scales)} scales, {len(q.flags)} flags, {len(q.needs)} need rules, {len(q.barriers)} barrier rules."
    )


@app.command("show")
def show(
    ctx: typer.Context,
    which: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID[@VERSION]|FILE]",
            help="A questionnaire used in this database (e.g. probation-health@2), or a file. Default: the bundled one.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show sections, items, scales and flags as a tree. Example: probhealth questionnaire show probation-health@2"""
    from probhealth.services.definitions import find_questionnaire

    q = find_questionnaire(which, store_factory=lambda: app_context(ctx).store())
    if json_out:
        output.emit_json(
            {
                "id": q.id,
                "version": q.version,
                "title": q.title,
                "hash": q.content_hash,
                "sections": [
                    {"id": s.id, "title": s.title, "items": list(s.item_ids)} for s in q.sections
                ],
                "items": [
                    {
                        "id": i.id,
                        "type": i.type,
                        "text": i.text,
                        "show_if": i.show_if.source if i.show_if else None,
                        "options": [
                            {"value": o.value, "label": o.label, "score": o.score}
                            for o in i.options
                        ],
                    }
                    for i in q.items
                ],
                "scales": [
                    {
                        "id": s.id,
                        "items": list(s.items),
                        "bands": [[b.lo, b.hi, b.label] for b in s.bands],
                    }
                    for s in q.scales
                ],
                "flags": [
                    {"id": f.id, "severity": f.severity, "when": f.when.source} for f in q.flags
                ],
                "credits": list(q.credits),
            }
        )
        return
    from probhealth.cli import render

    render.print_renderable(render.questionnaire_tree(q))
