"""The person's handout: what it says, in every format, what it never says, its reading ease
on every pathway and on the demo caseload, and the audit record of each one produced."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import textstat

from probhealth.directory.hours import in_words, parse_window
from probhealth.errors import BadInput
from probhealth.services import definitions, directory, goals, handout, people, referrals
from tests.helpers import DbHandle, count, query

CRN = "X123456"
NOW = "2026-11-23T10:00:00"  # a Monday
MIN_READING_EASE = 70


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.fixture
def rules():
    return definitions.load_rules()


OFFICE_YAML = """
offices:
  - name: Cambridge
    address: 1 Example Street, Cambridge CB1 0XX
    phone: "01223 000 199"
    hours: ["mon-fri 09:00-17:00"]
workers:
  - login: tester
    name: Alex Jones
    role: Probation officer
"""


@pytest.fixture
def loaded(
    store: Any,
    rules: Any,
    monkeypatch: pytest.MonkeyPatch,
    isolated_home: Path,
    built_once: Any,
) -> Any:
    """A Cambridge person with the fictional directory loaded, sharing consent given, and
    office.yaml naming the worker and the office. The data is made once a process and copied."""
    monkeypatch.setenv("PROBHEALTH_NOW", NOW)
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "office.yaml").write_text(OFFICE_YAML)

    def build() -> None:
        directory.load_path(store, definitions.bundled_services_path(), rules)
        people.add_person(
            store,
            people.PersonInput(
                crn=CRN,
                given="Zoë <script>alert(1)</script>",
                family='=HYPERLINK("http://x")',
                dob="1990-01-31",
                sex="female",
                postcode="CB1 2AB",
                office="Cambridge",
            ),
        )
        for purpose in ("share-with-services", "share-with-gp", "health-trainer"):
            people.record_consent(store, CRN, purpose=purpose, status="given")

    built_once(build)
    return store


def book(store: Any, rules: Any, pathway: str, service: str, day: str) -> int:
    rec = referrals.refer(store, CRN, pathway, rules, service_id=service, self_referral=False)
    for step in ("referred", "accepted"):
        referrals.update(store, rec.id, rules, status=step)
    referrals.update(store, rec.id, rules, status="appointment-booked", event_date=day)
    return rec.id


# ------------------------------------------------------------------ content -------------
def test_handout_in_three_formats_names_services_phones_and_dates(
    loaded: Any, rules: Any, tmp_path: Path
) -> None:
    book(loaded, rules, "dentist", "cam-dental-quillon", "2026-12-02")
    referrals.refer(loaded, CRN, "stop-smoking", rules, self_referral=True)
    goals.add(loaded, CRN, "Walk to the shop each day", target_date="2026-12-15")

    pdf = handout.produce(loaded, CRN, rules, out=tmp_path / "h.pdf")
    text = pdf_text((tmp_path / "h.pdf").read_bytes())
    for expected in (
        "Quillon Street NHS Dental Practice",
        "Wednesday 2 December 2026",
        "Walk to the shop each day",
        "15 December 2026",
        "116 123",
        "999",
        "NHS 111",
        "You do not need ID or proof of address",
        "01223 000 199",  # the office phone, from office.yaml
        "Alex Jones",
    ):
        assert expected in text, expected
    dental = directory.get(loaded, "cam-dental-quillon")
    assert dental.phone and dental.phone in text
    assert pdf.format == "pdf" and pdf.sha256 and len(pdf.referral_ids) == 2
    assert os.stat(tmp_path / "h.pdf").st_mode & 0o777 == 0o600

    handout.produce(loaded, CRN, rules, out=tmp_path / "h.html")
    html = (tmp_path / "h.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Quillon Street NHS Dental Practice" in html and "Wednesday 2 December 2026" in html
    assert "<a " not in html and "http" not in html.split("</style>")[1]  # nothing links out

    handout.produce(loaded, CRN, rules, out=tmp_path / "h.txt")
    plain = (tmp_path / "h.txt").read_text()
    assert "[ ] Go to Quillon Street NHS Dental Practice" in plain


def test_handout_shows_no_scores_answers_or_reasons(loaded: Any, rules: Any) -> None:
    rec = referrals.refer(
        loaded,
        CRN,
        "talking-therapies",
        rules,
        self_referral=True,
        reasons=[{"rule": "phq9-moderate", "because": "PHQ-9 15 (moderately severe)"}],
        urgency="soon",
    )
    assert rec.reasons
    doc = handout.build(loaded, CRN, rules).text()
    assert "PHQ" not in doc and "moderately severe" not in doc and "15" not in doc


def test_unicode_names_print_in_the_pdf(store: Any, rules: Any, tmp_path: Path) -> None:
    people.add_person(
        store,
        people.PersonInput(crn=CRN, given="Łukasz", family="Nguyễn", dob="1990-01-31", sex="male"),
    )
    handout.produce(store, CRN, rules, out=tmp_path / "u.pdf")
    assert "Łukasz" in pdf_text((tmp_path / "u.pdf").read_bytes())


def test_include_chooses_what_goes_on_it(loaded: Any, rules: Any) -> None:
    referrals.refer(loaded, CRN, "stop-smoking", rules, self_referral=True)
    referrals.refer(loaded, CRN, "sexual-health", rules, self_referral=True)
    keys = [c.key for c in handout.choices(loaded, CRN, rules)]
    assert keys == ["stop-smoking", "sexual-health"]
    only = handout.build(loaded, CRN, rules, include=["stop-smoking"]).text()
    assert "Stop smoking" in only and "Sexual health" not in only
    with pytest.raises(BadInput, match="not on X123456's list"):
        handout.build(loaded, CRN, rules, include=["dentist"])


def test_domestic_abuse_support_goes_on_only_when_chosen(loaded: Any, rules: Any) -> None:
    """Hazard H23: a sheet about domestic abuse found by the abuser is a danger. The pathway
    is marked sensitive: left off unless the worker names it after asking if it is safe."""
    referrals.refer(loaded, CRN, "stop-smoking", rules, self_referral=True)
    referrals.refer(loaded, CRN, "domestic-abuse-support", rules, self_referral=True)
    (choice,) = [c for c in handout.choices(loaded, CRN, rules) if c.sensitive]
    assert choice.key == "domestic-abuse-support"
    default = handout.build(loaded, CRN, rules)
    text = default.text()
    assert "Stop smoking" in text
    for word in ("Domestic", "domestic", "0808 2000 247", "Men's Advice"):
        assert word not in text, word
    assert default.left_out_sensitive == ("domestic-abuse-support",)
    chosen = handout.build(loaded, CRN, rules, include=["domestic-abuse-support"])
    assert "0808 2000 247" in chosen.text() and chosen.left_out_sensitive == ()


def test_care_others_could_read_as_drug_use_goes_on_only_when_chosen(
    loaded: Any, rules: Any
) -> None:
    """A handout may be seen by others: a drug service, naloxone, an HIV and hepatitis test or
    a sexual health clinic on it could be read as drug use or a diagnosis. Before, a handout
    made without a terminal carried them all; now only when the person chooses them."""
    marked = sorted(p.id for p in rules.pathways if p.handout_private)
    assert marked == ["bbv-testing", "drug-service", "naloxone", "sexual-health"]
    for pathway in ("stop-smoking", "drug-service", "bbv-testing"):
        referrals.refer(loaded, CRN, pathway, rules, self_referral=True)
    by_key = {c.key: c for c in handout.choices(loaded, CRN, rules)}
    assert by_key["drug-service"].private and not by_key["drug-service"].sensitive
    assert not by_key["stop-smoking"].private
    default = handout.build(loaded, CRN, rules)
    text = default.text()
    assert "Stop smoking" in text
    for word in ("Drug service", "drug service", "HIV", "hepatitis", "injected"):
        assert word not in text, word
    assert default.left_out_sensitive == ("drug-service", "bbv-testing")
    chosen = handout.build(loaded, CRN, rules, include=["stop-smoking", "drug-service"])
    assert "Drug service" in chosen.text() and "HIV" not in chosen.text()
    assert chosen.left_out_sensitive == ()


def test_large_print_and_interpreter_are_honoured(loaded: Any, rules: Any, tmp_path: Path) -> None:
    people.edit_person(loaded, CRN, {"language": "Polish", "needs_interpreter": True})
    h = handout.produce(loaded, CRN, rules, out=tmp_path / "big.html", large_print=True)
    assert h.adjustments == ("large-print", "interpreter")
    html = (tmp_path / "big.html").read_text()
    assert "font-size: 18pt" in html and "interpreter for Polish" in html


def test_reading_help_barrier_gives_large_print(loaded: Any, rules: Any) -> None:
    from probhealth.services import needs

    needs.add_barrier(loaded, CRN, "low-literacy")
    assert handout.build(loaded, CRN, rules).document.large_print


# ------------------------------------------------------------------ audit ---------------
def test_each_handout_is_audited_with_a_hash_never_the_content(
    loaded: Any, rules: Any, tmp_path: Path, db: DbHandle
) -> None:
    rid = book(loaded, rules, "dentist", "cam-dental-quillon", "2026-12-02")
    h = handout.produce(loaded, CRN, rules, out=tmp_path / "h.pdf")
    action, detail = query(db, "select action, detail from audit_event order by id desc limit 1")[0]
    assert action == "handout.produce"
    data = json.loads(detail)
    assert data["sha256"] == h.sha256 and data["referrals"] == [rid] and data["format"] == "pdf"
    assert "Zo" not in detail and "Dental" not in detail


def test_an_existing_file_is_refused_before_anything_is_audited(
    loaded: Any, rules: Any, tmp_path: Path, db: DbHandle
) -> None:
    (tmp_path / "h.pdf").write_bytes(b"keep me")
    before = count(db, "audit_event")
    with pytest.raises(BadInput, match="already exists"):
        handout.produce(loaded, CRN, rules, out=tmp_path / "h.pdf")
    with pytest.raises(BadInput, match=r"\.pdf, \.html or \.txt"):
        handout.produce(loaded, CRN, rules, out=tmp_path / "h.docx")
    assert count(db, "audit_event") == before
    assert (tmp_path / "h.pdf").read_bytes() == b"keep me"


# ------------------------------------------------------------------ reading ease --------
def test_reading_ease_on_every_pathway_in_the_default_rules(loaded: Any, rules: Any) -> None:
    scores = {}
    for pathway in rules.pathways:
        if pathway.adjustment:
            # A way of working (easy read) is recorded on the person, not as a referral: it has
            # no section of its own; its text is what the worker reads out.
            scores[pathway.id] = textstat.flesch_reading_ease(pathway.for_person)
            continue
        rec = referrals.refer(
            loaded,
            CRN,
            pathway.id,
            rules,
            self_referral=False if not pathway.self_referral else None,
        )
        text = handout.build(loaded, CRN, rules, include=[pathway.id]).document.prose()
        scores[pathway.id] = textstat.flesch_reading_ease(text)
        referrals.update(loaded, rec.id, rules, status="withdrawn", reason="entered-in-error")
    low = {k: v for k, v in scores.items() if v < MIN_READING_EASE}
    assert not low, low
    assert len(scores) == len(rules.pathways)


def test_reading_ease_on_the_demo_caseload(store: Any, rules: Any) -> None:
    from probhealth.services import demodata

    q = definitions.load_questionnaire()
    directory.ensure_demo_directory(store, rules)
    demodata.generate(store, q, rules, 25, seed=3)
    crns = [
        r[0]
        for r in query(store.target.path or store.target.url, "select crn from person order by crn")
    ]
    scores = [
        textstat.flesch_reading_ease(handout.build(store, crn, rules).document.prose())
        for crn in crns
    ]
    assert len(scores) == 25 and min(scores) >= MIN_READING_EASE, min(scores)


# ------------------------------------------------------------------ hours in words ------
@pytest.mark.parametrize(
    ("periods", "words"),
    [
        (["mon-fri 09:00-17:00"], "Monday to Friday, 9am to 5pm"),
        (["mon-sun 00:00-24:00"], "Every day, day and night"),
        (
            ["mon-fri 09:00-12:30", "mon-fri 13:30-17:00", "sat-sun 10:00-12:00"],
            "Monday to Friday, 9am to 12:30pm and 1:30pm to 5pm; Saturday and Sunday, 10am to 12 noon",
        ),
        (["wed 16:00-19:00"], "Wednesday, 4pm to 7pm"),
    ],
)
def test_opening_hours_in_words(periods: list[str], words: str) -> None:
    assert in_words([parse_window(p) for p in periods]) == words


def test_what_happens_next_follows_the_referral(loaded: Any, rules: Any) -> None:
    rid = book(loaded, rules, "dentist", "cam-dental-quillon", "2026-11-23")
    referrals.update(loaded, rid, rules, status="did-not-attend")
    text = handout.build(loaded, CRN, rules).text()
    assert "You missed the last time" in text and "to book a new time" in text
    referrals.update(loaded, rid, rules, status="appointment-booked", event_date="2026-11-23")
    referrals.update(loaded, rid, rules, status="attended")
    assert "You went. Well done." in handout.build(loaded, CRN, rules).text()
    # Easy read taken up is a way of working recorded on the person (issue 13 item 11): no
    # step and no section of its own, but the sheet itself comes in large print.
    referrals.refer(loaded, CRN, "easy-read", rules)
    built = handout.build(loaded, CRN, rules)
    doc = built.document
    steps = next(s for s in doc.sections if s.kind == "steps")
    assert len([line for line in steps.lines if line.kind == "check"]) == 1  # no step for easy read
    assert all(s.heading != rules.pathway("easy-read").name for s in doc.sections)
    assert "large-print" in built.adjustments


@pytest.mark.parametrize("language", ["English", None])
def test_an_interpreter_is_offered_without_naming_english(
    loaded: Any, rules: Any, language: str | None
) -> None:
    """Needing an interpreter with the language recorded as English (or not at all) read 'a
    free interpreter for English'; the offer stands, without a language."""
    people.edit_person(loaded, CRN, {"language": language, "needs_interpreter": True})
    text = handout.build(loaded, CRN, rules).text()
    assert "interpreter for English" not in text
    assert "We can get you a free interpreter. Just ask us." in text


def test_a_goal_whose_date_has_gone_by_asks_for_a_new_one(
    loaded: Any, rules: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open goal 'By Wednesday 7 October 2026' on a sheet dated 2 December read as a goal
    failed; the sheet says a new date will be agreed instead."""
    goals.add(loaded, CRN, "Set a quit date", target_date="2026-11-30")
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-12-02T10:00:00")
    text = " ".join(handout.build(loaded, CRN, rules).text().split())
    assert "Set a quit date. We will agree a new date for this together." in text
    assert "30 November 2026" not in text
    monkeypatch.setenv("PROBHEALTH_NOW", "2026-11-30T10:00:00")  # the day itself: still ahead
    assert "By Monday 30 November 2026." in " ".join(
        handout.build(loaded, CRN, rules).text().split()
    )


def test_a_worker_missing_from_office_yaml_is_your_probation_officer(
    loaded: Any, rules: Any, isolated_home: Path
) -> None:
    """Without the worker in office.yaml the sheet read 'Name: root' (the login name); the
    person reads who to ask for, and the command still tells the worker what to add."""
    (isolated_home / "office.yaml").write_text(OFFICE_YAML.replace("login: tester", "login: x"))
    h = handout.build(loaded, CRN, rules)
    contact = next(s for s in h.document.sections if s.heading == "Who to contact")
    assert contact.lines[0].text == "Your probation officer"
    assert "tester" not in h.text()
    assert any("tester" in m for m in h.sender_missing)
    # What the worker is told is what the sheet shows (it said "the login name is shown").
    assert not any("login name" in m for m in h.sender_missing)
    assert any("'your probation officer'" in m for m in h.sender_missing)
