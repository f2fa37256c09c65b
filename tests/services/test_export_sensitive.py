"""Hazard H23 (issue 12): a domestic abuse disclosure cannot be inferred from an identifiable
export. Rows that exist only because of a sensitive answer (the domestic-abuse-support pathway,
safeguarding-referral raised by the domestic abuse answer, the safeguarding need and flag it
raised, the audit events of such referrals) are left out of every identifiable table, with one
line on stderr; pseudonymised exports keep them. A safeguarding concern the worker noted stays.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from probhealth.services.export import TABLES
from tests.cli.test_screen import negative_file
from tests.helpers import add_person

TRACES = (
    "domestic-abuse-support",
    "Domestic abuse support",
    "Said a partner or family member",
    "safeguarding-referral",
    'domestic_abuse",',  # an audit detail naming the item
)


def _screen(cli, tmp_path: Path, crn: str, **answers: object) -> None:  # type: ignore[no-untyped-def]
    add_person(cli, crn, sex="male", dob="1990-07-19")
    for purpose in ("screening", "share-with-services"):
        cli("consent", crn, "--purpose", purpose, "--given")
    path = negative_file(tmp_path, **answers)
    cli("screen", crn, "--answers", str(path))


@pytest.fixture
def disclosed(cli, tmp_path, built_once):  # type: ignore[no-untyped-def]
    """X100001 said yes to domestic abuse and took up both pathways it suggests (made once a
    process, copied for each test)."""

    def build() -> None:
        _screen(cli, tmp_path, "X100001", domestic_abuse="yes")
        cli("refer", "X100001", "domestic-abuse-support", "--self-referral")
        cli("refer", "X100001", "safeguarding-referral", "--referred")

    built_once(build)
    return cli


def _export(cli, tmp_path: Path, table: str, identifiable: bool):  # type: ignore[no-untyped-def]
    out = tmp_path / f"{table}-{identifiable}.csv"
    mode = ["--identifiable"] if identifiable else []
    result = cli("export", table, *mode, "--out", str(out), "--force")
    return out.read_text(encoding="utf-8-sig"), result.stderr


@pytest.mark.parametrize("table", ["suggestions", "referrals", "referral-events", "needs"])
def test_an_identifiable_export_has_no_trace_of_a_domestic_abuse_disclosure(
    disclosed, tmp_path, table
):
    ident, said = _export(disclosed, tmp_path, table, identifiable=True)
    for trace in TRACES:
        assert trace not in ident, (table, trace)
    if table == "needs":
        assert "safeguarding" not in ident  # the need the flag recorded
    assert "Left out as sensitive" in said and "pseudonymised export keeps them" in said
    assert "X100001" not in said  # no per-person detail in that line
    pseudo, said = _export(disclosed, tmp_path, table, identifiable=False)
    assert "Left out as sensitive" not in said
    if table == "needs":
        assert "safeguarding" in pseudo
    else:
        assert "safeguarding-referral" in pseudo
        assert "domestic-abuse-support" in pseudo
    if table == "suggestions":  # the reason is only ever in identifiable exports (issue 14)
        assert "domestic-abuse" in pseudo  # the rule id


def test_the_screening_shows_the_flag_as_not_raised_and_the_audit_drops_the_referrals(
    disclosed, tmp_path
):
    ident, said = _export(disclosed, tmp_path, "screenings", identifiable=True)
    import csv
    import io

    (row,) = list(csv.DictReader(io.StringIO(ident)))
    assert row["domestic_abuse"] == "" and row["flag_safeguarding"] == "0"
    assert row["flags_unacknowledged"] == "0"
    assert "1 flag" in said
    pseudo, _ = _export(disclosed, tmp_path, "screenings", identifiable=False)
    (row,) = list(csv.DictReader(io.StringIO(pseudo)))
    assert row["domestic_abuse"] == "yes" and row["flag_safeguarding"] == "1"
    audit, said = _export(disclosed, tmp_path, "audit", identifiable=True)
    for trace in TRACES:
        assert trace not in audit, trace
    assert "Left out as sensitive: 2 rows" in said  # the two referral.create events
    audit, _ = _export(disclosed, tmp_path, "audit", identifiable=False)
    assert "domestic-abuse-support" in audit


def test_a_safeguarding_concern_the_worker_noted_stays(cli, tmp_path):
    """The same pathway and flag, raised by the worker's concern and not by a sensitive
    answer, stay in the identifiable export; with both, the concern keeps them too."""
    _screen(cli, tmp_path, "X100002", worker_concerns=["others"])
    (tmp_path / "b").mkdir()
    _screen(cli, tmp_path / "b", "X100003", worker_concerns=["others"], domestic_abuse="yes")
    cli("refer", "X100002", "safeguarding-referral", "--referred")
    cli("refer", "X100003", "safeguarding-referral", "--referred")
    for table in ("suggestions", "referrals", "screenings", "needs"):
        ident, _ = _export(cli, tmp_path, table, identifiable=True)
        assert "domestic-abuse-support" not in ident and "Said a partner" not in ident
        if table in ("suggestions", "referrals"):
            assert ident.count("safeguarding-referral") == 2, table
        if table == "needs":
            assert ident.count("safeguarding") == 2
        if table == "screenings":
            assert ident.count(",1,") >= 2  # both flags raised


def test_every_table_is_covered() -> None:
    """A new table must decide whether it can carry a sensitive row."""
    from probhealth.services.export import WITHHOLDING

    assert set(TABLES) - WITHHOLDING == {"people", "consent", "answers", "barriers", "goals"}


def test_a_score_that_counts_a_sensitive_item_is_not_sensitive(cli, tmp_path):
    """DAST-10 item 8 is sensitive, the DAST-10 score is not: the drug service it suggests and
    the drugs need it records stay in the identifiable export (here beside a domestic abuse
    disclosure, whose rows go)."""
    dast = {f"dast10_{n}": "yes" for n in (1, 2, 4, 5, 8)}
    _screen(cli, tmp_path, "X100004", drugs_any="yes", domestic_abuse="yes", **dast)
    suggestions, _ = _export(cli, tmp_path, "suggestions", identifiable=True)
    needs, said = _export(cli, tmp_path, "needs", identifiable=True)
    assert "drug-service" in suggestions and "drugs" in needs
    assert "domestic-abuse-support" not in suggestions and "safeguarding" not in needs


def test_no_barrier_can_come_from_a_sensitive_answer() -> None:
    """The barriers table is not checked for sensitive rows (test_every_table_is_covered):
    that holds only while no barrier rule reads a sensitive item or a flag one raises."""
    from probhealth.services import definitions

    q = definitions.load_questionnaire()
    hidden = {i.id for i in q.items if i.sensitive}
    flags = {f.id for f in q.flags if any(r == "answers" and a in hidden for r, a in f.when.names)}
    for barrier in q.barriers:
        for root, name in barrier.when.names:
            assert not (root == "answers" and name in hidden), barrier.type
            assert not (root == "flags" and name in flags), barrier.type
