"""Charts for the health needs report, drawn by matplotlib from the protected tables only.

A chart is described first (:class:`BarChart`, :class:`LineChart`: labels, values and the text
printed beside each bar, all taken from a protected table), then drawn: :func:`svg` for the
HTML report (inline, deterministic: the same data gives the same bytes, no date, no creator,
ids salted by the chart's id so several charts share one page), :func:`png` for the PDF.
matplotlib is imported here only, when a chart is drawn, with no GUI backend (a bare
:class:`~matplotlib.figure.Figure` printed to SVG or Agg), so ``--help`` and every other
command never load it. Before its first import (:func:`_matplotlib`): unless MPLCONFIGDIR is
set, its font list is cached in probhealth's own cache folder (0700; a private temporary
folder if that cannot be made), not in a folder shared with other programs, and a user's
matplotlibrc cannot change the charts; its log messages ("building the font cache",
"created a temporary cache directory") are not printed on the person's terminal.

Every chart has a title, axis labels, the value printed beside each bar and a text
alternative (``<title>`` and ``<desc>``, ``role="img"``); the table under each chart gives
the same figures. Disclosure control is the table's: a cell the table shows as ``<5`` or
``*`` is drawn with no bar, only that text; a percentage the table withholds is drawn as "no
%". Nothing here reads a raw count.

Colours are Okabe-Ito (safe for colour-blind readers). Bars are one light colour with a black
edge and black interval whiskers, so they read in greyscale; lines differ by dash pattern and
marker shape as well as colour. Labels are untrusted text (rules and directory files): math
parsing is off and matplotlib escapes text in SVG; the ``<title>`` and ``<desc>`` added here
are escaped too.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN = 7.5  # inches; 720 px in a browser at 96 dpi
FONT_PT = 9.5
LABEL_CHARS = 34  # a label column of about 2.4 inches, wrapped
BAR = "#56B4E9"  # Okabe-Ito sky blue: light grey in greyscale, a black whisker shows on it
EDGE = "#000000"
INK = "#1b1b1b"
MUTED = "#4a4f55"
GRID = "#d0d4d8"
# Okabe-Ito, darkest first; with dashes and markers, series stay apart in greyscale.
SERIES = (
    ("#0072B2", "-", "o"),
    ("#D55E00", "--", "s"),
    ("#009E73", ":", "^"),
    ("#CC79A7", "-.", "D"),
    ("#000000", (0, (1, 1)), "X"),
)
RC: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, read by screen readers
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": FONT_PT,
    "text.parse_math": False,  # a "$" in a pathway name is a dollar sign
    "text.usetex": False,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "hatch.linewidth": 0.8,
}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no bar (suppressed or withheld)
    text: str  # what is printed beside the bar: "58.7%", "<5", "no %"
    ci: tuple[float, float] | None = None
    heading: bool = False  # a group's name on a line of its own (no bar)


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    axis_label: str
    bars: Sequence[Bar]
    percent: bool = False
    compact: bool = False  # thinner rows, for a long chart that should fit on one page
    summary: str = ""
    drawn_title: bool = True  # False: a heading right above says it (the alt text still does)

    @property
    def description(self) -> str:
        return self.summary or _describe(self.bars, self.axis_label)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None: not shown (withheld)


@dataclass(frozen=True)
class LineChart:
    chart_id: str
    title: str
    axis_label: str
    x_labels: Sequence[str]
    series: Sequence[Series]
    summary: str = ""
    drawn_title: bool = True  # False: a heading right above says it (the alt text still does)

    @property
    def description(self) -> str:
        return self.summary or _describe_lines(self.x_labels, self.series, self.axis_label)


Chart = BarChart | LineChart


_READY: list[bool] = []


def _matplotlib() -> Any:
    """matplotlib, set up on first use (see the module's notes)."""
    if not _READY:
        # A CLI prints its own messages: matplotlib's warnings (a font cache being built,
        # an unwritable config folder) go nowhere unless the program configures logging.
        logging.getLogger("matplotlib").addHandler(logging.NullHandler())
        if not os.environ.get("MPLCONFIGDIR"):
            os.environ["MPLCONFIGDIR"] = str(_config_dir())
        _READY.append(True)
    import matplotlib as mpl

    return mpl


def _config_dir() -> str:
    """probhealth's cache folder for matplotlib (0700), or a private temporary folder."""
    from probhealth.paths import cache_dir

    folder = cache_dir() / "matplotlib"
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch(mode=0o600)
        probe.unlink()
        return str(folder)
    except OSError:
        import atexit
        import shutil
        import tempfile

        temporary = tempfile.mkdtemp(prefix="probhealth-matplotlib-")  # 0700
        atexit.register(shutil.rmtree, temporary, True)
        return temporary


def _e(text: object) -> str:
    return escape(str(text), quote=True)


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


def wrap(text: str, chars: int = LABEL_CHARS, max_lines: int = 3) -> str:
    """``text`` broken into lines of about ``chars`` (the last line ends with … if cut)."""
    lines = textwrap.wrap(text, chars, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: chars - 1].rstrip() + "…"
    return "\n".join(lines)


# ------------------------------------------------------------------ drawing ---------------
def figure(chart: Chart) -> Figure:
    """The chart as a matplotlib figure (no GUI: printed to SVG or PNG by the caller)."""
    mpl = _matplotlib()

    with mpl.rc_context(RC):
        if isinstance(chart, LineChart):
            return _line_figure(chart)
        return _bar_figure(chart)


def _bar_figure(chart: BarChart) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    bars = list(chart.bars)
    values = [b.value or 0.0 for b in bars]
    if chart.percent:
        peak = max((max(b.value or 0, b.ci[1] if b.ci else 0) for b in bars), default=0)
        top = min(100.0, nice_max(peak)) if peak > 0 else 100.0
    else:
        top = nice_max(max([5.0, *values]))
    row_in = 0.22 if chart.compact else 0.30
    lines = [wrap(b.label).count("\n") + 1 for b in bars]
    rows_in = sum(max(row_in, 0.16 * n + 0.06) for n in lines)
    head_in, foot_in = (0.42 if chart.drawn_title else 0.12), 0.62
    height = max(1.6, rows_in + head_in + foot_in)
    fig = Figure(figsize=(WIDTH_IN, height))
    ax = fig.add_axes(
        (0.36, foot_in / height, 0.44, 1 - (head_in + foot_in) / height),
    )
    # Each row's y is the middle of its share of the height, so tall (wrapped) rows get room.
    ys: list[float] = []
    y = 0.0
    for n in lines:
        h = max(row_in, 0.16 * n + 0.06)
        ys.append(y + h / 2)
        y += h
    ax.set_ylim(y, 0)
    ax.set_xlim(0, top)
    thick = 0.13 if chart.compact else 0.18
    for i, (b, yi) in enumerate(zip(bars, ys, strict=True)):
        ax.text(
            -0.02,
            yi,
            wrap(b.label),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontweight="bold" if b.heading else "normal",
            fontsize=FONT_PT + (0.5 if b.heading else 0),
            color=INK,
            gid=f"row-{i}-label",
            clip_on=False,
        )
        if b.heading:
            continue
        end = 0.0
        if b.value is not None and b.value > 0:
            drawn = min(b.value, top)
            ax.barh(
                yi,
                drawn,
                height=thick,
                color=BAR,
                edgecolor=EDGE,
                linewidth=0.6,
                gid=f"row-{i}-bar",
            )
            end = drawn
        if b.ci is not None:
            lo, hi = (min(v, top) for v in b.ci)
            # One line with a cap at each end: the interval, drawn in black over the bar.
            ax.plot(
                [lo, hi],
                [yi, yi],
                color=EDGE,
                linewidth=1.2,
                marker="|",
                markersize=7,
                markeredgewidth=1.2,
                gid=f"row-{i}-ci",
            )
            end = max(end, hi)
        ax.text(
            end + top * 0.012,
            yi,
            b.text,
            ha="left",
            va="center",
            color=INK,
            fontstyle="normal" if b.value else "italic",
            gid=f"row-{i}-value",
            clip_on=False,
        )
    ax.set_xticks(ticks(top))
    suffix = "%" if chart.percent else ""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{_num(v)}{suffix}"))
    ax.set_yticks([])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(chart.axis_label, fontweight="bold")
    _title(fig, chart)
    return fig


def _line_figure(chart: LineChart) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    n = len(chart.x_labels)
    peak = max((v for s in chart.series for v in s.values if v is not None), default=0)
    top = min(100.0, nice_max(peak)) if peak > 0 else 100.0
    fig = Figure(figsize=(WIDTH_IN, 3.9 if chart.drawn_title else 3.6))
    ax = fig.add_axes((0.11, 0.30, 0.86, 0.58) if chart.drawn_title else (0.11, 0.32, 0.86, 0.64))
    xs = list(range(n))
    for k, s in enumerate(chart.series):
        colour, dash, marker = SERIES[k % len(SERIES)]
        ys = [math.nan if v is None else float(v) for v in s.values]
        ax.plot(
            xs,
            ys,
            color=colour,
            linestyle=dash,
            marker=marker,
            markersize=5,
            linewidth=1.8,
            label=s.name,
            gid=f"series-{k}",
        )
    ax.set_xlim(-0.5, max(n - 0.5, 0.5))
    ax.set_ylim(0, top)
    ax.set_yticks(ticks(top))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{_num(v)}%"))
    step = max(1, math.ceil(n / 8))
    shown = [i for i in xs if (n - 1 - i) % step == 0]  # counted back from the latest month
    ax.set_xticks(shown, [chart.x_labels[i] for i in shown])
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_ylabel(chart.axis_label, fontweight="bold")
    ax.set_xlabel("Month", fontweight="bold")
    if chart.series:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.22),
            ncol=min(3, len(chart.series)),
            frameon=False,
            handlelength=3,
        )
    _title(fig, chart)
    return fig


def _title(fig: Figure, chart: Chart) -> None:
    if chart.drawn_title:
        fig.suptitle(chart.title, x=0.02, ha="left", fontweight="bold", fontsize=FONT_PT + 2)


# ------------------------------------------------------------------ output ----------------
def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element for inline HTML: deterministic, ids prefixed with the
    chart's id (unique on the page), a ``<title>`` and ``<desc>`` as its text alternative."""
    mpl = _matplotlib()

    fig = figure(chart)
    buf = io.StringIO()
    with mpl.rc_context({**RC, "svg.hashsalt": chart.chart_id}):
        fig.savefig(buf, format="svg", metadata=NO_METADATA)
    return _inline(buf.getvalue(), chart)


def png(chart: Chart, dpi: int = 200) -> bytes:
    """The chart as a PNG (for the PDF report)."""
    mpl = _matplotlib()

    fig = figure(chart)
    buf = io.BytesIO()
    with mpl.rc_context(RC):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _inline(text: str, chart: Chart) -> str:
    cid = re.sub(r"[^A-Za-z0-9_-]", "-", chart.chart_id)
    body = text[text.index("<svg") :]
    body = re.sub(r'\bid="([^"]+)"', rf'id="{cid}-\1"', body)
    body = re.sub(r"url\(#([^)]+)\)", rf"url(#{cid}-\1)", body)
    body = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{cid}-\1"', body)
    head, rest = body.split(">", 1)
    return (
        f'{head} class="chart" id="{cid}" role="img" aria-labelledby="{cid}-t {cid}-d">'
        f'<title id="{cid}-t">{_e(chart.title)}</title>'
        f'<desc id="{cid}-d">{_e(chart.description)}</desc>' + rest.strip()
    )


# ------------------------------------------------------------------ text alternatives -----
def _describe(bars: Sequence[Bar], axis_label: str) -> str:
    shown = "; ".join(f"{b.label} —" if b.heading else f"{b.label}: {b.text}" for b in bars)
    shown = shown.replace(" —; ", " — ")
    return f"{axis_label}. {shown}." if bars else f"{axis_label}: nothing to show."


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
