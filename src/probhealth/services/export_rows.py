"""The portable export path: each table built row by row in Python from the streaming reads of
``store/export.py``, on every database (PostgreSQL always; SQLite for the tables the fast path
does not cover, and in tests, which compare its bytes with the fast path's). Loaded only when
it is needed: it brings SQLAlchemy and the table classes with it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from probhealth import atomicfile, clock, csvsafe, validation
from probhealth.services.export import (
    FAST,
    PLAIN,
    REFERRAL_STEPS,
    WITHHOLDING,
    Options,
    People,
    Result,
    as_date,
    as_datetime,
    audit_export,
    iso_text,
    item_cells,
    item_value,
    month_of,
    reasons_cell,
    reasons_field,
    run_fast,
    sensitive_items,
    unscored_band,
    wide_columns,
)
from probhealth.services.export import header as columns_of
from probhealth.store import export as q

if TYPE_CHECKING:
    from probhealth.questionnaire.model import Item, Questionnaire
    from probhealth.store.db import Store


def write(
    conn: Any,
    store: Store,
    o: Options,
    f: q.Filters,
    progress: Callable[[int, int | None], None] | None,
    *,
    portable: bool = False,
) -> Result:
    """Write one table through the store's connection: the SQLite fast path when it can
    (``export.run_fast`` on the driver's connection), else the builder, row by row; then
    record the export. An identifiable export first works out what it withholds as sensitive
    (hazard H23), which reads the rules and the answers through the store."""
    people = People(q.pseudonym_key(conn), o.identifiable, clock.today())
    if o.identifiable and o.table in WITHHOLDING:
        from probhealth.services import definitions, sensitive

        versions = {(v.id, v.version): v for v in stored_or_bundled_versions(conn, q.Filters())}
        people.withheld = sensitive.withheld(conn, versions, definitions.load_rules())
    if not portable and o.table in FAST and conn.dialect.name == "sqlite":
        if people.withheld and o.table == "suggestions":
            people.strip = {
                gid: (
                    reasons_cell(_kept(reasons, rules), "rule"),
                    reasons_cell(_kept(reasons, rules), "because"),
                )
                for gid, (reasons, rules) in _stripped(conn, people.withheld.strip).items()
            }
        return run_fast(conn.connection.driver_connection, store, o, f, progress, people)
    rows = 0
    total = q.count(conn, o.table, f)
    built = BUILDERS[o.table](conn, f, o, people)
    header, body = built[0], built[1]
    text_columns: list[int] | None = built[2] if len(built) > 2 else None
    with atomicfile.atomic_text(o.out, force=o.force, bom=o.excel) as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([csvsafe.cell(h) for h in header])
        columns = len(header)
        risky = csvsafe.RISKY_FIRST
        neutralise = csvsafe.neutralise
        cell = csvsafe.cell
        for row in body:
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
        head = audit_export(store, o, rows, columns)
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


def _kept(reasons: str | None, rules: frozenset[str]) -> str:
    """The reasons JSON without the reasons of ``rules``."""
    return json.dumps([r for r in json.loads(reasons or "[]") if r.get("rule") not in rules])


def _stripped(conn: Any, strip: Any) -> dict[int, tuple[str | None, frozenset[str]]]:
    """The reasons JSON of each suggestion some of whose reasons are left out."""
    return {gid: (reasons, strip[gid]) for gid, reasons in q.suggestion_reasons(conn, strip)}


# ---------------------------------------------------------------- writing ---------------
Builder = Callable[[Any, q.Filters, Options, People], tuple[list[str], Iterator[list[Any]]]]

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


def _people(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("people", p.identifiable)

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
            dob = as_date(dob)
            row = [
                p.pseudonym(pid),
                clock.age_band(clock.age_on(dob, p.today)) if dob else None,
                sex,
                office,
                validation.postcode_district(postcode),
                language,
                bool(interp),
                month_of(release),
                iso_text(created),
            ]
            if p.identifiable:
                row += [
                    crn,
                    given,
                    family,
                    iso_text(dob),
                    postcode,
                    comm,
                    iso_text(release),
                    nhs,
                    address,
                ]
            row += [nation, stage]
            yield row

    return header, body()


def _consent(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("consent", p.identifiable)

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
                iso_text(at),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _needs(conn: Any, f: q.Filters, o: Options, p: People) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("needs", p.identifiable)

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
                iso_text(created),
                iso_text(updated),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _barriers(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("barriers", p.identifiable)

    def body() -> Iterator[list[Any]]:
        for bid, pid, crn, sid, kind, source, note, created, resolved in q.barriers(conn, f):
            row = [
                bid,
                p.pseudonym(pid),
                *([crn] if p.identifiable else []),
                sid,
                kind,
                source,
                iso_text(created),
                iso_text(resolved),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _suggestions(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("suggestions", p.identifiable)
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
                iso_text(created),
            ]

    return header, body()


def _referrals(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("referrals", p.identifiable)

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
                iso_text(due),
                by,
                iso_text(created),
                iso_text(closed),
                *(iso_text(dates.get(s)) for s in REFERRAL_STEPS),
            ]

    return header, body()


def _referral_events(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("referral-events", p.identifiable)

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
                iso_text(day),
                by,
                iso_text(at),
            ]
            yield row + ([note] if p.identifiable else [])

    return header, body()


def _goals(conn: Any, f: q.Filters, o: Options, p: People) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("goals", p.identifiable)

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
                iso_text(target),
                status,
                by,
                iso_text(created),
                n or 0,
                progress,
                iso_text(reviewed),
            ]
            yield row + ([text] if p.identifiable else [])

    return header, body()


def _audit(conn: Any, f: q.Filters, o: Options, p: People) -> tuple[list[str], Iterator[list[Any]]]:
    header = columns_of("audit", p.identifiable)

    left = {str(r) for r in p.withheld.referrals} if p.withheld else set()

    def body() -> Iterator[list[Any]]:
        for eid, at, actor, action, entity, entity_id, detail, prev, digest in q.audit(conn, f):
            if entity == "referral" and entity_id in left:  # names a sensitive referral
                p.left_rows += 1
                continue
            if entity == "person" and entity_id and not p.identifiable:
                entity_id = p.pseudonym(entity_id)
            yield [eid, iso_text(at), actor, action, entity, entity_id, detail, prev, digest]

    return header, body()


# ---------------------------------------------------------------- screenings ------------
def stored_or_bundled_versions(conn: Any, f: q.Filters) -> list[Questionnaire]:
    """The questionnaire versions of the screenings exported. When none match (an empty
    export), the versions stored, else the bundled questionnaire: an empty export keeps the
    columns a full one has, so a script reading it by column name still works."""
    from probhealth.services import definitions

    rows = q.screening_versions(conn, f) or q.stored_versions(conn, f.questionnaire)
    if not rows:
        bundled = definitions.load_questionnaire()
        return [bundled] if f.questionnaire in (None, bundled.id) else []
    return [definitions.from_stored_text(qid, ver, h, src) for qid, ver, h, src in rows]


_ABSENT = object()


_ABSENT = object()


def _screenings(
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    versions = stored_or_bundled_versions(conn, f)
    w = wide_columns(versions, p.identifiable, o.labels)
    header, hide, by_version = w.header, w.hide, w.by_version
    scales, flags, text_columns = w.scales, w.flags, w.text_columns
    ident = p.identifiable
    sensitive_flags = p.withheld.flags if p.withheld else None

    # The item columns as segments decided once: runs of plain values are copied with one
    # C-level map(); dates (as months), labels and multi-choice items take a step each.
    segments: list[tuple[int, Any, Item | None, list[Any] | None]] = []
    for kind, item, multi in w.items:
        if kind != PLAIN:
            segments.append((kind, item.id, item, multi))
        elif segments and segments[-1][0] == PLAIN:
            segments[-1][1].append(item.id)
        else:
            segments.append((PLAIN, [item.id], None, None))

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
            dob_day = as_date(dob)
            row: list[Any] = [sid, p.pseudonym(pid)]
            if ident:
                row += [crn, given, family, iso_text(dob), postcode]
            started_at = as_datetime(started)
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
                iso_text(started),
                iso_text(completed),
            ]
            append = row.append
            get = got.get
            for kind, key, item, values in segments:
                if kind == PLAIN:
                    row += map(get, key)
                else:
                    assert item is not None
                    row += item_cells(kind, item, values, get(key))
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
    conn: Any, f: q.Filters, o: Options, p: People
) -> tuple[list[str], Iterator[list[Any]]]:
    versions = {(v.id, v.version): v for v in stored_or_bundled_versions(conn, f)}
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
                    else item_value(item, decoded, False, p.identifiable)
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
                iso_text(at),
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
