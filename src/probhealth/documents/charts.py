"""Charts for the health needs report as inline SVG, drawn from the protected tables only.

No plotting library: a bar or line chart of a few dozen marks is a few lines of SVG, and drawing
it here keeps the HTML report one self-contained, deterministic file that opens offline. Every
chart has a title, axis labels, the value printed beside each bar and a text alternative
(``<title>`` and ``<desc>``); the table under each chart gives the same figures.

Disclosure control is the table's: a cell the table shows as ``<5`` or ``*`` is drawn with no
bar, only that text; a percentage the table withholds (``None``) is drawn as "no %". Nothing
here reads a raw count. Colours are the Okabe-Ito set (safe for colour-blind readers); series
also differ by dash pattern and marker shape, so a greyscale print still tells them apart.
Text is escaped: labels come from rules and directory files and must not inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
LABEL_W = 250  # the label column of a bar chart
PLOT_W = 360  # bar area; the value label follows the bar
FONT = 13
CHAR_W = 6.9  # an average glyph width at FONT px, for wrapping labels
BAR = "#4a7fb8"  # mid blue: 4:1 against white, a black interval still shows on it
INK = "#1b1b1b"
MUTED = "#4a4f55"
GRID = "#d0d4d8"
CI_INK = "#000000"
# Okabe-Ito, darkest first; with dashes and markers, series stay apart in greyscale.
SERIES = (
    ("#0072B2", "", "circle"),
    ("#D55E00", "6 3", "square"),
    ("#009E73", "2 3", "triangle"),
    ("#CC79A7", "9 3 2 3", "diamond"),
    ("#000000", "1 0", "cross"),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no bar (suppressed or withheld)
    text: str  # what is printed beside the bar: "58.7%", "<5", "no %"
    ci: tuple[float, float] | None = None
    heading: bool = False  # a group's name on a line of its own (no bar)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def wrap(text: str, width_px: float, max_lines: int = 3) -> list[str]:
    """``text`` broken into lines of about ``width_px`` (the last line ends with … if cut)."""
    per_line = max(8, int(width_px / CHAR_W))
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if len(trial) <= per_line or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: per_line - 1].rstrip() + "…"
    return [line if len(line) <= per_line else line[: per_line - 1] + "…" for line in lines]


def nice_max(top: float) -> float:
    """A round axis maximum at or above ``top`` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= top:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def ticks(top: float) -> list[float]:
    """Axis ticks from 0 to ``top`` at a round step (5 or 4 divisions)."""
    for divisions in (5, 4):
        step = top / divisions
        lead = step / 10 ** math.floor(math.log10(step))
        if any(math.isclose(lead, k) for k in (1, 2, 2.5, 5)):
            return [step * k for k in range(divisions + 1)]
    return [top * k / 4 for k in range(5)]


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    chart_id: str,
    title: str,
    axis_label: str,
    bars: Sequence[Bar],
    *,
    percent: bool = False,
    summary: str = "",
    compact: bool = False,
) -> str:
    """A horizontal bar chart as an ``<svg>`` element (escaped, self-contained); ``compact``:
    thinner rows, for a long chart that should still fit on one printed page."""
    top = 100.0 if percent else nice_max(max([5.0, *(b.value or 0 for b in bars)]))
    if percent:
        peak = max((max(b.value or 0, b.ci[1] if b.ci else 0) for b in bars), default=0)
        top = min(100.0, nice_max(peak)) if peak > 0 else 100.0
    x0 = LABEL_W + 10
    y = 12
    rows: list[str] = []
    for b in bars:
        if b.heading:
            y += 6
            rows.append(f'<text class="grp" x="0" y="{y + 14:.1f}">{_e(b.label)}</text>')
            y += 22
            continue
        lines = wrap(b.label, LABEL_W - 10)
        h = max(16 if compact else 24, 16 * len(lines) + 6)
        bar_h = 11 if compact else 16
        mid = y + h / 2
        first = mid - 8 * (len(lines) - 1)
        spans = "".join(
            f'<tspan x="{LABEL_W}" y="{first + 16 * k + 4.5:.1f}">{_e(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        rows.append(f'<text class="lab" text-anchor="end">{spans}</text>')
        end = float(x0)
        if b.value is not None and b.value > 0:
            w = PLOT_W * min(b.value, top) / top
            end = x0 + w
            rows.append(
                f'<rect class="bar" x="{x0}" y="{mid - bar_h / 2:.1f}" width="{w:.1f}" '
                f'height="{bar_h}" '
                f'fill="{BAR}"/>'
            )
        if b.ci is not None:
            lo, hi = (x0 + PLOT_W * min(v, top) / top for v in b.ci)
            rows.append(
                f'<path class="ci" d="M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 5:.1f}'
                f'V{mid + 5:.1f}M{hi:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="{CI_INK}" '
                'stroke-width="1.5" fill="none"/>'
            )
            end = max(end, hi)
        rows.append(f'<text class="val" x="{end + 6:.1f}" y="{mid + 4.5:.1f}">{_e(b.text)}</text>')
        y += h + (2 if compact else 4)
    bottom = y + 4
    grid = []
    for v in ticks(top):
        x = x0 + PLOT_W * v / top
        grid.append(
            f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{_e(_num(v))}{'%' if percent else ''}</text>"
        )
    height = bottom + 44
    return _svg(
        chart_id,
        title,
        summary or _describe(bars, axis_label),
        height,
        [
            *grid,
            f'<line x1="{x0}" y1="6" x2="{x0}" y2="{bottom}" stroke="{INK}"/>',
            *rows,
            f'<text class="axis" x="{x0 + PLOT_W / 2:.1f}" y="{bottom + 36}" '
            f'text-anchor="middle">{_e(axis_label)}</text>',
        ],
    )


def _describe(bars: Sequence[Bar], axis_label: str) -> str:
    shown = "; ".join(f"{b.label} —" if b.heading else f"{b.label}: {b.text}" for b in bars)
    shown = shown.replace(" —; ", " — ")
    return f"{axis_label}. {shown}." if bars else f"{axis_label}: nothing to show."


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None: not shown (withheld)


def line_chart(
    chart_id: str,
    title: str,
    axis_label: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    summary: str = "",
) -> str:
    """A line chart of percentages by month (gaps where a value is withheld)."""
    x0, x1, y0, y1 = 64, WIDTH - 20, 12, 268
    peak = max((v for s in series for v in s.values if v is not None), default=0)
    top = min(100.0, nice_max(peak)) if peak > 0 else 100.0
    n = len(x_labels)

    def px(i: int) -> float:
        return x0 + (x1 - x0) * (i + 0.5) / max(n, 1)

    def py(v: float) -> float:
        return y1 - (y1 - y0) * min(v, top) / top

    parts: list[str] = []
    for v in ticks(top):
        parts.append(
            f'<line x1="{x0}" y1="{py(v):.1f}" x2="{x1}" y2="{py(v):.1f}" stroke="{GRID}"/>'
            f'<text class="tick" x="{x0 - 6}" y="{py(v) + 4:.1f}" text-anchor="end">'
            f"{_e(_num(v))}%</text>"
        )
    step = max(1, math.ceil(n / 8))
    for i, label in enumerate(x_labels):
        if (n - 1 - i) % step == 0:  # counted back from the latest month, always labelled
            parts.append(
                f'<text class="tick" x="{px(i):.1f}" y="{y1 + 16}" text-anchor="middle">'
                f"{_e(label)}</text>"
            )
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{INK}"/>')
    for k, s in enumerate(series):
        colour, dash, marker = SERIES[k % len(SERIES)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, point in enumerate(s.values):
            if point is None:
                runs.append([])
            else:
                runs[-1].append((px(i), py(point)))
        for run in runs:
            if len(run) > 1:
                d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in run)
                parts.append(
                    f'<path class="line" d="{d}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{_dash(dash)}/>'
                )
            for x, y in run:
                parts.append(_marker(marker, x, y, colour))
    # Legend, under the plot: a line sample with its marker, then the name.
    ly = y1 + 40.0
    lx = float(x0)
    for k, s in enumerate(series):
        colour, dash, marker = SERIES[k % len(SERIES)]
        width = 44 + CHAR_W * len(s.name) + 18
        if lx + width > WIDTH:
            lx, ly = float(x0), ly + 20
        parts.append(
            f'<path d="M{lx} {ly}h30" stroke="{colour}" stroke-width="2"'
            f"{_dash(dash)}/>"
            + _marker(marker, lx + 15, ly, colour)
            + f'<text class="lab" x="{lx + 36}" y="{ly + 4.5}">{_e(s.name)}</text>'
        )
        lx += width
    parts.append(
        f'<text class="axis" transform="translate(14 {(y0 + y1) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{_e(axis_label)}</text>'
    )
    desc = summary or _describe_lines(x_labels, series, axis_label)
    return _svg(chart_id, title, desc, ly + 20, parts)


def _describe_lines(x_labels: Sequence[str], series: Sequence[Series], axis_label: str) -> str:
    if not x_labels:
        return f"{axis_label}: nothing to show."
    out = []
    for s in series:
        shown = [(x, v) for x, v in zip(x_labels, s.values, strict=False) if v is not None]
        if shown:
            out.append(
                f"{s.name}: {shown[0][1]:.1f}% in {shown[0][0]} to {shown[-1][1]:.1f}% in "
                f"{shown[-1][0]}"
            )
        else:
            out.append(f"{s.name}: no percentage shown")
    return f"{axis_label}, {x_labels[0]} to {x_labels[-1]}. " + "; ".join(out) + "."


def _dash(pattern: str) -> str:
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if kind == "triangle":
        return (
            f'<path d="M{x:.1f} {y - 4.5:.1f}L{x + 4.5:.1f} {y + 3.5:.1f}'
            f'L{x - 4.5:.1f} {y + 3.5:.1f}Z" fill="{colour}"/>'
        )
    if kind == "diamond":
        return (
            f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
            f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>'
        )
    if kind == "cross":
        return (
            f'<path d="M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x - 4:.1f} '
            f'{y + 4:.1f}L{x + 4:.1f} {y - 4:.1f}" stroke="{colour}" stroke-width="2"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _svg(chart_id: str, title: str, desc: str, height: float, parts: Sequence[str]) -> str:
    cid = _e(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d">'
        f'<title id="{cid}-t">{_e(title)}</title><desc id="{cid}-d">{_e(desc)}</desc>'
        + "".join(parts)
        + "</svg>"
    )
