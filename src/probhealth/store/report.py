"""Aggregate queries for the health needs report (``probhealth report``).

All counting happens in the database: the people in scope and their latest completed screening
in the period go into two temporary tables, then every figure is a GROUP BY over them and the
indexed tables. Python only ever sees grouped rows (a few hundred at most, whatever the
caseload), so memory stays flat. Nothing identifying leaves this module: no names, CRNs, dates
of birth or postcodes, only counts by office, domain, pathway, month, sex or age band.

The SQL is plain and runs on SQLite and PostgreSQL; the few dialect differences (days between
two dates, the month of an instant, a postcode's district, an age) are in :class:`_Dialect`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, bindparam, text
from sqlalchemy.engine import Connection

AGE_BANDS = "CASE WHEN p.age < 25 THEN '18-24' WHEN p.age < 35 THEN '25-34' WHEN p.age < 50 THEN '35-49' WHEN p.age < 65 THEN '50-64' ELSE '65+' END"
ACCESS_ITEMS = (
    "gp_registered",
    "dentist_registered",
    "smoking_status",
    "bowel_screening_last",
    "breast_screening_last",
    "cervical_screening_last",
    "aaa_screening",
)
CONFLICT_BARRIERS = ("opening-times", "no-id-documents", "language")
CO_OCCURRING = ("mental-health", "alcohol", "drugs")
TEMP_TABLES = ("rp_people", "rp_cohort", "rp_need", "rp_ref", "rp_pathway")


@dataclass(frozen=True)
class PathwayInfo:
    id: str
    domain: str
    shares_information: bool
    adjustment: bool


@dataclass(frozen=True)
class Scope:
    since: datetime | None  # UTC instant, inclusive
    until: datetime  # UTC instant, exclusive (the end of the last day)
    end_day: date  # the last day of the period (for ages and "time since")
    offices: tuple[str, ...] = ()  # casefolded; empty: every office
    by: str = "office"  # office | month | sex | age-band
    pathways: tuple[PathwayInfo, ...] = ()
    gap_days: int = 28


@dataclass
class Raw:
    """Grouped rows, as plain tuples, per question the report answers."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> list[tuple[Any, ...]]:
        return self.rows[key]


class _Dialect:
    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def days(self, later: str, earlier: str) -> str:
        if self.pg:
            return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
        return f"CAST(julianday(date({later})) - julianday(date({earlier})) AS INTEGER)"

    def month(self, instant: str) -> str:
        return f"to_char({instant}, 'YYYY-MM')" if self.pg else f"strftime('%Y-%m', {instant})"

    def district(self, postcode: str) -> str:
        if self.pg:
            return f"lower(split_part({postcode}, ' ', 1))"
        return (
            f"lower(CASE WHEN instr({postcode}, ' ') > 0 "
            f"THEN substr({postcode}, 1, instr({postcode}, ' ') - 1) ELSE {postcode} END)"
        )

    def age(self, dob: str) -> str:
        if self.pg:
            return f"CAST(EXTRACT(YEAR FROM age(CAST(:end_day AS DATE), {dob})) AS INTEGER)"
        return f"CAST((julianday(:end_day) - julianday({dob})) / 365.25 AS INTEGER)"


def _typed(sql: str) -> Any:
    stmt = text(sql)
    binds = []
    for name, kind in (("since", DateTime()), ("until", DateTime()), ("end_day", Date())):
        if f":{name}" in sql:
            binds.append(bindparam(name, type_=kind))
    if ":offices" in sql:
        binds.append(bindparam("offices", expanding=True))
    if ":domains" in sql:
        binds.append(bindparam("domains", expanding=True))
    if ":items" in sql:
        binds.append(bindparam("items", expanding=True))
    if ":barriers" in sql:
        binds.append(bindparam("barriers", expanding=True))
    return stmt.bindparams(*binds) if binds else stmt


class _Run:
    def __init__(self, conn: Connection, scope: Scope) -> None:
        self.conn = conn
        self.scope = scope
        self.d = _Dialect(conn.dialect.name)
        self.params: dict[str, Any] = {
            "since": scope.since.replace(tzinfo=None) if scope.since else None,
            "until": scope.until.replace(tzinfo=None),
            "end_day": scope.end_day,
            "offices": list(scope.offices),
            "domains": list(CO_OCCURRING),
            "items": list(ACCESS_ITEMS),
            "barriers": list(CONFLICT_BARRIERS),
        }

    def exec(self, sql: str) -> None:
        self.conn.execute(_typed(sql), {k: v for k, v in self.params.items() if f":{k}" in sql})

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        result = self.conn.execute(
            _typed(sql), {k: v for k, v in self.params.items() if f":{k}" in sql}
        )
        return [tuple(r) for r in result]

    def since(self, column: str) -> str:
        return f"{column} >= :since" if self.scope.since is not None else "1 = 1"


def _drop(conn: Connection) -> None:
    for name in TEMP_TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def aggregate(conn: Connection, scope: Scope) -> Raw:
    """Every grouped figure of the report, read in one transaction."""
    _drop(conn)
    try:
        return _aggregate(_Run(conn, scope))
    finally:
        _drop(conn)


def _setup(r: _Run) -> None:
    d = r.d
    office = "lower(office) IN :offices" if r.scope.offices else "1 = 1"
    r.exec(
        "CREATE TEMP TABLE rp_people (id VARCHAR PRIMARY KEY, office VARCHAR, sex VARCHAR, "
        "age INTEGER, district VARCHAR, office_key VARCHAR)"
    )
    r.exec(
        "INSERT INTO rp_people SELECT id, COALESCE(office, 'No office'), sex, "  # noqa: S608
        f"{d.age('dob')}, {d.district('postcode')}, lower(office) FROM person "
        f"WHERE created_at < :until AND {office}"
    )
    r.exec(
        "CREATE TEMP TABLE rp_cohort (person_id VARCHAR PRIMARY KEY, screening_id INTEGER, "
        "completed_at TIMESTAMP, month VARCHAR)"
    )
    r.exec(
        "INSERT INTO rp_cohort (person_id, screening_id) "  # noqa: S608
        "SELECT s.person_id, MAX(s.id) FROM screening s JOIN rp_people p ON p.id = s.person_id "
        f"WHERE s.status = 'completed' AND {r.since('s.completed_at')} "
        "AND s.completed_at < :until GROUP BY s.person_id"
    )
    r.exec(
        "UPDATE rp_cohort SET completed_at = "
        "(SELECT completed_at FROM screening s WHERE s.id = rp_cohort.screening_id)"
    )
    r.exec(f"UPDATE rp_cohort SET month = {d.month('completed_at')}")  # noqa: S608
    r.exec("CREATE INDEX ix_rp_cohort_screening ON rp_cohort (screening_id)")
    # Each person's highest severity per need domain, at their latest screening in the period
    # (or recorded by a worker in the period).
    r.exec("CREATE TEMP TABLE rp_need (person_id VARCHAR, domain VARCHAR, sev INTEGER)")
    r.exec(
        "INSERT INTO rp_need SELECT n.person_id, n.domain, MAX(CASE n.severity "  # noqa: S608
        "WHEN 'high' THEN 3 WHEN 'moderate' THEN 2 ELSE 1 END) FROM need n "
        "JOIN rp_cohort c ON c.person_id = n.person_id WHERE n.screening_id = c.screening_id "
        f"OR (n.screening_id IS NULL AND {r.since('n.created_at')} AND n.created_at < :until) "
        "GROUP BY n.person_id, n.domain"
    )
    r.exec("CREATE INDEX ix_rp_need ON rp_need (person_id, domain)")
    r.exec(
        "CREATE TEMP TABLE rp_pathway (id VARCHAR PRIMARY KEY, domain VARCHAR, "
        "shares INTEGER, adjustment INTEGER)"
    )
    if r.scope.pathways:
        r.conn.execute(
            text("INSERT INTO rp_pathway VALUES (:id, :domain, :shares, :adjustment)"),
            [
                {
                    "id": p.id,
                    "domain": p.domain,
                    "shares": int(p.shares_information),
                    "adjustment": int(p.adjustment),
                }
                for p in r.scope.pathways
            ],
        )
    # One row per referral made in the period: the furthest steps it reached.
    r.exec(
        "CREATE TEMP TABLE rp_ref (id INTEGER PRIMARY KEY, person_id VARCHAR, "
        "pathway_id VARCHAR, service_id VARCHAR, status VARCHAR, outcome VARCHAR, "
        "reason VARCHAR, created_at TIMESTAMP, closed_at TIMESTAMP, agreed INTEGER, "
        "referred INTEGER, accepted INTEGER, booked INTEGER, attended INTEGER, "
        "dna INTEGER, att INTEGER, rejected INTEGER, first_appt DATE)"
    )

    def ever(status: str) -> str:
        return f"MAX(CASE WHEN e.to_status = '{status}' THEN 1 ELSE 0 END)"

    r.exec(
        "INSERT INTO rp_ref SELECT r.id, r.person_id, r.pathway_id, r.service_id, "  # noqa: S608
        "r.status, r.outcome, r.closed_reason, r.created_at, r.closed_at, "
        f"{ever('agreed')}, {ever('referred')}, {ever('accepted')}, "
        f"{ever('appointment-booked')}, {ever('attended')}, "
        "SUM(CASE WHEN e.to_status = 'did-not-attend' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.to_status = 'attended' THEN 1 ELSE 0 END), "
        f"{ever('rejected-by-service')}, "
        "MIN(CASE WHEN e.to_status = 'appointment-booked' THEN e.event_date END) "
        "FROM referral r JOIN rp_people p ON p.id = r.person_id "
        "LEFT JOIN referral_event e ON e.referral_id = r.id "
        f"WHERE {r.since('r.created_at')} AND r.created_at < :until "
        "GROUP BY r.id, r.person_id, r.pathway_id, r.service_id, r.status, r.outcome, "
        "r.closed_reason, r.created_at, r.closed_at"
    )
    r.exec("CREATE INDEX ix_rp_ref_person ON rp_ref (person_id, pathway_id)")


def _group(by: str) -> str:
    return {
        "office": "p.office",
        "sex": "p.sex",
        "age-band": AGE_BANDS,
        "month": "c.month",
    }[by]


def _headline(r: _Run, by: str) -> list[tuple[Any, ...]]:
    """Per group: people, screened, people with each of the three needs, co-occurring, not
    registered with a GP, referrals agreed, referrals completed."""
    g = _group(by)
    need = (
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM rp_need n WHERE n.person_id = c.person_id "
        "AND n.domain = '{}') THEN 1 ELSE 0 END)"
    )
    co = (
        "SUM(CASE WHEN (SELECT COUNT(*) FROM rp_need n WHERE n.person_id = c.person_id "
        "AND n.domain IN :domains) >= 2 THEN 1 ELSE 0 END)"
    )
    nogp = (
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM answer a WHERE a.screening_id = c.screening_id "
        "AND a.item_id = 'gp_registered' AND a.value IN ('\"no\"', '\"not sure\"')) "
        "THEN 1 ELSE 0 END)"
    )
    cohort = r.rows(
        f"SELECT {g}, COUNT(*), {need.format('mental-health')}, {need.format('alcohol')}, "  # noqa: S608
        f"{need.format('drugs')}, {co}, {nogp} FROM rp_cohort c JOIN rp_people p "
        f"ON p.id = c.person_id GROUP BY {g}"
    )
    if by == "month":
        people: list[tuple[Any, ...]] = []
        ref_g = r.d.month("x.created_at")
    else:
        people = r.rows(f"SELECT {g}, COUNT(*) FROM rp_people p GROUP BY {g}")  # noqa: S608
        ref_g = g
    refs = r.rows(
        f"SELECT {ref_g}, SUM(x.agreed), SUM(CASE WHEN x.status = 'completed' THEN 1 ELSE 0 END) "  # noqa: S608
        f"FROM rp_ref x JOIN rp_people p ON p.id = x.person_id GROUP BY {ref_g}"
    )
    keys = sorted({k[0] for k in (*cohort, *people, *refs)}, key=lambda v: str(v))
    by_people = dict(people)
    by_cohort = {row[0]: row[1:] for row in cohort}
    by_refs = {row[0]: row[1:] for row in refs}
    out = []
    for k in keys:
        c = by_cohort.get(k, (0, 0, 0, 0, 0, 0))
        x = by_refs.get(k, (0, 0))
        out.append(
            (k, by_people.get(k) if by != "month" else None, *(int(v or 0) for v in c))
            + tuple(int(v or 0) for v in x)
        )
    return out


def _aggregate(r: _Run) -> Raw:
    _setup(r)
    d = r.d
    raw = Raw()
    rows = raw.rows
    # Caseload and reach.
    rows["caseload"] = r.rows(
        "SELECT (SELECT COUNT(*) FROM rp_people), (SELECT COUNT(*) FROM rp_cohort), "
        "(SELECT COUNT(*) FROM rp_people p WHERE (SELECT c.status FROM consent c "
        "WHERE c.person_id = p.id AND c.purpose = 'screening' ORDER BY c.id DESC LIMIT 1) "
        "IN ('declined', 'withdrawn'))"
    )
    days = d.days(":end_day", "s.last")
    rows["since_screening"] = r.rows(
        "SELECT CASE WHEN s.last IS NULL THEN 'never' "  # noqa: S608
        f"WHEN {days} < 91 THEN 'under-3' WHEN {days} < 183 THEN '3-6' "
        f"WHEN {days} < 366 THEN '6-12' ELSE 'over-12' END AS band, COUNT(*) "
        "FROM rp_people p LEFT JOIN (SELECT person_id, MAX(completed_at) AS last "
        "FROM screening WHERE status = 'completed' AND completed_at < :until "
        "GROUP BY person_id) s ON s.person_id = p.id GROUP BY band"
    )
    # Needs.
    rows["needs"] = r.rows("SELECT domain, sev, COUNT(*) FROM rp_need GROUP BY domain, sev")
    rows["needs_office"] = r.rows(
        "SELECT n.domain, p.office, COUNT(*) FROM rp_need n JOIN rp_people p "
        "ON p.id = n.person_id GROUP BY n.domain, p.office"
    )
    rows["screened_office"] = r.rows(
        "SELECT p.office, COUNT(*) FROM rp_cohort c JOIN rp_people p ON p.id = c.person_id "
        "GROUP BY p.office"
    )
    rows["flags"] = r.rows(
        "SELECT f.flag_id, MAX(f.title), MAX(f.severity), COUNT(*) FROM flag f "
        "JOIN rp_cohort c ON c.screening_id = f.screening_id GROUP BY f.flag_id"
    )
    rows["co_occurring"] = r.rows(
        "SELECT k, COUNT(*) FROM (SELECT person_id, COUNT(*) AS k FROM rp_need "
        "WHERE domain IN :domains GROUP BY person_id) t GROUP BY k"
    )
    # Access to primary care and prevention.
    rows["access"] = r.rows(
        "SELECT a.item_id, CASE WHEN a.declined THEN NULL ELSE a.value END, COUNT(*) "
        "FROM answer a JOIN rp_cohort c ON c.screening_id = a.screening_id "
        "WHERE a.item_id IN :items AND NOT a.hidden GROUP BY a.item_id, "
        "CASE WHEN a.declined THEN NULL ELSE a.value END"
    )
    rows["lung"] = r.rows(
        "SELECT COUNT(DISTINCT s.person_id) FROM suggestion s JOIN rp_cohort c "
        "ON c.screening_id = s.screening_id WHERE s.pathway_id = 'lung-health-check'"
    )
    # Barriers, and which stand in front of which suggested pathways.
    rows["barriers"] = r.rows(
        "SELECT b.type, COUNT(DISTINCT b.person_id) FROM barrier b JOIN rp_cohort c "
        "ON c.person_id = b.person_id WHERE b.created_at < :until "
        "AND (b.resolved_at IS NULL OR b.resolved_at >= :until) GROUP BY b.type"
    )
    rows["conflicts"] = r.rows(
        "SELECT s.pathway_id, b.type, COUNT(DISTINCT s.person_id) FROM suggestion s "
        "JOIN rp_cohort c ON c.screening_id = s.screening_id "
        "JOIN barrier b ON b.person_id = s.person_id AND b.resolved_at IS NULL "
        "WHERE b.type IN :barriers GROUP BY s.pathway_id, b.type"
    )
    rows["consent_conflicts"] = r.rows(
        "SELECT s.pathway_id, COUNT(DISTINCT s.person_id) FROM suggestion s "
        "JOIN rp_cohort c ON c.screening_id = s.screening_id "
        "JOIN rp_pathway w ON w.id = s.pathway_id AND w.shares = 1 "
        "WHERE COALESCE((SELECT k.status FROM consent k WHERE k.person_id = s.person_id "
        "AND k.purpose = 'share-with-services' ORDER BY k.id DESC LIMIT 1), 'none') <> 'given' "
        "GROUP BY s.pathway_id"
    )
    # The referral funnel per pathway.
    rows["suggested"] = r.rows(
        "SELECT s.pathway_id, COUNT(DISTINCT s.person_id) FROM suggestion s "
        "JOIN rp_cohort c ON c.screening_id = s.screening_id GROUP BY s.pathway_id"
    )
    rows["funnel"] = r.rows(
        "SELECT pathway_id, COUNT(*), SUM(agreed), SUM(referred), SUM(accepted), SUM(booked), "
        "SUM(attended), SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN outcome = 'achieved' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN outcome = 'partly-achieved' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN outcome = 'not-achieved' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'declined-by-person' THEN 1 ELSE 0 END), SUM(rejected), "
        "SUM(dna), SUM(att) FROM rp_ref GROUP BY pathway_id"
    )
    rows["declined_reasons"] = r.rows(
        "SELECT COALESCE(reason, 'not-recorded'), COUNT(*) FROM rp_ref "
        "WHERE status = 'declined-by-person' GROUP BY COALESCE(reason, 'not-recorded')"
    )
    wait = d.days("x.first_appt", "COALESCE(s.at, x.created_at)")
    rows["waits"] = r.rows(
        "SELECT pathway_id, COUNT(*), MIN(CASE WHEN rn * 2 >= n THEN days END), "  # noqa: S608
        "MIN(CASE WHEN rn * 10 >= n * 9 THEN days END) FROM (SELECT pathway_id, days, "
        "ROW_NUMBER() OVER (PARTITION BY pathway_id ORDER BY days) AS rn, "
        "COUNT(*) OVER (PARTITION BY pathway_id) AS n FROM ("
        f"SELECT x.pathway_id, {wait} AS days FROM rp_ref x "
        "LEFT JOIN (SELECT person_id, pathway_id, MIN(created_at) AS at FROM suggestion "
        "GROUP BY person_id, pathway_id) s ON s.person_id = x.person_id "
        "AND s.pathway_id = x.pathway_id WHERE x.first_appt IS NOT NULL) w) t "
        "GROUP BY pathway_id"
    )
    # Service gaps.
    rows["no_local"] = r.rows(
        "SELECT s.pathway_id, COUNT(*), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM "
        "service_pathway sp JOIN service_area sa ON sa.service_id = sp.service_id "
        "WHERE sp.pathway_id = s.pathway_id AND sa.area_key IN (p.district, p.office_key)) "
        "THEN 1 ELSE 0 END), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM "
        "service_pathway sp JOIN service_area sa ON sa.service_id = sp.service_id "
        "WHERE sp.pathway_id = s.pathway_id AND sa.area_key IN (p.district, p.office_key, '*')) "
        "THEN 1 ELSE 0 END) FROM suggestion s "
        "JOIN rp_cohort c ON c.screening_id = s.screening_id "
        "JOIN rp_people p ON p.id = s.person_id "
        "LEFT JOIN rp_pathway w ON w.id = s.pathway_id "
        "WHERE COALESCE(w.adjustment, 0) = 0 GROUP BY s.pathway_id"
    )
    gap = d.days(":end_day", "c.completed_at")
    rows["unreferred"] = r.rows(
        "SELECT n.domain, COUNT(*), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM referral x "  # noqa: S608
        "JOIN rp_pathway w ON w.id = x.pathway_id WHERE x.person_id = n.person_id "
        "AND w.domain = n.domain AND x.status <> 'declined-by-person') THEN 1 ELSE 0 END), "
        "MAX(CASE WHEN EXISTS (SELECT 1 FROM rp_pathway w WHERE w.domain = n.domain "
        "AND w.adjustment = 0) THEN 1 ELSE 0 END) "
        "FROM rp_need n JOIN rp_cohort c ON c.person_id = n.person_id "
        f"WHERE {gap} >= {int(r.scope.gap_days)} GROUP BY n.domain"
    )
    rows["rejecting"] = r.rows(
        "SELECT x.service_id, MAX(sv.name), SUM(x.referred), SUM(x.rejected) FROM rp_ref x "
        "LEFT JOIN service sv ON sv.id = x.service_id WHERE x.service_id IS NOT NULL "
        "AND x.referred = 1 GROUP BY x.service_id"
    )
    # Health trainer outcomes: each goal's latest review.
    rows["goals"] = r.rows(
        "SELECT COALESCE(g.domain, 'none'), COUNT(*), "  # noqa: S608
        "SUM(CASE WHEN g.status = 'achieved' OR v.progress = 'achieved' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN g.status <> 'achieved' AND v.progress = 'partly' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN g.status <> 'achieved' AND v.progress = 'not-yet' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN g.status = 'dropped' OR v.progress = 'dropped' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN g.status = 'active' AND v.progress IS NULL THEN 1 ELSE 0 END) "
        "FROM goal g JOIN rp_people p ON p.id = g.person_id "
        "LEFT JOIN goal_review v ON v.id = (SELECT MAX(v2.id) FROM goal_review v2 "
        "WHERE v2.goal_id = g.id) "
        f"WHERE {r.since('g.created_at')} AND g.created_at < :until "
        "GROUP BY COALESCE(g.domain, 'none')"
    )
    rows["headline"] = _headline(r, r.scope.by)
    rows["trend"] = rows["headline"] if r.scope.by == "month" else _headline(r, "month")
    return raw


__all__: Sequence[str] = ("AGE_BANDS", "PathwayInfo", "Raw", "Scope", "aggregate")
