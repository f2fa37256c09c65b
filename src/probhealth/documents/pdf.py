"""A document as an A4 PDF for an office printer (fpdf2; no system packages, no network).

The DejaVu Sans fonts ship with the package, so every name prints (Zoë, Łukasz, Nguyễn).
Layout: facts in two columns (a bold label, then the value), a box to tick before each next
step, the "help now" section in a thick frame, and a section is never split across pages.
Large print is 18 pt text and 22 pt headings (RNIB: 16 pt or more).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from probhealth.documents.model import Document, Line, Section

MARGIN = 18.0  # mm
FONT = "DejaVu"


@dataclass(frozen=True)
class _Style:
    body: float  # pt
    heading: float
    title: float
    small: float
    line: float  # mm per text line
    label_width: float  # mm
    box: float  # mm, the tick box


NORMAL = _Style(body=12, heading=15, title=20, small=9.5, line=6.2, label_width=30, box=4.2)
LARGE = _Style(body=18, heading=22, title=26, small=16, line=9.2, label_width=42, box=6.0)


def fonts() -> tuple[str, str]:
    """The bundled DejaVu Sans regular and bold font files."""
    base = resources.files("probhealth") / "documents" / "fonts"
    return str(base / "DejaVuSans.ttf"), str(base / "DejaVuSans-Bold.ttf")


def render_pdf(doc: Document, *, created: datetime | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    doc = doc.kept_together()  # a phone number or time range never splits across lines
    style = LARGE if doc.large_print else NORMAL
    footer_text = doc.footer

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", style.small)
            self.set_text_color(80, 80, 80)
            left = footer_text or ""
            self.cell(0, 5, f"{left}    Page {self.page_no()} of {{nb}}".strip(), align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    regular, bold = fonts()
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_title(doc.title)
    pdf.set_lang("en-GB")
    pdf.set_creator("probhealth")
    pdf.set_creation_date(created or datetime.now(UTC))
    pdf.alias_nb_pages()
    pdf.add_page()
    epw = pdf.w - 2 * MARGIN
    pdf.set_font(FONT, "B", style.body)
    labels = [
        line.label
        for section in doc.sections
        for line in (*section.lines, *doc.intro)
        if line.kind == "fact" and line.label
    ]
    widest = max((pdf.get_string_width(label) for label in labels), default=0.0)
    label_width = min(max(style.label_width, widest + 4), epw / 2)
    nl: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    def para_height(text: str, width: float, size: float, weight: str = "") -> float:
        pdf.set_font(FONT, weight, size)
        lines = pdf.multi_cell(width, style.line, text, dry_run=True, output="LINES", align="L")
        assert isinstance(lines, list)
        return len(lines) * style.line

    def line_height(line: Line, width: float) -> float:
        if line.kind == "fact" and line.label:
            return para_height(line.text, width - label_width, style.body) + 1
        if line.kind == "check":
            return para_height(line.text, width - style.box - 3, style.body) + 2
        weight = "B" if line.kind == "strong" else ""
        return para_height(line.text, width, style.body, weight) + 1.5

    def draw_line(line: Line, x: float, width: float) -> None:
        y = pdf.get_y()
        if line.kind == "fact" and line.label:
            pdf.set_font(FONT, "B", style.body)
            pdf.set_xy(x, y)
            pdf.cell(label_width, style.line, line.label)
            pdf.set_font(FONT, "", style.body)
            pdf.set_xy(x + label_width, y)
            pdf.multi_cell(width - label_width, style.line, line.text, align="L", **nl)
            pdf.ln(1)
        elif line.kind == "check":
            pdf.set_line_width(0.4)
            top = y + (style.line - style.box) / 2 - 0.5
            pdf.rect(x + 0.5, top, style.box, style.box)
            pdf.set_font(FONT, "", style.body)
            pdf.set_xy(x + style.box + 3, y)
            pdf.multi_cell(width - style.box - 3, style.line, line.text, align="L", **nl)
            pdf.ln(2)
        else:
            pdf.set_font(FONT, "B" if line.kind == "strong" else "", style.body)
            pdf.set_x(x)
            pdf.multi_cell(width, style.line, line.text, align="L", **nl)
            pdf.ln(1.5)

    def section_height(section: Section, width: float) -> float:
        head = para_height(section.heading, width, style.heading, "B") + 4
        return head + sum(line_height(line, width) for line in section.lines)

    def draw_section(section: Section) -> None:
        framed = section.kind == "help"
        pad = 4.0 if framed else 0.0
        x, width = MARGIN + pad, epw - 2 * pad
        height = section_height(section, width) + 2 * pad
        room = pdf.h - MARGIN - pdf.get_y()
        if height > room and height < pdf.h - 2 * MARGIN:
            pdf.add_page()  # keep a section whole on one page
        top = pdf.get_y()
        pdf.set_y(top + pad)
        pdf.set_font(FONT, "B", style.heading)
        pdf.set_x(x)
        pdf.multi_cell(width, style.line * 1.15, section.heading, align="L", **nl)
        if not framed:
            pdf.set_draw_color(0, 94, 184)  # NHS blue rule under the heading
            pdf.set_line_width(0.6)
            pdf.line(MARGIN, pdf.get_y() + 0.5, MARGIN + epw, pdf.get_y() + 0.5)
            pdf.set_draw_color(0, 0, 0)
        pdf.ln(2.5)
        for line in section.lines:
            draw_line(line, x, width)
        if framed:
            bottom = pdf.get_y() + pad - 1.5
            pdf.set_line_width(1.0)
            pdf.rect(MARGIN, top, epw, bottom - top)
            pdf.set_y(bottom)
        pdf.ln(style.line * (0.9 if doc.large_print else 0.6))

    with warnings.catch_warnings():
        # A glyph DejaVu lacks (e.g. Chinese) prints as a box; fpdf2 would also warn.
        warnings.simplefilter("ignore")
        if doc.meta:
            pdf.set_font(FONT, "", max(style.small + 1, style.body if doc.large_print else 0))
            for key, value in doc.meta.items():
                pdf.multi_cell(epw, style.line * 0.8, f"{key}: {value}", align="L", **nl)
            pdf.ln(3)
        pdf.set_font(FONT, "B", style.title)
        pdf.multi_cell(epw, style.line * 1.35, doc.title, align="L", **nl)
        pdf.ln(2)
        for line in doc.intro:
            draw_line(line, MARGIN, epw)
        pdf.ln(1)
        for section in doc.sections:
            draw_section(section)
        return bytes(pdf.output())
