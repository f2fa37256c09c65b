"""CSV export for commissioners and analysts: correct, safe and streamed.

- **Pseudonymised by default.** People appear as ``P`` + a keyed HMAC of their internal id
  (the key is made when the database is created and never exported), so the same person has
  the same pseudonym in every export of this database and the exports can be joined. Names,
  CRN, date of birth (an age band instead), postcode (its district instead) and free text are
  left out. ``identifiable=True`` puts them in, is announced on stderr by the CLI, and is
  recorded in the audit log with the row count.
- **Stable columns.** The wide screenings table orders item columns by the questionnaire,
  taking the union of every version present, so an item removed in a later version keeps its
  column; multi-choice items get one 0/1 column per option plus a column of labels.
- **Spreadsheet-safe.** Every text cell goes through ``csvsafe``; numbers stay numbers; dates
  are ISO; quoting is RFC 4180 (CRLF line ends); ``excel`` adds a UTF-8 BOM.
- **Atomic and private.** ``atomicfile``: a 0600 temporary file in the target folder, renamed
  into place only when complete.
- **Streaming.** Rows come from database cursors in batches (``store.exporting``); memory does
  not grow with the number of rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probhealth import atomicfile, clock, csvsafe, validation
from probhealth.errors import BadInput
from probhealth.store.db import Plain, Store
from probhealth.store.export_sqlite import Filters

if TYPE_CHECKING:  # questionnaires load (pydantic models) only for the tables that need them
    from probhealth.questionnaire.model import Item, Questionnaire

TABLES = (
    "people",
    "consent",
    "screenings",
    "answers",
    "needs",
    "barriers",
    "suggestions",
    "referrals",
    "referral-events",
    "goals",
    "audit",
)
REFERRAL_STEPS = (
    "agreed",
    "declined-by-person",
    "referred",
    "accepted",
    "rejected-by-service",
    "appointment-booked",
    "attended",
    "did-not-attend",
    "completed",
    "withdrawn",
)


@dataclass(frozen=True)
class Options:
    table: str
    out: Path | None  # None: standard output
    force: bool = False
    identifiable: bool = False
    labels: bool = False
    excel: bool = False
    since: date | None = None
    until: date | None = None
    office: str | None = None
    questionnaire: str | None = None


@dataclass(frozen=True)
class Result:
    table: str
    rows: int
    columns: int
    target: str
    identifiable: bool
    audit_head: str | None = None  # ID:HASH of the export's own audit event
    # Identifiable exports only (hazard H23): rows left out because they exist only because
    # of a sensitive answer, and cells (a flag, a reason) left out of rows that were kept.
    withheld_rows: int = 0
    withheld_cells: int = 0


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.london()).astimezone(clock.now().tzinfo)


def filters(o: Options) -> Filters:
    if o.since and o.until and o.until < o.since:
        raise BadInput("{opt:until} is before {opt:since}.")
    return Filters(
        since=_instant(o.since) if o.since else None,
        until=_instant(o.until + timedelta(days=1)) if o.until else None,
        office=o.office,
        questionnaire=o.questionnaire,
    )


class People:
    """Pseudonyms and the identifying columns for one export."""

    def __init__(self, key: str, identifiable: bool, today: date) -> None:
        self.key = key.encode()
        self.identifiable = identifiable
        self.today = today
        self._cache: dict[str, str] = {}
        self.withheld: Any = None  # sensitive.Withheld, for an identifiable export
        # Suggestions kept with sensitive reasons left out: id -> (rules_fired, because) fields
        self.strip: dict[int, tuple[str, str]] = {}
        self.left_rows = 0
        self.left_cells = 0

    def pseudonym(self, person_id: str | None) -> str:
        if person_id is None:
            return ""
        value = self._cache.get(person_id)
        if value is None:
            value = "P" + hmac.new(self.key, person_id.encode(), hashlib.sha256).hexdigest()[:16]
            if len(self._cache) < 100_000:
                self._cache[person_id] = value
        return value

    def header(self, extra: tuple[str, ...] = ("crn",)) -> list[str]:
        return ["person", *(extra if self.identifiable else ())]


def pseudonym_function(key: bytes) -> Callable[[Any], str]:
    """``People.pseudonym`` for many people: HMAC-SHA256 from the key's inner and outer hash
    states, worked out once and copied for each id (RFC 2104), which is about twice as fast
    as ``hmac.digest`` for short ids and gives the same digest."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    block = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def pseudonym(person_id: Any) -> str:
        i = inner.copy()
        i.update(str(person_id).encode())
        o = outer.copy()
        o.update(i.digest())
        return "P" + o.hexdigest()[:16]

    return pseudonym


def header(table: str, identifiable: bool) -> list[str]:
    """The columns of a table whose columns do not depend on the questionnaires (every table
    but screenings)."""
    person = ["person", "crn"] if identifiable else ["person"]
    note = ["note"] if identifiable else []
    if table == "people":
        ident = [
            "crn",
            "given_name",
            "family_name",
            "dob",
            "postcode",
            "communication_needs",
            "release_date",
            "nhs_number",
            "address",
        ]
        return [
            "person",
            "age_band",
            "sex",
            "office",
            "postcode_district",
            "language",
            "needs_interpreter",
            "release_month",
            "created_at",
            *(ident if identifiable else []),
            "nation",  # issue 12: new columns, last so the others keep their place
            "stage",
        ]
    columns = {
        "consent": [
            "consent_id",
            *person,
            "purpose",
            "status",
            "method",
            "recorded_by",
            "recorded_at",
            *note,
        ],
        "needs": [
            "need_id",
            *person,
            "screening_id",
            "domain",
            "severity",
            "status",
            "source",
            "created_at",
            "updated_at",
            *note,
        ],
        "barriers": [
            "barrier_id",
            *person,
            "screening_id",
            "type",
            "source",
            "created_at",
            "resolved_at",
            *note,
        ],
        "suggestions": [
            "suggestion_id",
            *person,
            "screening_id",
            "pathway",
            "urgency",
            "rules_fired",
            # The rendered reasons quote exact values ("Aged 65", "Released 14 days ago"):
            # only identifiable exports carry them; pseudonymised ones carry the evidence's
            # kind and band instead ("phq9: moderately severe", issue 14 item 8).
            "because" if identifiable else "evidence",
            "already_open",
            "rules_id",
            "rules_version",
            "created_at",
        ],
        "referrals": [
            "referral_id",
            *person,
            "pathway",
            "service",
            "self_referral",
            "status",
            "urgency",
            "screening_id",
            "outcome",
            "closed_reason",
            "follow_up_due",
            "created_by",
            "created_at",
            "closed_at",
            *(f"date_{s.replace('-', '_')}" for s in REFERRAL_STEPS),
        ],
        "referral-events": [
            "event_id",
            "referral_id",
            *person,
            "pathway",
            "from_status",
            "to_status",
            "reason",
            "event_date",
            "recorded_by",
            "recorded_at",
            *note,
        ],
        "goals": [
            "goal_id",
            *person,
            "domain",
            "target_date",
            "status",
            "created_by",
            "created_at",
            "reviews",
            "last_progress",
            "last_review_at",
            *(["text"] if identifiable else []),
        ],
        "audit": [
            "event_id",
            "at",
            "actor",
            "action",
            "entity",
            "entity_id",
            "detail",
            "prev_hash",
            "hash",
        ],
        "answers": [
            "screening_id",
            *person,
            "questionnaire_id",
            "questionnaire_version",
            "section",
            "item_id",
            "value",
            "label",
            "declined",
            "answered_at",
        ],
    }
    return columns[table]


def iso_text(value: Any) -> str | None:
    """A timestamp or date as ISO text. Values come raw from the cursor: SQLite gives stored
    text ('2026-05-15 05:37:20.000000', UTC), other drivers give datetime/date objects."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > 10 and value[10] == " ":
            return value[:10] + "T" + value[11:19] + "Z"
        return value
    if isinstance(value, datetime):
        return clock.iso_utc(value if value.tzinfo else value.replace(tzinfo=clock.now().tzinfo))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    return datetime.fromisoformat(str(value).replace(" ", "T")[:19]).replace(
        tzinfo=clock.now().tzinfo
    )


def month_of(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text[:7]


def merged_items(versions: list[Questionnaire]) -> list[Item]:
    """Items of every version, in questionnaire order: the newest version's order, with each
    item that only an older version has placed right after its nearest earlier neighbour, so
    a removed item keeps its column and its place."""
    by_id: dict[str, Item] = {}
    order: list[str] = []
    for v in sorted(versions, key=lambda v: (-v.version, v.id)):
        previous: str | None = None
        for item in v.items:
            if item.id not in by_id:
                by_id[item.id] = item
                order.insert(order.index(previous) + 1 if previous is not None else 0, item.id)
            previous = item.id
    return [by_id[i] for i in order]


def merge_options(versions: list[Questionnaire], item_id: str) -> list[Any]:
    values: list[Any] = []
    for v in sorted(versions, key=lambda v: -v.version):
        if v.has_item(item_id):
            for opt in v.item(item_id).options:
                if opt.value not in values:
                    values.append(opt.value)
    return values


def run(
    store: Store | Plain,
    o: Options,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    portable: bool = False,
) -> Result:
    """Write one table as CSV. ``store`` is the application's ``Store``, or for a table of
    ``FAST`` a ``Plain`` connection (``db.open_plain``: no SQLAlchemy at all). ``portable``
    forces the per-row builders (``export_rows``), which work on every database; tests compare
    their bytes with the SQLite fast path's."""
    if o.table not in TABLES:
        raise BadInput(
            f"Unknown table {o.table!r}.{validation.did_you_mean(o.table, TABLES)}"
            f" Choose one of: {', '.join(TABLES)}."
        )
    if o.labels and o.table not in ("screenings", "answers"):
        raise BadInput("{opt:labels} is for the screenings and answers tables.")
    if o.questionnaire and o.table not in ("screenings", "answers", "suggestions"):
        raise BadInput("{opt:questionnaire} is for the screenings, answers and suggestions tables.")
    if o.office is not None:
        o = Options(
            **{**o.__dict__, "office": validation.short_text(o.office, "{opt:office}", max_len=60)}
        )
    f = filters(o)
    if o.out is not None:
        atomicfile.check_target(o.out, force=o.force)
    if isinstance(store, Plain):
        if not plain_ok(o) or portable:
            raise ValueError(f"the plain open cannot export {o.table}")  # callers ask plain_ok
        from probhealth.store import export_sqlite as fx

        people = People(fx.pseudonym_key(store.con), o.identifiable, clock.today())
        return run_fast(store.con, store, o, f, progress, people)
    from probhealth.services import export_rows

    with store.raw() as conn:
        return export_rows.write(conn, store, o, f, progress, portable=portable)


def plain_ok(o: Options) -> bool:
    """Whether the plain open (sqlite3 alone, ``db.open_plain``) can write this export: a
    table SQLite writes itself, and no rows to withhold as sensitive (an identifiable export
    of those tables reads the rules and answers through the store first, hazard H23)."""
    return o.table in FAST and not (o.identifiable and o.table in WITHHOLDING)


def run_fast(
    con: Any,
    store: Store | Plain,
    o: Options,
    f: Filters,
    progress: Callable[[int, int | None], None] | None,
    people: People,
) -> Result:
    """SQLite writes every line (store/export_sqlite.py); they go straight to the file. The
    rows are read in one read transaction on ``con`` (a DB-API connection in autocommit
    mode; the store's may have begun it), and one begun here ends before the export's audit
    event is written (on the plain path, on this same connection)."""
    from probhealth.store import export_sqlite as fx

    rows = 0
    began = not con.in_transaction  # the store's connection may be in one already
    if began:
        con.execute("BEGIN")  # one snapshot for the temporary tables and the rows
    try:
        versions: dict[tuple[str, int], Questionnaire] = {}
        wide: Wide | None = None
        if o.table == "answers":
            versions = {(v.id, v.version): v for v in versions_of(fx.screening_versions(con, f))}
        if o.table == "screenings":
            wide = wide_columns(_wide_versions(con, f), o.identifiable, o.labels)
            head = wide.header
        else:
            head = header(o.table, o.identifiable)
        batches = _fast(con, f, o, people, versions, wide)
        with atomicfile.atomic_text(o.out, force=o.force, bom=o.excel) as fh:
            fh.write(",".join(_field(h) for h in head) + "\r\n")
            try:
                for lines in batches:
                    fh.write("".join(lines))
                    left = lines.count("") if people.withheld else 0  # withheld: no line
                    people.left_rows += left
                    rows += len(lines) - left
                    if progress is not None:
                        progress(rows, None)
            finally:
                batches.close()
            if began:
                con.execute("COMMIT")
            # Recorded before the file takes its name: no export exists without its audit
            # event (if this write fails, the temporary file is removed).
            audit_head = audit_export(store, o, rows, len(head))
    finally:
        if began and con.in_transaction:
            con.execute("ROLLBACK")
    return Result(
        o.table,
        rows,
        len(head),
        str(o.out) if o.out else "-",
        o.identifiable,
        audit_head,
        people.left_rows,
        people.left_cells,
    )


def audit_export(store: Store | Plain, o: Options, rows: int, columns: int) -> str:
    """Records the export; returns the audit head it made (ID:HASH), which the export carries."""
    action = "export.identifiable" if o.identifiable else "export"
    detail = {
        "table": o.table,
        "rows": rows,
        "columns": columns,
        "identifiable": o.identifiable,
        "filters": sorted(
            k for k in ("since", "until", "office", "questionnaire") if getattr(o, k)
        ),
    }
    if isinstance(store, Plain):
        return store.append_event(
            action=action, entity="export", entity_id=o.table, detail=detail
        ).short()
    from probhealth.store import audit

    with store.write() as session:
        audit.append(
            session,
            actor=store.actor,
            action=action,
            entity="export",
            entity_id=o.table,
            detail=detail,
        )
    assert store.last_head is not None
    return store.last_head.short()


# ---------------------------------------------------------------- screenings ------------
def versions_of(stored: list[tuple[str, int, str, str]]) -> list[Questionnaire]:
    """The questionnaire versions an export covers, from their stored text (id, version,
    content hash, source). Parsed here, not through ``definitions`` (which loads the
    database tables): the plain export path runs without SQLAlchemy."""
    from probhealth.questionnaire.model import load_text

    return [load_text(src, f"{qid} v{ver} (stored)") for qid, ver, _, src in stored]


def sensitive_items(versions: Any) -> frozenset[str]:
    """Items marked ``sensitive: true`` in any exported version (DAST-10 item 8, domestic
    abuse): a later version's marking covers screenings of earlier versions too, as the
    questionnaire's comment always promised. They never appear in an identifiable export."""
    return frozenset(i.id for v in versions for i in v.items if i.sensitive)


# Kinds of item column in the wide screenings table: the value as it is, a date as its month
# (pseudonymised), an option's label (--labels), a multi-choice item (labels, then 0/1 per option).
PLAIN, MONTH, LABEL, MULTI = 0, 1, 2, 3
# Columns of the wide table that can hold free or person-typed text; with the items of
# TEXT_KINDS (and, with --labels, items with options), the only columns whose text is
# neutralised. The rest hold numbers, ids and option values, written as they are.
FREE_COLUMNS = frozenset(
    {
        "crn",
        "given_name",
        "family_name",
        "dob",
        "postcode",
        "office",
        "postcode_district",
        "setting",
        "started_by",
        "sex",
    }
)


@dataclass(frozen=True)
class Wide:
    """The columns of the wide screenings table for the versions exported."""

    header: list[str]
    items: list[tuple[int, Item, list[Any] | None]]  # kind, item, a multi item's values
    scales: list[str]
    flags: list[str]
    text_columns: list[int]  # indexes of the columns whose text is neutralised
    text_items: frozenset[str]
    hide: frozenset[str]  # sensitive items (identifiable export)
    by_version: dict[tuple[str, int], Questionnaire]


def wide_columns(versions: list[Questionnaire], identifiable: bool, labels: bool) -> Wide:
    """Item columns in questionnaire order over every version (``merged_items``); free text
    only in an identifiable export; scales and flags in the newest version's order."""
    items = [i for i in merged_items(versions) if identifiable or i.type != "text"]
    scales: list[str] = []
    flags: list[str] = []
    for v in sorted(versions, key=lambda v: -v.version):
        scales += [s.id for s in v.scales if s.id not in scales]
        flags += [fl.id for fl in v.flags if fl.id not in flags]
    header = ["screening_id", "person"]
    if identifiable:
        header += ["crn", "given_name", "family_name", "dob", "postcode"]
    header += [
        "age_band",
        "sex",
        "office",
        "postcode_district",
        "questionnaire_id",
        "questionnaire_version",
        "status",
        "setting",
        "started_by",
        "started_at",
        "completed_at",
    ]
    plan: list[tuple[int, Item, list[Any] | None]] = []
    for item in items:
        header.append(item.id)
        if item.type == "multi":
            values = merge_options(versions, item.id)
            header += [f"{item.id}__{v}" for v in values]
            plan.append((MULTI, item, values))
        elif item.type == "date" and not identifiable:
            plan.append((MONTH, item, None))
        elif labels and item.options:
            plan.append((LABEL, item, None))
        else:
            plan.append((PLAIN, item, None))
    header.append("declined_items")
    for s in scales:
        header += [f"score_{s}", f"band_{s}"]
    header += [f"flag_{fl}" for fl in flags]
    header.append("flags_unacknowledged")
    text_items = frozenset(
        i.id for i in items if i.type in ("text", "multi") or (labels and i.options)
    )
    return Wide(
        header=header,
        items=plan,
        scales=scales,
        flags=flags,
        text_columns=[
            n for n, name in enumerate(header) if name in FREE_COLUMNS or name in text_items
        ],
        text_items=text_items,
        hide=sensitive_items(versions) if identifiable else frozenset(),
        by_version={(v.id, v.version): v for v in versions},
    )


def item_cells(kind: int, item: Item, values: list[Any] | None, value: Any) -> list[Any]:
    """The cells of one item column (more for a multi-choice item) for a decoded answer
    (None: not answered, or declined)."""
    if kind == MULTI:
        assert values is not None
        if value is None:
            return [None] * (len(values) + 1)
        chosen = value if isinstance(value, list) else [value]
        return ["; ".join(item.label_of(v) for v in chosen)] + [
            1 if v in chosen else 0 for v in values
        ]
    if value is None:
        return [None]
    if kind == MONTH:
        return [month_of(value)]
    if kind == LABEL:
        return [item.label_of(value)]
    return [value]


_ABSENT = object()


def unscored_band(v: Questionnaire | None, scale_id: str, got: dict[str, Any]) -> str | None:
    """The band cell of a scale with no score: ``incomplete (at least N)`` when an item was
    declined (N is what the answered items prove), ``not-asked`` when the skip logic never
    reached it, empty when the screening's version has no such scale."""
    if v is None or not v.has_scale(scale_id):
        return None
    scale = v.scale(scale_id)
    if not any(got.get(i, _ABSENT) is None for i in scale.items):
        return "not-asked"
    from probhealth.questionnaire.engine import item_score

    least = 0
    for item_id in scale.items:
        item = v.item(item_id)
        raw = got.get(item_id)
        score = None if raw is None else item_score(item, raw, scale)
        if score is None:
            least += min((o.score for o in item.options if o.score is not None), default=0)
        else:
            least += score
    return f"incomplete (at least {least})"


def item_value(item: Item, value: Any, labels: bool, identifiable: bool) -> Any:
    if item.type == "date":
        return value if identifiable else month_of(value)
    if labels and item.options:
        return item.label_of(value)
    return value


# ---------------------------------------------------------------- SQLite fast path -------
# The same bytes as the builders above (tests/services/test_export_bytes.py), with every cell
# computed by SQLite (store/export_sqlite.py). Python runs once per person (pseudonyms), once
# per questionnaire item and option (order, section, label), and only for the rare cell SQL
# cannot render as Python would (a formula-like text, a list or a real in an answer). The wide
# screenings table is put together here from what SQLite wrote (``_wide_lines``).
# Tables an identifiable export may leave rows or cells out of (hazard H23).
WITHHOLDING = frozenset(
    {"screenings", "needs", "suggestions", "referrals", "referral-events", "audit"}
)
FAST = frozenset(TABLES)
_QUOTE = frozenset(',"\r\n')


def _field(value: Any) -> str:
    """The CSV field csv.writer writes for a cell, after the run loop's csvsafe treatment."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = csvsafe.neutralise(value)
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        text = csvsafe.neutralise(str(value))
    if not _QUOTE.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _fast(
    conn: Any,
    f: Filters,
    o: Options,
    p: People,
    versions: dict[tuple[str, int], Questionnaire],
    wide: Wide | None = None,
) -> Generator[list[str]]:
    """Batches of CSV lines: as SQLite wrote them, or (screenings) put together here."""
    from probhealth.store import export_sqlite as fx

    pair = None
    if o.table == "answers":
        pair = _answer_fallback(versions, p.identifiable, o.labels)
    fx.prepare(
        conn,
        fx.Functions(
            cell=_field,
            iso=iso_text,
            pseudonym=pseudonym_function(p.key),
            pair=pair,
            reasons=reasons_cell if o.table == "suggestions" else None,
        ),
    )
    if o.table not in ("audit", "people"):
        fx.fill_pseudonyms(conn, o.table)
    ident = p.identifiable
    w = p.withheld
    if w:  # rows left out as sensitive: keyed as the query matches them (ids as text)
        keys = {
            "needs": w.needs,
            "suggestions": w.suggestions,
            "referrals": w.referrals,
            "referral-events": w.referrals,
            "audit": w.referrals,
        }.get(o.table, frozenset())
        strip = p.strip if o.table == "suggestions" else {}
        fx.fill_withheld(conn, (str(k) for k in keys), strip)
        if strip:
            p.left_cells += fx.stripped(conn, f)
    if o.table == "screenings":
        assert wide is not None
        if wide.hide:
            fx.fill_hidden(conn, wide.hide)
        rows = fx.screenings(conn, f, ident, hidden=bool(wide.hide))
        return _wide_lines(rows, wide, p)
    if o.table == "answers":
        hide = sensitive_items(versions.values()) if ident else frozenset()
        fx.fill_items(conn, _item_rows(versions, hide), _value_rows(versions, ident))
        rows = fx.answers(conn, f, ident, o.labels)
    elif o.table == "people":
        rows = fx.people(conn, f, ident, p.today.isoformat())
    elif o.table == "referrals":
        rows = fx.referrals(conn, f, ident, REFERRAL_STEPS, withheld=bool(w))
    elif o.table == "goals":
        rows = fx.goals(conn, f, ident)
    else:
        table = {
            "consent": fx.consent,
            "needs": fx.needs,
            "barriers": fx.barriers,
            "suggestions": fx.suggestions,
            "referral-events": fx.referral_events,
            "audit": fx.audit,
        }[o.table]
        rows = table(conn, f, ident, withheld=bool(w))
    return _first_column(rows)


def _first_column(rows: Generator[list[Any]]) -> Generator[list[str]]:
    try:
        for batch in rows:
            yield [r[0] for r in batch]
    finally:
        rows.close()


def _wide_versions(con: Any, f: Filters) -> list[Questionnaire]:
    """``export_rows.stored_or_bundled_versions`` on the plain connection: the versions of
    the screenings exported; else those stored; else the bundled questionnaire."""
    from probhealth.store import export_sqlite as fx

    found = fx.screening_versions(con, f) or fx.stored_versions(con, f.questionnaire)
    if found:
        return versions_of(found)
    from probhealth.services import definitions  # an empty database: rare, and loads more

    bundled = definitions.load_questionnaire()
    return [bundled] if f.questionnaire in (None, bundled.id) else []


def plain_field(value: Any) -> str:
    """The field csv.writer writes for a value as it is (no csvsafe): the wide table's
    columns that cannot hold person-typed text."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if not _QUOTE.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _wide_lines(rows: Generator[list[Any]], w: Wide, p: People) -> Generator[list[str]]:
    """The wide screenings lines from ``export_sqlite.screenings``: SQLite wrote the fixed
    fields; here each answer's stored JSON text becomes its column's fields (worked out once
    per item and value, as the builder writes them), then the age band, scores and flags."""
    loads = json.loads
    risky = csvsafe.RISKY_FIRST
    slots: dict[str, tuple[int, int, Item, list[Any] | None, bool]] = {}
    template: list[str] = []
    for n, (kind, item, values) in enumerate(w.items):
        slots[item.id] = (n, kind, item, values, item.id in w.text_items)
        template.append("," * len(values) if kind == MULTI and values is not None else "")
    segments: dict[tuple[str, str | None], tuple[int, str, bool]] = {}

    def segment(key: tuple[str, str | None]) -> tuple[int, str, bool]:
        item_id, raw = key
        value = None if raw is None else loads(raw)
        slot = slots.get(item_id)
        if slot is None:  # not a column (free text in a pseudonymised export, or unknown)
            found = (-1, "", value is None)
        else:
            n, kind, item, values, text = slot
            cells = item_cells(kind, item, values, value)
            first = cells[0]
            if text and type(first) is str and first and (first[0] in risky or "\n" in first):
                cells[0] = csvsafe.neutralise(first)
            found = (n, ",".join(map(plain_field, cells)), value is None)
        if len(segments) < 50_000:
            segments[key] = found
        return found

    london: dict[str, date] = {}

    def age_band(dob: Any, started: Any) -> str:
        day = as_date(dob)
        if day is None:
            return ""
        if started is None:
            on = p.today
        else:
            text = str(started)
            # The wall date in London changes only on the hour (GMT/BST at 01:00 UTC).
            hour = text[:13] if len(text) >= 19 and text[10] == " " else None
            found = london.get(hour) if hour else None
            if found is None:
                at = as_datetime(started)
                assert at is not None
                found = clock.to_london(at).date()
                if hour and len(london) < 100_000:
                    london[hour] = found
            on = found
        return plain_field(clock.age_band(clock.age_on(day, on)))

    sensitive = p.withheld.flags if p.withheld else None
    scale_items = {
        key: {s: frozenset(v.scale(s).items) for s in w.scales if v.has_scale(s)}
        for key, v in w.by_version.items()
    }
    try:
        for batch in rows:
            lines: list[str] = []
            for head, dob, started, rest, qid, qver, answers, scores, flags, sid in batch:
                got = loads(answers) if answers else {}
                fields = template.copy()
                declined: list[str] = []
                for pair in got.items():
                    found = segments.get(pair) or segment(pair)
                    if found[2]:
                        declined.append(pair[0])
                    if found[0] >= 0:
                        fields[found[0]] = found[1]
                parts = [head, age_band(dob, started), rest]
                if fields:
                    parts.append(",".join(fields))
                parts.append(plain_field(";".join(declined) or None))
                if w.scales:
                    scored = loads(scores) if scores != "{}" else {}
                    has = scale_items.get((qid, qver), {})
                    for s in w.scales:
                        hit = scored.get(s)
                        if hit is not None:  # its score and band fields
                            parts.append(hit)
                            continue
                        band = None
                        if s in has:  # the screening's version has this scale
                            if not declined or has[s].isdisjoint(declined):
                                band = "not-asked"
                            else:
                                decoded = {
                                    k: None if v is None else loads(v) for k, v in got.items()
                                }
                                band = unscored_band(w.by_version[(qid, qver)], s, decoded)
                        parts += ("", plain_field(band))
                raised = loads(flags) if flags != "{}" else {}
                if sensitive and sid in sensitive:  # raised only by a sensitive answer
                    for fid in sensitive[sid]:
                        p.left_cells += raised.pop(fid, _ABSENT) is not _ABSENT
                parts += ["1" if fl in raised else "0" for fl in w.flags]
                parts.append(str(sum(1 for ack in raised.values() if ack is None)))
                lines.append(",".join(parts) + "\r\n")
            yield lines
    finally:
        rows.close()


def reasons_field(parsed: list[dict[str, Any]], key: str) -> str:
    """A suggestion's rules_fired (key 'rule'), because or evidence, from its reasons. The
    evidence of each reason is joined once (reasons often rest on the same facts); one
    recorded before evidence was kept gives nothing."""
    if key == "evidence":
        parts: dict[str, None] = {}
        for r in parsed:
            parts.update((e, None) for e in str(r.get("evidence") or "").split("; ") if e)
        return "; ".join(parts)
    return (";" if key == "rule" else "; ").join(r.get(key, "") for r in parsed)


@lru_cache(maxsize=4096)
def reasons_cell(reasons: str | None, key: str) -> str:
    """rules_fired, because or evidence of a suggestion, as a field (the fast path)."""
    return _field(reasons_field(json.loads(reasons or "[]"), key))


def _item_rows(
    versions: dict[tuple[str, int], Questionnaire], hide: frozenset[str] = frozenset()
) -> Iterator[tuple[str, int, str, int, str, str]]:
    """Each item's fields; an item in ``hide`` (sensitive, identifiable export) has the kind
    'sensitive', which the answers query leaves out."""
    for (qid, ver), v in versions.items():
        for item in v.items:
            try:
                section: str | None = v.section(item.section_id).id
            except KeyError:  # pragma: no cover - a loaded questionnaire names real sections
                section = None
            fields = f"{_field(qid)},{ver},{_field(section)},{_field(item.id)}"
            kind = "sensitive" if item.id in hide else item.type
            yield (qid, ver, item.id, item.index, kind, fields)


def _value_rows(
    versions: dict[tuple[str, int], Questionnaire], identifiable: bool
) -> Iterator[tuple[str, int, str, str, str, str]]:
    """Each option's value and label fields, by the JSON text it may be stored as (the
    screening's compact spelling and the demo's default one), worked out once as the builder
    would, without and with --labels."""
    for (qid, ver), v in versions.items():
        for item in v.items:
            if item.type == "text" and not identifiable:
                continue
            for opt in item.options:
                decoded = opt.value  # a str or an int
                shown = item_value(item, decoded, False, identifiable)
                label = item.label_of(decoded)
                fields = f"{_field(shown)},{_field(label)}"
                with_labels = f"{_field(label if label is not None else shown)},{_field(label)}"
                for raw in {
                    json.dumps(decoded),
                    json.dumps(decoded, ensure_ascii=False, separators=(",", ":")),
                }:
                    yield (qid, ver, item.id, raw, fields, with_labels)


def _answer_fallback(
    versions: dict[tuple[str, int], Questionnaire], identifiable: bool, labels: bool
) -> Callable[[str, int, str, str], str]:
    """The value and label fields of an answer that is not an option's stored JSON: numbers,
    dates, lists, text, other spellings. Written as the builder writes them (``_answers``),
    and remembered (a bounded cache): the same few values come back again and again."""
    cache: dict[tuple[str, int, str, str], str] = {}

    def pair(qid: str, qver: int, item_id: str, value: str) -> str:
        key = (qid, qver, item_id, value)
        hit = cache.get(key)
        if hit is not None:
            return hit
        v = versions.get((qid, qver))
        item = v.item(item_id) if v is not None and v.has_item(item_id) else None
        decoded = json.loads(value)
        shown: Any
        label: str | None
        if isinstance(decoded, list):
            shown = ";".join(str(x) for x in decoded)
            label = "; ".join(item.label_of(x) for x in decoded) if item else shown
        else:
            shown = (
                decoded
                if item is None
                else item_value(item, decoded, False, identifiable)
                if decoded is not None
                else None
            )
            label = (
                item.label_of(decoded) if item and decoded is not None and item.options else None
            )
        if labels and label is not None:
            shown = label
        found = f"{_field(shown)},{_field(label)}"
        if len(cache) < 20_000:
            cache[key] = found
        return found

    return pair
