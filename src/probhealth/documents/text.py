"""A document as plain text (72 columns): for the terminal, a ``.txt`` file or an email."""

from __future__ import annotations

import textwrap

from probhealth.documents.model import NBSP, Document, Line, keep_together

WIDTH = 72


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    # Phone numbers and time ranges stay on one line; the file keeps ordinary spaces.
    lines = textwrap.wrap(
        keep_together(text),
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
    ) or [first.rstrip()]
    return [line.replace(NBSP, " ") for line in lines]


def _line(line: Line) -> list[str]:
    if line.kind == "fact" and line.label:
        return _wrap(line.text, f"{line.label}: ", "  ")
    if line.kind == "check":
        return _wrap(line.text, "[ ] ", "    ")
    if line.kind == "strong":
        return _wrap(line.text.upper() if len(line.text) < 30 else line.text)
    return _wrap(line.text)


def render_text(doc: Document) -> str:
    out: list[str] = []
    for key, value in doc.meta.items():
        out.extend(_wrap(value, f"{key}: ", "  "))
    if doc.meta:
        out.append("")
    out.append(doc.title)
    out.append("=" * min(len(doc.title), WIDTH))
    for line in doc.intro:
        out.append("")
        out.extend(_line(line))
    for section in doc.sections:
        out.append("")
        out.append(section.heading)
        out.append("-" * min(len(section.heading), WIDTH))
        for line in section.lines:
            out.extend(_line(line))
    if doc.footer:
        out.append("")
        out.extend(_wrap(doc.footer))
    return "\n".join(out) + "\n"
