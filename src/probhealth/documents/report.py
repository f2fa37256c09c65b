"""The health needs report as one self-contained HTML file: CSS inline, charts inline as SVG
(:mod:`probhealth.documents.charts`, drawn by matplotlib), no script, no font, image or link fetched from anywhere,
so it opens offline and can be emailed. A Content-Security-Policy forbids any fetch as well.

Accessible: headings per section and table, each chart a labelled image with a text
alternative and the table with the same figures under it, captions, row and column headers,
dark text on white, and print CSS (A4, a page break before each section, tables kept whole).

Only the protected tables are drawn (the service applied disclosure control); every value and
label is escaped by Jinja2 (office names and pathway names from a custom rules file are
untrusted text).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from probhealth.documents import charts

if TYPE_CHECKING:
    import jinja2

# The words under a chart's value axis, by table (default: the value column's label).
AXIS = {
    "since_screening": "People on the caseload",
    "needs": "% of people screened (bars: 95% confidence interval)",
    "flags": "People screened with the flag",
    "access": "% of those asked (bars: 95% confidence interval)",
    "barriers": "People screened with the barrier",
    "declined_reasons": "Referrals declined by the person",
    "trend": "% of people screened that month",
    "by_group": "% of people screened that month",
}
# The series of a headline table drawn by month.
TREND_SERIES = ("mh_pct", "alcohol_pct", "drugs_pct", "co_pct", "no_gp_pct")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def cell(value: Any, kind: str) -> str:
    """A table value as shown: counts with thousands separators, percentages to one decimal,
    intervals as 'low–high', a withheld value as a dash."""
    if value is None:
        return "—"
    if kind == "ci" and isinstance(value, list | tuple) and len(value) == 2:
        return f"{value[0]:.1f}–{value[1]:.1f}"
    if kind == "pct" and isinstance(value, int | float):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def chart_svg(table: Any) -> str | None:
    """The chart of a protected table as inline SVG, or None if it has none."""
    chart = chart_for(table)
    return charts.svg(chart) if chart else None


def chart_for(table: Any) -> charts.Chart | None:
    """The chart of a protected table (what to draw, from its shown cells), or None. The
    table's title is the heading right above its chart (HTML and PDF), so a chart named as
    its table does not draw the name again: its text alternative and caption still give it."""
    if table.chart is None or not table.rows:
        return None
    label_key, value_key = table.chart
    columns = {c.key: c for c in table.columns}
    value_col = columns[value_key]
    chart_id = f"chart-{table.id}"
    axis = AXIS.get(table.id, value_col.label)
    if table.id in ("trend", "by_group") and value_key.endswith("_pct"):
        series = [
            charts.Series(
                columns[k].label.removesuffix(" %"),
                [r.get(k) if isinstance(r.get(k), int | float) else None for r in table.rows],
            )
            for k in TREND_SERIES
            if k in columns
        ]
        return charts.LineChart(
            chart_id,
            table.title,
            axis,
            [str(r.get(label_key)) for r in table.rows],
            series,
            drawn_title=False,
        )
    if table.id == "funnel":
        return _funnel_chart(table, chart_id)
    if value_col.kind == "pct":
        count_of = {pct: num for pct, num, _den in table.pcts}
        ci_key = next((c.key for c in table.columns if c.kind == "ci"), None)
        bars = []
        for r in table.rows:
            v = r.get(value_key)
            ci = r.get(ci_key) if ci_key else None
            if isinstance(v, int | float):
                text = f"{v:.1f}%"
                if isinstance(ci, list | tuple) and len(ci) == 2:
                    text += f" ({ci[0]:.1f}–{ci[1]:.1f})"
                bars.append(
                    charts.Bar(
                        str(r.get(label_key)),
                        float(v),
                        text,
                        (float(ci[0]), float(ci[1])) if isinstance(ci, list | tuple) else None,
                    )
                )
            else:
                count = r.get(count_of.get(value_key, ""))
                shown = count if isinstance(count, str) else "no % (under 10 people)"
                bars.append(charts.Bar(str(r.get(label_key)), None, shown))
        return charts.BarChart(chart_id, table.title, axis, bars, percent=True, drawn_title=False)
    bars = []
    for r in table.rows:
        v = r.get(value_key)
        if isinstance(v, int) and not isinstance(v, bool):
            bars.append(charts.Bar(str(r.get(label_key)), float(v), f"{v:,}"))
        else:
            bars.append(charts.Bar(str(r.get(label_key)), None, cell(v, value_col.kind)))
    return charts.BarChart(chart_id, table.title, axis, bars, drawn_title=False)


FUNNEL_PATHWAYS = 5  # so the chart fits on one printed page


def _funnel_chart(table: Any, chart_id: str) -> charts.BarChart:
    """The funnel of the pathways suggested most, one group of bars each, from the protected
    rows (a total over all pathways would be a new figure to protect, so none is drawn)."""
    steps = [c for c in table.columns if c.kind == "count"]
    bars: list[charts.Bar] = []
    for r in table.rows[:FUNNEL_PATHWAYS]:
        bars.append(charts.Bar(str(r.get("pathway")), None, "", heading=True))
        for c in steps:
            v = r.get(c.key)
            if isinstance(v, int) and not isinstance(v, bool):
                bars.append(charts.Bar(c.label, float(v), f"{v:,}"))
            else:
                bars.append(charts.Bar(c.label, None, cell(v, c.kind)))
    shown = min(len(table.rows), FUNNEL_PATHWAYS)
    return charts.BarChart(
        chart_id,
        f"Referral funnel of the {shown} pathways suggested most",
        "People suggested, then referrals reaching each step",
        bars,
        compact=True,
    )


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("probhealth.documents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell
    env.filters["slug"] = slug
    return env


def render_report_html(report: Any, generated: str) -> str:
    """The report as an HTML page (``generated``: when it was made, as shown)."""
    from markupsafe import Markup

    sections: list[dict[str, Any]] = []
    for tbl in report.tables:
        if not sections or sections[-1]["name"] != tbl.section:
            sections.append({"name": tbl.section, "id": f"part-{slug(tbl.section)}", "tables": []})
        chart = chart_for(tbl)
        sections[-1]["tables"].append(
            {
                "t": tbl,
                "columns": [c for c in tbl.columns if not c.hidden],
                # SVG built by charts.py, every text in it escaped there.
                "chart": Markup(charts.svg(chart)) if chart else None,
                "caption": chart.title if chart else "",
            }
        )
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        period=period(report),
        offices=", ".join(report.offices) or "all offices",
        sections=sections,
        cards=cards(report),
        generated=generated,
    )


def period(report: Any) -> str:
    since, until = report.period
    start = f"from {since.isoformat()}" if since else "from the start of the records"
    return f"{start} to {until.isoformat()}"


def cards(report: Any) -> list[tuple[str, str, str]]:
    """The headline figures: (what, the number, a percentage in words)."""
    h = report.headlines
    return [
        ("People on the caseload", cell(h.get("people"), "count"), ""),
        (
            "Screened",
            cell(h.get("screened"), "count"),
            _pct_words(h.get("screened_pct"), "of the caseload"),
        ),
        (
            "Declined screening",
            cell(h.get("declined"), "count"),
            _pct_words(h.get("declined_pct"), "of the caseload"),
        ),
        (
            "Two or more of mental health, alcohol and drugs",
            cell(h.get("co_occurring"), "count"),
            _pct_words(h.get("co_occurring_pct"), "of people screened"),
        ),
    ]


def _pct_words(value: Any, of: str) -> str:
    return f"{value:.1f}% {of}" if isinstance(value, int | float) else "no percentage shown"
