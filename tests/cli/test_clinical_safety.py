"""Issue 12: no disclosed risk is dropped. Each case from the issue, through
``screen --answers --json`` and ``suggest --json``."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_screen import negative_file
from tests.helpers import add_person


@pytest.fixture
def person(cli, built_once):  # type: ignore[no-untyped-def]
    """A person who gave screening consent (made once a process, copied for each test)."""

    def build() -> None:
        add_person(cli, sex="male")
        cli("consent", "X123456", "--purpose", "screening", "--given")

    built_once(build)
    return "X123456"


def screen(cli, person, path):  # type: ignore[no-untyped-def]
    return json.loads(cli("screen", person, "--answers", str(path), "--json").stdout)


def suggest(cli, person):  # type: ignore[no-untyped-def]
    return json.loads(cli("suggest", person, "--json").stdout)


def test_phq9_with_item_9_declined_keeps_its_minimum_and_asks_about_item_9(cli, person, tmp_path):
    items = {f"phq9_{n}": 3 for n in range(1, 9)}
    data = screen(cli, person, negative_file(tmp_path, **items, phq9_9="prefer not to say"))
    partial = data["partial_scales"]["phq9"]
    assert partial["status"] == "incomplete" and partial["at_least"] == 24
    assert partial["at_most"] == 27 and partial["missing"] == ["phq9_9"]
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {"domain": "mental-health", "severity": "high"} in shown["needs"]
    could = {c["id"]: c for c in data["could_apply"]}
    assert "self_harm_thoughts" in could
    assert "ask again or use your judgement" in could["self_harm_thoughts"]["advice"]
    pathways = {s["pathway"] for s in suggest(cli, person)["suggestions"]}
    assert {"talking-therapies", "mental-health-assessment"} <= pathways
    human = cli("screening", "show", str(data["id"])).stdout
    assert "Could apply" in human and "at least 24" in human


def test_audit_32_with_item_10_declined_raises_dependence(cli, person, tmp_path):
    answers = {
        "auditc_1": 4,
        "auditc_2": 3,
        "auditc_3": 3,
        **{f"audit_{n}": 4 for n in range(4, 9)},
        "audit_9": 2,
        "audit_10": "prefer not to say",
        "alcohol_withdrawal": "no",
    }
    data = screen(cli, person, negative_file(tmp_path, **answers))
    assert data["partial_scales"]["audit"]["at_least"] == 32
    assert "alcohol_dependence_risk" in {f["id"] for f in data["flags"]}
    out = suggest(cli, person)
    alcohol = next(s for s in out["suggestions"] if s["pathway"] == "alcohol-service")
    assert alcohol["urgency"] == "same-day"


def test_six_dast_yes_with_item_3_declined_records_a_drugs_need(cli, person, tmp_path):
    yes = {f"dast10_{n}": "yes" for n in (1, 2, 4, 5, 6, 7)}
    no = {f"dast10_{n}": "no" for n in (8, 9, 10)}
    data = screen(
        cli,
        person,
        negative_file(tmp_path, drugs_any="yes", dast10_3="prefer not to say", **yes, **no),
    )
    assert data["partial_scales"]["dast10"]["at_least"] == 6
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {"domain": "drugs", "severity": "high"} in shown["needs"]
    assert "drug-service" in {s["pathway"] for s in suggest(cli, person)["suggestions"]}


def test_auditc_quantity_with_frequency_declined_is_not_silent(cli, person, tmp_path):
    data = screen(
        cli,
        person,
        negative_file(tmp_path, auditc_1="prefer not to say", auditc_2="10+", auditc_3=4),
    )
    partial = data["partial_scales"]["audit_c"]
    assert (partial["at_least"], partial["at_most"]) == (8, 12)
    assert "alcohol_dependence_risk" in {c["id"] for c in data["could_apply"]}
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert "alcohol" in {n["domain"] for n in shown["needs"]}
    out = suggest(cli, person)
    assert "alcohol-service" in {s["pathway"] for s in out["suggestions"]}


def test_a_partly_answered_threshold_shows_in_suggest_as_could_apply(cli, person, tmp_path):
    # PHQ-9 so far 3 with item 3 declined: 3 to 6, so it could be 5 or more (guided
    # self-help, NICE NG222), though it is not proved.
    items = {"phq9_1": 2, "phq9_2": 1, **{f"phq9_{n}": 0 for n in range(4, 10)}}
    screen(cli, person, negative_file(tmp_path, phq9_3="prefer not to say", **items))
    out = suggest(cli, person)
    could = {c["pathway"]: c for c in out["could_apply"]}
    assert "talking-therapies" in could
    assert "could be 5 or more" in could["talking-therapies"]["advice"]
    assert "talking-therapies" not in {s["pathway"] for s in out["suggestions"]}
    assert "Could apply" in cli("suggest", person).stdout


def test_item_9_is_asked_and_read_even_when_phq2_is_zero(cli, person, tmp_path):
    # v3 asks item 9 of everyone (v2 skipped it at PHQ-2 = 0 and ignored a paper answer).
    data = screen(cli, person, negative_file(tmp_path, phq9_1=0, phq9_2=0, phq9_9=3))
    flags = {f["id"]: f for f in data["flags"]}
    assert flags["self_harm_thoughts"]["severity"] == "emergency"
    assert "phq9_9" not in data["ignored_answers"]
    out = suggest(cli, person)
    crisis = next(s for s in out["suggestions"] if s["pathway"] == "crisis-support")
    assert crisis["urgency"] == "emergency"


def test_an_answer_on_paper_the_skip_logic_would_not_ask_is_read(cli, person, tmp_path):
    # No drugs in the last year, yet the paper form says they overdosed recently: asked or
    # not, the answer is kept and raises the overdose flag.
    data = screen(cli, person, negative_file(tmp_path, drugs_any="no", overdose_recent="yes"))
    assert "overdose_recent" in data["ignored_answers"]
    assert "post_release_overdose_risk" in {f["id"] for f in data["flags"]}
    out = suggest(cli, person)
    assert {"drug-service", "naloxone"} <= {s["pathway"] for s in out["suggestions"]}


# ------------------------------------------------------------ questionnaire v3 content ---
def flag_ids(data):  # type: ignore[no-untyped-def]
    return {f["id"]: f["severity"] for f in data["flags"]}


def pathways(out):  # type: ignore[no-untyped-def]
    return {s["pathway"]: s["urgency"] for s in out["suggestions"]}


def released(days_ago: int) -> str:
    from datetime import date, timedelta

    return (date.today() - timedelta(days=days_ago)).isoformat()


def test_prescribed_substitution_after_release_is_an_overdose_risk(cli, person, tmp_path):
    # Methadone on prescription, out of custody 3 weeks, no other drug use: v2 said nothing.
    data = screen(
        cli,
        person,
        negative_file(
            tmp_path,
            recent_custody="yes",
            release_date=released(21),
            repeat_medication="yes",
            opioid_substitution="yes",
        ),
    )
    assert flag_ids(data)["post_release_overdose_risk"] == "same-day"
    out = pathways(suggest(cli, person))
    assert out["naloxone"] == "same-day" and out["drug-service"] == "same-day"


def test_injected_once_and_released_seven_weeks_ago_is_an_overdose_risk(cli, person, tmp_path):
    # 49 days: inside the 8-week window (v2 used 28 days); ever injected, asked of everyone.
    data = screen(
        cli,
        person,
        negative_file(
            tmp_path, recent_custody="yes", release_date=released(49), drugs_inject="yes"
        ),
    )
    assert "post_release_overdose_risk" in flag_ids(data)
    out = pathways(suggest(cli, person))
    assert {"naloxone", "bbv-testing", "drug-service"} <= set(out)


def test_declined_release_date_after_recent_custody_fires_the_overdose_flag(cli, person, tmp_path):
    data = screen(
        cli,
        person,
        negative_file(
            tmp_path,
            recent_custody="yes",
            release_date="prefer not to say",
            drugs_any="yes",
            drugs_types=["heroin"],
        ),
    )
    assert flag_ids(data)["post_release_overdose_risk"] == "same-day"
    assert "naloxone" in pathways(suggest(cli, person))


def test_domestic_abuse_raises_safeguarding_and_suggests_support(cli, person, tmp_path):
    data = screen(cli, person, negative_file(tmp_path, domestic_abuse="yes"))
    assert flag_ids(data)["safeguarding"] == "same-day"
    out = suggest(cli, person)
    got = pathways(out)
    assert got["domestic-abuse-support"] == "same-day"
    assert got["safeguarding-referral"] == "same-day"
    support = next(s for s in out["suggestions"] if s["pathway"] == "domestic-abuse-support")
    assert "0808 2000 247" in support["for_person"] and "0808 80 10 800" in support["for_person"]


def test_a_worker_safeguarding_concern_suggests_the_local_procedure(cli, person, tmp_path):
    screen(cli, person, negative_file(tmp_path, worker_concerns=["others"]))
    got = pathways(suggest(cli, person))
    assert got["safeguarding-referral"] == "same-day"
    assert "domestic-abuse-support" not in got


def test_a_past_attempt_with_thoughts_now_is_an_emergency(cli, person, tmp_path):
    data = screen(
        cli, person, negative_file(tmp_path, suicide_attempt_ever="yes", phq9_9="Several days")
    )
    flags = flag_ids(data)
    assert flags["past_attempt_with_thoughts"] == "emergency"
    assert flags["past_suicide_attempt"] == "info"
    got = pathways(suggest(cli, person))
    assert got["crisis-support"] == "emergency"
    assert got["mental-health-assessment"] == "same-day"


def test_a_past_attempt_alone_is_shown_but_does_not_interrupt(cli, person, tmp_path):
    data = screen(cli, person, negative_file(tmp_path, suicide_attempt_ever="yes"))
    assert flag_ids(data) == {"past_suicide_attempt": "info"}
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {"domain": "self-harm-risk", "severity": "moderate"} in shown["needs"]


def test_reading_help_and_food_are_notices(cli, person, tmp_path):
    data = screen(cli, person, negative_file(tmp_path, sils_1="often", hvs_1="sometimes"))
    assert flag_ids(data) == {"reading_help": "notice", "food_insecurity": "notice"}
    human = cli("screening", "show", str(data["id"])).stdout
    assert "NOT ACKNOWLEDGED" not in human and "no acknowledgement needed" in human
    got = pathways(suggest(cli, person))
    assert got["food-support"] == "same-day" and "easy-read" in got


def test_serious_mental_illness_without_contact_suggests_continuity(cli, person, tmp_path):
    screen(
        cli,
        person,
        negative_file(
            tmp_path, long_term_conditions=["smi"], mh_team_contact="no", mh_medicine="yes"
        ),
    )
    assert pathways(suggest(cli, person))["mental-health-continuity"] == "soon"


@pytest.mark.parametrize(
    ("extra", "expect", "absent"),
    [
        # AUDIT 10: increasing risk, brief advice and no referral
        ({"audit_4": 2, "audit_5": 1}, {"alcohol-brief-advice": "routine"}, "alcohol-service"),
        # AUDIT 17: higher risk
        (
            {"audit_4": 3, "audit_5": 3, "audit_7": 2, "audit_8": 2},
            {"alcohol-service": "soon"},
            "alcohol-brief-advice",
        ),
        # AUDIT 22: possible dependence, the same day, and the GP for assisted withdrawal
        (
            {"audit_4": 4, "audit_5": 4, "audit_6": 3, "audit_7": 4},
            {"alcohol-service": "same-day", "alcohol-withdrawal-gp": "same-day"},
            "alcohol-brief-advice",
        ),
    ],
    ids=["audit-10", "audit-17", "audit-22"],
)
def test_alcohol_by_the_full_audit(cli, person, tmp_path, extra, expect, absent):
    # AUDIT-C 3 + 2 + 2 = 7 ("increasing risk" alone); the full AUDIT decides.
    screen(
        cli,
        person,
        negative_file(tmp_path, auditc_1=3, auditc_2=2, auditc_3=2, **extra),
    )
    got = pathways(suggest(cli, person))
    assert {k: got.get(k) for k in expect} == expect
    assert absent not in got


def test_less_severe_depression_suggests_talking_therapies(cli, person, tmp_path):
    # PHQ-9 7 (mild): guided self-help on self-referral (NICE NG222), not nothing.
    items = {"phq9_1": 2, "phq9_2": 1, "phq9_3": 2, "phq9_4": 1, "phq9_5": 1}
    screen(cli, person, negative_file(tmp_path, **items))
    assert pathways(suggest(cli, person))["talking-therapies"] == "routine"


def test_conditions_and_head_injury_suggest_something(cli, person, tmp_path):
    screen(
        cli,
        person,
        negative_file(
            tmp_path,
            long_term_conditions=["diabetes"],
            repeat_medication="yes",
            medication_supply="no",
            head_injury="yes",
            head_injury_problems="yes",
        ),
    )
    got = pathways(suggest(cli, person))
    assert got["long-term-condition-review"] == "soon"
    assert got["brain-injury-support"] == "routine"


def test_cervical_screening_3_to_5_years_ago_is_due_under_50(cli, tmp_path):
    add_person(cli, "A000001", sex="female", dob="1990-01-31")
    cli("consent", "A000001", "--purpose", "screening", "--given")
    path = negative_file(tmp_path, pregnancy="no", cervical_screening_last="3 to 5 years ago")
    cli("screen", "A000001", "--answers", str(path))
    assert "cervical-screening" in pathways(suggest(cli, "A000001"))


@pytest.mark.parametrize(
    ("answers", "suggested"),
    [
        ({"health_check_recent": "no"}, True),
        ({"health_check_recent": "yes"}, False),
        ({"repeat_medication": "yes", "statins": "yes"}, False),
        ({"long_term_conditions": ["stroke"]}, False),
    ],
    ids=["due", "checked", "statins", "stroke"],
)
def test_nhs_health_check_only_when_due(cli, tmp_path, answers, suggested):
    add_person(cli, "A000002", sex="male", dob="1975-06-01")
    cli("consent", "A000002", "--purpose", "screening", "--given")
    base = {"health_check_recent": "yes"} if "health_check_recent" not in answers else {}
    from datetime import date

    import yaml

    from probhealth.questionnaire import answers as A
    from probhealth.questionnaire.engine import PersonFacts, evaluate
    from tests.cli.test_screen import Q
    from tests.helpers import negative_answer

    given = {**base, **answers}
    parsed = {k: A.parse(Q.item(k), v) for k, v in given.items()}
    today = date.today()
    person = PersonFacts(today.year - 1975 - ((today.month, today.day) < (6, 1)), "male")
    while (item := evaluate(Q, parsed, person, date.today()).next_item()) is not None:
        given[item.id] = negative_answer(item)
        parsed[item.id] = A.parse(item, given[item.id])
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(given))
    cli("screen", "A000002", "--answers", str(path))
    assert ("nhs-health-check" in pathways(suggest(cli, "A000002"))) is suggested


# ------------------------------------------------------------ the remaining cases --------
@pytest.mark.parametrize(
    ("given", "asked"),
    [
        ({"repeat_medication": "yes"}, True),
        ({"drugs_any": "yes"}, True),
        ({"recent_custody": "yes", "release_date": released(200)}, True),
        ({}, False),
    ],
    ids=["prescribed-medicine", "uses-drugs", "custody-this-year", "none-of-these"],
)
def test_opioid_substitution_is_asked_of_those_it_concerns(cli, person, tmp_path, given, asked):
    data = screen(cli, person, negative_file(tmp_path, **given, opioid_substitution="no"))
    assert ("opioid_substitution" not in data["ignored_answers"]) is asked


def test_opioid_use_without_custody_suggests_naloxone(cli, person, tmp_path):
    data = screen(cli, person, negative_file(tmp_path, drugs_any="yes", drugs_types=["heroin"]))
    assert "post_release_overdose_risk" not in flag_ids(data)
    assert pathways(suggest(cli, person))["naloxone"] == "soon"


def test_release_over_8_weeks_ago_is_outside_the_overdose_window(cli, person, tmp_path):
    data = screen(
        cli,
        person,
        negative_file(
            tmp_path, recent_custody="yes", release_date=released(70), drugs_inject="yes"
        ),
    )
    assert "post_release_overdose_risk" not in flag_ids(data)
    assert "bbv-testing" in pathways(suggest(cli, person))  # ever injected, whenever


def test_withdrawal_signs_go_to_the_alcohol_service_and_the_gp_the_same_day(cli, person, tmp_path):
    answers = {"auditc_1": 3, "auditc_2": 1, "auditc_3": 1, "alcohol_withdrawal": "shakes"}
    data = screen(cli, person, negative_file(tmp_path, **answers))
    assert flag_ids(data)["alcohol_dependence_risk"] == "same-day"
    got = pathways(suggest(cli, person))
    assert got["alcohol-service"] == "same-day" and got["alcohol-withdrawal-gp"] == "same-day"


def test_less_severe_anxiety_suggests_talking_therapies(cli, person, tmp_path):
    # GAD-7 6 (mild): guided self-help (NICE CG113 via NHS Talking Therapies), not nothing.
    items = {"gad7_1": 2, "gad7_2": 1, "gad7_3": 1, "gad7_4": 1, "gad7_5": 1}
    screen(cli, person, negative_file(tmp_path, **items))
    assert pathways(suggest(cli, person))["talking-therapies"] == "routine"


def test_a_long_term_condition_without_a_gp_suggests_a_review(cli, person, tmp_path):
    screen(
        cli,
        person,
        negative_file(tmp_path, long_term_conditions=["epilepsy"], gp_registered="no"),
    )
    got = pathways(suggest(cli, person))
    assert got["long-term-condition-review"] == "soon" and "gp-registration" in got


@pytest.mark.parametrize(
    ("last", "due"), [("3-5-years", False), ("over-5-years", True)], ids=["3-5", "over-5"]
)
def test_cervical_screening_every_5_years_from_50(cli, tmp_path, last, due):
    add_person(cli, "A000003", sex="female", dob="1970-03-01")
    cli("consent", "A000003", "--purpose", "screening", "--given")
    from datetime import date

    import yaml

    from probhealth.questionnaire import answers as A
    from probhealth.questionnaire.engine import PersonFacts, evaluate
    from tests.cli.test_screen import Q
    from tests.helpers import negative_answer

    given: dict[str, object] = {"pregnancy": "no", "cervical_screening_last": last}
    parsed = {k: A.parse(Q.item(k), v) for k, v in given.items()}
    today = date.today()
    person = PersonFacts(today.year - 1970 - ((today.month, today.day) < (3, 1)), "female")
    while (item := evaluate(Q, parsed, person, today).next_item()) is not None:
        given[item.id] = negative_answer(item)
        parsed[item.id] = A.parse(item, given[item.id])
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(given))
    cli("screen", "A000003", "--answers", str(path))
    assert ("cervical-screening" in pathways(suggest(cli, "A000003"))) is due
