"""Clock and time zones (reliability row 22).

Instants are stored as UTC and shown as Europe/London wall time with GMT/BST; "today" (for
ages, eligibility, "not in the future", export date filters) is the London date; none of
this depends on the machine's own time zone. The CLI runs in real processes with
``TZ=Pacific/Kiritimati`` (UTC+14) and ``TZ=America/St_Johns`` (UTC-3:30/-2:30), so a stray
local-time call would show. ``PROBHEALTH_NOW`` puts the clock on the DST edges:

- 2026-03-29 01:00 UTC clocks go forward: 00:59:59Z is 00:59 GMT, 01:00:01Z is 02:00 BST;
- 2026-10-25 01:00 UTC clocks go back: 00:30Z and 01:30Z are both 01:30 in London;
- 2026-06-30T23:30Z is already 1 July in London (00:30 BST) but still 30 June in UTC.

And the audit log is ordered by its sequence, so a clock stepped back an hour between two
commands leaves ids increasing and the chain valid.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from tests.cli.test_screen import Q, negative_file
from tests.helpers import CLI_DRIVER, DbHandle, negative_answer, query

ZONES = ["Pacific/Kiritimati", "America/St_Johns"]

pytestmark = pytest.mark.slow  # a process per test (TZ is read at start-up)
DRIVER = CLI_DRIVER  # each step may set its own environment (PROBHEALTH_NOW)


class Session:
    """Commands queued with the instant each one runs at, then run in one process."""

    def __init__(self, db: DbHandle, tmp_path: Path, tz: str) -> None:
        self.db, self.tmp_path, self.tz = db, tmp_path, tz
        self.steps: list[dict] = []

    def at(self, now: str, *argv: str) -> int:
        self.steps.append({"argv": ["--db", self.db.url, *argv], "env": {"PROBHEALTH_NOW": now}})
        return len(self.steps) - 1

    def run(self) -> list[dict]:
        script = self.tmp_path / f"steps-{len(list(self.tmp_path.glob('steps-*')))}.json"
        script.write_text(json.dumps(self.steps))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROBHEALTH_")}
        env.update(
            TZ=self.tz,
            PROBHEALTH_HOME=str(self.tmp_path / "home"),
            PROBHEALTH_USER="officer.tz",
            COLUMNS="200",
            NO_COLOR="1",
        )
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        results = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(results) == len(self.steps)
        self.steps = []
        return results


def _ok(result: dict) -> dict:
    assert result["code"] == 0, result
    return result


def _json(result: dict):  # type: ignore[no-untyped-def]
    return json.loads(_ok(result)["stdout"])


def _raw(db: DbHandle, sql: str) -> list[tuple]:
    """Rows as stored, times as SQLite keeps them (a server's timestamps and dates are read
    back as that same text)."""

    def text(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat(sep=" ", timespec="microseconds")
        return value.isoformat() if isinstance(value, date) else value

    return [tuple(text(v) for v in row) for row in query(db, sql)]


def _answers_for(path: Path, age: int, sex: str, today: date) -> Path:
    """An answers file raising nothing, for a person of this age and sex on this date."""
    from probhealth.questionnaire import answers as A
    from probhealth.questionnaire.engine import PersonFacts, evaluate

    facts = PersonFacts(age, sex)
    answers: dict[str, object] = {}
    parsed: dict[str, object] = {}
    while (item := evaluate(Q, parsed, facts, today).next_item()) is not None:
        answers[item.id] = negative_answer(item)
        parsed[item.id] = A.parse(item, answers[item.id])
    path.write_text(yaml.safe_dump(answers))
    return path


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _lines_with(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if any(n in line for n in needles)]


@pytest.fixture(params=ZONES)
def tz(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


# ---------------------------------------------------------------- DST edges -------------
SPRING_BEFORE = "2026-03-29T00:59:59Z"  # 00:59:59 GMT
SPRING_AFTER = "2026-03-29T01:00:01Z"  # 02:00:01 BST
AUTUMN_FIRST = "2026-10-25T00:30:00Z"  # 01:30 BST
AUTUMN_SECOND = "2026-10-25T01:30:00Z"  # 01:30 GMT, an hour later


def test_instants_round_trip_and_show_gmt_or_bst(tz, db, tmp_path):
    s = Session(db, tmp_path, tz)
    add = s.at(SPRING_BEFORE, "person", "add", "--crn", "X100001", "--given", "Sam")
    s.steps[add]["argv"] += ["--family", "Cole", "--dob", "1990-06-15", "--sex", "male"]
    s.steps[add]["argv"] += ["--release-date", "2026-03-28", "--json"]
    s.at(SPRING_BEFORE, "consent", "X100001", "--purpose", "screening", "--given")
    s.at(SPRING_AFTER, "consent", "X100001", "--purpose", "share-with-services", "--given")
    s.at(AUTUMN_FIRST, "consent", "X100001", "--purpose", "screening", "--withdrawn")
    s.at(AUTUMN_SECOND, "consent", "X100001", "--purpose", "screening", "--given")
    hist = s.at(AUTUMN_SECOND, "consent", "X100001", "--purpose", "screening", "--history")
    hist_json = s.at(
        AUTUMN_SECOND, "consent", "X100001", "--purpose", "screening", "--history", "--json"
    )
    share = s.at(AUTUMN_SECOND, "consent", "X100001", "--purpose", "share-with-services")
    s.steps[share]["argv"] += ["--history"]
    screen = s.at(
        AUTUMN_SECOND, "screen", "X100001", "--answers", str(negative_file(tmp_path)), "--json"
    )
    refer = s.at(AUTUMN_FIRST, "refer", "X100001", "dentist", "--self-referral", "--json")
    update = s.at(AUTUMN_SECOND, "referral", "update", "1", "--status", "referred")
    s.steps[update]["argv"] += ["--date", "2026-10-25", "--json"]
    export = s.at(AUTUMN_SECOND, "export", "screenings", "--out", "-")
    r = s.run()
    for result in r:
        _ok(result)

    person = _json(r[add])
    assert person["created_at"] == "2026-03-29T00:59:59Z"
    assert person["release_date"] == "2026-03-28"
    assert _raw(db, "SELECT created_at, release_date FROM person") == [
        ("2026-03-29 00:59:59.000000", "2026-03-28")
    ]

    # Stored: naive UTC, exactly the instants given, an hour apart across the autumn change.
    assert _raw(db, "SELECT purpose, status, recorded_at FROM consent ORDER BY id") == [
        ("screening", "given", "2026-03-29 00:59:59.000000"),
        ("share-with-services", "given", "2026-03-29 01:00:01.000000"),
        ("screening", "withdrawn", "2026-10-25 00:30:00.000000"),
        ("screening", "given", "2026-10-25 01:30:00.000000"),
    ]
    # JSON: ISO UTC with Z.
    history = [h for h in _json(r[hist_json]) if h["purpose"] == "screening"]
    assert [h["recorded_at"] for h in history] == [
        "2026-03-29T00:59:59Z",
        "2026-10-25T00:30:00Z",
        "2026-10-25T01:30:00Z",
    ]
    # Shown: London wall time; the repeated 01:30 is told apart by BST then GMT.
    shown = r[hist]["stdout"]
    when = [line for line in _lines_with(shown, "2026-") if "screening" in line]
    assert len(when) == 3
    assert "2026-03-29 00:59 GMT" in when[0]
    assert "withdrawn" in when[1] and "2026-10-25 01:30 BST" in when[1]
    assert "2026-10-25 01:30 GMT" in when[2]
    assert "2026-03-29 02:00 BST" in r[share]["stdout"]  # 01:00:01Z: the hour that never was
    assert "01:00" not in r[share]["stdout"]

    screening = _json(r[screen])
    assert screening["started_at"] == "2026-10-25T01:30:00Z"
    assert screening["completed_at"] == "2026-10-25T01:30:00Z"
    assert _raw(db, "SELECT substr(CAST(started_at AS TEXT), 1, 19) FROM screening") == [
        ("2026-10-25 01:30:00",)
    ]
    rows = _csv(r[export]["stdout"])
    assert len(rows) == 1
    assert rows[0]["started_at"] == "2026-10-25T01:30:00Z"
    assert rows[0]["completed_at"] == "2026-10-25T01:30:00Z"

    referral = _json(r[refer])
    assert referral["created_at"] == "2026-10-25T00:30:00Z"
    updated = _json(r[update])
    assert updated["status"] == "referred"
    assert _raw(
        db,
        "SELECT event_date, substr(CAST(recorded_at AS TEXT), 1, 19) FROM referral_event ORDER BY id",
    )[-1] == ("2026-10-25", "2026-10-25 01:30:00")


def test_screening_show_uses_london_wall_time(tz, db, tmp_path):
    s = Session(db, tmp_path, tz)
    s.at(SPRING_BEFORE, "person", "add", "--crn", "X100002", "--given", "Kim", "--family", "Day")
    s.steps[-1]["argv"] += ["--dob", "1990-06-15", "--sex", "male"]
    s.at(SPRING_BEFORE, "consent", "X100002", "--purpose", "screening", "--given")
    answers = str(negative_file(tmp_path))
    first = s.at(SPRING_AFTER, "screen", "X100002", "--answers", answers, "--json")
    s.at(AUTUMN_FIRST, "screening", "show", "1")
    r = s.run()
    for result in r:
        _ok(result)
    assert _json(r[first])["started_at"] == "2026-03-29T01:00:01Z"
    shown = r[-1]["stdout"]
    assert "2026-03-29 02:00 BST" in shown
    assert "GMT" not in shown


# ----------------------------------------------------- "today" is the London date --------
LATE_JUNE = "2026-06-30T23:30:00Z"  # London: 2026-07-01 00:30 BST
LONDON_TODAY = date(2026, 7, 1)


def test_today_is_the_london_date(tz, db, tmp_path):
    """Born 1961-07-01: at 23:30 UTC on 30 June he is 65 in London (64 by the UTC date). Age,
    who is asked about AAA screening (men 65+), the age band, "not in the future" and the
    export's London-day filters all follow the London date."""
    s = Session(db, tmp_path, tz)
    base = ["--given", "Len", "--family", "Ward", "--dob", "1961-07-01", "--sex", "male"]
    add = s.at(LATE_JUNE, "person", "add", "--crn", "Y000065", *base, "--json")
    # A release date is never in the future (issue 13): 1 July is today in London, 2 July is not.
    edge = s.at(LATE_JUNE, "person", "edit", "Y000065", "--release-date", "2026-07-01")
    beyond = s.at(LATE_JUNE, "person", "edit", "Y000065", "--release-date", "2026-07-02")
    show = s.at(LATE_JUNE, "person", "show", "Y000065", "--json")
    s.at(LATE_JUNE, "consent", "Y000065", "--purpose", "screening", "--given")
    as_64 = _answers_for(tmp_path / "as-64.yaml", 64, "male", LONDON_TODAY)
    as_65 = _answers_for(tmp_path / "as-65.yaml", 65, "male", LONDON_TODAY)
    wrong = s.at(LATE_JUNE, "screen", "Y000065", "--answers", str(as_64))
    right = s.at(LATE_JUNE, "screen", "Y000065", "--answers", str(as_65), "--json")
    s.at(LATE_JUNE, "refer", "Y000065", "dentist", "--self-referral")
    today = s.at(LATE_JUNE, "referral", "update", "1", "--status", "referred")
    s.steps[today]["argv"] += ["--date", "2026-07-01"]
    tomorrow = s.at(LATE_JUNE, "referral", "update", "1", "--status", "accepted")
    s.steps[tomorrow]["argv"] += ["--date", "2026-07-02"]
    since = s.at(LATE_JUNE, "export", "screenings", "--out", "-", "--since", "2026-07-01")
    until = s.at(LATE_JUNE, "export", "screenings", "--out", "-", "--until", "2026-06-30")
    r = s.run()

    assert _json(r[add])["age"] == 65
    _ok(r[edge])
    assert r[beyond]["code"] == 2 and "--release-date" not in r[beyond]["stdout"]
    assert _json(r[show])["age"] == 65
    assert _json(r[show])["release_date"] == "2026-07-01"

    assert r[wrong]["code"] == 2, r[wrong]
    assert "aaa_screening" in r[wrong]["stderr"]
    screening = _json(r[right])
    assert "aaa_screening" in json.dumps(screening["answers"])
    assert screening["started_at"] == "2026-06-30T23:30:00Z"

    _ok(r[today])  # 1 July is today in London, not "in the future"
    assert r[tomorrow]["code"] == 2, r[tomorrow]
    assert _raw(db, "SELECT event_date FROM referral_event ORDER BY id")[-1] == ("2026-07-01",)

    rows = _csv(_ok(r[since])["stdout"])
    assert len(rows) == 1
    assert rows[0]["age_band"] == "65+"
    assert rows[0]["started_at"] == "2026-06-30T23:30:00Z"
    assert _csv(_ok(r[until])["stdout"]) == []


# ------------------------------------------------------ audit order with a clock step ----
def test_audit_ids_stay_in_order_when_the_clock_steps_back(db, tmp_path):
    s = Session(db, tmp_path, "America/St_Johns")
    s.at(AUTUMN_SECOND, "person", "add", "--crn", "Z000001", "--given", "Al", "--family", "Fox")
    s.steps[-1]["argv"] += ["--dob", "1970-01-01", "--sex", "male"]
    s.at(AUTUMN_FIRST, "consent", "Z000001", "--purpose", "screening", "--given")  # 1 h back
    s.at("2026-10-25T00:45:00Z", "person", "edit", "Z000001", "--office", "Ely")
    verify = s.at("2026-10-25T00:46:00Z", "audit", "verify", "--json")
    listed = s.at("2026-10-25T00:47:00Z", "audit", "list", "--json")
    newest = s.at("2026-10-25T00:20:00Z", "audit", "list", "--limit", "2", "--json")
    check = s.at("2026-10-25T00:48:00Z", "db", "check", "--json")
    r = s.run()
    for result in r:
        _ok(result)

    rows = _raw(db, "SELECT id, action, at FROM audit_event ORDER BY id")
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[0][1] == "db.init"  # event 1 of every database (the audit anchor, issue 14)
    rows = rows[1:]
    actions = [row[1] for row in rows]
    assert actions[:3] == ["person.add", "consent.record", "person.edit"]
    at = {row[1]: row[2] for row in rows[:3]}
    assert at["consent.record"] < at["person.add"]  # the clock went back; the order did not
    assert _json(r[verify])["ok"] is True
    listed_events = [e for e in _json(r[listed]) if e["action"] != "db.init"]
    assert [e["id"] for e in listed_events] == sorted(e["id"] for e in listed_events)
    assert [e["at"] for e in listed_events[:3]] == [
        "2026-10-25T01:30:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-25T00:45:00Z",
    ]
    # "the newest N" are the last written (by id), not the latest by clock (person.add)
    assert [e["action"] for e in _json(r[newest])] == ["person.edit", "audit.list"]
    report = _json(r[check])
    assert report["ok"] is True and report["audit_chain"] == "ok"
