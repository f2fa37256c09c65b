"""The health needs report: every figure of a small caseload checked against hand-counted
values, suppression included (a count of 3 shows "<5", a complementary count is hidden, a
denominator of 8 shows no percentage)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.helpers import Cli, DbHandle

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _caseload(db: Path | str) -> None:
    """The hand-counted caseload, in the SQLite file or PostgreSQL database ``db``."""
    from probhealth.paths import resolve_db
    from probhealth.store.db import Store
    from probhealth.store.models import (
        Consent,
        Need,
        Person,
        Referral,
        ReferralEvent,
        Screening,
        Suggestion,
    )

    store = Store(resolve_db(str(db)), actor="t")
    at = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    with store.write() as s:
        n = 0
        # Alpha: 12 people, 10 screened, 2 declined screening. Beta: 8 people, all screened.
        for office, size, screened in (("Alpha", 12, 10), ("Beta", 8, 8)):
            for k in range(size):
                n += 1
                pid = f"p{n:03d}"
                s.add(
                    Person(
                        id=pid,
                        crn=f"X{n:06d}",
                        given_name="Test",
                        family_name="Person",
                        name_key="test person",
                        dob=date(1990, 1, 1),
                        sex="male",
                        office=office,
                        created_at=at,
                        updated_at=at,
                    )
                )
                s.flush()
                status = "given" if k < screened else "declined"
                s.add(
                    Consent(
                        person_id=pid,
                        purpose="screening",
                        status=status,
                        recorded_by="t",
                        recorded_at=at,
                    )
                )
                if k >= screened:
                    continue
                sc = Screening(
                    person_id=pid,
                    questionnaire_id="q",
                    questionnaire_version=1,
                    questionnaire_hash="h",
                    status="completed",
                    started_by="t",
                    started_at=at,
                    updated_at=at,
                    completed_at=at,
                )
                s.add(sc)
                s.flush()

                def need(domain: str, severity: str, pid: str = pid, sid: int = sc.id) -> None:  # type: ignore[assignment]
                    s.add(
                        Need(
                            person_id=pid,
                            screening_id=sid,
                            domain=domain,
                            severity=severity,
                            status="identified",
                            source="screening",
                            created_by="t",
                            created_at=at,
                            updated_at=at,
                        )
                    )

                # Smoking: Alpha 7 (6 moderate, 1 high), Beta 6 moderate.
                if office == "Alpha" and k < 7:
                    need("smoking", "high" if k == 0 else "moderate")
                if office == "Beta" and k < 6:
                    need("smoking", "moderate")
                # Mental health: 3 people in Alpha (1 low, 2 moderate).
                if office == "Alpha" and k < 3:
                    need("mental-health", "low" if k == 0 else "moderate")
                # Stop smoking: suggested to Alpha's 7, agreed by 6.
                if office == "Alpha" and k < 7:
                    s.add(
                        Suggestion(
                            person_id=pid,
                            screening_id=sc.id,
                            pathway_id="stop-smoking",
                            urgency="routine",
                            reasons="[]",
                            rules_id="r",
                            rules_version=1,
                            rules_hash="h",
                            created_at=at,
                        )
                    )
                    if k < 6:
                        r = Referral(
                            person_id=pid,
                            pathway_id="stop-smoking",
                            status="agreed",
                            screening_id=sc.id,
                            created_by="t",
                            created_at=at,
                            updated_at=at,
                        )
                        s.add(r)
                        s.flush()
                        s.add(
                            ReferralEvent(
                                referral_id=r.id,
                                from_status="suggested",
                                to_status="agreed",
                                event_date=date(2026, 6, 1),
                                recorded_by="t",
                                recorded_at=at,
                            )
                        )
    store.close()


@pytest.fixture
def report(db: DbHandle, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    result = Cli(db.path or db.url)("report", "--json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _rows(report: dict, table: str) -> list[dict]:  # type: ignore[type-arg]
    return next(t["rows"] for t in report["tables"] if t["id"] == table)  # type: ignore[no-any-return]


def _row(report: dict, table: str, key: str, value: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in _rows(report, table) if r[key] == value)  # type: ignore[no-any-return]


def test_reach(report: dict) -> None:  # type: ignore[type-arg]
    reach = _rows(report, "reach")[0]
    # 20 people, 18 screened: people less screened would give back the 2 never screened
    # ("<5" below), and so would the needs' percentages (13 at 72.2% is 13 of 18). Hiding the
    # 20 loses least: the % of caseload, and one office's people, go with it.
    assert reach["people"] == "*"
    assert reach["screened"] == 18
    assert reach["screened_pct"] is None  # its denominator is hidden
    assert reach["declined"] == "<5"  # 2 declined screening
    assert reach["declined_pct"] is None  # a hidden count gets no percentage
    assert report["headlines"]["screened"] == 18
    assert report["headlines"]["people"] == "*"
    bands = {r["band"]: (r["people"], r["pct"]) for r in _rows(report, "since_screening")}
    assert bands["Never screened"] == ("<5", None)
    assert bands["Under 3 months"] == (18, None)  # shown: it is the screened, shown above
    assert "shown as <5" in report["disclosure"]


def test_needs_with_suppression_and_wilson(report: dict) -> None:  # type: ignore[type-arg]
    from probhealth.services.report import wilson

    smoking = _row(report, "needs", "domain", "Smoking")
    assert smoking["people"] == 13
    assert smoking["high"] == "<5"  # 1
    assert smoking["moderate"] == "*"  # 12, hidden: 13 - 12 would reveal the 1
    assert smoking["low"] == 0
    assert smoking["pct"] == 72.2
    assert smoking["ci"] == list(wilson(13, 18))
    assert smoking["ci"] == [49.1, 87.5]
    mh = _row(report, "needs", "domain", "Mental health")
    assert mh["people"] == "<5"  # 3
    assert mh["pct"] is None and mh["ci"] is None


def test_needs_by_office_denominator_of_eight(report: dict) -> None:  # type: ignore[type-arg]
    smoking = _row(report, "needs_by_office", "domain", "Smoking")
    assert smoking["pct:Alpha"] == 70.0  # 7 of 10
    assert smoking["n:Beta"] == 6
    assert smoking["pct:Beta"] is None  # 8 screened at Beta: no percentage
    # In the needs table's order (most people first), so the two tables read side by side.
    order = [r["domain"] for r in _rows(report, "needs")]
    assert [r["domain"] for r in _rows(report, "needs_by_office")] == order
    assert order[:2] == ["Smoking", "Mental health"]


def test_funnel_and_headlines(report: dict) -> None:  # type: ignore[type-arg]
    row = _row(report, "funnel", "pathway", "Stop smoking service")
    assert row["suggested"] == 7
    assert row["agreed"] == 6
    assert row["referred"] == 0
    alpha = _row(report, "by_group", "group", "Alpha")
    assert alpha["people"] == 12 and alpha["screened"] == 10
    assert alpha["mh"] == "<5" and alpha["mh_pct"] is None
    assert alpha["agreed"] == 6
    beta = _row(report, "by_group", "group", "Beta")
    # The offices' people add up to the hidden caseload: the smaller goes too.
    assert beta["people"] == "*" and beta["mh_pct"] is None  # 0 of 8: under 10
    # Mental health: 3 in all, all at Alpha; with the total hidden too, Beta's 0 can show.
    assert beta["mh"] == 0
    month = _row(report, "trend", "group", "2026-06")
    assert month["screened"] == 18
    # A person screened twice counts once, at the latest screening: the note says so, so a
    # reader does not take smaller early months for fewer screenings.
    note = next(t["note"] for t in report["tables"] if t["id"] == "trend")
    assert "latest screening" in note and "screened again" in note


def test_csv_and_terminal(db: DbHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    cli = Cli(db.path or db.url)
    out = tmp_path / "tables"
    cli("report", "--csv", str(out))
    needs = list(csv.DictReader((out / "needs.csv").read_text(encoding="utf-8").splitlines()))
    smoking = next(r for r in needs if r["Need"] == "Smoking")
    assert smoking["High"] == "<5" and smoking["Moderate"] == "*"
    assert (out / "needs.csv").stat().st_mode & 0o777 == 0o600
    # The same protected figures as the JSON: the caseload hidden for the never screened,
    # and the percentages resting on it left empty.
    reach = next(csv.DictReader((out / "reach.csv").read_text(encoding="utf-8").splitlines()))
    assert (reach["People"], reach["Screened"], reach["% screened"]) == ("*", "18", "")
    bands = list(csv.DictReader((out / "since_screening.csv").read_text().splitlines()))
    assert [(b["Time since"], b["People"], b["% of caseload"]) for b in bands][::4] == [
        ("Under 3 months", "18", ""),
        ("Never screened", "<5", ""),
    ]
    shown = cli("report").stdout
    assert "Smoking" in shown and "<5" in shown and "Wilson" in shown
    assert "X000001" not in shown  # nothing identifying


def test_bad_options(db: DbHandle) -> None:
    cli = Cli(db.path or db.url)
    cli("report", "--by", "colour", expect=2)
    cli("report", "--since", "2026-07-01", "--until", "2026-06-01", expect=2)
    cli("report", "--suppress-below", "1", expect=2)


def test_hidden_counts_that_add_up_to_a_small_number_hide_one_more() -> None:
    from probhealth.services.report import Column, Table, protect

    def goals(*rows: tuple[int, ...]) -> list[dict]:  # type: ignore[type-arg]
        keys = ("set", "achieved", "partly", "not_yet", "dropped", "not_reviewed")
        table = Table(
            "goals",
            "s",
            "t",
            [Column(k, k) for k in keys],
            [dict(zip(keys, r, strict=True)) for r in rows],
            row_sums=[("set", keys[1:])],
        )
        return protect(table, 5).rows

    # 8 set = 0 + 1 + 1 + 0 + 6: the two hidden add up to 2, so both would be 1; the 6 goes.
    row = goals((8, 0, 1, 1, 0, 6))[0]
    assert (row["achieved"], row["partly"], row["not_yet"], row["dropped"]) == (0, "<5", "<5", 0)
    assert row["not_reviewed"] == "*"
    # 20 set = 3 + 2 + 15: the hidden add up to 5 (1+4, 2+3, ...), nothing more to hide.
    row = goals((20, 3, 2, 15, 0, 0))[0]
    assert (row["achieved"], row["partly"], row["not_yet"]) == ("<5", "<5", 15)
    # One small count alone is the total less the rest: the next smallest goes with it.
    row = goals((30, 1, 9, 20, 0, 0))[0]
    assert (row["achieved"], row["partly"], row["not_yet"]) == ("<5", "*", 20)


def test_terminal_fits_80_columns_without_losing_a_column(
    db: DbHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    from probhealth.cli import output

    monkeypatch.setenv("COLUMNS", "80")
    _caseload(db.url)
    output.console.cache_clear()  # the console reads COLUMNS when it is made
    try:
        shown = Cli(db.path or db.url)("report").stdout
    finally:
        output.console.cache_clear()
    assert max(len(line) for line in shown.splitlines()) <= 80
    # Wide tables are cut into groups of columns, not cropped: the last columns are there.
    for heading in ("P90 d", "Completed", "No GP %", "Not reviewed", "Beta %"):
        assert heading in shown, heading
    assert "(continued)" in shown


def test_a_small_group_in_the_headlines_cannot_be_worked_out_from_the_total() -> None:
    from probhealth.services.report import _headline_table, protect

    # People by sex: 3 intersex; the caseload total (reach) is published, so the next
    # smallest group is hidden too.
    rows = [
        ("female", 40, 30, 10, 5, 5, 5, 5, 12, 6),
        ("intersex", 3, 3, 0, 0, 0, 0, 0, 1, 0),
        ("male", 200, 150, 70, 40, 50, 35, 30, 90, 40),
    ]
    table = protect(_headline_table("by_group", "t", rows, "sex"), 5)
    people = {r["group"]: r["people"] for r in table.rows}
    assert people == {"female": "*", "intersex": "<5", "male": 200}


def test_json_rows_hold_only_their_columns(report: dict) -> None:  # type: ignore[type-arg]
    """A denominator kept for a percentage (people screened at an office) is a count that was
    never protected: only the table's columns, each protected, leave the report."""
    for table in report["tables"]:
        keys = {c["key"] for c in table["columns"]}
        for row in table["rows"]:
            assert set(row) <= keys, (table["id"], set(row) - keys)
    # Needs by office: the counts behind the percentages are protected against the total.
    smoking = _row(report, "needs_by_office", "domain", "Smoking")
    assert (smoking["n:Alpha"], smoking["n:Beta"], smoking["people"]) == (7, 6, 13)
    mh = _row(report, "needs_by_office", "domain", "Mental health")
    assert mh["n:Alpha"] == "<5" and mh["people"] == "<5"


def test_a_count_in_a_note_is_protected_too(report: dict) -> None:  # type: ignore[type-arg]
    from probhealth.services.report import _shown

    assert (_shown(0, 5), _shown(3, 5), _shown(5, 5), _shown(1234, 5)) == ("0", "<5", "5", "1,234")
    note = next(t["note"] for t in report["tables"] if t["id"] == "access")
    assert "lung health checks: 0 people were eligible" in note


def test_flags_are_labelled_for_the_reader_not_the_worker(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flag's title speaks to the worker ("You are worried about suicide or self-harm"); the
    commissioners' table names the worker instead, and leaves the questionnaire's wording."""
    from probhealth.services import definitions, report

    titles = [f.title for f in definitions.load_questionnaire().flags]
    assert "You are worried about suicide or self-harm" in titles
    labels = [report.flag_label(t) for t in titles]
    assert not [x for x in labels if x.split()[0].lower() in ("you", "your")]
    assert report.flag_label(titles[0]) == titles[0]  # a title about the person is kept
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    answers = tmp_path / "answers.yaml"
    low_risk = (
        Path(__file__).resolve().parents[2] / "examples" / "answers-low-risk.yaml"
    ).read_text()
    assert "worker_concerns: [none]" in low_risk
    answers.write_text(low_risk.replace("worker_concerns: [none]", "worker_concerns: [self-harm]"))
    cli("person", "add", "--crn", "X100001", "--given", "Ann", "--family", "Smithson",
        "--dob", "1990-01-31", "--sex", "female")  # fmt: skip
    cli("consent", "X100001", "--purpose", "screening", "--given", "--method", "verbal")
    cli("screen", "X100001", "--answers", str(answers), "--json")
    shown = {r["flag"] for r in _rows(json.loads(cli("report", "--json").stdout), "flags")}
    assert "Worker worried about suicide or self-harm" in shown
    assert "You are worried about suicide or self-harm" not in shown
