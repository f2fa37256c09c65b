"""The health needs report as an A4 PDF (fpdf2, the DejaVu Sans fonts bundled with the package).

The same protected tables and the same charts as the HTML report: each chart is drawn by
:mod:`probhealth.documents.charts` (matplotlib, printed to PNG) and placed whole on a page,
with the table of the same figures under it (headings repeated when a table runs onto the
next page) and the table's note. A page break before each section; the disclosure rule on
the first page, and in short with the page number in the footer of every page. Only the protected tables are drawn.
"""

from __future__ import annotations

import io
import struct
import warnings
from datetime import datetime
from typing import Any

from probhealth.documents import charts
from probhealth.documents.pdf import FONT, fonts
from probhealth.documents.report import cards, cell, chart_for, period

MARGIN = 14.0  # mm
BLUE = (29, 92, 150)
INK = (27, 27, 27)
MUTED = (59, 64, 69)


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def render_report_pdf(report: Any, generated: str, *, created: datetime | None = None) -> bytes:
    """The report as PDF bytes (``generated``: when it was made, as shown)."""
    from fpdf import FPDF, FontFace
    from fpdf.enums import TableBordersLayout, XPos, YPos

    footer_text = report.footnote  # the whole rule is on page 1

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-9)
            self.set_font(FONT, "", 7.5)
            self.set_text_color(*MUTED)
            self.multi_cell(0, 3.4, f"{footer_text}    Page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(*INK)

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 6)
    regular, bold = fonts()
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_title(f"Health needs report, {period(report)}")
    pdf.set_lang("en-GB")
    pdf.set_creator("probhealth")
    if created is not None:
        pdf.set_creation_date(created)
    pdf.alias_nb_pages()
    epw = pdf.w - 2 * MARGIN
    bottom = pdf.h - MARGIN - 6
    nl: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    def heading(text: str, size: float, rule: bool = False) -> None:
        pdf.set_font(FONT, "B", size)
        pdf.set_text_color(*INK)
        pdf.multi_cell(epw, size * 0.5, text, align="L", **nl)
        if rule:
            pdf.set_draw_color(*BLUE)
            pdf.set_line_width(0.7)
            pdf.line(MARGIN, pdf.get_y() + 0.8, MARGIN + epw, pdf.get_y() + 0.8)
            pdf.set_draw_color(0, 0, 0)
            pdf.ln(3)
        else:
            pdf.ln(1)

    def text(words: str, size: float = 10, colour: tuple[int, int, int] = INK) -> None:
        pdf.set_font(FONT, "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(epw, size * 0.48, words, align="L", **nl)
        pdf.set_text_color(*INK)

    def drawn(table: Any) -> tuple[bytes, float, float] | None:
        """The table's chart as a PNG with its width and height on the page (mm)."""
        spec = chart_for(table)
        if spec is None:
            return None
        png = charts.png(spec)
        px_w, px_h = _png_size(png)
        w = epw
        h = w * px_h / px_w
        most = bottom - MARGIN - 30  # room for the section's and the table's headings
        if h > most:  # a tall chart (the funnel) is shrunk to fit one page
            w, h = w * most / h, most
        return png, w, h

    def chart(table: Any, image: tuple[bytes, float, float]) -> None:
        png, w, h = image
        pdf.image(io.BytesIO(png), x=MARGIN + (epw - w) / 2, y=pdf.get_y(), w=w, h=h)
        pdf.set_y(pdf.get_y() + h + 1)
        text(f"Chart: {table.title}. The table below gives the same figures.", 8, MUTED)
        pdf.ln(1.5)

    def widths(columns: list[Any], rows: list[Any], size: float) -> list[float] | None:
        """Column widths (mm) that fit every heading word and value, the first text column
        taking what is left; None if they do not fit across the page at this size."""
        need = []
        for c in columns:
            pdf.set_font(FONT, "B", size)
            head = max(pdf.get_string_width(w) for w in c.label.split() or [""])
            pdf.set_font(FONT, "", size)
            body = max((pdf.get_string_width(cell(r.get(c.key), c.kind)) for r in rows), default=0)
            need.append(max(head, body) + 3)
        if columns[0].kind == "text":
            need[0] = max(epw - sum(need[1:]), min(need[0], 38.0))
        spare = epw - sum(need)
        if spare < 0:
            return None
        return [w + spare / len(need) for w in need]

    def table_of(t: Any) -> None:
        columns = [c for c in t.columns if not c.hidden]
        if not t.rows:
            text("Nothing to count.", 9.5, MUTED)
            return
        size, cols = 9.0, None
        while cols is None and size > 6:
            cols = widths(columns, t.rows, size)
            size = size if cols is not None else size - 0.5
        pdf.set_font(FONT, "", size)
        with pdf.table(
            col_widths=tuple(cols) if cols else None,
            width=epw,
            text_align=tuple("LEFT" if c.kind == "text" else "RIGHT" for c in columns),
            line_height=size * 0.5,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=(238, 243, 248)),
            padding=0.8,
        ) as tbl:
            head = tbl.row()
            for c in columns:
                head.cell(c.label)
            for r in t.rows:
                row = tbl.row()
                for c in columns:
                    row.cell(cell(r.get(c.key), c.kind))
        pdf.ln(1.5)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph DejaVu lacks prints as a box
        pdf.add_page()
        pdf.set_font(FONT, "B", 20)
        pdf.multi_cell(epw, 10, "Health needs report", align="L", **nl)
        text(
            f"Period: {period(report)}; {', '.join(report.offices) or 'all offices'}. "
            f"Headlines by {report.by}. Made {generated} from pseudonymised counts: no one "
            "is named.",
            10,
            MUTED,
        )
        pdf.ln(2)
        pdf.set_fill_color(238, 243, 248)
        pdf.set_font(FONT, "", 10)
        y = pdf.get_y()
        pdf.multi_cell(epw, 5, report.disclosure, align="L", fill=True, padding=2, **nl)
        pdf.set_draw_color(*BLUE)
        pdf.set_line_width(1.2)
        pdf.line(MARGIN, y, MARGIN, pdf.get_y())
        pdf.set_draw_color(0, 0, 0)
        pdf.ln(5)
        heading("At a glance", 15, rule=True)
        for label, big, small in cards(report):
            pdf.set_font(FONT, "", 10)
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(epw, 5, label, align="L", **nl)
            pdf.set_text_color(*INK)
            pdf.set_font(FONT, "B", 18)
            pdf.cell(40, 9, big)
            pdf.set_font(FONT, "", 10)
            pdf.cell(0, 9, small, **nl)
            pdf.ln(2)
        section, fresh = None, False
        for t in report.tables:
            if t.section != section:
                section = t.section
                pdf.add_page()
                heading(section, 15, rule=True)
                fresh = True
            image = drawn(t)
            room = 12 + (image[2] if image else 30)  # the heading and what follows it
            if not fresh and pdf.get_y() + room > bottom:
                pdf.add_page()
            fresh = False
            if t.title != section:
                heading(t.title, 11.5)
            if image:
                chart(t, image)
            table_of(t)
            if t.note:
                text(t.note, 8, MUTED)
            pdf.ln(3)
        return bytes(pdf.output())
