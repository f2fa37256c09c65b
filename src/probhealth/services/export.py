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

import csv
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probhealth import atomicfile, clock, csvsafe, validation
from probhealth.errors import BadInput
from probhealth.store import audit
from probhealth.store import export as q
from probhealth.store.db import Store

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


def filters(o: Options) -> q.Filters:
    if o.since and o.until and o.until < o.since:
        raise BadInput("{opt:until} is before {opt:since}.")
    return q.Filters(
        since=_instant(o.since) if o.since else None,
        until=_instant(o.until + timedelta(days=1)) if o.until else None,
        office=o.office,
        questionnaire=o.questionnaire,
    )


class _People:
    """Pseudonyms and the identifying columns for one export."""

    def __init__(self, key: str, identifiable: bool, today: date) -> None:
        self.key = key.encode()
        self.identifiable = identifiable
        self.today = today
        self._cache: dict[str, str] = {}
        self.withheld: Any = None  # sensitive.Withheld, for an identifiable export
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


def _iso(value: Any) -> str | None:
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


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    return datetime.fromisoformat(str(value).replace(" ", "T")[:19]).replace(
        tzinfo=clock.now().tzinfo
    )


def _month(value: Any) -> str | None:
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


def _merge_options(versions: list[Questionnaire], item_id: str) -> list[Any]:
    values: list[Any] = []
    for v in sorted(versions, key=lambda v: -v.version):
        if v.has_item(item_id):
            for opt in v.item(item_id).options:
                if opt.value not in values:
                    values.append(opt.value)
    return values


# ---------------------------------------------------------------- writing ---------------
_DECODED: dict[str, Any] = {}


def _decode(value: str | None) -> Any:
    """An answer's stored JSON. Answers repeat a few values endlessly ("no", 0, 1...), so
    decoded scalars are remembered (a bounded cache)."""
    if value is None:
        return None
    hit = _DECODED.get(value)
    if hit is not None:
        return hit
    decoded = json.loads(value)
    if not isinstance(decoded, list) and len(_DECODED) < 20_000:
        _DECODED[value] = decoded
    return decoded


def _groups(rows: Iterator[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """Consecutive rows with the same first value, as (key, rows)."""
    from itertools import groupby
    from operator import itemgetter

    for key, group in groupby(rows, key=itemgetter(0)):
        yield key, list(group)


class _Groups:
    """Merge-join helper: the rows of one key at a time from a stream ordered by that key."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self.groups = _groups(rows)
        self.head = next(self.groups, None)

    def take(self, key: Any) -> list[Any]:
        while self.head is not None and self.head[0] < key:
            self.head = next(self.groups, None)
        if self.head is not None and self.head[0] == key:
            rows = self.head[1]
            self.head = next(self.groups, None)
            return rows
        return []


class _Peek:
    def __init__(self, rows: Iterator[Any]) -> None:
        self.rows = rows
        self.head: Any = next(rows, None)

    def take(self, key: Any) -> Iterator[Any]:
        while self.head is not None and self.head[0] < key:
            self.head = next(self.rows, None)
        while self.head is not None and self.head[0] == key:
            yield self.head
            self.head = next(self.rows, None)


def run(
    store: Store,
    o: Options,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    portable: bool = False,
) -> Result:
    """Write one table as CSV. ``portable`` forces the per-row builders below, which work on
    every database; tests compare their bytes with the SQLite fast path's."""
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
    rows = columns = 0
    with store.raw() as conn:
        people = _People(q.pseudonym_key(conn), o.identifiable, clock.today())
        if o.identifiable and o.table in WITHHOLDING:
            from probhealth.services import definitions, sensitive

            versions = {(v.id, v.version): v for v in _versions(conn, q.Filters())}
            people.withheld = sensitive.withheld(conn, versions, definitions.load_rules())
        total = q.count(conn, o.table, f)
        built = BUILDERS[o.table](conn, f, o, people)
        header, body = built[0], built[1]
        text_columns: list[int] | None = built[2] if len(built) > 2 else None
        batches: Iterator[Any] | None = None
        if not portable and o.table in FAST and conn.dialect.name == "sqlite":
            body.close()  # type: ignore[attr-defined]  # a generator not started: header only
            batches = _fast(conn, f, o, people)
        with atomicfile.atomic_text(o.out, force=o.force, bom=o.excel) as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([csvsafe.cell(h) for h in header])
            columns = len(header)
            risky = csvsafe.RISKY_FIRST
            neutralise = csvsafe.neutralise
            cell = csvsafe.cell
            if batches is not None:
                # SQLite wrote every line (store/export_sqlite.py): they go straight through.
                for batch in batches:
                    lines = [r[0] for r in batch]
                    fh.write("".join(lines))
                    left = lines.count("") if people.withheld else 0  # withheld: no line
                    people.left_rows += left
                    rows += len(batch) - left
                    if progress is not None:
                        progress(rows, total)
            for row in body if batches is None else ():
                if text_columns is not None:
                    # The builder says which columns can hold free text; the rest hold
                    # numbers, ids and vetted vocabulary, which cannot start a formula.
                    for i in text_columns:
                        v = row[i]
                        if v and (v[0] in risky or "\n" in v):
                            row[i] = neutralise(v)
                    writer.writerow(row)
                else:
                    # Text is neutralised only when its first character could start a formula
                    # (or it spans lines); ints and None go to csv as they are.
                    writer.writerow(
                        [
                            v
                            if v is None or (kind := type(v)) is int
                            else (neutralise(v) if v and (v[0] in risky or "\n" in v) else v)
                            if kind is str
                            else cell(v)
                            for v in row
                        ]
                    )
                rows += 1
                if progress is not None and rows % 500 == 0:
                    progress(rows, total)
            # Recorded before the file takes its name: no export exists without its audit
            # event (if this write fails, the temporary file is removed).
            head = _audit_export(store, o, rows, columns)
    if progress is not None:
        progress(rows, total)
    return Result(
        o.table,
        rows,
        columns,
        str(o.out) if o.out else "-",
        o.identifiable,
        head,
        people.left_rows,
        people.left_cells,
    )


def _audit_export(store: Store, o: Options, rows: int, columns: int) -> str:
    """Records the export; returns the audit head it made (ID:HASH), which the export carries."""
    with store.write() as session:
        audit.append(
            session,
            actor=store.actor,
            action="export.identifiable" if o.identifiable else "export",
            entity="export",
            entity_id=o.table,
            detail={
                "table": o.table,
                "rows": rows,
                "columns": columns,
                "identifiable": o.identifiable,
                "filters": sorted(
                    k for k in ("since", "until", "office", "questionnaire") if getattr(o, k)
                ),
            },
        )
    assert store.last_head is not None
    return store.last_head.short()


Builder = Callable[[Any, q.Filters, Options, _People], tuple[list[str], Iterator[list[Any]]]]


def _people(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "person",
        "age_band",
        "sex",
        "office",
        "postcode_district",
        "language",
        "needs_interpreter",
        "release_month",
        "created_at",
    ]
    if p.identifiable:
        header += [
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
    header += ["nation", "stage"]  # issue 12: new columns, last so the others keep their place

    def body() -> Iterator[list[Any]]:
        for (
            pid,
            crn,
            given,
            family,
            dob,
            sex,
            postcode,
            office,
            language,
            interp,
            comm,
            release,
            created,
            nhs,
            address,
            nation,
            stage,
        ) in q.people(conn, f):
            dob = _as_date(dob)
            row = [
                p.pseudonym(pid),
                clock.age_band(clock.age_on(dob, p.today)) if dob else None,
                sex,
                office,
                validation.postcode_district(postcode),
                language,
                bool(interp),
                _month(release),
                _iso(created),
            ]
            if p.identifiable:
                row += [crn, given, family, _iso(dob), postcode, comm, _iso(release), nhs, address]
            row += [nation, stage]
            yield row

    return header, body()


def _consent(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "consent_id",
        *p.header(),
        "purpose",
        "status",
        "method",
        "recorded_by",
        "recorded_at",
    ] + (["note"] if p.identifiable else [])

    def body() -> Iterator[list[Any]]:
        for cid, pid, crn, purpose, status, method, note, by, at in q.consent(conn, f):
            row = [
                cid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                purpose,
                status,
                method,
                by,
                _iso(at),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _needs(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "need_id",
        *p.header(),
        "screening_id",
        "domain",
        "severity",
        "status",
        "source",
        "created_at",
        "updated_at",
    ] + (["note"] if p.identifiable else [])

    def body() -> Iterator[list[Any]]:
        left = p.withheld.needs if p.withheld else frozenset()
        for nid, pid, crn, sid, domain, severity, status, source, note, created, updated in q.needs(
            conn, f
        ):
            if nid in left:  # recorded only because of a sensitive answer
                p.left_rows += 1
                continue
            row = [
                nid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                sid,
                domain,
                severity,
                status,
                source,
                _iso(created),
                _iso(updated),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _barriers(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "barrier_id",
        *p.header(),
        "screening_id",
        "type",
        "source",
        "created_at",
        "resolved_at",
    ] + (["note"] if p.identifiable else [])

    def body() -> Iterator[list[Any]]:
        for bid, pid, crn, sid, kind, source, note, created, resolved in q.barriers(conn, f):
            row = [
                bid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                sid,
                kind,
                source,
                _iso(created),
                _iso(resolved),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _suggestions(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "suggestion_id",
        *p.header(),
        "screening_id",
        "pathway",
        "urgency",
        "rules_fired",
        # The rendered reasons quote exact values ("Aged 65", "Released 14 days ago"): only
        # identifiable exports carry them; pseudonymised ones carry the evidence's kind and
        # band instead ("phq9: moderately severe", issue 14 item 8).
        "because" if p.identifiable else "evidence",
        "already_open",
        "rules_id",
        "rules_version",
        "created_at",
    ]
    withheld = p.withheld

    def body() -> Iterator[list[Any]]:
        for (
            sid,
            pid,
            crn,
            scr,
            pathway,
            urgency,
            reasons,
            already,
            rid,
            rver,
            created,
        ) in q.suggestions(conn, f):
            if withheld and sid in withheld.suggestions:  # only because of a sensitive answer
                p.left_rows += 1
                continue
            parsed = json.loads(reasons or "[]")
            if withheld and sid in withheld.strip:
                p.left_cells += 1
                parsed = [r for r in parsed if r.get("rule") not in withheld.strip[sid]]
            yield [
                sid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                scr,
                pathway,
                urgency,
                ";".join(r.get("rule", "") for r in parsed),
                reasons_field(parsed, "because" if p.identifiable else "evidence"),
                bool(already),
                rid,
                rver,
                _iso(created),
            ]

    return header, body()


def _referrals(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    steps = [f"date_{s.replace('-', '_')}" for s in REFERRAL_STEPS]
    header = [
        "referral_id",
        *p.header(),
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
        *steps,
    ]

    left = p.withheld.referrals if p.withheld else frozenset()

    def body() -> Iterator[list[Any]]:
        events = _Peek((r[1], r[6], r[9]) for r in q.referral_events(conn, f))
        for (
            rid,
            pid,
            crn,
            pathway,
            service,
            self_ref,
            status,
            urgency,
            scr,
            outcome,
            reason,
            due,
            by,
            created,
            closed,
        ) in q.referrals(conn, f):
            if rid in left:  # only because of a sensitive answer
                p.left_rows += 1
                continue
            dates: dict[str, Any] = {}
            for _, to_status, event_date in events.take(rid):
                dates[to_status] = event_date  # the latest time each step happened
            yield [
                rid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                pathway,
                service,
                bool(self_ref),
                status,
                urgency,
                scr,
                outcome,
                reason,
                _iso(due),
                by,
                _iso(created),
                _iso(closed),
                *(_iso(dates.get(s)) for s in REFERRAL_STEPS),
            ]

    return header, body()


def _referral_events(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "event_id",
        "referral_id",
        *p.header(),
        "pathway",
        "from_status",
        "to_status",
        "reason",
        "event_date",
        "recorded_by",
        "recorded_at",
    ] + (["note"] if p.identifiable else [])

    def body() -> Iterator[list[Any]]:
        left = p.withheld.referrals if p.withheld else frozenset()
        for eid, rid, pid, crn, pathway, frm, to, reason, note, day, by, at in q.referral_events(
            conn, f
        ):
            if rid in left:  # a referral made only because of a sensitive answer
                p.left_rows += 1
                continue
            row = [
                eid,
                rid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                pathway,
                frm,
                to,
                reason,
                _iso(day),
                by,
                _iso(at),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _goals(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "goal_id",
        *p.header(),
        "domain",
        "target_date",
        "status",
        "created_by",
        "created_at",
        "reviews",
        "last_progress",
        "last_review_at",
    ] + (["text"] if p.identifiable else [])

    def body() -> Iterator[list[Any]]:
        for (
            gid,
            pid,
            crn,
            text,
            domain,
            target,
            status,
            by,
            created,
            n,
            progress,
            reviewed,
        ) in q.goals(conn, f):
            row = [
                gid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                domain,
                _iso(target),
                status,
                by,
                _iso(created),
                n or 0,
                progress,
                _iso(reviewed),
            ]
            yield row + ([text] if p.identifiable else [])

    return header, body()


def _audit(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "event_id",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "detail",
        "prev_hash",
        "hash",
    ]

    left = {str(r) for r in p.withheld.referrals} if p.withheld else set()

    def body() -> Iterator[list[Any]]:
        for eid, at, actor, action, entity, entity_id, detail, prev, digest in q.audit(conn, f):
            if entity == "referral" and entity_id in left:  # names a sensitive referral
                p.left_rows += 1
                continue
            if entity == "person" and entity_id and not p.identifiable:
                entity_id = p.pseudonym(entity_id)
            yield [eid, _iso(at), actor, action, entity, entity_id, detail, prev, digest]

    return header, body()


# ---------------------------------------------------------------- screenings ------------
def _versions(conn: Any, f: q.Filters) -> list[Questionnaire]:
    """The questionnaire versions of the screenings exported. When none match (an empty
    export), the versions stored, else the bundled questionnaire: an empty export keeps the
    columns a full one has, so a script reading it by column name still works."""
    from probhealth.services import definitions

    rows = q.screening_versions(conn, f) or q.stored_versions(conn, f.questionnaire)
    if not rows:
        bundled = definitions.load_questionnaire()
        return [bundled] if f.questionnaire in (None, bundled.id) else []
    return [definitions.from_stored_text(qid, ver, h, src) for qid, ver, h, src in rows]


def sensitive_items(versions: Any) -> frozenset[str]:
    """Items marked ``sensitive: true`` in any exported version (DAST-10 item 8, domestic
    abuse): a later version's marking covers screenings of earlier versions too, as the
    questionnaire's comment always promised. They never appear in an identifiable export."""
    return frozenset(i.id for v in versions for i in v.items if i.sensitive)


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


def _value(item: Item, value: Any, labels: bool, identifiable: bool) -> Any:
    if item.type == "date":
        return value if identifiable else _month(value)
    if labels and item.options:
        return item.label_of(value)
    return value


def _screenings(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    versions = _versions(conn, f)
    by_version = {(v.id, v.version): v for v in versions}
    hide = sensitive_items(versions) if p.identifiable else frozenset()
    items = [i for i in merged_items(versions) if p.identifiable or i.type != "text"]
    scales: list[str] = []
    flags: list[str] = []
    for v in sorted(versions, key=lambda v: -v.version):
        scales += [s.id for s in v.scales if s.id not in scales]
        flags += [fl.id for fl in v.flags if fl.id not in flags]
    header = ["screening_id", "person"]
    if p.identifiable:
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
    plan: list[tuple[Item, list[Any] | None]] = []
    for item in items:
        if item.type == "multi":
            values = _merge_options(versions, item.id)
            header.append(item.id)
            header += [f"{item.id}__{v}" for v in values]
            plan.append((item, values))
        else:
            header.append(item.id)
            plan.append((item, None))
    header.append("declined_items")
    for s in scales:
        header += [f"score_{s}", f"band_{s}"]
    header += [f"flag_{fl}" for fl in flags]
    header.append("flags_unacknowledged")
    labels, ident = o.labels, p.identifiable
    sensitive_flags = p.withheld.flags if p.withheld else None
    # Columns that can hold free or person-typed text (the rest: numbers, ids, option values).
    free = {
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
    text_items = {i.id for i in items if i.type in ("text", "multi") or (labels and i.options)}
    text_columns = [n for n, name in enumerate(header) if name in free or name in text_items]

    # The item columns as segments decided once: runs of plain values are copied with one
    # C-level map(); dates (as months), labels and multi-choice items take a step each.
    segments: list[tuple[int, Any, Item | None, list[Any] | None]] = []
    for item, multi in plan:
        if multi is not None:
            segments.append((3, item.id, item, multi))
        elif item.type == "date" and not ident:
            segments.append((1, item.id, item, None))
        elif labels and item.options:
            segments.append((2, item.id, item, None))
        elif segments and segments[-1][0] == 0:
            segments[-1][1].append(item.id)
        else:
            segments.append((0, [item.id], None, None))

    def body() -> Iterator[list[Any]]:
        answers = _Groups(q.answers_by_screening(conn, f))
        scores = _Groups(q.scores(conn, f))
        raised = _Groups(q.flags(conn, f))
        loads = json.loads
        for (
            sid,
            pid,
            crn,
            given,
            family,
            dob,
            sex,
            office,
            postcode,
            qid,
            qver,
            status,
            setting,
            by,
            started,
            completed,
        ) in q.screenings(conn, f):
            packed = answers.take(sid)
            raw = packed[0][1] if packed else None
            got: dict[str, Any] = (
                loads(raw) if isinstance(raw, str) else (raw or {})
            )  # PostgreSQL decodes it
            if hide:  # sensitive items never appear in an identifiable export
                got = {k: v for k, v in got.items() if k not in hide}
            declined = [k for k, v in got.items() if v is None]
            dob_day = _as_date(dob)
            row: list[Any] = [sid, p.pseudonym(pid)]
            if ident:
                row += [crn, given, family, _iso(dob), postcode]
            started_at = _as_datetime(started)
            age_on = clock.to_london(started_at).date() if started_at else p.today
            row += [
                clock.age_band(clock.age_on(dob_day, age_on)) if dob_day else None,
                sex,
                office,
                validation.postcode_district(postcode),
                qid,
                qver,
                status,
                setting,
                by,
                _iso(started),
                _iso(completed),
            ]
            append = row.append
            get = got.get
            for kind, key, item, values in segments:
                if kind == 0:
                    row += map(get, key)
                    continue
                value = get(key)
                if kind == 3:
                    assert item is not None and values is not None
                    if value is None:
                        append(None)
                        row += [None] * len(values)
                    else:
                        chosen = value if isinstance(value, list) else [value]
                        append("; ".join(item.label_of(v) for v in chosen))
                        row += [1 if v in chosen else 0 for v in values]
                elif value is None:
                    append(None)
                elif kind == 1:
                    append(_month(value))
                else:
                    assert item is not None
                    append(item.label_of(value))
            append(";".join(declined) or None)
            got_scores = {scale: (value, band) for _, scale, value, band in scores.take(sid)}
            for s in scales:
                value, band = got_scores.get(s, (None, None))
                if value is None:
                    band = unscored_band(by_version.get((qid, qver)), s, got)
                row += [value, band]
            got_flags = {fid: ack for _, fid, ack in raised.take(sid)}
            if sensitive_flags and sid in sensitive_flags:  # raised only by a sensitive answer
                for fid in sensitive_flags[sid]:
                    p.left_cells += got_flags.pop(fid, _ABSENT) is not _ABSENT

            row += [1 if fl in got_flags else 0 for fl in flags]
            append(sum(1 for ack in got_flags.values() if ack is None))
            yield row

    return header, body(), text_columns  # type: ignore[return-value]


def _answers(
    conn: Any, f: q.Filters, o: Options, p: _People
) -> tuple[list[str], Iterator[list[Any]]]:
    versions = {(v.id, v.version): v for v in _versions(conn, f)}
    hide = sensitive_items(versions.values()) if p.identifiable else frozenset()
    header = (
        ["screening_id", "person"]
        + (["crn"] if p.identifiable else [])
        + [
            "questionnaire_id",
            "questionnaire_version",
            "section",
            "item_id",
            "value",
            "label",
            "declined",
            "answered_at",
        ]
    )

    def ordered() -> Iterator[Any]:
        # One screening's answers at a time, in questionnaire order (not the order given).
        batch: list[Any] = []
        for row in q.answers(conn, f, with_person=True):
            if batch and row[0] != batch[0][0]:
                yield from _in_item_order(batch, versions)
                batch = []
            batch.append(row)
        yield from _in_item_order(batch, versions)

    def body() -> Iterator[list[Any]]:
        for sid, item_id, value, declined, at, pid, qid, qver, crn in ordered():
            v = versions.get((qid, qver))
            item = v.item(item_id) if v is not None and v.has_item(item_id) else None
            if item is not None and item.type == "text" and not p.identifiable:
                continue  # free text may identify someone
            if item_id in hide:
                continue  # sensitive: never in an identifiable export
            decoded = None if declined else _decode(value)
            shown: Any
            label: str | None
            if isinstance(decoded, list):
                shown = ";".join(str(x) for x in decoded)
                label = "; ".join(item.label_of(x) for x in decoded) if item else shown
            else:
                shown = (
                    decoded
                    if item is None
                    else _value(item, decoded, False, p.identifiable)
                    if decoded is not None
                    else None
                )
                label = (
                    item.label_of(decoded)
                    if item and decoded is not None and item.options
                    else None
                )
            if o.labels and label is not None:
                shown = label
            section = v.section(item.section_id).id if v is not None and item is not None else None
            yield [
                sid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                qid,
                qver,
                section,
                item_id,
                shown,
                label,
                bool(declined),
                _iso(at),
            ]

    return header, body()


def _in_item_order(batch: list[Any], versions: dict[tuple[str, int], Questionnaire]) -> list[Any]:
    if not batch:
        return batch
    v = versions.get((batch[0][6], batch[0][7]))  # questionnaire id, version
    if v is None:
        return batch
    return sorted(batch, key=lambda r: v.item(r[1]).index if v.has_item(r[1]) else 10_000)


BUILDERS: dict[str, Builder] = {
    "people": _people,
    "consent": _consent,
    "screenings": _screenings,
    "answers": _answers,
    "needs": _needs,
    "barriers": _barriers,
    "suggestions": _suggestions,
    "referrals": _referrals,
    "referral-events": _referral_events,
    "goals": _goals,
    "audit": _audit,
}


# ---------------------------------------------------------------- SQLite fast path -------
# The same bytes as the builders above (tests/services/test_export_bytes.py), with every cell
# computed by SQLite (store/export_sqlite.py). Python runs once per person (pseudonyms), once
# per questionnaire item and option (order, section, label), and only for the rare cell SQL
# cannot render as Python would (a formula-like text, a list or a real in an answer).
# Tables an identifiable export may leave rows or cells out of (hazard H23).
WITHHOLDING = frozenset(
    {"screenings", "needs", "suggestions", "referrals", "referral-events", "audit"}
)
FAST = frozenset(
    {"consent", "answers", "needs", "barriers", "suggestions", "referral-events", "audit"}
)
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


def _fast(conn: Any, f: q.Filters, o: Options, p: _People) -> Iterator[Any]:
    from probhealth.store import export_sqlite as fx

    key = p.key

    def pseudonym(person_id: Any) -> str:  # _People.pseudonym, with OpenSSL's one-shot HMAC
        return "P" + hmac.digest(key, str(person_id).encode(), "sha256")[:8].hex()

    pair = None
    versions: dict[tuple[str, int], Questionnaire] = {}
    if o.table == "answers":
        versions = {(v.id, v.version): v for v in _versions(conn, f)}
        pair = _answer_fallback(versions, p.identifiable, o.labels)
    fx.prepare(
        conn,
        fx.Functions(
            cell=_field,
            iso=_iso,
            pseudonym=pseudonym,
            pair=pair,
            reasons=_reasons if o.table == "suggestions" else None,
        ),
    )
    if o.table != "audit":
        fx.fill_pseudonyms(conn)
    ident = p.identifiable
    w = p.withheld
    if w:  # rows left out as sensitive: keyed as the query matches them (ids as text)
        keys = {
            "needs": w.needs,
            "suggestions": w.suggestions,
            "referral-events": w.referrals,
            "audit": w.referrals,
        }.get(o.table, frozenset())
        strip = (
            {
                gid: (
                    _reasons(_kept(reasons, rules), "rule"),
                    _reasons(_kept(reasons, rules), "because"),
                )
                for gid, (reasons, rules) in _stripped(conn, w.strip).items()
            }
            if o.table == "suggestions"
            else {}
        )
        fx.fill_withheld(conn, (str(k) for k in keys), strip)
        if strip:
            p.left_cells += fx.stripped(conn, f)
    if o.table == "answers":
        hide = sensitive_items(versions.values()) if ident else frozenset()
        fx.fill_items(conn, _item_rows(versions, hide), _value_rows(versions, ident))
        return fx.answers(conn, f, ident, o.labels)
    table = {
        "consent": fx.consent,
        "needs": fx.needs,
        "barriers": fx.barriers,
        "suggestions": fx.suggestions,
        "referral-events": fx.referral_events,
        "audit": fx.audit,
    }[o.table]
    return table(conn, f, ident, withheld=bool(w))


def _kept(reasons: str | None, rules: frozenset[str]) -> str:
    """The reasons JSON without the reasons of ``rules``."""
    return json.dumps([r for r in json.loads(reasons or "[]") if r.get("rule") not in rules])


def _stripped(conn: Any, strip: Any) -> dict[int, tuple[str | None, frozenset[str]]]:
    """The reasons JSON of each suggestion some of whose reasons are left out."""
    return {gid: (reasons, strip[gid]) for gid, reasons in q.suggestion_reasons(conn, strip)}


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
def _reasons(reasons: str | None, key: str) -> str:
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
                shown = _value(item, decoded, False, identifiable)
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
                else _value(item, decoded, False, identifiable)
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
