"""Service directory files: the fictional directory, CSV import (same columns as YAML),
errors with the file's line, and ``services check|load|list`` on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from probhealth.directory.model import (
    BOOL_COLUMNS,
    CSV_COLUMNS,
    LIST_COLUMNS,
    Service,
    load_csv_text,
    load_file,
    load_yaml,
)
from probhealth.errors import FileError
from probhealth.services.definitions import load_rules
from tests.helpers import DbHandle, fingerprint

ROOT = Path(__file__).resolve().parents[2]
FICTIONAL = ROOT / "examples" / "services-fictional.yaml"


@pytest.fixture(scope="module")
def pathways() -> set[str]:
    return {p.id for p in load_rules().pathways}


@pytest.fixture(scope="module")
def fictional(pathways: set[str]) -> list[Service]:
    return load_file(FICTIONAL, known_pathways=pathways)


# ------------------------------------------------------------------ fictional file -----
def test_fictional_directory_loads(fictional: list[Service], pathways: set[str]) -> None:
    assert len(fictional) >= 40
    assert all(s.fictional for s in fictional)
    assert all("(fictional)" in s.name for s in fictional)
    assert len({s.id for s in fictional}) == len(fictional)
    assert {p for s in fictional for p in s.pathways} <= pathways
    # Local contact details are made up: example.org/.com only.
    for s in fictional:
        for address in (s.email, s.website):
            assert address is None or "example." in address, (s.id, address)


def test_fictional_directory_is_the_bundled_one() -> None:
    from probhealth.services.definitions import bundled_path

    assert bundled_path("services-fictional.yaml").read_bytes() == FICTIONAL.read_bytes()


def test_fictional_directory_through_check(cli, fictional: list[Service]) -> None:
    result = cli("services", "check", str(FICTIONAL))
    n = len(fictional)
    assert f"{FICTIONAL}: ok: {n} services ({n} marked fictional)." in result.stderr


# ------------------------------------------------------------------ CSV ----------------
def csv_row(service: Service) -> dict[str, str]:
    data = service.to_json()
    row: dict[str, str] = {}
    for column in CSV_COLUMNS:
        value = data[column]
        if column in LIST_COLUMNS:
            row[column] = "; ".join(value)
        elif column in BOOL_COLUMNS:
            row[column] = "yes" if value else "no"
        else:
            row[column] = "" if value is None else str(value)
    return row


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_whole_fictional_directory_round_trips_through_csv(
    fictional: list[Service], pathways: set[str]
) -> None:
    text = to_csv([csv_row(s) for s in fictional])
    assert load_csv_text(text, known_pathways=pathways) == fictional


YAML_ONE = """\
services:
  - id: test-gp
    name: Test GP (fictional)
    fictional: true
    pathways: [gp-registration, vaccination]
    areas: [CB1, Cambridge]
    address: 1 Example Street, Cambridge
    phone: "01223 000 199"
    email: gp@example.org
    website: https://example.org/gp
    hours: ["mon-fri 08:30-12:30", "mon-fri 14:00-18:00", "sat 09:00-11:00"]
    bank_holidays: open
    self_referral: true
    how_to_refer: "Walk in, or call: say you want to register."
    documents_needed: [photo-id, proof-of-address]
    languages: [English, Polish]
    interpreters: true
    accessibility: Step-free.
    co_located: true
    eligibility: Anyone living in CB1.
    last_verified: 2026-10-01
"""
CSV_ONE = (
    ",".join(CSV_COLUMNS)
    + "\n"
    + "test-gp,Test GP (fictional),yes,gp-registration;vaccination,CB1; Cambridge,"
    + '"1 Example Street, Cambridge",01223 000 199,gp@example.org,https://example.org/gp,'
    + "mon-fri 08:30-12:30;mon-fri 14:00-18:00;sat 09:00-11:00,open,Yes,"
    + '"Walk in, or call: say you want to register.",photo-id;proof-of-address,English;Polish,'
    + "TRUE,Step-free.,1,Anyone living in CB1.,2026-10-01\n"
)


def test_csv_of_the_same_fields_gives_the_same_service(tmp_path: Path, pathways) -> None:
    yaml_path = tmp_path / "one.yaml"
    yaml_path.write_text(YAML_ONE, encoding="utf-8")
    csv_path = tmp_path / "one.csv"
    csv_path.write_text(CSV_ONE, encoding="utf-8")
    (from_yaml,) = load_file(yaml_path, known_pathways=pathways)
    (from_csv,) = load_file(csv_path, known_pathways=pathways)
    assert from_csv == from_yaml
    assert from_csv.bank_holidays_open and from_csv.interpreters and from_csv.co_located
    assert from_csv.hours[2].days == (5,)
    assert from_csv.to_json() == from_yaml.to_json()


def test_csv_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    text = (
        "last_verified,how_to_refer,self_referral,areas,pathways,name,id\n"
        "2026-10-01,Call.,no,TS1,dentist,Dentist (fictional),ts-dentist\n"
    )
    (s,) = load_csv_text(text)
    assert (s.id, s.self_referral, s.pathways, s.areas) == (
        "ts-dentist",
        False,
        ("dentist",),
        ("TS1",),
    )
    assert s.languages == ("English",)
    assert s.hours == ()
    assert not s.fictional and not s.interpreters


def test_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_ONE.encode())
    assert [s.id for s in load_file(path)] == ["test-gp"]


GOOD_ROW = {
    "id": "row-ok",
    "name": "Fine (fictional)",
    "pathways": "dentist",
    "areas": "CB1",
    "self_referral": "yes",
    "how_to_refer": "Call.",
    "last_verified": "2026-10-01",
}


def three_rows(bad: dict[str, str]) -> str:
    """Header (line 1), a good row (2), the bad row (3), a good row (4)."""
    rows = [
        GOOD_ROW,
        {**GOOD_ROW, "id": "row-bad", **bad},
        {**GOOD_ROW, "id": "row-after"},
    ]
    return to_csv([{c: r.get(c, "") for c in CSV_COLUMNS} for r in rows])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"self_referral": "maybe"}, "self_referral: write yes or no, not 'maybe'"),
        ({"interpreters": "sometimes"}, "interpreters: write yes or no"),
        ({"phone": "call us!"}, "phone must be a phone number"),
        ({"email": "nobody"}, "email must be an email address"),
        ({"hours": "mon-fri 09:00-17:00;fri-mon 09:00-12:00"}, "the days run backwards"),
        ({"documents_needed": "passport"}, "documents_needed.0 must be 'photo-id'"),
        ({"last_verified": "last week"}, "last_verified"),
        ({"pathways": ""}, "pathways"),
        ({"id": "Bad Id"}, "id must be 2-60 lower-case letters"),
        ({"bank_holidays": "sometimes"}, "bank_holidays"),
    ],
)
def test_bad_csv_row_reports_its_line(bad: dict[str, str], message: str) -> None:
    with pytest.raises(FileError) as info:
        load_csv_text(three_rows(bad), name="dir.csv")
    assert info.value.line == 3
    assert str(info.value).startswith("dir.csv:3: ")
    assert message in str(info.value)


def test_unknown_pathway_in_csv_when_pathways_are_known(pathways: set[str]) -> None:
    text = three_rows({"pathways": "dentist;gp-registrashun"})
    (first, second, third) = load_csv_text(text)  # nothing to check against: accepted
    assert second.pathways == ("dentist", "gp-registrashun")
    with pytest.raises(FileError) as info:
        load_csv_text(text, known_pathways=pathways, name="dir.csv")
    assert str(info.value) == (
        "dir.csv:3: service row-bad: unknown pathway 'gp-registrashun' "
        "(pathways are defined in the rules file)"
    )


def test_duplicate_id_in_csv() -> None:
    text = three_rows({"id": "row-ok"})
    with pytest.raises(FileError, match=r"^dir\.csv:3: service id 'row-ok' is used twice$"):
        load_csv_text(text, name="dir.csv")


def test_csv_row_with_extra_cells() -> None:
    lines = three_rows({}).splitlines()
    lines[2] += ",surplus"
    with pytest.raises(FileError) as info:
        load_csv_text("\n".join(lines) + "\n", name="dir.csv")
    assert str(info.value) == "dir.csv:3: this row has more cells than the header"


def test_csv_unknown_column() -> None:
    text = "id,name,colour\nx1,X,blue\n"
    with pytest.raises(FileError) as info:
        load_csv_text(text, name="dir.csv")
    assert info.value.line == 1
    assert "unknown column 'colour'; columns are: id, name, fictional" in str(info.value)


@pytest.mark.parametrize(
    "missing", ["id", "name", "pathways", "areas", "self_referral", "how_to_refer", "last_verified"]
)
def test_csv_missing_required_column(missing: str) -> None:
    columns = tuple(c for c in CSV_COLUMNS if c != missing)
    text = to_csv([{c: GOOD_ROW.get(c, "") for c in columns}], columns)
    with pytest.raises(FileError) as info:
        load_csv_text(text, name="dir.csv")
    assert str(info.value) == f"dir.csv:1: missing column {missing!r}"


def test_csv_line_after_a_cell_spanning_lines() -> None:
    rows = [
        {**GOOD_ROW, "how_to_refer": "Call first.\nThen walk in."},  # lines 2-3
        {**GOOD_ROW, "id": "row-bad", "phone": "call us!"},  # line 4
    ]
    text = to_csv([{c: r.get(c, "") for c in CSV_COLUMNS} for r in rows])
    with pytest.raises(FileError) as info:
        load_csv_text(text, name="dir.csv")
    assert info.value.line == 4


def test_csv_error_in_a_row_spanning_lines_points_at_its_first_line() -> None:
    rows = [
        GOOD_ROW,  # line 2
        # line 3 holds the bad phone; the row goes on to line 4 inside the quoted note
        {**GOOD_ROW, "id": "row-bad", "phone": "call us!", "how_to_refer": "Call.\nOr write."},
    ]
    text = to_csv([{c: r.get(c, "") for c in CSV_COLUMNS} for r in rows])
    assert text.splitlines()[2].startswith("row-bad,")
    with pytest.raises(FileError) as info:
        load_csv_text(text, name="dir.csv")
    assert info.value.line == 3, str(info.value)


# ------------------------------------------------------------------ YAML errors --------
def write_services(tmp_path: Path, entries: list[str], name: str = "dir.yaml") -> Path:
    path = tmp_path / name
    path.write_text("services:\n" + "".join(entries), encoding="utf-8")
    return path


def entry(sid: str, *, pathways: str = "[dentist]", extra: str = "") -> str:
    return (
        f"  - id: {sid}\n"
        f"    name: {sid} (fictional)\n"
        "    fictional: true\n"
        f"    pathways: {pathways}\n"
        "    areas: [CB1]\n"
        '    hours: ["mon-fri 09:00-17:00"]\n'
        "    self_referral: true\n"
        "    how_to_refer: Call.\n"
        f"{extra}"
        "    last_verified: 2026-10-01\n"
    )


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    text = path.read_text(encoding="utf-8")
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    return text[:idx].count("\n") + 1


def test_yaml_unknown_key_reports_its_line(tmp_path: Path) -> None:
    path = write_services(tmp_path, [entry("svc-a"), entry("svc-b", extra="    colour: blue\n")])
    with pytest.raises(FileError) as info:
        load_yaml(path)
    assert info.value.line == line_of(path, "colour:")
    assert "unknown key 'colour'" in str(info.value)


def test_yaml_bad_value_reports_its_line(tmp_path: Path) -> None:
    path = write_services(tmp_path, [entry("svc-a"), entry("svc-b", extra='    phone: "x"\n')])
    with pytest.raises(FileError) as info:
        load_yaml(path)
    assert info.value.line == line_of(path, "phone:")
    assert "services.1.phone" in str(info.value)


def test_yaml_bad_hours_in_a_block_list_points_at_the_bad_period(tmp_path: Path) -> None:
    hours = '    hours:\n      - "mon-fri 09:00-12:00"\n      - "fri-mon 13:00-17:00"\n'
    path = write_services(
        tmp_path, [entry("svc-a").replace('    hours: ["mon-fri 09:00-17:00"]\n', hours)]
    )
    with pytest.raises(FileError) as info:
        load_yaml(path)
    assert "the days run backwards" in str(info.value)
    assert info.value.line == line_of(path, "fri-mon"), str(info.value)


def test_yaml_duplicate_service_id(tmp_path: Path) -> None:
    path = write_services(tmp_path, [entry("svc-a"), entry("svc-b"), entry("svc-a")])
    with pytest.raises(FileError) as info:
        load_yaml(path)
    assert info.value.line == line_of(path, "id: svc-a", 2)
    assert "service id 'svc-a' is used twice" in str(info.value)


def test_yaml_unknown_pathway(tmp_path: Path, pathways: set[str]) -> None:
    path = write_services(
        tmp_path, [entry("svc-a"), entry("svc-b", pathways="[dentist, teeth-whitening]")]
    )
    assert len(load_yaml(path)) == 2  # not checked without the rules' pathways
    with pytest.raises(FileError) as info:
        load_yaml(path, known_pathways=pathways)
    # Reported within the entry (today: at its "- id:" line).
    assert line_of(path, "id: svc-b") <= info.value.line <= line_of(path, "teeth-whitening")
    assert "service svc-b: unknown pathway 'teeth-whitening'" in str(info.value)


def test_yaml_unknown_top_level_key(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text("title: x\nowner: me\nservices:\n" + entry("svc-a"), encoding="utf-8")
    with pytest.raises(FileError) as info:
        load_yaml(path)
    assert info.value.line == 2
    assert "unknown key 'owner' at the top level" in str(info.value)


def test_yaml_without_a_services_list(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text("- id: x\n", encoding="utf-8")
    with pytest.raises(FileError, match="a services file is a mapping with a 'services' list"):
        load_yaml(path)


# ------------------------------------------------------------------ CLI: check, load ---
def check_fails(cli, path: Path, line: int) -> str:
    result = cli("services", "check", str(path), expect=2)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {path}:{line}: "), lines[0]
    return lines[0]


def test_check_lists_every_bad_entry(cli, tmp_path: Path) -> None:
    path = write_services(
        tmp_path,
        [
            entry("svc-a", extra='    phone: "x"\n'),
            entry("svc-b"),
            entry("svc-c", extra="    email: nobody\n"),
        ],
    )
    lines = cli("services", "check", str(path), expect=2).stderr.splitlines()
    assert lines[0] == f"Error: {path}: 2 problems:"
    phone, email = line_of(path, 'phone: "x"'), line_of(path, "email: nobody")
    assert lines[1].startswith(f"{path}:{phone}: services.0.phone must be")
    assert lines[2].startswith(f"{path}:{email}: services.2.email must be")


def test_check_reports_one_line_for_yaml(cli, tmp_path: Path) -> None:
    path = write_services(tmp_path, [entry("svc-a"), entry("svc-b", extra='    phone: "x"\n')])
    message = check_fails(cli, path, line_of(path, 'phone: "x"'))
    assert "services.1.phone must be a phone number" in message


def test_check_reports_one_line_for_csv(cli, tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text(three_rows({"self_referral": "perhaps"}), encoding="utf-8")
    message = check_fails(cli, path, 3)
    assert "self_referral: write yes or no" in message


def test_check_of_a_missing_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = cli("services", "check", str(path), expect=2)
    assert result.stderr.splitlines() == [f"Error: {path}: file not found"]


def test_load_is_all_or_nothing(cli, db: DbHandle, tmp_path: Path) -> None:
    path = write_services(
        tmp_path,
        [entry("svc-a"), entry("svc-b"), entry("svc-c", extra="    interpreters: perhaps\n")],
    )
    before = fingerprint(db)
    result = cli("services", "load", str(path), expect=2)
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"Error: {path}:{line_of(path, 'interpreters:')}: ")
    assert fingerprint(db) == before
    assert json.loads(cli("services", "list", "--json").stdout) == []


def test_load_csv_is_all_or_nothing(cli, tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text(three_rows({"pathways": "no-such-pathway"}), encoding="utf-8")
    result = cli("services", "load", str(path), expect=2)
    assert result.stderr.startswith(f"Error: {path}:3: service row-bad: unknown pathway")
    assert json.loads(cli("services", "list", "--json").stdout) == []


def test_load_adds_then_replaces(cli, tmp_path: Path) -> None:
    result = cli("services", "load", str(FICTIONAL), "--json")
    first = json.loads(result.stdout)
    assert first["added"] == first["fictional"] > 0 and first["replaced"] == 0
    human = cli("services", "load", str(FICTIONAL))
    assert f"0 added, {first['added']} replaced" in human.stderr
    assert "never use them to refer a real person" in human.stderr
    listed = json.loads(cli("services", "list", "--json").stdout)
    assert len(listed) == first["added"]


# ------------------------------------------------------------------ CLI: list filters --
FILTER_DIR = """\
services:
  - id: a-gp
    name: A GP (fictional)
    pathways: [gp-registration]
    areas: [CB1, Cambridge]
    hours: ["mon-fri 09:00-17:00"]
    self_referral: true
    how_to_refer: Walk in.
    last_verified: 2026-10-01
  - id: b-gp
    name: B GP (fictional)
    pathways: [gp-registration]
    areas: [TS1]
    hours: ["mon-fri 08:00-18:30"]
    self_referral: true
    how_to_refer: Walk in.
    last_verified: 2026-10-01
  - id: c-crisis
    name: C crisis line (fictional)
    pathways: [crisis-support]
    areas: ["*"]
    hours: ["mon-sun 00:00-24:00"]
    bank_holidays: open
    self_referral: true
    how_to_refer: Call.
    last_verified: 2026-10-01
  - id: d-dentist
    name: D dentist (fictional)
    pathways: [dentist]
    areas: [CB1]
    hours: ["sat 09:00-12:00"]
    self_referral: true
    how_to_refer: Call.
    last_verified: 2026-10-01
  - id: e-dentist
    name: E dentist online (fictional)
    pathways: [dentist]
    areas: [cb1]
    self_referral: true
    how_to_refer: Online form.
    last_verified: 2026-10-01
"""


@pytest.fixture
def loaded(cli, tmp_path: Path):
    path = tmp_path / "filter.yaml"
    path.write_text(FILTER_DIR, encoding="utf-8")
    cli("services", "load", str(path))

    def ids(*options: str, now: str | None = None, expect: int = 0) -> Any:
        env = {"PROBHEALTH_NOW": now} if now else None
        result = cli("services", "list", *options, "--json", env=env, expect=expect)
        if expect:
            return json.loads(result.stdout)["error"]["message"]
        return [r["id"] for r in json.loads(result.stdout)]

    return ids


def test_list_filters_by_pathway_and_area(loaded) -> None:
    assert loaded() == ["a-gp", "b-gp", "c-crisis", "d-dentist", "e-dentist"]
    assert loaded("--pathway", "gp-registration") == ["a-gp", "b-gp"]
    assert loaded("--area", "CB1") == ["a-gp", "c-crisis", "d-dentist", "e-dentist"]
    assert loaded("--area", "cambridge") == ["a-gp", "c-crisis"]
    assert loaded("--area", "TS1", "--pathway", "gp-registration") == ["b-gp"]
    assert loaded("--area", "EX34", "--pathway", "dentist") == []
    # An unknown pathway is a typo, not an empty list (issue 13 item 11: "did you mean").
    assert loaded("--pathway", "dentst", expect=2).startswith(
        "Unknown pathway 'dentst'. Did you mean 'dentist'?"
    )


def test_list_open_now_follows_the_clock(loaded) -> None:
    monday_10 = "2026-11-23T10:00:00"
    sunday_3 = "2026-11-29T03:00:00"
    assert loaded("--open-now", now=monday_10) == ["a-gp", "b-gp", "c-crisis"]
    assert loaded("--open-now", now=sunday_3) == ["c-crisis"]
    assert loaded("--open-now", "--area", "CB1", now=monday_10) == ["a-gp", "c-crisis"]
    # Christmas Day (a Friday): only the line that opens on bank holidays.
    assert loaded("--open-now", now="2026-12-25T10:00:00") == ["c-crisis"]
    # Saturday 10:00: the Saturday dentist.
    assert loaded("--open-now", "--pathway", "dentist", now="2026-11-28T10:00:00") == ["d-dentist"]
    # 08:30 UTC on a Monday in July is 09:30 BST: A GP (from 09:00) is open.
    assert loaded("--open-now", "--pathway", "gp-registration", now="2026-07-06T08:30:00Z") == [
        "a-gp",
        "b-gp",
    ]
    # 16:30 UTC is 17:30 BST: only B GP (to 18:30).
    assert loaded("--open-now", "--pathway", "gp-registration", now="2026-07-06T16:30:00Z") == [
        "b-gp"
    ]


def test_list_json_says_whether_each_is_open(cli, loaded) -> None:
    rows = json.loads(
        cli("services", "list", "--json", env={"PROBHEALTH_NOW": "2026-11-29T03:00:00"}).stdout
    )
    assert {r["id"]: r["open_now"] for r in rows} == {
        "a-gp": False,
        "b-gp": False,
        "c-crisis": True,
        "d-dentist": False,
        "e-dentist": False,
    }
    table = cli("services", "list", "--area", "TS1").stdout
    assert "B GP (fictional)" in table
    assert "A GP (fictional)" not in table


def test_fictional_directory_open_now(cli, monkeypatch) -> None:
    cli("services", "load", str(FICTIONAL))
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-11-29T03:00:00")  # Sunday 03:00
    night = json.loads(cli("services", "list", "--open-now", "--json").stdout)
    assert night, "the 24-hour lines are open"
    assert all("mon-sun 00:00-24:00" in s["hours"] for s in night)
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-11-24T10:00:00")  # Tuesday 10:00
    day = json.loads(cli("services", "list", "--open-now", "--json").stdout)
    assert {s["id"] for s in night} < {s["id"] for s in day}
    assert all(s["open_now"] for s in day)
