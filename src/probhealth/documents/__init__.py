"""Documents for people outside the tool: the person's handout and letters to the NHS.

A document is plain data (:mod:`probhealth.documents.model`): a title, short sections of lines.
The services build it; this package only lays it out, as text, as self-contained HTML (Jinja2,
autoescaped: names and notes are untrusted) or as an A4 PDF (fpdf2 with the bundled DejaVu
fonts, so any name prints: Zoë, Łukasz, Nguyễn). fpdf2 and Jinja2 load only when rendering.
"""

from __future__ import annotations

from pathlib import Path

from probhealth.documents.model import Document, Line, Section
from probhealth.errors import BadInput

FORMATS = ("pdf", "html", "txt")

__all__ = ["FORMATS", "Document", "Line", "Section", "format_for", "render"]


def format_for(path: Path) -> str:
    """The format a file name asks for, by its extension."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "text":
        suffix = "txt"
    if suffix == "htm":
        suffix = "html"
    if suffix not in FORMATS:
        raise BadInput(
            f"{path.name}: the file name must end in .pdf, .html or .txt (the format to write)."
        )
    return suffix


def render(doc: Document, fmt: str) -> bytes:
    """The document as bytes in ``fmt`` (pdf, html or txt)."""
    if fmt == "pdf":
        from probhealth.documents.pdf import render_pdf

        return render_pdf(doc)
    if fmt == "html":
        from probhealth.documents.html import render_html

        return render_html(doc).encode("utf-8")
    if fmt == "txt":
        from probhealth.documents.text import render_text

        return render_text(doc).encode("utf-8")
    raise BadInput(f"Unknown format {fmt!r}; use one of: {', '.join(FORMATS)}.")
