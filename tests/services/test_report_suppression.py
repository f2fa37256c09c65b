"""One suppression pass across the report's tables: a count hidden in one table cannot be read
from another table, nor worked out from totals published anywhere in the report.

Each test builds a small report from grouped rows (as the database returns them), protects it,
then plays the reader who wants a hidden count back: it knows which figures add up to which
(the pathways and the offices give the same referral total; a pathway's completed referrals
are in the funnel and in the outcomes, where achieved, partly and not add up to them; a
pathway's suggestions are in the funnel and in "no local service"; needs by office are the
headlines by office) and solves every sum with one unknown, again and again. No hidden cell
may come out."""

from __future__ import annotations

from typing import Any

from probhealth.services.report import Options, Table, _tables, protect_all

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


def _protected(raw: dict[str, Any]) -> list[Table]:
    tables = _tables(raw, {}, Options(by="office"))
    return protect_all(tables, 5)


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


def _equations(tables: list[Table]) -> list[tuple[list[Cell], list[Cell]]]:
    """What a reader knows adds up: sum(left) == sum(right)."""
    by_id = {t.id: t for t in tables}
    eqs: list[tuple[list[Cell], list[Cell]]] = []
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


def _attack(tables: list[Table]) -> dict[Cell, int]:
    """Every hidden count the reader can work out exactly from the published ones."""
    cells = _cells(tables)
    known = {c: v for c, v in cells.items() if isinstance(v, int)}
    found: dict[Cell, int] = {}
    eqs = [(a, b) for a, b in _equations(tables) if all(c in cells for c in (*a, *b))]
    changed = True
    while changed:
        changed = False
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
