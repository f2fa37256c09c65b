"""What the README says about the default questionnaire is what the engine does."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from probhealth.questionnaire.engine import PersonFacts, evaluate
from probhealth.services import definitions
from tests.helpers import negative_answer

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme() -> str:
    return " ".join(README.read_text(encoding="utf-8").split())


def test_questions_asked_of_a_person_with_nothing_to_report() -> None:
    """The README's count (it said "at most 34" while the engine asked 35-39)."""
    q = definitions.load_questionnaire(definitions.bundled_path(definitions.DEFAULT_QUESTIONNAIRE))
    counts = set()
    for sex in ("male", "female", "intersex", None):
        for age in (*range(16, 91), None):
            for nation in ("england", "wales"):
                person = PersonFacts(age=age, sex=sex, nation=nation)
                ev = evaluate(q, {}, person, date(2026, 12, 2), lambda i, a: negative_answer(i))
                assert ev.complete and not ev.flags
                counts.add(len(ev.visible))
    said = re.search(r"nothing to report is asked (\d+) to (\d+) questions", _readme())
    assert said, "the README no longer gives the count"
    assert (int(said[1]), int(said[2])) == (min(counts), max(counts))


def test_phq9_item_9_is_always_asked() -> None:
    """NICE NG225 / reference: item 9 is asked of everyone, and the README says so."""
    q = definitions.load_questionnaire(definitions.bundled_path(definitions.DEFAULT_QUESTIONNAIRE))
    ev = evaluate(q, {"phq9_1": 0, "phq9_2": 0}, PersonFacts(), date(2026, 12, 2))
    assert "phq9_9" in ev.visible
    assert "item 9, on thoughts of self-harm, is always asked" in _readme()


def test_the_example_answers_file_completes_a_screening_at_any_age() -> None:
    """`screen CRN --answers examples/answers-low-risk.yaml` (README) on a demo person of any
    age and sex: it left four age-based questions unanswered for people over 49."""
    import yaml

    from probhealth.questionnaire import answers as parsing

    q = definitions.load_questionnaire(definitions.bundled_path(definitions.DEFAULT_QUESTIONNAIRE))
    path = README.parent / "examples" / "answers-low-risk.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    today = date(2026, 12, 2)
    given = {k: parsing.parse(q.item(k), v, today=today) for k, v in raw.items()}
    for sex in ("male", "female", "intersex"):
        for age in range(18, 91):
            person = PersonFacts(age=age, sex=sex, nation="england")
            ev = evaluate(q, given, person, today)
            assert ev.complete, (sex, age, ev.next_item())
            assert not ev.flags
