"""One suppression pass across the report's tables: a count hidden in one table cannot be read
from another table, nor worked out from totals or percentages published anywhere in the report.

Each test builds a small report from grouped rows (as the database returns them), protects it,
then plays the reader who wants a hidden count back: it knows which figures add up to which
(the pathways and the offices give the same referral total; a pathway's completed referrals
are in the funnel and in the outcomes, where achieved, partly and not add up to them; a
pathway's suggestions are in the funnel and in "no local service"; needs by office are the
headlines by office; people are the bands of time since screening, and with no start date
people = screened + never screened; the offices' people and screened add up to the caseload's)
and that a percentage is a count over a denominator it can name (13 at 72.2% is 13 of 18). It
solves every sum with one unknown, and every percentage with its count or its denominator
known, again and again. No hidden cell may come out."""

from __future__ import annotations

from typing import Any

from probhealth.services.report import (
    MIN_DENOMINATOR,
    Options,
    Table,
    _tables,
    protect_all,
    wilson,
)

Cell = tuple[str, str, str]  # (table id, the row's label, column)


def _raw(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "caseload": [(100, 80, 5)],
        "since_screening": [],
        "needs": [],
        "screened_office": [],
        "needs_office": [],
        "flags": [],
        "co_occurring": [],
        "access": [],
        "lung": [(0,)],
        "barriers": [],
        "conflicts": [],
        "consent_conflicts": [],
        "suggested": [],
        "funnel": [],
        "waits": [],
        "declined_reasons": [],
        "no_local": [],
        "unreferred": [],
        "rejecting": [],
        "goals": [],
        "headline": [],
        "trend": [],
    }
    raw.update(over)
    return raw


def _funnel(pathway: str, agreed: int, completed: int, parts: tuple[int, int, int]) -> tuple:  # type: ignore[type-arg]
    achieved, partly, not_ = parts
    assert sum(parts) == completed
    # pathway, count, agreed, referred, accepted, booked, attended, completed, achieved,
    # partly, not achieved, declined, rejected, dna, attended appointments
    return (pathway, agreed, agreed, agreed, agreed, agreed, agreed, completed) + (
        achieved,
        partly,
        not_,
        0,
        0,
        0,
        0,
    )


def _protected(raw: dict[str, Any], since: Any = None) -> list[Table]:
    tables = _tables(raw, {}, Options(by="office", since=since))
    return protect_all(tables, 5)


def _primary_only(raw: dict[str, Any]) -> list[Table]:
    """The report as it would be with small counts hidden and nothing more: the reader's
    target, to show the attack finds what it should."""
    tables = _tables(raw, {}, Options(by="office"))
    for t in tables:
        counts = [c.key for c in t.columns if c.kind == "count"]
        rows = []
        for row in t.rows:
            small = {k for k in counts if isinstance(row.get(k), int) and 0 < row[k] < 5}
            out = {k: row.get(k) for k in (c.key for c in t.columns)}
            for k in small:
                out[k] = "<5"
            for key, num, den in (*t.pcts, *t.cis):
                n, d = row.get(num), row.get(den)
                ok = isinstance(n, int) and isinstance(d, int) and d >= MIN_DENOMINATOR
                ok = ok and num not in small and den not in small
                if key in {k for k, _n, _d in t.cis}:
                    out[key] = list(wilson(n, d)) if ok else None
                else:
                    out[key] = round(100 * n / d, 1) if ok else None
            rows.append(out)
        t.rows = rows
    return tables


def _label(table: Table) -> str:
    return next(c.key for c in table.columns if c.kind == "text")


def _cells(tables: list[Table]) -> dict[Cell, Any]:
    out: dict[Cell, Any] = {}
    for t in tables:
        label = _label(t) if any(c.kind == "text" for c in t.columns) else ""
        for i, row in enumerate(t.rows):
            name = str(row.get(label)) if label else str(i)
            for c in t.columns:
                if c.kind == "count":
                    out[(t.id, name, c.key)] = row.get(c.key)
    return out


REACH = "0"  # the reach table's one row


def _equations(tables: list[Table], since: Any = None) -> list[tuple[list[Cell], list[Cell]]]:
    """What a reader knows adds up: sum(left) == sum(right)."""
    by_id = {t.id: t for t in tables}
    eqs: list[tuple[list[Cell], list[Cell]]] = []
    # Caseload and reach: every person is in one band of time since screening; with no start
    # date the screened are the bands but "never".
    people, screened = ("reach", REACH, "people"), ("reach", REACH, "screened")
    bands = [str(r["band"]) for r in by_id["since_screening"].rows]
    eqs.append(([people], [("since_screening", b, "people") for b in bands]))
    if since is None:
        seen = [("since_screening", b, "people") for b in bands if b != "Never screened"]
        eqs.append(([screened], seen))
        eqs.append(([people], [screened, ("since_screening", "Never screened", "people")]))
    eqs.append(([screened], [("co_occurring", "0", "screened")]))
    for r in by_id["needs"].rows:
        d = str(r["domain"])
        eqs.append(
            ([("needs", d, "people")], [("needs", d, k) for k in ("low", "moderate", "high")])
        )
    for r in by_id["goals"].rows:
        d = str(r["domain"])
        parts = ("achieved", "partly", "not_yet", "dropped", "not_reviewed")
        eqs.append(([("goals", d, "set")], [("goals", d, k) for k in parts]))
    for table in ("by_group", "trend"):
        groups = [str(r["group"]) for r in by_id[table].rows]
        if table == "by_group":
            eqs.append(([people], [(table, g, "people") for g in groups]))
        eqs.append(([screened], [(table, g, "screened") for g in groups]))
        for key, domain in (("mh", "Mental health"), ("alcohol", "Alcohol"), ("drugs", "Drugs")):
            eqs.append(([("needs", domain, "people")], [(table, g, key) for g in groups]))
        eqs.append(([("co_occurring", "0", "two_plus")], [(table, g, "co") for g in groups]))
        gp = "Registered with a GP"
        eqs.append(
            (
                [("access", gp, "asked")],
                [("access", gp, "yes"), *((table, g, "no_gp") for g in groups)],
            )
        )
    funnel = [str(r["pathway"]) for r in by_id["funnel"].rows]
    offices = [str(r["group"]) for r in by_id["by_group"].rows]
    months = [str(r["group"]) for r in by_id["trend"].rows]
    for col in ("agreed", "completed"):
        pathways = [("funnel", p, col) for p in funnel]
        eqs.append((pathways, [("by_group", o, col) for o in offices]))
        eqs.append((pathways, [("trend", m, col) for m in months]))
    for p in funnel:
        eqs.append(([("funnel", p, "completed")], [("outcomes", p, "completed")]))
        eqs.append(
            (
                [("outcomes", p, "completed")],
                [("outcomes", p, k) for k in ("achieved", "partly", "not")],
            )
        )
    for r in by_id["no_local_service"].rows:
        p = str(r["pathway"])
        eqs.append(([("funnel", p, "suggested")], [("no_local_service", p, "suggested")]))
    for r in by_id["needs_by_office"].rows:
        d = str(r["domain"])
        key = {"Mental health": "mh", "Alcohol": "alcohol", "Drugs": "drugs"}.get(d)
        for o in offices:
            if key:
                eqs.append(([("needs_by_office", d, f"n:{o}")], [("by_group", o, key)]))
        eqs.append(
            (
                [("needs", d, "people")],
                [("needs_by_office", d, f"n:{o}") for o in offices],
            )
        )
    return eqs


def _rates(tables: list[Table]) -> list[tuple[Any, Cell, Cell, bool]]:
    """Each percentage or interval shown: (its value, its count, its denominator, interval?),
    the denominator named as the reader would (the needs' % is of the people screened in the
    reach table; % of caseload is of its people; an office's % of its people screened)."""
    out: list[tuple[Any, Cell, Cell, bool]] = []
    outside = {"screened": ("reach", REACH, "screened"), "of": ("reach", REACH, "people")}
    for t in tables:
        label = _label(t) if any(c.kind == "text" for c in t.columns) else ""
        cis = {k for k, _n, _d in t.cis}
        for i, row in enumerate(t.rows):
            name = str(row.get(label)) if label else str(i)
            for key, num, den in (*t.pcts, *t.cis):
                v = row.get(key)
                if v is None:
                    continue
                columns = {c.key for c in t.columns}
                if den in columns:
                    d: Cell = (t.id, name, den)
                elif den.startswith("d:"):
                    d = ("by_group", den[2:], "screened")
                else:
                    d = outside[den]
                out.append((v, (t.id, name, num), d, key in cis))
    return out


def _from_rate(v: Any, n: int | None, d: int | None, interval: bool) -> int | None:
    """The one count (n given d, or d given n) that gives the value shown, if only one does."""

    def shown(k: int, m: int) -> Any:
        return list(wilson(k, m)) if interval else round(100 * k / m, 1)

    if d is not None:
        fits = [k for k in range(d + 1) if shown(k, d) == v]
    elif n is not None and n > 0:
        fits = [m for m in range(max(n, MIN_DENOMINATOR), 5000) if shown(n, m) == v]
    else:
        return None
    return fits[0] if len(fits) == 1 else None


def _attack(tables: list[Table], since: Any = None) -> dict[Cell, int]:
    """Every hidden count the reader can work out exactly from the published ones."""
    cells = _cells(tables)
    known = {c: v for c, v in cells.items() if isinstance(v, int)}
    found: dict[Cell, int] = {}
    eqs = [(a, b) for a, b in _equations(tables, since) if all(c in cells for c in (*a, *b))]
    rates = _rates(tables)
    changed = True
    while changed:
        changed = False
        for v, num, den, interval in rates:
            if (num in known) == (den in known) or num not in cells or den not in cells:
                continue
            got = _from_rate(v, known.get(num), known.get(den), interval)
            if got is not None:
                cell = den if num in known else num
                known[cell] = found[cell] = got
                changed = True
        for left, right in eqs:
            unknown = [
                (c, s) for s, side in ((1, left), (-1, right)) for c in side if c not in known
            ]
            if len(unknown) != 1:
                continue
            cell, sign = unknown[0]
            rest = sum(known[c] for c in left if c in known) - sum(
                known[c] for c in right if c in known
            )
            known[cell] = -rest * sign
            found[cell] = known[cell]
            changed = True
    return found


def _shown(tables: list[Table], cell: Cell) -> Any:
    return _cells(tables)[cell]


def test_a_small_pathway_cannot_be_worked_out_from_the_referrals_by_office() -> None:
    """The funnel's pathways add up to the referrals that the offices (and the months) add up
    to: a pathway's 3 referrals hidden in the funnel must not be the office total less the
    other pathways."""
    tables = _protected(
        _raw(
            funnel=[
                _funnel("a", 30, 12, (12, 0, 0)),
                _funnel("b", 20, 10, (10, 0, 0)),
                _funnel("c", 3, 0, (0, 0, 0)),
            ],
            suggested=[("a", 40), ("b", 30), ("c", 9)],
            headline=[
                ("Alpha", 60, 50, 0, 0, 0, 0, 0, 33, 12),
                ("Beta", 40, 30, 0, 0, 0, 0, 0, 20, 10),
            ],
            trend=[("2026-06", None, 80, 0, 0, 0, 0, 0, 53, 22)],
        )
    )
    assert _shown(tables, ("funnel", "C", "agreed")) == "<5"
    assert _attack(tables) == {}
    assert _shown(tables, ("funnel", "B", "agreed")) == "*"  # the next smallest goes too
    assert _shown(tables, ("by_group", "Alpha", "agreed")) == 33  # offices still shown


def test_a_count_hidden_in_one_table_is_hidden_in_every_other() -> None:
    """A pathway's completed referrals hidden in the funnel (to protect a small one) are hidden
    in the outcomes too, and so is a part there, or achieved + partly + not gives them back;
    its suggestions hidden in the funnel are hidden in "no local service"."""
    tables = _protected(
        _raw(
            funnel=[
                _funnel("a", 30, 12, (12, 0, 0)),
                _funnel("b", 20, 10, (10, 0, 0)),
                _funnel("c", 6, 3, (3, 0, 0)),
            ],
            suggested=[("a", 40), ("b", 30), ("c", 9)],
            no_local=[("a", 40, 10, 0), ("b", 30, 12, 0), ("c", 9, 9, 0)],
            headline=[
                ("Alpha", 60, 50, 0, 0, 0, 0, 0, 36, 15),
                ("Beta", 40, 30, 0, 0, 0, 0, 0, 20, 10),
            ],
            trend=[("2026-06", None, 80, 0, 0, 0, 0, 0, 56, 25)],
        )
    )
    assert _shown(tables, ("funnel", "C", "completed")) == "<5"
    hidden = _shown(tables, ("funnel", "B", "completed"))
    assert hidden == "*"
    assert _shown(tables, ("outcomes", "B", "completed")) == "*"  # the same count
    assert _shown(tables, ("outcomes", "B", "achieved")) == "*"  # or 10 + 0 + 0 gives it
    assert _attack(tables) == {}
    # Same count, same rule: what the funnel shows, "no local service" shows, and no more.
    for p in ("A", "B", "C"):
        assert _shown(tables, ("funnel", p, "suggested")) == _shown(
            tables, ("no_local_service", p, "suggested")
        )


def test_needs_by_office_and_the_headlines_by_office_hide_the_same_cells() -> None:
    """Mental health at an office is one count in "needs by office" and in the headlines by
    office; the needs table's total is the sum of the offices."""
    tables = _protected(
        _raw(
            needs=[("mental-health", 2, 45)],
            screened_office=[("Alpha", 20), ("Beta", 30), ("Gamma", 30)],
            needs_office=[
                ("mental-health", "Alpha", 3),
                ("mental-health", "Beta", 12),
                ("mental-health", "Gamma", 30),
            ],
            headline=[
                ("Alpha", 30, 20, 3, 0, 0, 0, 0, 0, 0),
                ("Beta", 35, 30, 12, 0, 0, 0, 0, 0, 0),
                ("Gamma", 35, 30, 30, 0, 0, 0, 0, 0, 0),
            ],
            trend=[("2026-06", None, 80, 45, 0, 0, 0, 0, 0, 0)],
        )
    )
    assert _attack(tables) == {}
    for office in ("Alpha", "Beta", "Gamma"):
        assert _shown(tables, ("needs_by_office", "Mental health", f"n:{office}")) == _shown(
            tables, ("by_group", office, "mh")
        )
    assert _shown(tables, ("by_group", "Alpha", "mh")) == "<5"
    assert _shown(tables, ("by_group", "Beta", "mh")) == "*"


def _never_screened(**over: Any) -> dict[str, Any]:
    """20 people, 18 screened, 2 never: the hand-counted caseload of tests/services/
    test_report.py as grouped rows. Smoking: 13 of the 18 (72.2%)."""
    rows: dict[str, Any] = {
        "caseload": [(20, 18, 2)],
        "since_screening": [("under-3", 18), ("never", 2)],
        "needs": [("smoking", 2, 12), ("smoking", 3, 1)],
        "screened_office": [("Alpha", 10), ("Beta", 8)],
        "needs_office": [("smoking", "Alpha", 7), ("smoking", "Beta", 6)],
        "headline": [
            ("Alpha", 12, 10, 0, 0, 0, 0, 0, 6, 0),
            ("Beta", 8, 8, 0, 0, 0, 0, 0, 0, 0),
        ],
        "trend": [("2026-06", None, 18, 0, 0, 0, 0, 0, 6, 0)],
    }
    rows.update(over)
    return _raw(**rows)


def test_the_attack_finds_the_never_screened_from_people_less_screened() -> None:
    """With small counts hidden and nothing more, people less screened gives back the 2 never
    screened; so does a band of time since screening over the caseload."""
    found = _attack(_primary_only(_never_screened()))
    assert found[("since_screening", "Never screened", "people")] == 2


def test_the_attack_reads_a_denominator_off_a_percentage() -> None:
    """Hiding the screened alone does not help: smoking's 13 at 72.2% gives back the 18, and
    with it the 2 never screened."""
    tables = _primary_only(_never_screened())
    reach = next(t for t in tables if t.id == "reach")
    reach.rows[0]["screened"] = "*"
    reach.rows[0]["screened_pct"] = None
    found = _attack(tables)
    assert found[("reach", REACH, "screened")] == 18
    assert found[("since_screening", "Never screened", "people")] == 2


def test_never_screened_cannot_be_worked_out_from_people_screened_or_percentages() -> None:
    """The identity people = screened + never screened, and the percentages that name both,
    are in the suppression's groups: the complement that loses least is the caseload's
    people (its percentages go; one office's people go, as the offices add up to it), not
    the screened (every need's percentage rests on them)."""
    tables = _protected(_never_screened())
    assert _attack(tables) == {}
    assert _shown(tables, ("since_screening", "Never screened", "people")) == "<5"
    assert _shown(tables, ("reach", REACH, "people")) == "*"
    assert _shown(tables, ("reach", REACH, "screened")) == 18
    needs = next(t for t in tables if t.id == "needs").rows[0]
    assert (needs["people"], needs["pct"]) == (13, 72.2)  # the needs keep their percentages
    reach = next(t for t in tables if t.id == "reach").rows[0]
    assert reach["screened_pct"] is None  # a percentage of a hidden count
    offices = {r["group"]: r["people"] for r in next(t for t in tables if t.id == "by_group").rows}
    assert offices == {"Alpha": 12, "Beta": "*"}


def test_with_a_start_date_people_less_screened_is_not_the_never_screened() -> None:
    """From a start date, the screened are those screened in the period; people screened
    before it are in a band too, so people less screened is not "never": nothing is hidden
    for it, and the caseload's people show."""
    from datetime import date

    raw = _never_screened(
        caseload=[(20, 10, 2)], since_screening=[("under-3", 10), ("over-12", 8), ("never", 2)]
    )
    raw["headline"] = [
        ("Alpha", 12, 5, 0, 0, 0, 0, 0, 6, 0),
        ("Beta", 8, 5, 0, 0, 0, 0, 0, 0, 0),
    ]
    raw["trend"] = [("2026-06", None, 10, 0, 0, 0, 0, 0, 6, 0)]
    raw["screened_office"] = [("Alpha", 5), ("Beta", 5)]
    raw["needs"] = [("smoking", 2, 6)]
    raw["needs_office"] = [("smoking", "Alpha", 3), ("smoking", "Beta", 3)]
    tables = _protected(raw, since=date(2026, 6, 1))
    assert _attack(tables, since=date(2026, 6, 1)) == {}
    assert _shown(tables, ("since_screening", "Never screened", "people")) == "<5"
    # One band goes with it (people = the bands), the smallest: 8 over 12 months.
    assert _shown(tables, ("since_screening", "Over 12 months", "people")) == "*"
    assert _shown(tables, ("reach", REACH, "people")) == 20


def test_a_percentage_is_hidden_where_its_count_or_denominator_is() -> None:
    """Any table: a count hidden as a complement takes its percentage and interval with it
    (here the smoking need at Beta, hidden so that Alpha's 3 is not the total less it), and
    so does a hidden denominator."""
    tables = _protected(
        _never_screened(
            needs=[("smoking", 2, 12), ("smoking", 3, 3)],
            screened_office=[("Alpha", 10), ("Beta", 8)],
            needs_office=[("smoking", "Alpha", 3), ("smoking", "Beta", 12)],
        )
    )
    assert _attack(tables) == {}
    row = next(t for t in tables if t.id == "needs_by_office").rows[0]
    assert row["n:Alpha"] == "<5" and row["pct:Alpha"] is None
    assert row["n:Beta"] == "*" and row["pct:Beta"] is None


def test_a_denominator_hidden_in_one_table_takes_the_percentages_of_another() -> None:
    """3 people screened at Alpha: another office's screened is hidden in the headlines, and
    the needs by office must not give it back as its count over its percentage (12 at 40.0%
    is 12 of 30)."""
    tables = _protected(
        _never_screened(
            caseload=[(90, 73, 17)],
            since_screening=[("under-3", 73), ("never", 17)],
            needs=[("smoking", 2, 40)],
            screened_office=[("Alpha", 3), ("Beta", 30), ("Gamma", 40)],
            needs_office=[
                ("smoking", "Alpha", 0),
                ("smoking", "Beta", 12),
                ("smoking", "Gamma", 28),
            ],
            headline=[
                ("Alpha", 5, 3, 0, 0, 0, 0, 0, 0, 0),
                ("Beta", 35, 30, 0, 0, 0, 0, 0, 0, 0),
                ("Gamma", 50, 40, 0, 0, 0, 0, 0, 0, 0),
            ],
            trend=[("2026-06", None, 73, 0, 0, 0, 0, 0, 0, 0)],
        )
    )
    assert _shown(tables, ("by_group", "Alpha", "screened")) == "<5"
    assert _shown(tables, ("by_group", "Beta", "screened")) == "*"
    row = next(t for t in tables if t.id == "needs_by_office").rows[0]
    assert (row["n:Beta"], row["pct:Beta"]) == (12, None)
    assert row["pct:Gamma"] == 70.0
    assert _attack(tables) == {}


def test_a_rows_place_says_nothing_of_a_hidden_count() -> None:
    """Rows go by their shown counts: the small ones just above the zeros, by name (not 3 above
    1 above ...), and a count hidden as a complement at the end, not between the neighbours
    that would bound it. The outcomes follow the funnel's order."""
    tables = _protected(
        _raw(
            flags=[
                ("f1", "Zeta", "notice", 3),
                ("f2", "Alpha", "notice", 1),
                ("f3", "Mu", "notice", 0),
                ("f4", "Beta", "notice", 40),
                ("f5", "Gamma", "notice", 2),
            ],
            suggested=[("a", 40), ("b", 30), ("c", 20), ("d", 3)],
            funnel=[
                _funnel("a", 30, 12, (12, 0, 0)),
                _funnel("b", 20, 10, (10, 0, 0)),
                _funnel("c", 10, 5, (5, 0, 0)),
                _funnel("d", 3, 0, (0, 0, 0)),
            ],
            no_local=[("a", 40, 40, 0), ("b", 30, 30, 0), ("c", 20, 20, 0), ("d", 3, 3, 0)],
            declined_reasons=[("w", 30), ("x", 12), ("y", 8), ("z", 2)],
        )
    )
    flags = next(t for t in tables if t.id == "flags").rows
    assert [(r["flag"], r["people"]) for r in flags] == [
        ("Beta", 40),
        ("Alpha", "<5"),
        ("Gamma", "<5"),
        ("Zeta", "<5"),
        ("Mu", 0),
    ]
    # The 2 is hidden, so is the 8 with it (the reasons add up to the declines): sorted by
    # the counts before they were hidden, the 8 would sit between 12 and 2.
    reasons = next(t for t in tables if t.id == "declined_reasons").rows
    assert [(r["reason"], r["referrals"]) for r in reasons] == [
        ("W", 30),
        ("X", 12),
        ("Z", "<5"),
        ("Y", "*"),
    ]
    funnel = [str(r["pathway"]) for r in next(t for t in tables if t.id == "funnel").rows]
    outcomes = [str(r["pathway"]) for r in next(t for t in tables if t.id == "outcomes").rows]
    assert outcomes == funnel
