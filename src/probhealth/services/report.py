"""The health needs report for commissioners (``probhealth report``): caseload and reach, needs
with 95% confidence intervals, access to primary care and prevention, barriers, the referral
funnel per pathway, service gaps, health trainer outcomes and monthly trends.

The counting is done by ``store.report`` in the database; this module turns the grouped rows
into tables and applies disclosure control, as NHS and ONS publications do: a count from 1 to
``threshold - 1`` is shown as ``<threshold``; where a published total, an identity across
tables (people = screened + never screened) or a percentage would reveal a hidden count, a
second count is hidden too (``*``, which may be large); no percentage is given on a
denominator under 10, or where its count or its denominator is hidden. JSON, CSV, the terminal and HTML all show the protected tables
only. Nothing identifying is in them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from probhealth import clock, taxonomy
from probhealth.errors import BadInput
from probhealth.rules.model import RuleSet
from probhealth.store.db import Store

BY = ("office", "month", "sex", "age-band")
MIN_DENOMINATOR = 10
DEFAULT_THRESHOLD = 5
HIDDEN = "*"
SAME = "_same"  # a raw row's field: {column: the count's name wherever else it is published}
Cell = tuple[Any, ...]  # a published count: (table id, row, column) or a shared name
Rate = tuple[Cell, Cell, Cell]  # a percentage or interval: its count, denominator, and itself


@dataclass(frozen=True)
class Options:
    since: date | None = None
    until: date | None = None
    offices: tuple[str, ...] = ()
    by: str = "office"
    threshold: int = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # text | count | pct | ci | days
    hidden: bool = False  # in JSON and CSV, not in the terminal or HTML tables
    short: str = ""  # a narrower heading for the terminal

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "kind": self.kind}


@dataclass
class Table:
    id: str
    section: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""
    pcts: list[tuple[str, str, str]] = field(default_factory=list)  # (pct, count, denominator)
    cis: list[tuple[str, str, str]] = field(default_factory=list)
    row_sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    col_sums: list[str] = field(default_factory=list)  # columns whose rows add to a total shown
    # Identities by shared names (:data:`SAME`), across tables: whole = sum of the parts.
    sums: list[tuple[Cell, tuple[Cell, ...]]] = field(default_factory=list)
    chart: tuple[str, str] | None = None  # (label column, value column) worth drawing
    # Rows in the order of these counts (most first), by their protected values, so a row's
    # place says nothing of a hidden count; or in the order of another table's rows.
    order: tuple[str, ...] = ()
    follow: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "title": self.title,
            "note": self.note,
            "columns": [c.to_json() for c in self.columns],
            "rows": self.rows,
        }


@dataclass
class Report:
    period: tuple[date | None, date]
    offices: tuple[str, ...]
    by: str
    threshold: int
    tables: list[Table]
    headlines: dict[str, Any]

    @property
    def disclosure(self) -> str:
        t = self.threshold
        return (
            f"Small numbers: counts from 1 to {t - 1} are shown as <{t}; where a total or "
            f"another table would reveal them, another count is hidden ({HIDDEN}, which may be "
            f"large). No percentage is given for fewer than {MIN_DENOMINATOR} people, or where "
            "its count or the count it is out of is hidden."
        )

    @property
    def footnote(self) -> str:
        """The rule in one short line, for the foot of each printed page."""
        t = self.threshold
        return (
            f"Small numbers: 1 to {t - 1} shown as <{t}; {HIDDEN} another count hidden "
            "(may be large); — not shown. See page 1."
        )

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {
                "since": self.period[0].isoformat() if self.period[0] else None,
                "until": self.period[1].isoformat(),
            },
            "offices": list(self.offices) or "all",
            "by": self.by,
            "disclosure": self.disclosure,
            "headlines": self.headlines,
            "tables": [t.to_json() for t in self.tables],
        }


# ------------------------------------------------------------------ disclosure control -----
def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion k/n, in percent."""
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1)


def _small(value: Any, threshold: int) -> bool:
    return isinstance(value, int) and 0 < value < threshold


def _name(table: Table, i: int, row: dict[str, Any], key: str) -> Cell:
    """The count a cell shows. Two cells with one name are the same count in two tables (a
    pathway's suggestions in the funnel and in "no local service"): hidden in one, hidden in
    both."""
    same = row.get(SAME) or {}
    return ("=", *same[key]) if key in same else (table.id, i, key)


def protect(table: Table, threshold: int) -> Table:
    """Disclosure control of one table on its own (see :func:`protect_all`)."""
    protect_all([table], threshold)
    return table


def protect_all(tables: Sequence[Table], threshold: int) -> list[Table]:
    """One suppression pass over every table of a report, so a count hidden in one table is
    hidden wherever it appears, or wherever published figures would give it back.

    Primary: a count from 1 to ``threshold - 1`` is hidden. Secondary, until nothing changes:
    for every group of counts that adds up to a total (a row's parts and its total; a column
    whose rows add up to a total published elsewhere; the identities across tables, as
    people = screened + never screened, given by :attr:`Table.sums`), one hidden count is
    the total less the rest, and two or more that add up to less than the threshold narrow
    to a few (1 + 1 = 2 can only be 1 and 1); a hidden total with every part shown is their
    sum. Each time one more count is hidden, the one that loses least: the fewest published
    figures (counts and the percentages resting on them, after what hiding it sets off),
    then the smallest. Cells that show the same count in two tables share a name
    (:data:`SAME`), so a count hidden in one is hidden in the other.

    A percentage (or interval) gives back its count from its denominator, and its
    denominator from its count (13 at 72.2% is 13 of 18): both are counts of the report, even
    where the denominator is not a column, and a percentage is shown only where neither is
    hidden."""
    raws = [[dict(r) for r in t.rows] for t in tables]
    value: dict[Cell, int] = {}
    shown: set[Cell] = set()  # counts published as such (not only behind a percentage)
    rates: list[Rate] = []  # each percentage or interval that may show
    for t, raw in zip(tables, raws, strict=True):
        count_keys = [c.key for c in t.columns if c.kind == "count"]
        behind = [k for _key, num, den in (*t.pcts, *t.cis) for k in (num, den)]
        for i, row in enumerate(raw):
            for k in dict.fromkeys((*count_keys, *behind)):
                v = row.get(k)
                if isinstance(v, int) and not isinstance(v, bool):
                    name = _name(t, i, row, k)
                    value[name] = max(value.get(name, 0), v)
                    if k in count_keys:
                        shown.add(name)
            for key, num, den in (*t.pcts, *t.cis):
                n, d = row.get(num), row.get(den)
                if isinstance(n, int) and isinstance(d, int) and d >= MIN_DENOMINATOR:
                    rates.append((_name(t, i, row, num), _name(t, i, row, den), (t.id, i, key)))
    hidden: set[Cell] = {name for name, v in value.items() if _small(v, threshold)}

    groups: list[tuple[Cell | None, list[Cell]]] = []
    for t, raw in zip(tables, raws, strict=True):
        for i, row in enumerate(raw):
            for total, parts in t.row_sums:
                groups.append((_name(t, i, row, total), [_name(t, i, row, p) for p in parts]))
        for k in t.col_sums:
            # The rows of a column add up to a total published elsewhere (or worked out
            # from another table's rows): assume the reader knows it.
            groups.append((None, [_name(t, i, row, k) for i, row in enumerate(raw)]))
        groups.extend((("=", *whole), [("=", *p) for p in parts]) for whole, parts in t.sums)
    _Suppress(groups, value, shown, rates, threshold).settle(hidden)

    for t, raw in zip(tables, raws, strict=True):
        keys = {c.key for c in t.columns}
        count_keys = [c.key for c in t.columns if c.kind == "count"]
        rows = []
        for i, row in enumerate(raw):
            shut = {k for k in row if k != SAME and _name(t, i, row, k) in hidden}
            # Only the table's columns leave: a denominator kept for a percentage (people
            # screened at an office, say) is published only through the percentage.
            out = {k: v for k, v in row.items() if k in keys}
            for k in count_keys:
                if k in shut:
                    out[k] = f"<{threshold}" if _small(row.get(k), threshold) else HIDDEN
            for key, num, den in t.pcts:
                out[key] = _pct(row, num, den, shut)
            for key, num, den in t.cis:
                pct = _pct(row, num, den, shut)
                out[key] = None if pct is None else list(wilson(row[num], row[den]))
            rows.append(out)
        t.rows = rows
    _reorder(tables, threshold)
    return list(tables)


def _reorder(tables: Sequence[Table], threshold: int) -> None:
    """Sort rows by their shown counts, most first: a count shown as <5 sits just above the
    zeros, a hidden one (``*``) at the end, and equals by their label. Sorted by the counts
    before they were hidden, the rows would place a hidden count between its neighbours."""

    def label(t: Table) -> str:
        return next((c.key for c in t.columns if c.kind == "text"), "")

    def rank(v: Any) -> float:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return -float(v)
        return -(threshold - 0.5) if v == f"<{threshold}" else math.inf

    for t in tables:
        if t.order:
            key = label(t)
            t.rows.sort(key=lambda r: (*(rank(r.get(k)) for k in t.order), str(r.get(key))))
    by_id = {t.id: t for t in tables}
    for t in tables:
        if t.follow in by_id:
            lead = by_id[t.follow]
            place = {str(r.get(label(lead))): i for i, r in enumerate(lead.rows)}
            key = label(t)
            t.rows.sort(key=lambda r: (place.get(str(r.get(key)), len(place)), str(r.get(key))))


class _Suppress:
    """Secondary suppression over groups of counts that add up (see :func:`protect_all`)."""

    def __init__(
        self,
        groups: list[tuple[Cell | None, list[Cell]]],
        value: dict[Cell, int],
        shown: set[Cell],
        rates: list[Rate],
        threshold: int,
    ) -> None:
        # A total not among these tables' counts is taken as known to the reader.
        self.groups = [
            (
                whole if whole in value else None,
                [p for p in dict.fromkeys(parts) if p in value and p != whole],
            )
            for whole, parts in groups
        ]
        self.value = value
        self.shown = shown
        self.threshold = threshold
        self.of: dict[Cell, list[int]] = {}
        for g, (whole, parts) in enumerate(self.groups):
            for c in (*parts, *([whole] if whole is not None else [])):
                self.of.setdefault(c, []).append(g)
        self.rates_of: dict[Cell, list[Rate]] = {}
        for rate in rates:
            for c in dict.fromkeys(rate[:2]):
                self.rates_of.setdefault(c, []).append(rate)

    def wanting(self, g: int, hidden: set[Cell]) -> list[Cell]:
        """The counts of group ``g`` one of which must be hidden too (none: it is safe)."""
        whole, parts = self.groups[g]
        inside = [p for p in parts if p in hidden]
        if whole is not None and whole in hidden:
            # A hidden total is the sum of its parts: with every part shown, hide one.
            return [] if inside else list(parts)
        if not inside or (len(inside) > 1 and sum(self.value[p] for p in inside) >= self.threshold):
            return []
        rest = [p for p in parts if p not in hidden]
        return rest + ([whole] if whole is not None else [])

    def cost(self, cell: Cell, hidden: set[Cell]) -> int:
        """Published figures lost by hiding ``cell``: itself, and each percentage or interval
        resting on it that is shown now."""
        lost = sum(
            1 for n, d, _at in self.rates_of.get(cell, ()) if n not in hidden and d not in hidden
        )
        return lost + (cell in self.shown)

    def settle(
        self, hidden: set[Cell], queue: list[int] | None = None, look: bool = True
    ) -> set[Cell]:
        """Hide counts until no group gives a hidden one back; returns those hidden here."""
        todo = deque(range(len(self.groups)) if queue is None else queue)
        waiting = set(todo)
        added: set[Cell] = set()
        while todo:
            g = todo.popleft()
            waiting.discard(g)
            options = self.wanting(g, hidden)
            if not options:
                continue
            pick = (
                self.choose(g, options, hidden)
                if look and len(options) > 1
                else min(options, key=lambda c: self.rank(c, hidden))
            )
            hidden.add(pick)
            added.add(pick)
            for h in (g, *self.of.get(pick, ())):
                if h not in waiting:
                    waiting.add(h)
                    todo.append(h)
        return added

    def rank(self, cell: Cell, hidden: set[Cell]) -> tuple[int, bool, int, str]:
        v = self.value[cell]
        return (self.cost(cell, hidden), v == 0, v, repr(cell))

    def choose(self, g: int, options: list[Cell], hidden: set[Cell]) -> Cell:
        """The option that loses least once what it sets off is settled too (each further
        choice by its own loss), the smallest of equals: ONS practice."""
        whole, parts = self.groups[g]
        guarded = [p for p in (*parts, whole) if p is not None and p in hidden]
        near = {h for c in guarded for h in self.of.get(c, ())}

        def loss(cell: Cell) -> tuple[int, bool, int, str]:
            trial = set(hidden)
            trial.add(cell)
            more = self.settle(trial, [*near, *self.of.get(cell, ())], look=False)
            lost = sum(1 for c in (cell, *more) if c in self.shown)
            gone = {cell, *more}
            rates = {
                r
                for c in gone
                for r in self.rates_of.get(c, ())
                if r[0] not in hidden and r[1] not in hidden
            }
            v = self.value[cell]
            return (lost + len(rates), v == 0, v, repr(cell))

        return min(options, key=loss)


def _pct(row: dict[str, Any], num: str, den: str, shut: set[str]) -> float | None:
    n, d = row.get(num), row.get(den)
    if not isinstance(n, int) or not isinstance(d, int) or d < MIN_DENOMINATOR:
        return None
    if num in shut or den in shut:
        return None
    return round(100 * n / d, 1)


# ------------------------------------------------------------------ building ---------------
def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.london()).astimezone(clock.now().tzinfo)


# A flag's title speaks to the worker at the screening ("You are worried about suicide or
# self-harm"); the questionnaire has no other label for it, so the report, read by someone who
# was not there, names the worker instead. The questionnaire's wording stays as it is.
_TO_WORKER = (("You are ", "Worker "), ("You were ", "Worker was "), ("Your ", "Worker's "))


def flag_label(title: str) -> str:
    """A safety flag's title as a label for the report's reader: "You are worried about X"
    becomes "Worker worried about X"; a title about the person is kept."""
    for you, worker in _TO_WORKER:
        if title.startswith(you):
            return worker + title[len(you) :]
    return title


def words(code: str | None) -> str:
    if not code:
        return "Not recorded"
    return code.replace("-", " ").replace("_", " ").capitalize()


_UP_TO_DATE = {
    "bowel_screening_last": ("Bowel cancer screening (50-74)", ('"within-2-years"',)),
    "breast_screening_last": ("Breast screening (women 50-70)", ('"within-3-years"',)),
    "cervical_screening_last": (
        "Cervical screening (25-64)",
        ('"within-3-years"', '"3-5-years"'),
    ),
    "aaa_screening": ("AAA screening (men 65+)", ('"yes"',)),
}


def build(store: Store, rules: RuleSet, o: Options) -> Report:
    from probhealth.store import report as q

    if o.by not in BY:
        raise BadInput(f"{{opt:by}} must be one of {', '.join(BY)}.")
    if o.threshold < 2 or o.threshold > 20:
        raise BadInput("{opt:suppress-below} must be a whole number from 2 to 20.")
    end = o.until or clock.today()
    if o.since and o.since > end:
        raise BadInput("{opt:until} is before {opt:since}.")
    pathways = tuple(
        q.PathwayInfo(p.id, p.domain, p.shares_information, p.adjustment) for p in rules.pathways
    )
    scope = q.Scope(
        since=_instant(o.since) if o.since else None,
        until=_instant(end + timedelta(days=1)),
        end_day=end,
        offices=tuple(x.casefold() for x in o.offices),
        by=o.by,
        pathways=pathways,
    )
    with store.raw() as conn:
        raw = q.aggregate(conn, scope)
    names = {p.id: p.name for p in rules.pathways}
    tables = _tables(raw, names, o, frozenset(p.id for p in rules.pathways if p.adjustment))
    protect_all(tables, o.threshold)
    reach = tables[0].rows[0]
    headlines = {
        k: reach[k] for k in ("people", "screened", "screened_pct", "declined", "declined_pct")
    }
    co = next(t for t in tables if t.id == "co_occurring").rows[0]
    headlines["co_occurring"] = co["two_plus"]
    headlines["co_occurring_pct"] = co["two_plus_pct"]
    return Report((o.since, end), o.offices, o.by, o.threshold, tables, headlines)


def _shown(n: int, threshold: int) -> str:
    """A count written into a sentence, protected like a table's."""
    return f"<{threshold}" if 0 < n < threshold else f"{n:,}"


def _i(v: Any) -> int:
    return int(v or 0)


def _tables(
    raw: Any, names: dict[str, str], o: Options, adjustments: frozenset[str] = frozenset()
) -> list[Table]:
    people, screened, declined = (_i(v) for v in raw["caseload"][0])
    out: list[Table] = []
    out.append(
        Table(
            "reach",
            "Caseload and reach",
            "Caseload and reach",
            [
                Column("people", "People"),
                Column("screened", "Screened"),
                Column("screened_pct", "% screened", "pct"),
                Column("declined", "Declined screening"),
                Column("declined_pct", "% declined", "pct"),
            ],
            [
                {
                    "people": people,
                    "screened": screened,
                    "declined": declined,
                    SAME: {"people": ("people",), "screened": ("screened",)},
                }
            ],
            note="People on the caseload; screened: a screening completed in the period.",
            pcts=[
                ("screened_pct", "screened", "people"),
                ("declined_pct", "declined", "people"),
            ],
        )
    )
    bands = {b: _i(n) for b, n in raw["since_screening"]}
    band = {k: ("band", k) for k in ("under-3", "3-6", "6-12", "over-12", "never")}
    # Every person is in one band. With no start date, people screened are those in a band
    # other than "never" (the cohort is everyone with a completed screening), so people =
    # screened + never screened: a small "never" must not be people less screened.
    identities: list[tuple[Cell, tuple[Cell, ...]]] = [(("people",), tuple(band.values()))]
    if o.since is None:
        screened_bands = tuple(v for k, v in band.items() if k != "never")
        identities += [
            (("screened",), screened_bands),
            (("people",), (("screened",), band["never"])),
        ]
    order = [
        ("under-3", "Under 3 months"),
        ("3-6", "3 to 6 months"),
        ("6-12", "6 to 12 months"),
        ("over-12", "Over 12 months"),
        ("never", "Never screened"),
    ]
    out.append(
        Table(
            "since_screening",
            "Caseload and reach",
            "Time since the last screening",
            [
                Column("band", "Time since", "text"),
                Column("people", "People"),
                Column("pct", "% of caseload", "pct"),
            ],
            [
                {
                    "band": label,
                    "people": bands.get(k, 0),
                    "of": people,
                    SAME: {"people": band[k], "of": ("people",)},
                }
                for k, label in order
            ],
            pcts=[("pct", "people", "of")],
            sums=identities,
            chart=("band", "people"),
        )
    )
    # Needs.
    sev: dict[str, dict[int, int]] = {}
    for domain, level, n in raw["needs"]:
        sev.setdefault(domain, {})[_i(level)] = _i(n)
    need_rows = []
    by_size = [d for d, _ in sorted(sev.items(), key=lambda kv: -sum(kv[1].values()))]
    for domain in by_size:
        levels = sev[domain]
        need_rows.append(
            {
                "domain": taxonomy.NEED_DOMAINS.get(domain, words(domain)),
                "low": levels.get(1, 0),
                "moderate": levels.get(2, 0),
                "high": levels.get(3, 0),
                "people": sum(levels.values()),
                "screened": screened,
                SAME: {"people": ("need", domain), "screened": ("screened",)},
            }
        )
    out.append(
        Table(
            "needs",
            "Needs",
            "Needs by domain and severity (people screened)",
            [
                Column("domain", "Need", "text"),
                Column("low", "Low"),
                Column("moderate", "Moderate"),
                Column("high", "High"),
                Column("people", "People"),
                Column("pct", "%", "pct"),
                Column("ci", "95% CI", "ci"),
            ],
            need_rows,
            note="Each person counted once per domain, at their highest severity; 95% "
            "confidence intervals by the Wilson method.",
            pcts=[("pct", "people", "screened")],
            cis=[("ci", "people", "screened")],
            row_sums=[("people", ("low", "moderate", "high"))],
            chart=("domain", "pct"),
            order=("people",),
        )
    )
    offices = sorted({o_ for o_, _ in raw["screened_office"]})
    by_office = {(d, off): _i(n) for d, off, n in raw["needs_office"]}
    den = {off: _i(n) for off, n in raw["screened_office"]}
    cols = [Column("domain", "Need", "text")]
    rows = []
    for off in offices:
        cols.append(Column(f"n:{off}", off, "count", hidden=True))
        cols.append(Column(f"pct:{off}", f"{off} %", "pct"))
    cols.append(Column("people", "People", "count", hidden=True))
    for domain in by_size:  # in the order of the needs table
        row: dict[str, Any] = {"domain": taxonomy.NEED_DOMAINS.get(domain, words(domain))}
        for off in offices:
            row[f"n:{off}"] = by_office.get((domain, off), 0)
            row[f"d:{off}"] = den[off]
        # The offices add up to the domain's total in the needs table: guard against it.
        row["people"] = sum(row[f"n:{off}"] for off in offices)
        # The same counts as the needs table's people, and as the headlines by office.
        row[SAME] = {
            "people": ("need", domain),
            **{f"n:{off}": ("need-office", domain, off) for off in offices},
            **{f"d:{off}": ("screened-office", off) for off in offices},
        }
        rows.append(row)
    out.append(
        Table(
            "needs_by_office",
            "Needs",
            "Needs by office (% of people screened there)",
            cols,
            rows,
            pcts=[(f"pct:{off}", f"n:{off}", f"d:{off}") for off in offices],
            row_sums=[("people", tuple(f"n:{off}" for off in offices))],
            # The people screened at each office (the denominators) add up to those screened.
            sums=[(("screened",), tuple(("screened-office", off) for off in offices))],
            follow="needs",
        )
    )
    out.append(
        Table(
            "flags",
            "Needs",
            "Safety flags raised",
            [
                Column("flag", "Flag", "text"),
                Column("severity", "Severity", "text"),
                Column("people", "People"),
                Column("pct", "%", "pct"),
            ],
            [
                {
                    "flag": flag_label(title),
                    "severity": s,
                    "people": _i(n),
                    "screened": screened,
                    SAME: {"screened": ("screened",)},
                }
                for _fid, title, s, n in sorted(raw["flags"], key=lambda r: -_i(r[3]))
            ],
            pcts=[("pct", "people", "screened")],
            chart=("flag", "people"),
            order=("people",),
        )
    )
    co = {_i(k): _i(n) for k, n in raw["co_occurring"]}
    two_plus = sum(n for k, n in co.items() if k >= 2)
    out.append(
        Table(
            "co_occurring",
            "Needs",
            "Co-occurring needs: two or more of mental health, alcohol and drugs",
            [
                Column("two_plus", "Two or more"),
                Column("two_plus_pct", "%", "pct"),
                Column("ci", "95% CI", "ci"),
                Column("all_three", "All three"),
                Column("screened", "Screened"),
            ],
            [
                {
                    "two_plus": two_plus,
                    "all_three": co.get(3, 0),
                    "screened": screened,
                    SAME: {"screened": ("screened",), "two_plus": ("two-plus",)},
                }
            ],
            pcts=[("two_plus_pct", "two_plus", "screened")],
            cis=[("ci", "two_plus", "screened")],
        )
    )
    # Access to primary care and prevention.
    ans: dict[str, dict[str | None, int]] = {}
    for item, value, n in raw["access"]:
        ans.setdefault(item, {})[value] = _i(n)

    def measure(label: str, item: str, yes: Sequence[str]) -> dict[str, Any]:
        got = ans.get(item, {})
        answered = sum(n for v, n in got.items() if v is not None)
        return {
            "measure": label,
            "yes": sum(got.get(v, 0) for v in yes),
            "asked": answered,
            SAME: {"yes": ("access-yes", item), "asked": ("access-asked", item)},
        }

    access = [
        measure("Registered with a GP", "gp_registered", ('"yes"',)),
        measure("Has an NHS dentist", "dentist_registered", ('"yes"',)),
        measure("Smokes now", "smoking_status", ('"current"',)),
        *(measure(label, item, yes) for item, (label, yes) in _UP_TO_DATE.items()),
    ]
    out.append(
        Table(
            "access",
            "Access to primary care and prevention",
            "Access to primary care and prevention (of those asked)",
            [
                Column("measure", "Measure", "text"),
                Column("yes", "Yes / up to date"),
                Column("asked", "Asked"),
                Column("pct", "%", "pct"),
                Column("ci", "95% CI", "ci"),
            ],
            access,
            note="Cancer screening is asked only of people in the NHS age and sex range; "
            f"lung health checks: {_shown(_i(raw['lung'][0][0]), o.threshold)} people were "
            "eligible (suggested by "
            "the rules); whether they had one is not asked.",
            pcts=[("pct", "yes", "asked")],
            cis=[("ci", "yes", "asked")],
            chart=("measure", "pct"),
        )
    )
    # Barriers.
    out.append(
        Table(
            "barriers",
            "Barriers",
            "Barriers (people screened, open at the end of the period)",
            [
                Column("barrier", "Barrier", "text"),
                Column("people", "People"),
                Column("pct", "%", "pct"),
            ],
            [
                {
                    "barrier": taxonomy.BARRIER_TYPES.get(b, words(b)),
                    "people": _i(n),
                    "screened": screened,
                    SAME: {"screened": ("screened",)},
                }
                for b, n in sorted(raw["barriers"], key=lambda r: -_i(r[1]))
            ],
            pcts=[("pct", "people", "screened")],
            chart=("barrier", "people"),
            order=("people",),
        )
    )
    conflict: dict[str, dict[str, int]] = {}
    for pathway, btype, n in raw["conflicts"]:
        conflict.setdefault(pathway, {})[btype] = _i(n)
    for pathway, n in raw["consent_conflicts"]:
        conflict.setdefault(pathway, {})["consent"] = _i(n)
    out.append(
        Table(
            "barriers_by_pathway",
            "Barriers",
            "Barriers in front of suggested pathways (people)",
            [
                Column("pathway", "Pathway", "text"),
                Column("opening-times", "Hours"),
                Column("no-id-documents", "No ID"),
                Column("language", "Interpreter"),
                Column("consent", "No consent to share"),
            ],
            [
                {
                    "pathway": names.get(p, words(p)),
                    **{k: v.get(k, 0) for k in ("opening-times", "no-id-documents", "language")},
                    "consent": v.get("consent", 0),
                }
                for p, v in sorted(conflict.items(), key=lambda kv: -sum(kv[1].values()))
            ],
            note="People suggested a pathway who cannot go at some hours, have no ID, need an "
            "interpreter, or have not agreed to share their details (for pathways that share).",
            order=("opening-times", "no-id-documents", "language", "consent"),
        )
    )
    # Referral funnel.
    suggested = {p: _i(n) for p, n in raw["suggested"]}
    funnel = {row[0]: [_i(v) for v in row[1:]] for row in raw["funnel"]}
    waits = {p: (_i(n), med, p90) for p, n, med, p90 in raw["waits"]}
    order_p = sorted(set(suggested) | set(funnel), key=lambda p: (-suggested.get(p, 0), p))
    f_rows, o_rows = [], []
    order_p = [p for p in order_p if p not in adjustments]
    for p in order_p:
        f = funnel.get(p, [0] * 14)
        name = names.get(p, words(p))
        f_rows.append(
            {
                "pathway": name,
                "suggested": suggested.get(p, 0),
                "agreed": f[1],
                "referred": f[2],
                "accepted": f[3],
                "appointment": f[4],
                "attended": f[5],
                "completed": f[6],
                SAME: {
                    "suggested": ("suggested", p),
                    "agreed": ("agreed", p),
                    "completed": ("completed", p),
                },
            }
        )
        n_wait, med, p90 = waits.get(p, (0, None, None))
        o_rows.append(
            {
                "pathway": name,
                "completed": f[6],
                "achieved": f[7],
                "partly": f[8],
                "not": f[9],
                "declined": f[10],
                "rejected": f[11],
                "dna": f[12],
                "seen": f[12] + f[13],
                "waits": n_wait,
                "median_days": _i(med) if n_wait >= MIN_DENOMINATOR else None,
                "p90_days": _i(p90) if n_wait >= MIN_DENOMINATOR else None,
                SAME: {"completed": ("completed", p)},
            }
        )
    out.append(
        Table(
            "funnel",
            "Referral funnel",
            "Referral funnel per pathway",
            [
                Column("pathway", "Pathway", "text"),
                Column("suggested", "Suggested", short="Sugg."),
                Column("agreed", "Agreed"),
                Column("referred", "Referred", short="Refer."),
                Column("accepted", "Accepted", short="Acc."),
                Column("appointment", "Appt"),
                Column("attended", "Attended", short="Att."),
                Column("completed", "Completed", short="Done"),
            ],
            f_rows,
            note="Suggested: people at their latest screening in the period. The other steps: "
            "referrals made in the period that ever reached that step. Completed can exceed "
            "attended: some pathways end without an appointment (a crisis call, a naloxone kit, "
            "a food voucher).",
            # Over the pathways, referrals agreed and completed add up to the totals that the
            # headlines by office and by month also add up to.
            col_sums=["agreed", "completed"],
            chart=("pathway", "suggested"),
            order=("suggested",),
        )
    )
    out.append(
        Table(
            "outcomes",
            "Referral funnel",
            "Referral outcomes, declines, non-attendance and waits",
            [
                Column("pathway", "Pathway", "text"),
                Column("completed", "Completed", short="Done"),
                Column("achieved", "Achieved", short="Ach."),
                Column("partly", "Partly", short="Part"),
                Column("not", "Not"),
                Column("declined", "Declined", short="Decl."),
                Column("rejected", "Rejected", short="Rej."),
                Column("dna", "DNA", hidden=True),
                Column("seen", "Appointments due", hidden=True),
                Column("dna_pct", "DNA %", "pct", short="DNA%"),
                Column("waits", "First appointments", hidden=True),
                Column("median_days", "Median days", "days", short="Med. d"),
                Column("p90_days", "90th pct days", "days", short="P90 d"),
            ],
            o_rows,
            note="Declined: by the person; rejected: by the service. DNA %: appointments not "
            "attended of those due. Days: from suggestion to the first appointment (median and "
            f"90th percentile, where {MIN_DENOMINATOR} or more were booked).",
            pcts=[("dna_pct", "dna", "seen")],
            row_sums=[("completed", ("achieved", "partly", "not"))],
            col_sums=["declined"],  # adds up to the declines by reason below
            follow="funnel",
        )
    )
    out.append(
        Table(
            "declined_reasons",
            "Referral funnel",
            "Why people declined a referral",
            [Column("reason", "Reason", "text"), Column("referrals", "Referrals")],
            [
                {"reason": words(r), "referrals": _i(n)}
                for r, n in sorted(raw["declined_reasons"], key=lambda r: -_i(r[1]))
            ],
            col_sums=["referrals"],  # adds up to the declines per pathway above
            chart=("reason", "referrals"),
            order=("referrals",),
        )
    )
    # Service gaps.
    out.append(
        Table(
            "no_local_service",
            "Service gaps",
            "Pathways suggested with no local service in the directory",
            [
                Column("pathway", "Pathway", "text"),
                Column("suggested", "Suggested", short="Sugg."),
                Column("no_local", "No local service", short="No local"),
                Column("no_service", "None at all"),
            ],
            [
                {
                    "pathway": names.get(p, words(p)),
                    "suggested": _i(n),
                    "no_local": _i(nl),
                    "no_service": _i(ns),
                    SAME: {"suggested": ("suggested", p)},  # the funnel's count
                }
                for p, n, nl, ns in sorted(raw["no_local"], key=lambda r: (-_i(r[2]), r[0]))
                if _i(nl)
            ],
            note="Local: a service for the person's postcode district or office. "
            "None at all: not even a national service.",
            order=("no_local", "suggested"),
        )
    )
    out.append(
        Table(
            "unreferred_needs",
            "Service gaps",
            "Needs with no referral 28 days after the screening",
            [
                Column("domain", "Need", "text"),
                Column("needs", "Needs"),
                Column("unreferred", "No referral"),
                Column("pct", "%", "pct"),
                Column("pathway", "A pathway in the rules", "text", short="Pathway?"),
            ],
            [
                {
                    "domain": taxonomy.NEED_DOMAINS.get(d, words(d)),
                    "needs": _i(n),
                    "unreferred": _i(u),
                    "pathway": "yes" if _i(has) else "no",
                }
                for d, n, u, has in sorted(raw["unreferred"], key=lambda r: -_i(r[2]))
            ],
            pcts=[("pct", "unreferred", "needs")],
            order=("unreferred",),
        )
    )
    # The ten that reject most; among those rejecting fewer than the threshold, by referrals
    # (shown), not by the small count itself.
    few = o.threshold - 0.5
    rejecting = sorted(
        (r for r in raw["rejecting"] if _i(r[3])),
        key=lambda r: (-(_i(r[3]) if _i(r[3]) > few else few), -_i(r[2]), str(r[1] or r[0])),
    )[:10]
    out.append(
        Table(
            "rejecting_services",
            "Service gaps",
            "Services rejecting the most referrals",
            [
                Column("service", "Service", "text"),
                Column("referred", "Referred"),
                Column("rejected", "Rejected"),
                Column("pct", "%", "pct"),
            ],
            [
                {"service": name or sid, "referred": _i(n), "rejected": _i(k)}
                for sid, name, n, k in rejecting
            ],
            pcts=[("pct", "rejected", "referred")],
            order=("rejected", "referred"),
        )
    )
    # Health trainer outcomes.
    out.append(
        Table(
            "goals",
            "Health trainer outcomes",
            "Health goals set in the period, by domain (latest review)",
            [
                Column("domain", "Domain", "text"),
                Column("set", "Set"),
                Column("achieved", "Achieved"),
                Column("partly", "Partly"),
                Column("not_yet", "Not yet"),
                Column("dropped", "Dropped"),
                Column("not_reviewed", "Not reviewed"),
            ],
            [
                {
                    "domain": taxonomy.NEED_DOMAINS.get(d, words(d)),
                    "set": _i(n),
                    "achieved": _i(a),
                    "partly": _i(p),
                    "not_yet": _i(ny),
                    "dropped": _i(dr),
                    "not_reviewed": _i(nr),
                }
                for d, n, a, p, ny, dr, nr in sorted(raw["goals"], key=lambda r: -_i(r[1]))
            ],
            row_sums=[("set", ("achieved", "partly", "not_yet", "dropped", "not_reviewed"))],
            order=("set",),
        )
    )
    out.append(_headline_table("by_group", f"Headlines by {o.by}", raw["headline"], o.by))
    if o.by != "month":
        out.append(_headline_table("trend", "Headlines by month", raw["trend"], "month"))
    return out


def _headline_table(table_id: str, title: str, rows: list[tuple[Any, ...]], by: str) -> Table:
    label = {"office": "Office", "month": "Month", "sex": "Sex", "age-band": "Age"}[by]
    cols = [Column("group", label, "text")]
    if by != "month":
        cols.append(Column("people", "People"))
    cols += [
        Column("screened", "Screened"),
        Column("mh", "MH need", hidden=True),
        Column("mh_pct", "Mental health %", "pct"),
        Column("alcohol", "Alcohol need", hidden=True),
        Column("alcohol_pct", "Alcohol %", "pct"),
        Column("drugs", "Drugs need", hidden=True),
        Column("drugs_pct", "Drugs %", "pct"),
        Column("co", "Two or more", hidden=True),
        Column("co_pct", "2+ of these %", "pct"),
        Column("no_gp", "No GP", hidden=True),
        Column("no_gp_pct", "No GP %", "pct"),
        Column("agreed", "Referrals"),
        Column("completed", "Completed"),
    ]
    out = []
    names: dict[str, list[Cell]] = {}
    for g, people, screened, mh, alc, drugs, co, nogp, agreed, completed in rows:
        group = str(g) if g is not None else "Not known"
        # Shared names: by office, the screened are the denominators of needs by office, and
        # the three needs are the counts of needs by office.
        same: dict[str, Cell] = {
            "people": (f"people-{by}", group),
            "screened": (f"screened-{by}", group),
            "mh": (f"mh-{by}", group),
            "alcohol": (f"alcohol-{by}", group),
            "drugs": (f"drugs-{by}", group),
            "co": (f"co-{by}", group),
            "no_gp": (f"no-gp-{by}", group),
        }
        if by == "office":
            same.update(
                (k, ("need-office", domain, group))
                for k, domain in (
                    ("mh", "mental-health"),
                    ("alcohol", "alcohol"),
                    ("drugs", "drugs"),
                )
            )
        for k, name in same.items():
            names.setdefault(k, []).append(name)
        out.append(
            {
                "group": group,
                **({"people": people} if by != "month" else {}),
                "screened": screened,
                "mh": mh,
                "alcohol": alc,
                "drugs": drugs,
                "co": co,
                "no_gp": nogp,
                "agreed": agreed,
                "completed": completed,
                SAME: same,
            }
        )
    return Table(
        table_id,
        "Trends" if by == "month" else "Headlines",
        title,
        cols,
        out,
        note="Needs and GP registration as % of people screened; referrals made and completed."
        + (
            " By month: each person screened counts once, in the month of their latest "
            "screening in the period (someone screened again moves to the later month, so "
            "early months look smaller than they were); referrals by the month they were "
            "made, so the latest months show fewer completed (many are still open), not "
            "worse results."
            if by == "month"
            else ""
        ),
        pcts=[(f"{k}_pct", k, "screened") for k in ("mh", "alcohol", "drugs", "co", "no_gp")],
        # Every count adds up over the groups to a total published elsewhere: people and
        # screened to the reach, the needs to the needs table and co-occurring, GP to those
        # asked less those registered (access), referrals to the funnel's pathways.
        col_sums=["agreed", "completed"],
        sums=[
            *([(("people",), tuple(names.get("people", ())))] if by != "month" else []),
            (("screened",), tuple(names.get("screened", ()))),
            (("need", "mental-health"), tuple(names.get("mh", ()))),
            (("need", "alcohol"), tuple(names.get("alcohol", ()))),
            (("need", "drugs"), tuple(names.get("drugs", ()))),
            (("two-plus",), tuple(names.get("co", ()))),
            (
                ("access-asked", "gp_registered"),
                (("access-yes", "gp_registered"), *names.get("no_gp", ())),
            ),
        ],
        chart=("group", "mh_pct") if by == "month" else None,
    )


def write_csv(report: Report, folder: Path, *, force: bool = False) -> list[Path]:
    """One CSV per table (the protected figures, spreadsheet-safe), files 0600; the folder is
    made (0700) if missing."""
    import csv

    from probhealth import atomicfile, csvsafe

    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{{opt:csv}} {folder} is a file; give a folder.")
    folder.mkdir(mode=0o700, parents=False, exist_ok=True)
    written = []
    for tbl in report.tables:
        path = folder / f"{tbl.id}.csv"
        with atomicfile.atomic_text(path, force=force) as fh:
            w = csv.writer(fh, lineterminator="\r\n")
            w.writerow([c.label for c in tbl.columns])
            for row in tbl.rows:
                w.writerow([csvsafe.cell(_flat(row.get(c.key))) for c in tbl.columns])
        written.append(path)
    return written


OUT_FORMATS = (".html", ".htm", ".pdf")


def write_html(report: Report, path: Path, *, force: bool = False) -> Path:
    """The report as one file, by its name: ``.html`` one self-contained page (charts inline
    as SVG, no script, nothing fetched); ``.pdf`` A4 pages (the same tables and charts). 0600,
    written whole or not at all."""
    from probhealth import atomicfile

    suffix = path.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise BadInput(f"{path.name}: give {{opt:out}} a file name ending .html or .pdf.")
    made = clock.show(clock.now())
    if suffix == ".pdf":
        from probhealth.documents.report_pdf import render_report_pdf

        data = render_report_pdf(report, made, created=clock.now())
        return atomicfile.write_bytes(path, data, force=force)
    from probhealth.documents.report import render_report_html

    page = render_report_html(report, made)
    with atomicfile.atomic_text(path, force=force) as fh:
        fh.write(page)
    return path.expanduser()


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return f"{value[0]}-{value[1]}"
    return "" if value is None else value
