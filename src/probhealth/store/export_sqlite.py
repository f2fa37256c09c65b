"""The SQLite fast path for CSV export: SQLite computes every cell, rows go from the cursor to
``csv.writer.writerows`` in batches, with no Python per row.

What the per-row builders in ``services/export.py`` do in Python happens here in SQL, to the
byte (``tests/services/test_export_bytes.py`` compares the two on every table and option):

- **Pseudonyms** are computed once per person into a temporary table (``ex_pseudonym``) and
  joined; the audit table, whose entity ids may name erased people, calls ``ph_pseudonym``.
- **Spreadsheet safety**: every text cell goes through :func:`safe`, which lets SQLite decide
  from the first character (the same ``csvsafe.RISKY_FIRST`` set) or a line break whether the
  cell needs a look; only those few cells call ``csvsafe.neutralise`` (``ph_safe``).
- **Timestamps** as ISO text (``T`` and ``Z``), booleans as 0/1, months as ``YYYY-MM``.
- **Answers**: item order, sections and option labels come from temporary tables filled once
  from the questionnaire versions (``ex_item``, ``ex_label``); a value SQL cannot render the
  way Python does (a real, a boolean, a list, an object) calls ``ph_pair``.

Temporary tables and functions live on the export's own connection and are dropped after it.
Everything here runs on a DB-API ``sqlite3`` connection, without SQLAlchemy: the plain open
(``db.open_plain``) gives one, and ``Store.raw`` has one under its SQLAlchemy connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probhealth import clock, csvsafe
from probhealth.store.chain import stored_time

Connection = sqlite3.Connection


@dataclass(frozen=True)
class Filters:
    """What an export covers (every table's query, this path's and ``store/export.py``'s)."""

    since: datetime | None = None  # instants (UTC), inclusive
    until: datetime | None = None  # exclusive
    office: str | None = None
    questionnaire: str | None = None


BATCH = 2000
TEMP_TABLES = (
    "ex_pseudonym",
    "ex_item",
    "ex_value",
    "ex_withheld",
    "ex_strip",
    "ex_hide",
    "ex_dates",
)
_RISKY = ", ".join(str(ord(c)) for c in sorted(csvsafe.RISKY_FIRST))


def _risky(x: str) -> str:
    return f"(unicode({x}) IN ({_RISKY}) OR instr({x}, char(10)))"


def _plain(x: str) -> str:
    """Most cells, decided by comparisons and ``instr`` alone: text whose first character is
    a digit, one of . / : ; < (U+002E to U+003C) or in U+0041-U+0084 (letters and the
    rest of ASCII from A), none of which can start a formula or is a space, with nothing to
    quote. UTF-8 text compares by code point, so ``x >= 'A' AND x < char(133)`` looks at the
    first character only; a number or a blob fails both ranges and takes the full test."""
    return (
        f"({x} >= 'A' AND {x} < char(133) OR {x} >= '.' AND {x} < '=')"
        f" AND NOT (instr({x}, ',') OR instr({x}, '\"') OR instr({x}, char(13))"
        f" OR instr({x}, char(10)))"
    )


def cell(x: str) -> str:
    """A text column as the CSV field csv.writer writes after csvsafe. Most cells are
    written as they are after a few comparisons (:func:`_plain`). A cell whose first
    character could start a formula, or with a line break, goes to Python (``ph_cell``,
    csvsafe.neutralise then quoting); one with a comma, a quote or a carriage return is quoted
    here (neutralise would not change it: its only line starts with a harmless character).
    ``instr`` finds a character several times faster than a ``GLOB '*[...]*'`` pattern.
    ``x`` is evaluated several times: give it columns, not subqueries."""
    return (
        f"CASE WHEN {x} IS NULL THEN '' WHEN {_plain(x)} THEN {x}"
        f" WHEN {_risky(x)} THEN ph_cell({x})"
        f" WHEN instr({x}, ',') OR instr({x}, '\"') OR instr({x}, char(13))"
        f" THEN '\"' || replace({x}, '\"', '\"\"') || '\"'"
        f" ELSE {x} END"
    )


def field(x: str) -> str:
    """A column as the field csv.writer writes for it without csvsafe (the wide screenings
    table's coded columns): quoted when it holds a comma, a quote or a line break."""
    return (
        f"CASE WHEN {x} IS NULL THEN ''"
        f" WHEN instr({x}, ',') OR instr({x}, '\"') OR instr({x}, char(13)) OR instr({x}, char(10))"
        f" THEN '\"' || replace({x}, '\"', '\"\"') || '\"' ELSE {x} END"
    )


def number(x: str) -> str:
    """An integer column (ids, versions) as its digits; NULL as an empty field."""
    return f"coalesce({x}, '')"


_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_STAMP = _DAY + " [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"


def _iso(x: str, day: bool) -> str:
    """The WHENs that rewrite a stored timestamp or date in SQL, NULL first (most step dates
    and closing times are NULL), then the form the column holds (``day``: a date) before the
    other. The two patterns cannot both match (a date is ten characters, a timestamp 19 or
    more), so their order changes only the time taken."""
    stamp = f" WHEN {x} GLOB '{_STAMP}' THEN substr({x}, 1, 10) || 'T' || substr({x}, 12, 8) || 'Z'"
    date = f" WHEN {x} GLOB '{_DAY}' THEN {x}"
    return f"CASE WHEN {x} IS NULL THEN ''" + (date + stamp if day else stamp + date)


def iso_cell(x: str, *, day: bool = False) -> str:
    """``cell(iso(x))``. A stored timestamp or date (digits first, no quotes or commas in what
    is kept) is rewritten in SQL; anything else goes to Python (``ph_iso``, ``ph_cell``).
    ``day``: the column holds dates (tried first)."""
    return _iso(x, day) + f" ELSE ph_cell(ph_iso({x})) END"


def iso_field(x: str) -> str:
    """``field(iso(x))``: :func:`iso_cell` without csvsafe."""
    return _iso(x, False) + f" ELSE {field('ph_iso(' + x + ')')} END"


def flag(x: str) -> str:
    return f"CASE WHEN {x} THEN '1' ELSE '0' END"


def _joined(cells: list[str]) -> str:
    """Fields as one piece of a line."""
    return " || ',' || ".join(cells)


def line(*cells: str) -> str:
    """One CSV line (CRLF) from cells already written as fields."""
    return _joined(list(cells)) + " || char(13, 10)"


def printed(cells: list[str], raw: list[str], nul: str = "") -> str:
    """:func:`line` built by one ``printf``: one string made instead of one per ``||`` (two
    for each field), about a quarter of the query for a table of many short fields. printf's
    ``%s`` stops at a NUL character, where ``||`` keeps the whole text, so a row where any
    of ``raw`` (every stored value that reaches a field as text) holds one, or where ``nul``
    (a condition) holds, is built with :func:`line`. A NULL cell is an empty field."""
    fmt = ",".join(["%s"] * len(cells))
    found = " OR ".join([f"instr({x}, char(0))" for x in raw] + ([nul] if nul else []))
    joined = line(*(f"coalesce({c}, '')" for c in cells))
    return (
        f"CASE WHEN {found} THEN {joined}"
        f" ELSE printf('{fmt}' || char(13, 10), {', '.join(cells)}) END"
    )


@dataclass(frozen=True)
class Functions:
    """Python for what SQL cannot do the same way: a cell that needs neutralising or quoting,
    a timestamp in an odd form, a pseudonym, an answer that is not an option's stored JSON."""

    cell: Callable[[Any], str]
    iso: Callable[[Any], Any]
    pseudonym: Callable[[Any], str]
    pair: Callable[[str, int, str, str], str] | None = None
    reasons: Callable[[str, str], str] | None = None


def prepare(conn: Connection, fn: Functions) -> None:
    """Register the functions on the export's connection; drop any temporary tables left."""
    dbapi = conn
    dbapi.create_function("ph_cell", 1, fn.cell, deterministic=True)
    dbapi.create_function("ph_iso", 1, fn.iso, deterministic=True)
    dbapi.create_function("ph_pseudonym", 1, fn.pseudonym, deterministic=True)
    if fn.pair is not None:
        dbapi.create_function("ph_pair", 4, fn.pair, deterministic=True)
    if fn.reasons is not None:
        dbapi.create_function("ph_reasons", 2, fn.reasons, deterministic=True)
    drop(conn)


# The table whose rows name the people of each export's rows (their person_id column).
PERSON_OF = {
    "consent": "consent",
    "screenings": "screening",
    "answers": "screening",
    "needs": "need",
    "barriers": "barrier",
    "suggestions": "suggestion",
    "referrals": "referral",
    "referral-events": "referral",
    "goals": "goal",
}


def fill_pseudonyms(conn: Connection, table: str) -> None:
    """The pseudonym of every person the export's rows name, computed once
    (``ph_pseudonym``: an HMAC in Python, the dearest part of a small export), for joins."""
    conn.execute("CREATE TEMP TABLE ex_pseudonym (id TEXT PRIMARY KEY, p TEXT) WITHOUT ROWID")
    conn.execute(
        "INSERT INTO ex_pseudonym SELECT id, ph_pseudonym(id) FROM person"  # noqa: S608
        f" WHERE id IN (SELECT person_id FROM {PERSON_OF[table]})"
    )


def fill_items(
    conn: Connection,
    items: Iterable[tuple[str, int, str, int, str, str]],
    values: Iterable[tuple[str, int, str, str, str, str]],
) -> None:
    """Items (qid, version, item, index, type, and the fields questionnaire_id to item_id as
    one piece of a line) and option values (qid, version, item, stored JSON text, and the
    value and label fields as one piece, without and with --labels)."""
    conn.execute(
        "CREATE TEMP TABLE ex_item (qid TEXT, qver INTEGER, item_id TEXT, idx INTEGER,"
        " kind TEXT, fields TEXT, PRIMARY KEY (qid, qver, item_id)) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TEMP TABLE ex_value (qid TEXT, qver INTEGER, item_id TEXT, raw TEXT,"
        " fields TEXT, fields_labels TEXT, PRIMARY KEY (qid, qver, item_id, raw)) WITHOUT ROWID"
    )
    dbapi = conn
    dbapi.executemany("INSERT INTO ex_item VALUES (?, ?, ?, ?, ?, ?)", items)
    dbapi.executemany("INSERT OR IGNORE INTO ex_value VALUES (?, ?, ?, ?, ?, ?)", values)


def fill_withheld(conn: Connection, keys: Iterable[str], strip: dict[int, tuple[str, str]]) -> None:
    """Rows an identifiable export leaves out as sensitive (hazard H23): their ids as text
    (``ex_withheld``), and suggestions kept with some reasons left out: their rules_fired and
    because fields (``ex_strip``)."""
    conn.execute("CREATE TEMP TABLE ex_withheld (key TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("CREATE TEMP TABLE ex_strip (id INTEGER PRIMARY KEY, rules TEXT, because TEXT)")
    dbapi = conn
    dbapi.executemany("INSERT INTO ex_withheld VALUES (?)", ((k,) for k in keys))
    dbapi.executemany(
        "INSERT INTO ex_strip VALUES (?, ?, ?)", ((k, r, b) for k, (r, b) in strip.items())
    )


def _left_out(
    cells: list[str], key: str, withheld: bool, raw: list[str] | None = None, nul: str = ""
) -> tuple[str, str]:
    """The line (:func:`printed` when given the ``raw`` columns), or an empty one for a row
    left out as sensitive (the caller counts them), and the join that finds it."""
    whole = line(*cells) if raw is None else printed(cells, raw, nul)
    if not withheld:
        return whole, ""
    return (
        f"CASE WHEN w.key IS NULL THEN {whole} ELSE '' END",
        f" LEFT JOIN ex_withheld w ON w.key = {key}",
    )


def drop(conn: Connection) -> None:
    for name in TEMP_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


# ------------------------------------------------------------------------ filters ------------
def _where(clauses: list[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _filters(f: Filters, period: str, office: bool = True) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if f.since is not None:
        clauses.append(f"{period} >= :since")
        params["since"] = f.since
    if f.until is not None:
        clauses.append(f"{period} < :until")
        params["until"] = f.until
    if office and f.office:
        clauses.append("lower(p.office) = :office")
        params["office"] = f.office.lower()
    return clauses, params


def _lines(conn: Connection, sql: str, params: dict[str, Any]) -> Generator[list[Any]]:
    """Batches of one-column rows, each a whole CSV line. Times are compared as SQLite holds
    them (UTC text)."""
    bound = {k: stored_time(v) if isinstance(v, datetime) else v for k, v in params.items()}
    cursor = conn.execute(sql, bound)
    try:
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                return
            yield rows
    finally:
        cursor.close()


def pseudonym_key(conn: Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'pseudonym_key'").fetchone()
    if row is None:  # pragma: no cover - written by the first migration
        raise RuntimeError("this database has no pseudonym key")
    return str(row[0])


def screening_versions(conn: Connection, f: Filters) -> list[tuple[str, int, str, str]]:
    """(id, version, content hash, source) of every questionnaire version the export covers
    (``store.export.screening_versions``, in SQL)."""
    clauses, params = _filters(f, "s.started_at")
    if f.questionnaire:
        clauses.append("s.questionnaire_id = :questionnaire")
        params["questionnaire"] = f.questionnaire
    sql = (
        "SELECT d.id, d.version, d.content_hash, d.source_text FROM questionnaire_def d"  # noqa: S608
        " JOIN (SELECT DISTINCT s.questionnaire_id AS qid, s.questionnaire_version AS qver"
        " FROM screening s JOIN person p ON p.id = s.person_id"
        + _where(clauses)
        + ") v ON v.qid = d.id AND v.qver = d.version ORDER BY d.id, d.version"
    )
    return [tuple(r) for r in _rows(conn, sql, params)]


def _rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    bound = {k: stored_time(v) if isinstance(v, datetime) else v for k, v in params.items()}
    return conn.execute(sql, bound).fetchall()


def _join_person(person_id: str, identifiable: bool, f: Filters) -> str:
    """The person table, when the CRN or the office is needed (every row has its person:
    the pseudonym join, an inner join over every person, keeps the same rows)."""
    return f" JOIN person p ON p.id = {person_id}" if identifiable or f.office else ""


def _person(identifiable: bool, crn: str = "p.crn") -> list[str]:
    return ["x.p", cell(crn)] if identifiable else ["x.p"]


# ------------------------------------------------------------------------ tables -------------
def _rows_of(
    conn: Connection, f: Filters, identifiable: bool, withheld: bool, table: str, cells: list[str]
) -> Generator[list[Any]]:
    """A table of a person's records (consent, needs, barriers: one shape), a line per row in
    id order: its id, the person, ``cells``, then its note in an identifiable export. The
    period filter is on ``recorded_at`` (consent) or ``created_at``; a row withheld as
    sensitive is left out (``_left_out``)."""
    a = table[0]  # the table's alias: c, n, b
    clauses, params = _filters(f, f"{a}.recorded_at" if table == "consent" else f"{a}.created_at")
    note = [cell(f"{a}.note")] if identifiable else []
    row = [number(f"{a}.id"), *_person(identifiable), *cells, *note]
    out, join = _left_out(row, f"CAST({a}.id AS TEXT)", withheld)
    sql = (
        f"SELECT {out} FROM {table} {a}"  # noqa: S608
        + join
        + _join_person(f"{a}.person_id", identifiable, f)
        + f" JOIN ex_pseudonym x ON x.id = {a}.person_id"
        + _where(clauses)
        + f" ORDER BY {a}.id"
    )
    return _lines(conn, sql, params)


def consent(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    texts = [cell(f"c.{c}") for c in ("purpose", "status", "method", "recorded_by")]
    return _rows_of(conn, f, identifiable, withheld, "consent", [*texts, iso_cell("c.recorded_at")])


def needs(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    texts = [cell(f"n.{c}") for c in ("domain", "severity", "status", "source")]
    dates = [iso_cell("n.created_at"), iso_cell("n.updated_at")]
    return _rows_of(
        conn, f, identifiable, withheld, "need", [number("n.screening_id"), *texts, *dates]
    )


def barriers(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    cells = [number("b.screening_id"), cell("b.type"), cell("b.source")]
    dates = [iso_cell("b.created_at"), iso_cell("b.resolved_at")]
    return _rows_of(conn, f, identifiable, withheld, "barrier", [*cells, *dates])


def suggestions(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    """rules_fired and because (identifiable) or evidence come from the reasons JSON
    (``ph_reasons``, once per row)."""
    clauses, params = _filters(f, "g.created_at")
    join = ""
    if f.questionnaire:
        join = " JOIN screening s ON s.id = g.screening_id"
        clauses.append("s.questionnaire_id = :questionnaire")
        params["questionnaire"] = f.questionnaire
    cells = [
        number("g.id"),
        *_person(identifiable),
        number("g.screening_id"),
        cell("g.pathway_id"),
        cell("g.urgency"),
        "coalesce(st.rules, ph_reasons(g.reasons, 'rule'))"
        if withheld
        else "ph_reasons(g.reasons, 'rule')",
        (
            (
                "coalesce(st.because, ph_reasons(g.reasons, 'because'))"
                if withheld
                else "ph_reasons(g.reasons, 'because')"
            )
            if identifiable
            else "ph_reasons(g.reasons, 'evidence')"
        ),
        flag("g.already_open"),
        cell("g.rules_id"),
        number("g.rules_version"),
        iso_cell("g.created_at"),
    ]
    out, left = _left_out(cells, "CAST(g.id AS TEXT)", withheld)
    if withheld:
        left += " LEFT JOIN ex_strip st ON st.id = g.id"
    sql = (
        f"SELECT {out} FROM suggestion g{join}"  # noqa: S608
        + left
        + _join_person("g.person_id", identifiable, f)
        + " JOIN ex_pseudonym x ON x.id = g.person_id"
        + _where(clauses)
        + " ORDER BY g.id"
    )
    return _lines(conn, sql, params)


def stripped(conn: Connection, f: Filters) -> int:
    """How many of the exported suggestions lose a sensitive reason (``ex_strip``), with the
    same filters as :func:`suggestions`."""
    clauses, params = _filters(f, "g.created_at")
    join = " JOIN ex_strip st ON st.id = g.id"
    if f.questionnaire:
        join += " JOIN screening s ON s.id = g.screening_id"
        clauses.append("s.questionnaire_id = :questionnaire")
        params["questionnaire"] = f.questionnaire
    if f.office:
        join += " JOIN person p ON p.id = g.person_id"
    sql = f"SELECT count(*) FROM suggestion g{join}" + _where(clauses)  # noqa: S608
    return int(_rows(conn, sql, params)[0][0])


def referral_events(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    clauses, params = _filters(f, "r.created_at")
    cells = [
        number("e.id"),
        number("e.referral_id"),
        *_person(identifiable),
        cell("r.pathway_id"),
        cell("e.from_status"),
        cell("e.to_status"),
        cell("e.reason"),
        iso_cell("e.event_date", day=True),
        cell("e.recorded_by"),
        iso_cell("e.recorded_at"),
    ] + ([cell("e.note")] if identifiable else [])
    out, join = _left_out(cells, "CAST(e.referral_id AS TEXT)", withheld)
    sql = (
        f"SELECT {out} FROM referral_event e JOIN referral r ON r.id = e.referral_id"  # noqa: S608
        + join
        + _join_person("r.person_id", identifiable, f)
        + " JOIN ex_pseudonym x ON x.id = r.person_id"
        + _where(clauses)
        + " ORDER BY e.referral_id, e.id"
    )
    return _lines(conn, sql, params)


def audit(
    conn: Connection, f: Filters, identifiable: bool, *, withheld: bool = False
) -> Generator[list[Any]]:
    """Entity ids of people as pseudonyms (``ph_pseudonym``: the person may be erased)."""
    clauses, params = _filters(f, "at", office=False)
    entity_id = cell("entity_id")
    if not identifiable:
        entity_id = (
            "CASE WHEN entity = 'person' AND entity_id IS NOT NULL AND entity_id != ''"
            f" THEN ph_pseudonym(entity_id) ELSE {entity_id} END"
        )
    cells = [
        number("id"),
        iso_cell("at"),
        cell("actor"),
        cell("action"),
        cell("entity"),
        entity_id,
        cell("detail"),
        cell("prev_hash"),
        cell("hash"),
    ]
    out, join = _left_out(cells, "CASE WHEN entity = 'referral' THEN entity_id END", withheld)
    sql = f"SELECT {out} FROM audit_event" + join + _where(clauses) + " ORDER BY id"  # noqa: S608
    return _lines(conn, sql, params)


def answers(conn: Connection, f: Filters, identifiable: bool, labels: bool) -> Generator[list[Any]]:
    """One row per answer, in questionnaire order within each screening (then by item id, the
    order of the answer table's key, for answers to items their version does not have).

    Fields that depend only on the questionnaire (its id, the section, the item) and on an
    option (value, label) come ready-made from ex_item and ex_value, keyed by the stored JSON
    text; any other answer (numbers, dates, lists, text, other spellings) asks
    ``ph_pair``, which remembers what it worked out."""
    clauses, params = _filters(f, "s.started_at")
    if f.questionnaire:
        clauses.append("s.questionnaire_id = :questionnaire")
        params["questionnaire"] = f.questionnaire
    clauses.append("a.hidden = 0")
    if not identifiable:
        clauses.append("(i.kind IS NULL OR i.kind != 'text')")
    else:  # items marked sensitive (kind 'sensitive' in ex_item) stay out
        clauses.append("(i.kind IS NULL OR i.kind != 'sensitive')")
    args = "s.questionnaire_id, s.questionnaire_version, a.item_id, a.value"
    cells = [
        number("a.screening_id"),
        *_person(identifiable),
        # questionnaire_id, questionnaire_version, section, item_id
        f"coalesce(i.fields, {cell('s.questionnaire_id')} || ',' || s.questionnaire_version"
        f" || ',,' || {cell('a.item_id')})",
        # value, label
        "CASE WHEN a.declined OR a.value IS NULL THEN ','"
        f" WHEN m.raw IS NOT NULL THEN m.{'fields_labels' if labels else 'fields'}"
        f" ELSE ph_pair({args}) END",
        flag("a.declined"),
        iso_cell("a.answered_at"),
    ]
    sql = (
        f"SELECT {line(*cells)} FROM answer a JOIN screening s ON s.id = a.screening_id"  # noqa: S608
        + _join_person("s.person_id", identifiable, f)
        + " JOIN ex_pseudonym x ON x.id = s.person_id"
        " LEFT JOIN ex_item i ON i.qid = s.questionnaire_id"
        " AND i.qver = s.questionnaire_version AND i.item_id = a.item_id"
        " LEFT JOIN ex_value m ON m.qid = s.questionnaire_id"
        " AND m.qver = s.questionnaire_version AND m.item_id = a.item_id AND m.raw = a.value"
        + _where(clauses)
        + " ORDER BY a.screening_id, coalesce(i.idx, 10000), a.item_id"
    )
    return _lines(conn, sql, params)


def _age_band(dob: str) -> str:
    """The age band on ``:today`` (whole years; a birthday on 29 February counts from 1 March,
    as ``clock.age_on``), as a field; empty without a date of birth."""
    age = (
        f"(CAST(substr(:today, 1, 4) AS INTEGER) - CAST(substr({dob}, 1, 4) AS INTEGER)"
        f" - (substr(:today, 6, 5) < substr({dob}, 6, 5)))"
    )
    *lower, (_, _, last) = clock.AGE_BANDS  # clock.age_band: below the first, the first
    bands = " ".join(f"WHEN {age} <= {top} THEN '{label}'" for _, top, label in lower)
    return f"CASE WHEN {dob} IS NULL THEN '' {bands} ELSE '{last}' END"


def people(conn: Connection, f: Filters, identifiable: bool, today: str) -> Generator[list[Any]]:
    """Pseudonyms straight from ``ph_pseudonym`` (one per row: each person once); the
    postcode district is the postcode up to its first space."""
    clauses, params = _filters(f, "p.created_at")
    params["today"] = today
    cells = [
        "ph_pseudonym(p.id)",
        _age_band("p.dob"),
        cell("p.sex"),
        cell("p.office"),
        cell("p.district"),
        cell("p.language"),
        flag("p.needs_interpreter"),
        cell("p.release_month"),
        iso_cell("p.created_at"),
    ]
    if identifiable:
        cells += [
            cell("p.crn"),
            cell("p.given_name"),
            cell("p.family_name"),
            iso_cell("p.dob", day=True),
            cell("p.postcode"),
            cell("p.communication_needs"),
            iso_cell("p.release_date", day=True),
            cell("p.nhs_number"),
            cell("p.address"),
        ]
    cells += [cell("p.nation"), cell("p.stage")]
    person = (
        "(SELECT *, CASE WHEN postcode IS NULL OR postcode = '' THEN NULL"
        " WHEN instr(postcode, ' ') THEN substr(postcode, 1, instr(postcode, ' ') - 1)"
        " ELSE postcode END AS district, substr(release_date, 1, 7) AS release_month"
        " FROM person)"
    )
    sql = (
        f"SELECT {line(*cells)} FROM {person} p"  # noqa: S608
        + _where(clauses)
        + " ORDER BY p.created_at, p.id"
    )
    return _lines(conn, sql, params)


# The referral's columns whose stored text reaches its line (:func:`printed`).
_REFERRAL_TEXT = (
    "pathway_id",
    "service_id",
    "status",
    "urgency",
    "outcome",
    "closed_reason",
    "follow_up_due",
    "created_by",
    "created_at",
    "closed_at",
)


def referrals(
    conn: Connection,
    f: Filters,
    identifiable: bool,
    steps: tuple[str, ...],
    *,
    withheld: bool = False,
) -> Generator[list[Any]]:
    """One row per referral, with the date of each step: the latest event (by id) that
    moved the referral to that status. Those dates go into ``ex_dates`` first, a row per
    referral with a column per step, filled in one pass over the events in id order (each
    event sets its step's column; an event's date is never NULL, so a later one replaces an
    earlier), then joined once per referral: cheaper than a join per step, or pivoting
    every event through a CASE per step at read time. ``ex_dates.nul``: a date of the
    referral's holds a NUL character (the line is then built with ``||``, :func:`printed`)."""
    clauses, params = _filters(f, "r.created_at")
    columns = [f"d{n}" for n in range(len(steps))]
    conn.execute(
        f"CREATE TEMP TABLE ex_dates (referral_id INTEGER PRIMARY KEY, nul, {', '.join(columns)})"
    )
    field = iso_cell("event_date", day=True)
    dates = ", ".join(f"CASE WHEN to_status = '{s}' THEN {field} END" for s in steps)
    later = ", ".join(f"{d} = coalesce(excluded.{d}, {d})" for d in columns)
    conn.execute(
        "INSERT INTO ex_dates SELECT referral_id, instr(event_date, char(0)),"  # noqa: S608
        f" {dates} FROM referral_event WHERE true ORDER BY id ON CONFLICT (referral_id)"
        f" DO UPDATE SET nul = nul OR excluded.nul, {later}"
    )
    cells = [
        number("r.id"),
        *_person(identifiable),
        cell("r.pathway_id"),
        cell("r.service_id"),
        flag("r.self_referral"),
        cell("r.status"),
        cell("r.urgency"),
        number("r.screening_id"),
        cell("r.outcome"),
        cell("r.closed_reason"),
        iso_cell("r.follow_up_due", day=True),
        cell("r.created_by"),
        iso_cell("r.created_at"),
        iso_cell("r.closed_at"),
        *(f"d.{d}" for d in columns),  # fields, or NULL: an empty one
    ]
    raw = [
        *(["p.crn"] if identifiable else []),
        *(f"r.{c}" for c in _REFERRAL_TEXT),
        "r.screening_id",
    ]
    out, left = _left_out(cells, "CAST(r.id AS TEXT)", withheld, raw, "d.nul")
    sql = (
        f"SELECT {out} FROM referral r"  # noqa: S608
        + left
        + _join_person("r.person_id", identifiable, f)
        + " JOIN ex_pseudonym x ON x.id = r.person_id"
        + " LEFT JOIN ex_dates d ON d.referral_id = r.id"
        + _where(clauses)
        + " ORDER BY r.id"
    )
    return _lines(conn, sql, params)


def goals(conn: Connection, f: Filters, identifiable: bool) -> Generator[list[Any]]:
    """One row per goal, with its number of reviews and the last review's progress and time."""
    clauses, params = _filters(f, "g.created_at")
    cells = [
        number("g.id"),
        *_person(identifiable),
        cell("g.domain"),
        iso_cell("g.target_date", day=True),
        cell("g.status"),
        cell("g.created_by"),
        iso_cell("g.created_at"),
        "coalesce(l.n, 0)",
        cell("v.progress"),
        iso_cell("v.reviewed_at"),
    ] + ([cell("g.text")] if identifiable else [])
    sql = (
        f"SELECT {line(*cells)} FROM goal g"  # noqa: S608
        + _join_person("g.person_id", identifiable, f)
        + " JOIN ex_pseudonym x ON x.id = g.person_id"
        " LEFT JOIN (SELECT goal_id, max(id) AS last_id, count(*) AS n FROM goal_review"
        " GROUP BY goal_id) l ON l.goal_id = g.id"
        " LEFT JOIN goal_review v ON v.id = l.last_id" + _where(clauses) + " ORDER BY g.id"
    )
    return _lines(conn, sql, params)


def fill_hidden(conn: Connection, items: Iterable[str]) -> None:
    """Items an identifiable export leaves out of the wide screenings table (sensitive)."""
    conn.execute("CREATE TEMP TABLE ex_hide (item_id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.executemany("INSERT INTO ex_hide VALUES (?)", ((i,) for i in items))


def screenings(
    conn: Connection, f: Filters, identifiable: bool, *, hidden: bool = False
) -> Generator[list[Any]]:
    """One row per screening for the wide table: its own and its person's fields as two
    pieces of a line (before and after the age band), the date of birth and start time the
    age band is worked out from, the questionnaire and version, and its answers (item ->
    stored JSON text, in the order of the answer table's key), scores (scale -> its score
    and band fields) and raised flags (flag -> acknowledged time) as JSON objects, which Python spreads
    over the item, score and flag columns. Only the person-typed columns go through csvsafe
    (the builder's text columns); ``hidden``: leave out the items in ``ex_hide``."""
    clauses, params = _filters(f, "s.started_at")
    if f.questionnaire:
        clauses.append("s.questionnaire_id = :questionnaire")
        params["questionnaire"] = f.questionnaire
    head = [number("s.id"), "x.p"]
    if identifiable:
        head += [
            cell("p.crn"),
            cell("p.given_name"),
            cell("p.family_name"),
            iso_cell("p.dob", day=True),
            cell("p.postcode"),
        ]
    district = (
        "CASE WHEN p.postcode IS NULL OR p.postcode = '' THEN NULL"
        " WHEN instr(p.postcode, ' ') THEN substr(p.postcode, 1, instr(p.postcode, ' ') - 1)"
        " ELSE p.postcode END"
    )
    rest = [
        cell("p.sex"),
        cell("p.office"),
        cell(district),
        field("s.questionnaire_id"),
        number("s.questionnaire_version"),
        field("s.status"),
        cell("s.setting"),
        cell("s.started_by"),
        iso_field("s.started_at"),
        iso_field("s.completed_at"),
    ]
    left_out = " AND a.item_id NOT IN (SELECT item_id FROM ex_hide)" if hidden else ""
    sql = (
        f"SELECT {_joined(head)}, p.dob, s.started_at, {_joined(rest)},"  # noqa: S608
        " s.questionnaire_id, s.questionnaire_version,"
        " (SELECT json_group_object(a.item_id, a.value) FROM answer a"
        f" WHERE a.screening_id = s.id AND a.hidden = 0{left_out}),"
        f" (SELECT json_group_object(c.scale_id, c.value || ',' || {field('c.band')})"
        " FROM score c"
        " WHERE c.screening_id = s.id),"
        " (SELECT json_group_object(g.flag_id, g.acknowledged_at) FROM flag g"
        " WHERE g.screening_id = s.id), s.id"
        " FROM screening s JOIN person p ON p.id = s.person_id"
        " JOIN ex_pseudonym x ON x.id = s.person_id" + _where(clauses) + " ORDER BY s.id"
    )
    return _lines(conn, sql, params)


def stored_versions(conn: Connection, questionnaire: str | None) -> list[tuple[str, int, str, str]]:
    """(id, version, content hash, source) of every questionnaire version stored, or of one
    questionnaire's (``store.export.stored_versions``)."""
    sql = "SELECT id, version, content_hash, source_text FROM questionnaire_def"
    params: dict[str, Any] = {}
    if questionnaire:
        sql += " WHERE id = :questionnaire"
        params["questionnaire"] = questionnaire
    return [tuple(r) for r in _rows(conn, sql + " ORDER BY id, version", params)]
