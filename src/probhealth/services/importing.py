"""``import people FILE.csv``: the same checks as ``person add``, for every row.

The header is the people export's (the identifiable one); columns the export adds for
analysts (``person``, ``age_band``...) are ignored. By default it is all or nothing: every bad
row is reported (line, column, reason) and nothing is written. ``skip_bad`` imports the good
rows and writes the rejected ones, with the reason, to a CSV. ``dry_run`` only checks.

Rows stream through in batches inside one write transaction; only the set of CRNs seen is
kept, to find duplicates within the file.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probhealth import atomicfile, clock, validation
from probhealth.errors import BadInput, FileError
from probhealth.services.people import default_nation, name_warnings
from probhealth.store import audit, bulk
from probhealth.store.db import Session, Store
from probhealth.store.models import Person
from probhealth.textsafe import search_key

IGNORED_COLUMNS = ("person", "age_band", "postcode_district", "release_month", "created_at")
BATCH = 1000
MAX_REPORTED = 1000


@dataclass
class Problem:
    line: int
    column: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class ImportReport:
    rows: int = 0
    good: int = 0
    imported: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # imported, but worth a look
    bad_lines: int = 0
    rejects: str | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "good": self.good,
            "bad": self.bad_lines,
            "imported": self.imported,
            "dry_run": self.dry_run,
            "rejects": self.rejects,
            "problems": [p.to_json() for p in self.problems],
            "warnings": [w.to_json() for w in self.warnings],
        }


def _rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    try:
        fh = path.open("r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileError(str(path), None, "file not found") from None
    except IsADirectoryError:
        raise FileError(str(path), None, "is a folder, not a file") from None
    except OSError as exc:
        raise FileError(str(path), None, f"cannot be read ({exc.strerror})") from None
    try:
        reader = csv.reader(fh)
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise FileError(str(path), 1, f"is not a UTF-8 CSV file ({type(exc).__name__})") from None
    if header is None:
        fh.close()
        raise FileError(str(path), 1, "is empty; the first line must be the header")
    header = [h.strip().lower() for h in header]
    known = set(validation.PERSON_COLUMNS) | set(IGNORED_COLUMNS)
    for h in header:
        if h not in known:
            fh.close()
            raise FileError(
                str(path),
                1,
                f"unknown column {h!r}; columns are: {', '.join(validation.PERSON_COLUMNS)}",
            )
    for h in validation.REQUIRED_PERSON_COLUMNS:
        if h not in header:
            fh.close()
            raise FileError(str(path), 1, f"missing column {h!r}")
    if len(set(header)) != len(header):
        fh.close()
        raise FileError(str(path), 1, "a column name appears twice")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with fh:
            try:
                start = reader.line_num + 1  # where the next row starts (cells may span lines)
                for cells in reader:
                    line, start = start, reader.line_num + 1
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) != len(header):
                        yield (
                            line,
                            {"__error__": f"has {len(cells)} cells; the header has {len(header)}"},
                        )
                        continue
                    yield line, dict(zip(header, cells, strict=True))
            except UnicodeDecodeError:
                raise FileError(
                    str(path), reader.line_num + 1, "is not valid UTF-8 text; save it as UTF-8"
                ) from None
            except csv.Error as exc:
                raise FileError(str(path), reader.line_num, f"is not valid CSV: {exc}") from None

    return header, rows()


def import_people(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    rejects: Path | None = None,
    force: bool = False,
) -> ImportReport:
    if dry_run and skip_bad:
        raise BadInput("Choose {opt:dry-run} or {opt:skip-bad}, not both.")
    if rejects is not None and not skip_bad:
        raise BadInput("{opt:rejects} goes with {opt:skip-bad}.")
    if skip_bad:
        rejects = rejects or path.with_name(path.stem + "-rejects.csv")
        atomicfile.check_target(rejects, force=force)
    header, rows = _rows(path)
    report = ImportReport(dry_run=dry_run)
    today = clock.today()
    now = clock.now()
    seen: dict[str, int] = {}
    rejected: list[tuple[int, dict[str, str], str]] = []

    def process(session: Session, write: bool) -> None:
        pending: list[tuple[int, dict[str, Any]]] = []

        def flush() -> None:
            if not pending:
                return
            exists = bulk.existing_crns(session, [v["crn"] for _, v in pending])
            good = []
            for line, values in pending:
                if values["crn"] in exists:
                    _bad(line, "crn", f"a person with CRN {values['crn']} already exists", values)
                else:
                    good.append(values)
            report.good += len(good)
            if write and (skip_bad or not report.problems) and good:
                people_rows = [
                    {
                        **v,
                        "id": str(uuid.uuid4()),
                        "name_key": search_key(f"{v['given_name']} {v['family_name']}"),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for v in good
                ]
                bulk.insert_rows(session, Person, people_rows)
                audit.append_many(
                    session,
                    actor=store.actor,
                    events=[("person.import", "person", r["id"], None) for r in people_rows],
                )
                report.imported += len(people_rows)
            pending.clear()

        def _bad(line: int, column: str, reason: str, raw: dict[str, Any]) -> None:
            if not report.problems or report.problems[-1].line != line:
                report.bad_lines += 1
                if skip_bad:
                    rejected.append(
                        (line, {k: str(raw.get(k, "")) for k in header}, f"{column}: {reason}")
                    )
            if len(report.problems) < MAX_REPORTED:
                report.problems.append(Problem(line, column, reason))

        for line, raw in rows:
            report.rows += 1
            if "__error__" in raw:
                _bad(line, "-", raw["__error__"], raw)
                continue
            values, errors = validation.person_fields(raw, today=today)
            crn = values.get("crn")
            if isinstance(crn, str) and crn in seen:
                errors.append(
                    ("crn", f"CRN {crn} appears twice in the file (first on line {seen[crn]})")
                )
            if errors:
                for column, reason in errors:
                    _bad(line, column, reason, raw)
                continue
            seen[str(crn)] = line
            default_nation(values)
            if len(report.warnings) < MAX_REPORTED:
                for warning in name_warnings(values):
                    report.warnings.append(Problem(line, "name", warning))
            pending.append((line, values))
            if len(pending) >= BATCH:
                flush()
        flush()

    if dry_run:
        with store.read() as session:
            process(session, write=False)
        return report
    with store.write() as session:
        process(session, write=True)
        if report.problems and not skip_bad:
            report.imported = 0
            session.rollback()  # all or nothing
            return report
        audit.append(
            session,
            actor=store.actor,
            action="import.people",
            entity="person",
            detail={"rows": report.rows, "imported": report.imported, "rejected": report.bad_lines},
        )
    if skip_bad and rejected:
        assert rejects is not None
        with atomicfile.atomic_text(rejects, force=force) as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(["line", *header, "reason"])
            from probhealth.csvsafe import neutralise

            for line, raw, reason in rejected:
                writer.writerow(
                    [line, *(neutralise(raw.get(k, "")) for k in header), neutralise(reason)]
                )
        report.rejects = str(rejects)
    return report
