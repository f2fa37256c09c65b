"""The bundled questionnaire scores, bands, skips and words the instruments as published.

Every expected value here is a literal computed by hand from
``/work/shared/reference/instruments.md`` (sections 1-7, 10, 11 and "Safety-critical
answers"), never from the engine's own scoring helpers. Answer vectors are built so that the
skip logic of ``probation-health.yaml`` shows every item they need: the PHQ-9 items 3-8 only
after PHQ-2 >= 3, the GAD-7 items 3-7 only after GAD-2 >= 3, AUDIT items 4-10 only after
AUDIT-C >= 5, DAST-10 only after drugs_any == "yes", HSI only for current smokers. So the
lowest PHQ-9, GAD-7 and AUDIT totals that can be scored are 3, 3 and 5, not 0.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from probhealth import expr
from probhealth.questionnaire import answers as A
from probhealth.questionnaire.engine import PersonFacts, evaluate
from probhealth.services.definitions import load_questionnaire
from tests.helpers import add_person

TODAY = date(2026, 11, 23)
PERSON = PersonFacts(age=30, sex="male")

PHQ9 = [f"phq9_{n}" for n in range(1, 10)]
GAD7 = [f"gad7_{n}" for n in range(1, 8)]
AUDIT = ["auditc_1", "auditc_2", "auditc_3", *(f"audit_{n}" for n in range(4, 11))]
DAST10 = [f"dast10_{n}" for n in range(1, 11)]

Y, N = "yes", "no"


@pytest.fixture(scope="module")
def q():
    return load_questionnaire()


def run(q, answers: dict[str, Any], person: PersonFacts = PERSON):
    return evaluate(q, answers, person, TODAY)


def flag_ids(ev) -> dict[str, str]:
    return {f.id: f.severity for f in ev.flags}


def next_unanswered(ev, prefix: str) -> str | None:
    """The first shown, unanswered item whose id starts with ``prefix``."""
    return next((i for i in ev.visible if i.startswith(prefix) and i not in ev.answers), None)


def assert_all_shown(ev, item_ids) -> None:
    hidden = [i for i in item_ids if i not in ev.visible]
    assert not hidden, f"the skip logic hides {hidden}: the vector does not test what it says"


# ---------------------------------------------------------------- PHQ-2 / PHQ-9 ----------
PHQ2_CASES = [
    # (item 1, item 2) -> total, band: 0-2 negative, >=3 positive [R8a][R14]
    ((0, 0), 0, "negative"),
    ((1, 1), 2, "negative"),
    ((2, 0), 2, "negative"),
    ((2, 1), 3, "positive"),
    ((0, 3), 3, "positive"),
    ((3, 3), 6, "positive"),
]


@pytest.mark.parametrize(("vector", "total", "band"), PHQ2_CASES)
def test_phq2_total_and_band(q, vector, total, band):
    ev = run(q, {"phq9_1": vector[0], "phq9_2": vector[1]})
    assert ev.scores["phq2"].value == total
    assert ev.scores["phq2"].band == band


PHQ9_CASES = [
    # items 1..9 -> total, band: 0-4 minimal, 5-9 mild, 10-14 moderate,
    # 15-19 moderately severe, 20-27 severe [R7]. Items 1+2 >= 3 so items 3-8 are shown.
    ((2, 1, 0, 0, 0, 0, 0, 0, 0), 3, "minimal"),  # lowest total that can be scored
    ((2, 1, 1, 0, 0, 0, 0, 0, 0), 4, "minimal"),
    ((2, 1, 1, 1, 0, 0, 0, 0, 0), 5, "mild"),
    ((2, 1, 1, 1, 1, 1, 1, 1, 0), 9, "mild"),
    ((2, 2, 1, 1, 1, 1, 1, 1, 0), 10, "moderate"),
    ((2, 2, 2, 2, 2, 2, 1, 1, 0), 14, "moderate"),
    ((2, 2, 2, 2, 2, 2, 2, 1, 0), 15, "moderately severe"),
    ((2, 2, 2, 2, 2, 2, 2, 2, 2), 18, "moderately severe"),
    ((3, 3, 3, 3, 3, 2, 2, 0, 0), 19, "moderately severe"),
    ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "severe"),
    ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
]


@pytest.mark.parametrize(("vector", "total", "band"), PHQ9_CASES)
def test_phq9_total_and_band(q, vector, total, band):
    ev = run(q, dict(zip(PHQ9, vector, strict=True)))
    assert_all_shown(ev, PHQ9)
    assert ev.scores["phq9"].value == total
    assert ev.scores["phq9"].band == band
    assert ev.scores["phq9"].missing == ()


@pytest.mark.parametrize(("item1", "item2"), [(1, 1), (2, 0), (0, 2), (1, 0), (0, 0)])
def test_phq2_below_cut_off_hides_the_rest_of_phq9(q, item1, item2):
    # Even if items 3-9 were answered (e.g. in a file), they are not asked and not scored.
    answers = dict(zip(PHQ9, (item1, item2, 3, 3, 3, 3, 3, 3, 0), strict=True))
    ev = run(q, answers)
    for item_id in ("phq9_3", "phq9_4", "phq9_5", "phq9_6", "phq9_7", "phq9_8"):
        assert item_id not in ev.visible
        assert item_id in ev.ignored
    assert "phq9_10" not in ev.visible
    assert ev.scores["phq9"].value is None
    assert ev.scores["phq9"].band is None
    assert "mh_support" not in ev.visible


def test_phq2_at_cut_off_shows_the_rest_of_phq9(q):
    ev = run(q, {"phq9_1": 2, "phq9_2": 1})
    for item_id in (*PHQ9[2:], "phq9_10"):
        assert item_id in ev.visible
    assert next_unanswered(ev, "phq9_") == "phq9_3"
    assert ev.scores["phq9"].value is None  # not answered yet: never prorated


# ---------------------------------------------------------------- PHQ-9 item 9 -----------
@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_raises_emergency_flag_even_with_total_1(q, item9):
    # PHQ-2 = 1: below the PHQ-2 cut-off, but item 9 is asked when PHQ-2 >= 1.
    ev = run(q, {"phq9_1": 1, "phq9_2": 0, "phq9_9": item9})
    assert "phq9_9" in ev.visible
    assert ev.scores["phq2"].value == 1
    assert flag_ids(ev).get("self_harm_thoughts") == "emergency"
    assert "self_harm_thoughts" in {f.id for f in ev.emergency_flags()}


def test_phq9_item9_flag_whatever_the_total(q):
    # A full PHQ-9 of 4 ("minimal") with item 9 = 1 still raises the emergency flag [R1].
    ev = run(q, dict(zip(PHQ9, (2, 1, 0, 0, 0, 0, 0, 0, 1), strict=True)))
    assert ev.scores["phq9"].value == 4
    assert ev.scores["phq9"].band == "minimal"
    assert flag_ids(ev).get("self_harm_thoughts") == "emergency"


def test_phq9_item9_zero_raises_no_flag(q):
    ev = run(q, {"phq9_1": 1, "phq9_2": 0, "phq9_9": 0})
    assert "phq9_9" in ev.visible
    assert "self_harm_thoughts" not in flag_ids(ev)
    ev = run(q, dict(zip(PHQ9, (3, 3, 3, 3, 3, 3, 3, 3, 0), strict=True)))
    assert ev.scores["phq9"].value == 24
    assert "self_harm_thoughts" not in flag_ids(ev)


def test_phq9_item9_still_asked_when_a_phq2_item_is_declined(q):
    ev = run(q, {"phq9_1": expr.DECLINED, "phq9_2": 0})
    assert "phq9_9" in ev.visible
    assert ev.scores["phq2"].value is None


# ---------------------------------------------------------------- GAD-2 / GAD-7 ----------
GAD2_CASES = [
    ((0, 0), 0, "negative"),
    ((2, 0), 2, "negative"),
    ((1, 1), 2, "negative"),
    ((1, 2), 3, "positive"),
    ((3, 3), 6, "positive"),
]


@pytest.mark.parametrize(("vector", "total", "band"), GAD2_CASES)
def test_gad2_total_and_band(q, vector, total, band):
    ev = run(q, {"gad7_1": vector[0], "gad7_2": vector[1]})
    assert ev.scores["gad2"].value == total
    assert ev.scores["gad2"].band == band


GAD7_CASES = [
    # items 1..7 -> total, band: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe
    ((2, 1, 0, 0, 0, 0, 0), 3, "minimal"),  # lowest total that can be scored
    ((2, 1, 1, 0, 0, 0, 0), 4, "minimal"),
    ((2, 1, 1, 1, 0, 0, 0), 5, "mild"),
    ((2, 1, 2, 2, 2, 0, 0), 9, "mild"),
    ((2, 1, 2, 2, 2, 1, 0), 10, "moderate"),
    ((2, 2, 2, 2, 2, 2, 2), 14, "moderate"),
    ((3, 2, 2, 2, 2, 2, 2), 15, "severe"),
    ((3, 3, 3, 3, 3, 3, 3), 21, "severe"),
]


@pytest.mark.parametrize(("vector", "total", "band"), GAD7_CASES)
def test_gad7_total_and_band(q, vector, total, band):
    ev = run(q, dict(zip(GAD7, vector, strict=True)))
    assert_all_shown(ev, GAD7)
    assert ev.scores["gad7"].value == total
    assert ev.scores["gad7"].band == band


@pytest.mark.parametrize(("item1", "item2"), [(1, 1), (2, 0), (0, 0)])
def test_gad2_below_cut_off_hides_the_rest_of_gad7(q, item1, item2):
    ev = run(q, dict(zip(GAD7, (item1, item2, 3, 3, 3, 3, 3), strict=True)))
    for item_id in GAD7[2:]:
        assert item_id not in ev.visible
    assert ev.scores["gad7"].value is None
    assert ev.scores["gad7"].band is None


def test_gad2_at_cut_off_shows_the_rest_of_gad7(q):
    ev = run(q, {"gad7_1": 1, "gad7_2": 2})
    for item_id in GAD7[2:]:
        assert item_id in ev.visible
    assert "mh_support" in ev.visible


# ---------------------------------------------------------------- AUDIT-C / AUDIT --------
AUDITC_CASES = [
    # (item 1, 2, 3) -> total, band: 0 not drinking, 1-4 lower risk, 5-7 increasing risk,
    # 8-10 higher risk, 11-12 possible dependence [R21]
    ((1, 0, 0), 1, "lower risk"),
    ((2, 1, 1), 4, "lower risk"),
    ((2, 2, 1), 5, "increasing risk"),
    ((3, 2, 2), 7, "increasing risk"),
    ((3, 3, 2), 8, "higher risk"),
    ((4, 4, 2), 10, "higher risk"),
    ((4, 4, 3), 11, "possible dependence"),
    ((4, 4, 4), 12, "possible dependence"),
]


@pytest.mark.parametrize(("vector", "total", "band"), AUDITC_CASES)
def test_auditc_total_and_band(q, vector, total, band):
    ev = run(q, dict(zip(AUDIT[:3], vector, strict=True)))
    assert_all_shown(ev, AUDIT[:3])
    assert ev.implied == {}
    assert ev.scores["audit_c"].value == total
    assert ev.scores["audit_c"].band == band


def test_auditc_never_drinks_hides_items_2_3_and_counts_them_0(q):
    ev = run(q, {"auditc_1": 0})
    assert "auditc_2" not in ev.visible
    assert "auditc_3" not in ev.visible
    assert ev.implied == {"auditc_2": 0, "auditc_3": 0}
    assert ev.scores["audit_c"].value == 0
    assert ev.scores["audit_c"].band == "not drinking"
    # ... and the full AUDIT is not asked.
    for item_id in AUDIT[3:]:
        assert item_id not in ev.visible
    assert ev.scores["audit"].value is None


def test_auditc_never_ignores_stray_answers_to_items_2_3(q):
    ev = run(q, {"auditc_1": 0, "auditc_2": 4, "auditc_3": 4})
    assert set(ev.ignored) >= {"auditc_2", "auditc_3"}
    assert ev.scores["audit_c"].value == 0
    assert ev.scores["audit_c"].band == "not drinking"


def test_auditc_never_via_label(q):
    ev = run(q, {"auditc_1": A.parse(q.item("auditc_1"), "Never")})
    assert ev.scores["audit_c"].value == 0
    assert ev.scores["audit_c"].band == "not drinking"


@pytest.mark.parametrize(("vector", "total"), [((2, 1, 1), 4), ((1, 1, 2), 4), ((1, 0, 0), 1)])
def test_auditc_below_5_hides_audit_items_4_to_10(q, vector, total):
    answers = dict(zip(AUDIT, (*vector, 4, 4, 4, 4, 4, 4, 4), strict=True))
    ev = run(q, answers)
    assert ev.scores["audit_c"].value == total
    for item_id in (*AUDIT[3:], "alcohol_withdrawal"):
        assert item_id not in ev.visible
    assert ev.scores["audit"].value is None
    assert ev.scores["audit"].band is None


def test_auditc_5_shows_audit_items_4_to_10(q):
    ev = run(q, {"auditc_1": 2, "auditc_2": 2, "auditc_3": 1})
    for item_id in (*AUDIT[3:], "alcohol_withdrawal"):
        assert item_id in ev.visible
    assert next_unanswered(ev, "audit_") == "audit_4"


AUDIT_CASES = [
    # auditc_1..3, audit_4..8 (0-4), audit_9..10 (0/2/4) -> total, band:
    # 0-7 lower risk, 8-15 increasing risk, 16-19 higher risk, 20+ possible dependence [R19][R22]
    ((2, 2, 1, 0, 0, 0, 0, 0, 0, 0), 5, "lower risk"),  # lowest total that can be scored
    ((3, 2, 2, 0, 0, 0, 0, 0, 0, 0), 7, "lower risk"),
    ((2, 2, 1, 1, 1, 0, 0, 0, 0, 0), 7, "lower risk"),
    ((2, 2, 1, 0, 0, 0, 0, 1, 2, 0), 8, "increasing risk"),
    ((2, 2, 1, 3, 0, 0, 0, 0, 0, 0), 8, "increasing risk"),
    ((4, 4, 4, 3, 0, 0, 0, 0, 0, 0), 15, "increasing risk"),
    ((3, 3, 3, 0, 0, 0, 0, 0, 2, 4), 15, "increasing risk"),
    ((4, 4, 4, 0, 0, 0, 0, 0, 4, 0), 16, "higher risk"),
    ((4, 4, 2, 4, 4, 1, 0, 0, 0, 0), 19, "higher risk"),
    ((4, 4, 2, 4, 4, 2, 0, 0, 0, 0), 20, "possible dependence"),
    ((3, 3, 3, 1, 1, 1, 1, 1, 2, 2), 18, "higher risk"),
    ((4, 4, 4, 4, 4, 4, 4, 4, 4, 4), 40, "possible dependence"),
]


@pytest.mark.parametrize(("vector", "total", "band"), AUDIT_CASES)
def test_audit_total_and_band(q, vector, total, band):
    ev = run(q, dict(zip(AUDIT, vector, strict=True)))
    assert_all_shown(ev, AUDIT)
    assert ev.scores["audit"].value == total
    assert ev.scores["audit"].band == band


@pytest.mark.parametrize(
    ("vector", "raised"),
    [
        # AUDIT-C 10, AUDIT 19, no withdrawal: no alcohol safety flag
        ((4, 4, 2, 4, 4, 1, 0, 0, 0, 0), False),
        # AUDIT-C 10, AUDIT 20: AUDIT >= 20 is safety-critical
        ((4, 4, 2, 4, 4, 2, 0, 0, 0, 0), True),
        # AUDIT-C 11, AUDIT 11: AUDIT-C 11-12 is safety-critical
        ((4, 4, 3, 0, 0, 0, 0, 0, 0, 0), True),
    ],
)
def test_alcohol_safety_flag(q, vector, raised):
    answers = dict(zip(AUDIT, vector, strict=True))
    answers["alcohol_withdrawal"] = "no"
    ev = run(q, answers)
    if raised:
        assert flag_ids(ev).get("alcohol_dependence_risk") == "same-day"
    else:
        assert "alcohol_dependence_risk" not in flag_ids(ev)


# ---------------------------------------------------------------- DAST-10 ----------------
DAST_CASES = [
    # items 1..10 yes/no -> total, band: 0 none, 1-2 low, 3-5 moderate, 6-8 substantial,
    # 9-10 severe. 1 point per "yes", except item 3: "no" scores 1 [R23].
    ((N, N, Y, N, N, N, N, N, N, N), 0, "none"),
    ((N, N, N, N, N, N, N, N, N, N), 1, "low"),  # only item 3 "no"
    ((Y, N, Y, N, N, N, N, N, N, N), 1, "low"),
    ((Y, N, N, N, N, N, N, N, N, N), 2, "low"),
    ((Y, Y, Y, N, N, N, N, N, N, N), 2, "low"),
    ((Y, Y, N, N, N, N, N, N, N, N), 3, "moderate"),
    ((Y, Y, N, Y, Y, N, N, N, N, N), 5, "moderate"),
    ((Y, Y, Y, Y, Y, Y, N, N, N, N), 5, "moderate"),
    ((Y, Y, N, Y, Y, Y, N, N, N, N), 6, "substantial"),
    ((Y, Y, N, Y, Y, Y, Y, Y, N, N), 8, "substantial"),
    ((Y, Y, Y, Y, Y, Y, Y, Y, Y, N), 8, "substantial"),
    ((Y, Y, Y, Y, Y, Y, Y, Y, Y, Y), 9, "severe"),  # "yes" to item 3 scores 0
    ((Y, Y, N, Y, Y, Y, Y, Y, Y, N), 9, "severe"),
    ((Y, Y, N, Y, Y, Y, Y, Y, Y, Y), 10, "severe"),
]


@pytest.mark.parametrize(("vector", "total", "band"), DAST_CASES)
def test_dast10_total_and_band(q, vector, total, band):
    answers = {"drugs_any": "yes", **dict(zip(DAST10, vector, strict=True))}
    ev = run(q, answers)
    assert_all_shown(ev, DAST10)
    assert ev.scores["dast10"].value == total
    assert ev.scores["dast10"].band == band


def test_dast10_via_labels(q):
    raw = ("Yes", "YES", "No", "no", "No", "No", "No", "No", "No", "No")
    answers = {"drugs_any": A.parse(q.item("drugs_any"), "Yes")}
    answers |= {i: A.parse(q.item(i), r) for i, r in zip(DAST10, raw, strict=True)}
    ev = run(q, answers)
    assert ev.scores["dast10"].value == 3
    assert ev.scores["dast10"].band == "moderate"


def test_no_drug_use_hides_dast10(q):
    answers = {"drugs_any": "no", **dict.fromkeys(DAST10, "yes")}
    ev = run(q, answers)
    for item_id in DAST10:
        assert item_id not in ev.visible
    assert ev.scores["dast10"].value is None


# ---------------------------------------------------------------- HSI --------------------
HSI_CASES = [
    # (time to first cigarette, cigarettes a day) -> total, band:
    # 0-1 low, 2-4 medium, 5-6 high dependence [R26]
    ((0, 0), 0, "low dependence"),
    ((1, 0), 1, "low dependence"),
    ((0, 1), 1, "low dependence"),
    ((1, 1), 2, "medium dependence"),
    ((2, 0), 2, "medium dependence"),
    ((2, 2), 4, "medium dependence"),
    ((3, 1), 4, "medium dependence"),
    ((3, 2), 5, "high dependence"),
    ((2, 3), 5, "high dependence"),
    ((3, 3), 6, "high dependence"),
]


@pytest.mark.parametrize(("vector", "total", "band"), HSI_CASES)
def test_hsi_total_and_band(q, vector, total, band):
    ev = run(q, {"smoking_status": "current", "hsi_1": vector[0], "hsi_2": vector[1]})
    assert_all_shown(ev, ["hsi_1", "hsi_2"])
    assert ev.scores["hsi"].value == total
    assert ev.scores["hsi"].band == band


@pytest.mark.parametrize("status", ["never", "ex"])
def test_non_smokers_are_not_asked_hsi(q, status):
    ev = run(q, {"smoking_status": status, "hsi_1": 3, "hsi_2": 3})
    assert "hsi_1" not in ev.visible
    assert "hsi_2" not in ev.visible
    assert ev.scores["hsi"].value is None


@pytest.mark.parametrize(
    ("item_id", "label", "score"),
    [
        ("hsi_1", "Within 5 minutes", 3),
        ("hsi_1", "6-30 minutes", 2),
        ("hsi_1", "31-60 minutes", 1),
        ("hsi_1", "More than 60 minutes", 0),
        ("hsi_2", "10 or less", 0),
        ("hsi_2", "11-20", 1),
        ("hsi_2", "21-30", 2),
        ("hsi_2", "31 or more", 3),
    ],
)
def test_hsi_labels_score_as_published(q, item_id, label, score):
    assert A.parse(q.item(item_id), label) == score


# ---------------------------------------------------------------- scale definitions ------
@pytest.mark.parametrize(
    ("scale_id", "lo", "hi"),
    [
        ("phq2", 0, 6),
        ("phq9", 0, 27),
        ("gad2", 0, 6),
        ("gad7", 0, 21),
        ("audit_c", 0, 12),
        ("audit", 0, 40),
        ("dast10", 0, 10),
        ("hsi", 0, 6),
    ],
)
def test_scale_ranges(q, scale_id, lo, hi):
    scale = q.scale(scale_id)
    assert (scale.min, scale.max) == (lo, hi)


def test_phq9_bands_cover_0_to_2_even_if_unreachable(q):
    # Totals 0-2 cannot be reached through the skip logic; the band table still covers them.
    assert [q.scale("phq9").band(v) for v in (0, 2)] == ["minimal", "minimal"]
    assert [q.scale("gad7").band(v) for v in (0, 2)] == ["minimal", "minimal"]
    assert [q.scale("audit").band(v) for v in (0, 4)] == ["lower risk", "lower risk"]


# ---------------------------------------------------------------- label parsing ----------
PHQ_LABELS = [
    ("Not at all", 0),
    ("Several days", 1),
    ("More than half the days", 2),
    ("Nearly every day", 3),
    ("not at all", 0),
    ("SEVERAL DAYS", 1),
    ("More Than Half The Days", 2),
    ("nEARLY eVERY dAY", 3),
]


@pytest.mark.parametrize("item_id", [*PHQ9, *GAD7])
@pytest.mark.parametrize(("label", "value"), PHQ_LABELS)
def test_phq_gad_labels(q, item_id, label, value):
    assert A.parse(q.item(item_id), label) == value


@pytest.mark.parametrize("item_id", [*PHQ9, *GAD7])
def test_phq_gad_options_as_published(q, item_id):
    opts = [(o.label, o.score) for o in q.item(item_id).options]
    assert opts == [
        ("Not at all", 0),
        ("Several days", 1),
        ("More than half the days", 2),
        ("Nearly every day", 3),
    ]


@pytest.mark.parametrize("item_id", GAD7)
def test_gad7_zero_option_is_not_at_all_not_not_at_all_sure(q, item_id):
    item = q.item(item_id)
    assert item.label_of(0) == "Not at all"
    assert A.parse(item, "Not at all") == 0
    with pytest.raises(A.AnswerError):
        A.parse(item, "Not at all sure")


@pytest.mark.parametrize(
    ("item_id", "label", "value"),
    [
        ("auditc_2", "1-2", 0),
        ("auditc_2", "3-4", 1),
        ("auditc_2", "5-6", 2),
        ("auditc_2", "7-9", 3),
        ("auditc_2", "10+", 4),
        ("audit_9", "No", 0),
        ("audit_9", "Yes, but not in the last year", 2),
        ("audit_9", "Yes, during the last year", 4),
        ("audit_9", "yes, during the last year", 4),
        ("audit_10", "No", 0),
        ("audit_10", "Yes, but not in the last year", 2),
        ("audit_10", "Yes, during the last year", 4),
        ("audit_10", "YES, BUT NOT IN THE LAST YEAR", 2),
    ],
)
def test_audit_labels(q, item_id, label, value):
    assert A.parse(q.item(item_id), label) == value


@pytest.mark.parametrize("item_id", ["audit_9", "audit_10"])
@pytest.mark.parametrize("raw", [1, 3, "1", "Yes"])
def test_audit_9_10_have_no_1_or_3(q, item_id, raw):
    with pytest.raises(A.AnswerError):
        A.parse(q.item(item_id), raw)


def test_audit_options_as_published(q):
    def opts(item_id):
        return [(o.label, o.score) for o in q.item(item_id).options]

    assert opts("auditc_1") == [
        ("Never", 0),
        ("Monthly or less", 1),
        ("2-4 times per month", 2),
        ("2-3 times per week", 3),
        ("4+ times per week", 4),
    ]
    assert opts("auditc_2") == [("1-2", 0), ("3-4", 1), ("5-6", 2), ("7-9", 3), ("10+", 4)]
    frequency = [
        ("Never", 0),
        ("Less than monthly", 1),
        ("Monthly", 2),
        ("Weekly", 3),
        ("Daily or almost daily", 4),
    ]
    for item_id in ("auditc_3", "audit_4", "audit_5", "audit_6", "audit_7", "audit_8"):
        assert opts(item_id) == frequency, item_id
    injury = [("No", 0), ("Yes, but not in the last year", 2), ("Yes, during the last year", 4)]
    assert opts("audit_9") == injury
    assert opts("audit_10") == injury


def test_sils_and_hvs_options_as_published(q):
    assert [o.label for o in q.item("sils_1").options] == [
        "Never",
        "Rarely",
        "Sometimes",
        "Often",
        "Always",
    ]
    for item_id in ("hvs_1", "hvs_2"):
        assert [o.label for o in q.item(item_id).options] == [
            "Often true",
            "Sometimes true",
            "Never true",
        ]


# ---------------------------------------------------------------- exact wording ----------
PHQ_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
GAD_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"

WORDING = {
    # PHQ-9 [R4][R5]
    "phq9_1": "Little interest or pleasure in doing things",
    "phq9_2": "Feeling down, depressed, or hopeless",
    "phq9_3": "Trouble falling or staying asleep, or sleeping too much",
    "phq9_4": "Feeling tired or having little energy",
    "phq9_5": "Poor appetite or overeating",
    "phq9_6": "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "phq9_7": "Trouble concentrating on things, such as reading the newspaper or watching television",
    "phq9_8": "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
    "phq9_9": "Thoughts that you would be better off dead or of hurting yourself in some way",
    "phq9_10": "If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
    # GAD-7 [R1][R5a]
    "gad7_1": "Feeling nervous, anxious, or on edge",
    "gad7_2": "Not being able to stop or control worrying",
    "gad7_3": "Worrying too much about different things",
    "gad7_4": "Trouble relaxing",
    "gad7_5": "Being so restless that it is hard to sit still",
    "gad7_6": "Becoming easily annoyed or irritable",
    "gad7_7": "Feeling afraid, as if something awful might happen",
    # UK AUDIT-C [R19][R20]
    "auditc_1": "How often do you have a drink containing alcohol?",
    "auditc_2": "How many units of alcohol do you drink on a typical day when you are drinking?",
    "auditc_3": "How often have you had 6 or more units if female, or 8 or more if male, on a single occasion in the last year?",
    # SILS [R17]
    "sils_1": "How often do you need to have someone help you when you read instructions, pamphlets, or other written material from your doctor or pharmacy?",
    # Hunger Vital Sign [R18]
    "hvs_1": "Within the past 12 months we worried whether our food would run out before we got money to buy more.",
    "hvs_2": "Within the past 12 months the food we bought just didn't last and we didn't have money to get more.",
    # HSI [R25]
    "hsi_1": "At present, how long after waking do you wait before having your first cigarette?",
    "hsi_2": "How many cigarettes per day do/did you smoke?",
}


@pytest.mark.parametrize(("item_id", "text"), sorted(WORDING.items()))
def test_item_wording_is_exact(q, item_id, text):
    assert q.item(item_id).text == text


@pytest.mark.parametrize("item_id", PHQ9)
def test_phq_stem_is_exact(q, item_id):
    assert q.item(item_id).stem == PHQ_STEM


@pytest.mark.parametrize("item_id", GAD7)
def test_gad_stem_is_exact(q, item_id):
    assert q.item(item_id).stem == GAD_STEM


def test_phq9_item10_options_and_unscored(q):
    labels = [o.label for o in q.item("phq9_10").options]
    assert labels[0] == "Not difficult at all"
    assert labels[-1] == "Extremely difficult"
    assert len(labels) == 4
    assert "phq9_10" not in q.scale("phq9").items


def test_em_dashes_in_phq_items_6_and_8(q):
    assert "\u2014" in q.item("phq9_6").text
    assert "\u2014" in q.item("phq9_8").text


@pytest.mark.parametrize(
    ("item_id", "loinc"),
    [
        ("phq9_1", "44250-9"),
        ("phq9_2", "44255-8"),
        ("phq9_3", "44259-0"),
        ("phq9_4", "44254-1"),
        ("phq9_5", "44251-7"),
        ("phq9_6", "44258-2"),
        ("phq9_7", "44252-5"),
        ("phq9_8", "44253-3"),
        ("phq9_9", "44260-8"),
        ("phq9_10", "69722-7"),
        ("gad7_1", "69725-0"),
        ("gad7_2", "68509-9"),
        ("gad7_3", "69733-4"),
        ("gad7_4", "69734-2"),
        ("gad7_5", "69735-9"),
        ("gad7_6", "69689-8"),
        ("gad7_7", "69736-7"),
        ("sils_1", "93157-6"),
        ("hvs_1", "88122-7"),
        ("hvs_2", "88123-5"),
    ],
)
def test_item_loinc_codes(q, item_id, loinc):
    assert q.item(item_id).loinc == loinc


def test_scale_loinc_codes(q):
    assert q.scale("phq2").loinc == "55758-7"
    assert q.scale("phq9").loinc == "44261-6"
    assert q.scale("gad7").loinc == "70274-6"


# ---------------------------------------------------------------- SILS and HVS -----------
@pytest.mark.parametrize(
    ("answer", "positive"),
    [("never", False), ("rarely", False), ("sometimes", True), ("often", True), ("always", True)],
)
def test_sils_positive_raises_reading_notice(q, answer, positive):
    # A positive SILS switches to read-aloud or easy-read (instruments.md). Since v3 it is a
    # notice, not a same-day interruption (issue 12: about half the caseload screens positive).
    ev = run(q, {"sils_1": answer})
    assert ("reading_help" in flag_ids(ev)) is positive
    assert ("low-literacy" in ev.barriers) is positive
    if positive:
        assert flag_ids(ev)["reading_help"] == "notice"


@pytest.mark.parametrize(
    ("answer", "excluded"),
    [("both", False), ("phone-only", True), ("internet-only", True), ("neither", True)],
)
def test_digital_exclusion_barrier_and_a_label_true_for_each_answer(q, answer, excluded):
    from probhealth import taxonomy

    ev = run(q, {"phone_internet": answer})
    assert ("digital-exclusion" in ev.barriers) is excluded
    # "no phone or internet" read as "neither" for someone with a phone but no internet
    label = taxonomy.BARRIER_TYPES["digital-exclusion"]
    assert label == "Digital exclusion (no phone, or no internet access)"


def test_reading_flag_message_is_true_for_every_positive_answer(q):
    # The flag is raised by "Sometimes" as well as "Often" and "Always": its message must not
    # say more than the least of them ("They often need help" was wrong for "Sometimes").
    flag = q.flag("reading_help")
    assert flag is not None
    assert "often" not in flag.message.lower() and "always" not in flag.message.lower()
    assert "at least some of the time" in flag.message


@pytest.mark.parametrize(
    ("hvs_1", "hvs_2", "positive"),
    [
        ("never", "never", False),
        ("often", "never", True),
        ("sometimes", "never", True),
        ("never", "often", True),
        ("never", "sometimes", True),
        ("sometimes", "sometimes", True),
    ],
)
def test_hunger_vital_sign_positive_raises_food_notice(q, hvs_1, hvs_2, positive):
    # A notice since v3 (shown at the end with what to do); the food-support rule still
    # suggests food support the same day.
    ev = run(q, {"hvs_1": hvs_1, "hvs_2": hvs_2})
    assert ("food_insecurity" in flag_ids(ev)) is positive
    if positive:
        assert flag_ids(ev)["food_insecurity"] == "notice"


def test_hvs_labels(q):
    item = q.item("hvs_1")
    assert A.parse(item, "Often true") == "often"
    assert A.parse(item, "sometimes true") == "sometimes"
    assert A.parse(item, "Never true") == "never"


# ---------------------------------------------------------------- end to end (CLI) -------
ANSWERS_YAML = """\
gp_registered: "yes"
gp_practice: High Street Surgery, Leeds
dentist_registered: "no"
recent_custody: "no"
repeat_medication: "no"
long_term_conditions: [none]
head_injury: "no"
# PHQ-9 all 2s (labels): 18 moderately severe; item 9 = 2 raises self_harm_thoughts
phq9_1: More than half the days
phq9_2: More than half the days
phq9_3: 2
phq9_4: 2
phq9_5: 2
phq9_6: 2
phq9_7: 2
phq9_8: 2
phq9_9: 2
phq9_10: Somewhat difficult
self_harm_recent: "no"
suicide_attempt_ever: "no"
# GAD-7 all 2s: 14 moderate
gad7_1: 2
gad7_2: 2
gad7_3: 2
gad7_4: 2
gad7_5: 2
gad7_6: 2
gad7_7: 2
mh_support: "no"
# AUDIT-C 3+3+3 = 9 higher risk; AUDIT 9 + 5x1 + 2 + 2 = 18 higher risk
auditc_1: 2-3 times per week
auditc_2: 7-9
auditc_3: Weekly
audit_4: 1
audit_5: 1
audit_6: 1
audit_7: 1
audit_8: Less than monthly
audit_9: Yes, but not in the last year
audit_10: Yes, but not in the last year
alcohol_withdrawal: "no"
# DAST-10: yes to 1, 2, 5 and no to 3 (reversed): 4 moderate
drugs_any: "yes"
dast10_1: "yes"
dast10_2: "yes"
dast10_3: "no"
dast10_4: "no"
dast10_5: "yes"
dast10_6: "no"
dast10_7: "no"
dast10_8: "no"
dast10_9: "no"
dast10_10: "no"
drugs_types: [cannabis]
drugs_inject: "no"
opioid_substitution: "no"
overdose_recent: "no"
# HSI 3 + 1 = 4 medium dependence
smoking_status: current
hsi_1: Within 5 minutes
hsi_2: 11-20
sexual_health_help: "no"
learning_difficulty: "no"
autism_adhd: "no"
sils_1: Sometimes
interpreter: "no"
housing: own
money_worries: "no"
hvs_1: Sometimes true
hvs_2: Never true
phone_internet: both
caring: "no"
unavailable_times: [none]
id_documents: "yes"
transport: "no"
bad_experience: "no"
domestic_abuse: "no"
worker_concerns: [none]
"""

E2E_SCORES = {
    "phq2": (4, "positive"),
    "phq9": (18, "moderately severe"),
    "gad2": (4, "positive"),
    "gad7": (14, "moderate"),
    "audit_c": (9, "higher risk"),
    "audit": (18, "higher risk"),
    "dast10": (4, "moderate"),
    "hsi": (4, "medium dependence"),
}

E2E_FLAGS = {
    "self_harm_thoughts": "emergency",
    "reading_help": "notice",
    "food_insecurity": "notice",
}


def test_screen_answers_file_end_to_end(cli, tmp_path, q):
    import yaml

    # The file answers exactly what the skip logic shows a 36-year-old man (checked here
    # with the engine, so a missing answer fails with a clear message rather than exit 2).
    data = yaml.safe_load(ANSWERS_YAML)
    parsed = {k: A.parse(q.item(k), v, today=TODAY) for k, v in data.items()}
    ev = run(q, parsed, PersonFacts(age=36, sex="male"))
    assert ev.next_item() is None, ev.next_item()
    assert ev.ignored == ()
    assert {s: (r.value, r.band) for s, r in ev.scores.items()} == E2E_SCORES
    assert flag_ids(ev) == E2E_FLAGS

    add_person(cli, "X123456", sex="male", dob="1990-01-31")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    path = tmp_path / "answers.yaml"
    path.write_text(ANSWERS_YAML, encoding="utf-8")
    result = cli("screen", "X123456", "--answers", str(path), "--json")
    out = json.loads(result.stdout)

    got = {s: (v["value"], v["band"]) for s, v in out["scores"].items()}
    assert got == E2E_SCORES
    assert out["incomplete_scales"] == {}
    assert {f["id"]: f["severity"] for f in out["flags"]} == E2E_FLAGS
    assert out["ignored_answers"] == []
    answers = {a["item"]: a for a in out["answers"]}
    assert answers["phq9_1"]["value"] == 2
    assert answers["auditc_2"]["value"] == 3
    assert answers["audit_9"]["value"] == 2
    assert answers["hsi_1"]["value"] == 3


def test_screen_answers_file_missing_a_shown_item_exits_2(cli, tmp_path):
    add_person(cli, "X123456", sex="male", dob="1990-01-31")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    path = tmp_path / "answers.yaml"
    # Drop PHQ-9 item 5: PHQ-2 is 4, so it would be asked.
    text = "\n".join(line for line in ANSWERS_YAML.splitlines() if not line.startswith("phq9_5:"))
    path.write_text(text + "\n", encoding="utf-8")
    result = cli("screen", "X123456", "--answers", str(path), "--json", expect=2)
    assert "phq9_5" in result.stdout + result.stderr
