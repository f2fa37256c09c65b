"""Words people can follow (issue 12): every string in the bundled questionnaire and rules,
measured with a maintained readability library (textstat's Flesch reading ease).

- Text for the person: ``for_person``, question texts outside the fixed instrument wording,
  section introductions: reading ease >= 70.
- Staff guidance, read under pressure: ``for_staff``, flag messages and actions, help
  notes and the worker's own questions: >= 50.

Instrument items (those in a scale, or with a LOINC code) keep their published wording and
are not measured. Flag titles and option labels are short headings and answers, not prose.
The test fails naming the worst strings, so a new text that is hard to read is caught with
what to fix.
"""

from __future__ import annotations

import textstat

from probhealth.services.definitions import DEFAULT_RULES, bundled_path, load_questionnaire
from probhealth.services.definitions import load_rules as _load_rules

PERSON = 70
STAFF = 50

Q = load_questionnaire()
RULES = _load_rules(bundled_path(DEFAULT_RULES))


def instrument_items() -> frozenset[str]:
    return Q.scale_items() | {i.id for i in Q.items if i.loinc}


def texts() -> list[tuple[int, str, str]]:
    """(least reading ease, where, text) for every measured string."""
    out: list[tuple[int, str, str]] = []
    for p in RULES.pathways:
        out.append((PERSON, f"rules pathway {p.id} for_person", p.for_person))
        out.append((STAFF, f"rules pathway {p.id} for_staff", p.for_staff))
        if p.without_gp:
            out.append((STAFF, f"rules pathway {p.id} without_gp", p.without_gp))
    fixed = instrument_items()
    for item in Q.items:
        if item.id in fixed:
            continue
        least = PERSON if item.asked_of == "person" else STAFF
        out.append((least, f"question {item.id}", item.text))
        if item.help:
            out.append((STAFF, f"question {item.id} help", item.help))
    for section in Q.sections:
        if section.intro:
            out.append((PERSON, f"section {section.id} intro", section.intro))
    for flag in Q.flags:
        out.append((STAFF, f"flag {flag.id} message", flag.message))
        for n, action in enumerate(flag.actions, 1):
            out.append((STAFF, f"flag {flag.id} action {n}", action))
    return out


def test_every_bundled_string_is_measured() -> None:
    measured = texts()
    assert len([t for t in measured if "for_person" in t[1]]) == len(RULES.pathways)
    assert any(where.startswith("flag ") for _, where, _ in measured)
    assert not any(where == "question phq9_1" for _, where, _ in measured)  # instrument wording


def test_reading_ease_of_every_bundled_string() -> None:
    low = []
    for least, where, text in texts():
        score = textstat.flesch_reading_ease(text)
        if score < least:
            low.append((score - least, f"{where}: {score:.0f} < {least}: {text!r}"))
    worst = [line for _, line in sorted(low)[:10]]
    assert not low, f"{len(low)} strings are hard to read; the worst:\n" + "\n".join(worst)


def test_the_measure_tells_hard_text_from_plain() -> None:
    # The library is doing its job: a clinical sentence fails, plain words pass.
    hard = "Their answers suggest possible alcohol dependence or withdrawal."
    plain = "You can sign up with a GP near you. It is free."
    assert textstat.flesch_reading_ease(hard) < STAFF
    assert textstat.flesch_reading_ease(plain) >= PERSON
