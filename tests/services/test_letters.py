"""Letters to the GP and services: consent binds (refused without it, nothing written or
audited), only what the pathway needs goes in, sensitive items never appear, every format
works, names are escaped in HTML, and the GP registration letter states the NHS guidance."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from probhealth.errors import Conflict, ConsentRequired
from probhealth.services import definitions, directory, letters, people, referrals, screening
from tests.helpers import DbHandle, query
from tests.services.test_handout import OFFICE_YAML

CRN = "X123456"
NOW = "2026-11-23T10:00:00"
LOW_MOOD = {  # PHQ-9 19 (moderately severe), GAD-7 high, no self-harm thoughts
    **{f"phq9_{i}": 2 for i in range(1, 9)},
    "phq9_1": 3,
    "phq9_2": 3,
    "phq9_9": 0,
    "phq9_10": "Very difficult",
    "gad7_1": 2,
    "gad7_2": 2,
    **{f"gad7_{i}": 2 for i in range(3, 8)},
    "repeat_medication": "yes",
    "medication_supply": "no",
    "opioid_substitution": "no",
    "learning_difficulty": "yes",
    "mh_support": "no",
}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def rules():
    return definitions.load_rules()


@pytest.fixture
def screened(
    store: Any,
    rules: Any,
    monkeypatch: pytest.MonkeyPatch,
    isolated_home: Path,
    built_once: Any,
):
    """A screened person, the directory loaded, office.yaml set; returns a function that
    makes a referral from the screening's suggestion and gives its id. The directory and the
    person are made once a process and copied."""
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "office.yaml").write_text(OFFICE_YAML)

    def build() -> None:
        directory.load_path(store, definitions.bundled_services_path(), rules)
        people.add_person(
            store,
            people.PersonInput(
                crn=CRN,
                given="Zoë <script>",
                family='=HYPERLINK("x")',
                dob="1988-04-12",
                sex="male",
                postcode="CB1 2AB",
                office="Cambridge",
                nhs_number="943 476 5919",
            ),
        )
        people.record_consent(store, CRN, purpose="screening", status="given")

    built_once(build)

    def run(answers: dict[str, Any]) -> None:
        q = definitions.load_questionnaire()
        screening.run_answers_file(
            store, CRN, q, {**definitions.demo_answers(), **answers}, file="test"
        )

    def refer(pathway: str, service: str | None = None) -> int:
        return referrals.refer(
            store, CRN, pathway, rules, service_id=service, self_referral=True
        ).id

    return store, run, refer


def audit_actions(db: DbHandle) -> list[str]:
    return [str(r[0]) for r in query(db, "select action from audit_event order by id")]


# ------------------------------------------------------------------ consent -------------
@pytest.mark.parametrize("state", [None, "declined", "withdrawn"])
def test_without_sharing_consent_nothing_is_written_or_audited(
    screened: Any, rules: Any, tmp_path: Path, db: DbHandle, state: str | None
) -> None:
    store, run, refer = screened
    run({})
    rid = refer("dentist", "cam-dental-quillon")
    if state is not None:
        people.record_consent(store, CRN, purpose="share-with-services", status="given")
        people.record_consent(store, CRN, purpose="share-with-services", status=state)
    before = audit_actions(db)
    with pytest.raises(ConsentRequired, match="share-with-services") as caught:
        letters.referral_letter(store, rid, rules, out=tmp_path / "l.pdf")
    assert caught.value.remedy is not None and caught.value.remedy.action == "record-consent"
    assert not (tmp_path / "l.pdf").exists()
    assert audit_actions(db) == before
    # share-with-services does not cover the GP, and the other way round
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    with pytest.raises(ConsentRequired, match="share-with-gp"):
        letters.referral_letter(store, rid, rules, to="gp")


# ------------------------------------------------------------------ content -------------
def test_letter_in_three_formats_with_person_reasons_and_consent(
    screened: Any, rules: Any, tmp_path: Path, db: DbHandle
) -> None:
    store, run, refer = screened
    run(LOW_MOOD)
    people.record_consent(store, CRN, purpose="share-with-gp", status="given", method="written")
    rid = refer("talking-therapies", "cam-talking-therapies")
    letter = letters.referral_letter(store, rid, rules, to="gp", out=tmp_path / "l.pdf")
    text = pdf_text((tmp_path / "l.pdf").read_bytes())
    for expected in (
        "Zoë <script>",
        "12 April 1988",
        "943 476 5919",
        "CB1 2AB",
        "PHQ-9",
        "moderately severe",
        "Learning disability",
        "Enough medicine for a week",
        "Alex Jones",
        "01223 000 199",
        "in writing",
        "their GP",
        "The GP practice",
    ):
        assert expected in text, expected
    assert letter.sha256 and audit_actions(db)[-1] == "letter.produce"
    detail = query(db, "select detail from audit_event order by id desc limit 1")[0]
    assert json.loads(detail[0])["sha256"] == letter.sha256 and "Zo" not in detail[0]

    letters.referral_letter(store, rid, rules, to="gp", out=tmp_path / "l.html")
    html = (tmp_path / "l.html").read_text()
    assert "<script>" not in html and "Zoë &lt;script&gt;" in html
    assert "=HYPERLINK(" in html and "<a " not in html  # shown as text, never a link
    letters.referral_letter(store, rid, rules, to="gp", out=tmp_path / "l.txt")
    assert "Why we are referring" in (tmp_path / "l.txt").read_text()


def test_a_dentist_letter_carries_no_mood_scores(screened: Any, rules: Any) -> None:
    store, run, refer = screened
    run(LOW_MOOD)
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    text = letters.referral_letter(store, refer("dentist", "cam-dental-quillon"), rules).text()
    assert "dentist" in text.lower()
    for absent in ("PHQ", "GAD", "moderately severe", "mood"):
        assert absent not in text, absent


def test_sensitive_items_never_appear(
    screened: Any, rules: Any, monkeypatch: pytest.MonkeyPatch, db: DbHandle
) -> None:
    store, run, refer = screened
    run({**LOW_MOOD, "phq9_9": 1})  # thoughts of self-harm: an emergency flag
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    rid = refer("crisis-support")
    shown = letters.referral_letter(store, rid, rules).text()
    assert "Flags raised at the screening" in shown
    # The flag's steps are the worker's checklist, not a record of what was done: once
    # acknowledged, the letter said "The worker acted on it (...; tell your manager)".
    sid = int(query(db, "select id from screening order by id desc limit 1")[0][0])
    screening.acknowledge_flags(store, sid, screening.pending_flags(store, sid))
    acked = " ".join(letters.referral_letter(store, rid, rules).text().split())
    assert "The worker acknowledged it on Monday 23 November 2026." in acked
    assert "Please call us to ask what was done." in acked
    assert "tell your manager" not in acked and "acted on it" not in acked
    dentist = refer("dentist", "cam-dental-quillon")
    assert "Has an NHS dentist" in letters.referral_letter(store, dentist, rules).text()

    monkeypatch.setattr(
        letters, "sensitive_items", lambda q: frozenset({"phq9_9", "dentist_registered"})
    )
    hidden = letters.referral_letter(store, rid, rules)
    text = hidden.text()
    assert "A safety concern was raised. The worker acknowledged it" in " ".join(text.split())
    assert "better off dead" not in text and "hurting" not in text
    assert hidden.left_out >= 1
    text = letters.referral_letter(store, dentist, rules).text()
    assert "Has an NHS dentist" not in text and "not sure" not in text
    assert "Some reasons are not given here" in text


def test_domestic_abuse_never_reaches_a_letter(screened: Any, rules: Any) -> None:
    # issue 12: domestic_abuse and DAST-10 item 8 are sensitive in the bundled questionnaire;
    # the safeguarding flag and the rule it raises use it, so both are left out.
    store, run, refer = screened
    run({"domestic_abuse": "yes"})
    q = definitions.load_questionnaire()
    assert {"domestic_abuse", "dast10_8"} <= letters.sensitive_items(q)
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    rid = referrals.refer(store, CRN, "safeguarding-referral", rules, self_referral=False).id
    letter = letters.referral_letter(store, rid, rules)
    text = letter.text()
    for word in ("partner", "afraid", "threaten", "Domestic", "domestic"):
        assert word not in text, word
    assert letter.left_out >= 1


@pytest.mark.parametrize("pathway", ["domestic-abuse-support", "safeguarding-referral"])
@pytest.mark.parametrize("to", ["gp", "service"])
def test_a_letter_never_names_a_pathway_there_because_of_domestic_abuse(
    screened: Any, rules: Any, pathway: str, to: str
) -> None:
    """Hazard H23: a referral made only because of the domestic abuse answer (the pathway
    marked sensitive, or the safeguarding referral its flag raised) gives no name or reason."""
    store, run, _ = screened
    run({"domestic_abuse": "yes", "worker_concerns": ["none"]})
    for purpose in ("share-with-services", "share-with-gp"):
        people.record_consent(store, CRN, purpose=purpose, status="given")
    rid = referrals.refer(store, CRN, pathway, rules, self_referral=False).id
    letter = letters.referral_letter(store, rid, rules, to=to)
    text = letter.text()
    for word in ("Domestic", "domestic", "partner", "afraid", "Safeguarding", "safeguarding"):
        assert word not in text, word
    assert pathway not in json.dumps(letter.to_json())
    assert "Referral" in text and letter.left_out >= 1


def test_a_safeguarding_letter_from_the_worker_s_concern_names_it(
    screened: Any, rules: Any
) -> None:
    store, run, _ = screened
    run({"domestic_abuse": "no", "worker_concerns": ["others"]})
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    rid = referrals.refer(store, CRN, "safeguarding-referral", rules, self_referral=False).id
    text = letters.referral_letter(store, rid, rules).text()
    assert "Referral: Safeguarding (local procedure)" in text


def test_the_questionnaire_marks_items_sensitive() -> None:
    from probhealth.questionnaire.model import ItemModel

    assert ItemModel(id="x_item", text="X?", type="yesno", sensitive=True).sensitive
    q = definitions.load_questionnaire()
    assert letters.sensitive_items(q) == frozenset(i.id for i in q.items if i.sensitive)


# ------------------------------------------------------------------ GP registration -----
def test_gp_registration_letter_states_the_guidance(
    screened: Any, tmp_path: Path, db: DbHandle
) -> None:
    store, _, _ = screened
    letter = letters.gp_registration_letter(
        store, CRN, office_address=True, out=tmp_path / "gp.pdf"
    )
    text = " ".join(pdf_text((tmp_path / "gp.pdf").read_bytes()).split())
    for expected in (
        "NHS England guidance",
        "No proof of address, ID or immigration status is needed",
        "no fixed abode",
        "Temporary registration",
        "1 Example Street, Cambridge",  # the office as a correspondence address
        "943 476 5919",
    ):
        assert expected in text, expected
    assert letter.kind == "gp-registration" and audit_actions(db)[-1] == "letter.produce"


def test_letter_gives_the_full_address_when_known(
    screened: Any, rules: Any, tmp_path: Path
) -> None:
    store, run, refer = screened
    run({})
    people.edit_person(store, CRN, {"address": "Flat 2, 14 Mill Road, Cambridge"}, ())
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    rid = refer("dentist", "cam-dental-quillon")
    letters.referral_letter(store, rid, rules, out=tmp_path / "l.txt")
    text = (tmp_path / "l.txt").read_text()
    assert "Flat 2, 14 Mill Road, Cambridge, CB1 2AB" in text


def test_a_voided_screening_never_reaches_a_letter(screened: Any, rules: Any) -> None:
    """Issue 13 item 6: a voided screening (perhaps another person's answers) is not used."""
    store, run, refer = screened
    run(LOW_MOOD)
    people.record_consent(store, CRN, purpose="share-with-gp", status="given")
    rid = refer("talking-therapies", "cam-talking-therapies")
    assert "PHQ-9" in letters.referral_letter(store, rid, rules, to="gp").text()
    screening.void(store, 1, reason="wrong-person")
    with pytest.raises(Conflict, match="voided .wrong-person.; no letter was written"):
        letters.referral_letter(store, rid, rules, to="gp")


def test_the_urgency_leads_and_the_ask_says_how_to_reach_them(screened: Any, rules: Any) -> None:
    """A receptionist sees first how soon to act, and how to agree a time: the letter has
    no phone number for the person, so the worker's is given in the ask."""
    store, run, refer = screened
    run({**LOW_MOOD, "gp_registered": "yes"})  # may run out of medicine, has a GP: same day
    people.record_consent(store, CRN, purpose="share-with-gp", status="given")
    letter = letters.referral_letter(store, refer("gp-appointment"), rules, to="gp")
    doc = letter.document
    assert doc.meta["Urgency"] == "Same day"
    assert doc.intro[0].kind == "strong" and doc.intro[0].text.startswith("Same day: please act")
    text = letter.text()
    assert "same-day" not in text  # the rules' word, once buried in a sentence
    asked = " ".join(
        line.text for s in doc.sections if s.heading == "What they ask for" for line in s.lines
    )
    assert "Please act on this today." in asked and "call us on 01223 000 199" in asked
    assert "From a health screening on Monday 23 November 2026" in " ".join(text.split())

    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    routine = letters.referral_letter(store, refer("dentist", "cam-dental-quillon"), rules)
    assert routine.document.meta["Urgency"] == "Routine"
    assert "Please offer them a first appointment." in routine.text()


def test_an_interpreter_for_english_is_not_asked_for(screened: Any, rules: Any) -> None:
    store, run, refer = screened
    run({})
    people.edit_person(store, CRN, {"language": "English", "needs_interpreter": True})
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    text = letters.referral_letter(store, refer("dentist", "cam-dental-quillon"), rules).text()
    assert "They need an interpreter (language not recorded)." in text


def test_answers_read_in_the_reader_s_words(screened: Any, rules: Any) -> None:
    """'Autism or ADHD: I think I might' and 'Reading help: Often' were the person's option
    labels pasted in; a receptionist reads what they mean."""
    store, run, refer = screened
    run({**LOW_MOOD, "autism_adhd": "think", "sils_1": "often"})
    people.record_consent(store, CRN, purpose="share-with-services", status="given")
    letter = letters.referral_letter(store, refer("dentist", "cam-dental-quillon"), rules)
    facts = {
        line.label: line.text
        for s in letter.document.sections
        for line in s.lines
        if line.kind == "fact"
    }
    assert facts["Autism or ADHD"] == "They think they may have autism or ADHD (not diagnosed)"
    assert facts["Reading help"].startswith("Often needs help to read letters")
    assert facts["Enough medicine for a week"] == "No: they may run out within a week"
