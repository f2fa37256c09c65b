"""A released questionnaire version never changes (issue 12, hazard H24).

Screenings keep the version they were asked with, and a database that stored a version
refuses different text under the same number. Both rely on one habit: a change to what is
asked, how it is answered or how it is scored gets a new version number. v3's wording was
changed after it first reached main, still as v3 (no release came in between, so it stays v3);
this test makes that impossible to do silently again.

The fingerprint covers every bundled questionnaire's item ids, question and option wording,
option values and scores, skip logic, scales and bands, and the conditions and severities of
flags, needs and barriers. Comments, help notes for the worker, titles and flag messages are
not in it: changing them keeps the version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from probhealth.questionnaire.model import OptionModel, QuestionnaireModel

DATA = Path(__file__).resolve().parents[2] / "src" / "probhealth" / "data"

# (questionnaire id, version) -> fingerprint. Add a line for a new version; never edit one.
PINNED = {
    ("probation-health", 3): "031b0a807db4f630e800d37c37f45da522672426559968553261df844a4a4a7f",
}


def _options(m: QuestionnaireModel, options: Any) -> list[tuple[Any, str, int | None]]:
    chosen: list[OptionModel] = (
        m.option_sets[options] if isinstance(options, str) else list(options or [])
    )
    return [(o.value, o.label, o.score) for o in chosen]


def fingerprint(m: QuestionnaireModel) -> str:
    """A hash of what a screening asks and scores (see the module docstring)."""
    content = {
        "items": [
            {
                "id": i.id,
                "section": s.id,
                "text": i.text,
                "stem": i.stem,
                "type": i.type,
                "options": _options(m, i.options),
                "show_if": i.show_if,
                "hidden_value": i.hidden_value,
                "range": (i.min, i.max, i.unit),
                "asked_of": i.asked_of,
                "exclusive": i.exclusive,
                "sensitive": i.sensitive,
            }
            for s in m.sections
            for i in s.items
        ],
        "scales": [(s.id, s.items, s.reverse, s.bands) for s in m.scales],
        "flags": [(f.id, f.when, f.severity) for f in m.flags],
        "needs": [(n.domain, n.when, n.severity) for n in m.needs],
        "barriers": [(b.type, b.when) for b in m.barriers],
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _bundled() -> dict[tuple[str, int], QuestionnaireModel]:
    found = {}
    for path in sorted(DATA.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "sections" in data:  # a questionnaire
            m = QuestionnaireModel.model_validate(data)
            found[(m.id, m.version)] = m
    return found


BUNDLED = _bundled()


def test_every_bundled_questionnaire_is_pinned() -> None:
    assert BUNDLED, "no bundled questionnaire found"
    for key, m in BUNDLED.items():
        assert key in PINNED, (
            f"{m.id} v{m.version} is new: add it to PINNED in {__file__} with its fingerprint "
            f"{fingerprint(m)!r}."
        )


@pytest.mark.parametrize("key", sorted(BUNDLED), ids=lambda k: f"{k[0]}-v{k[1]}")
def test_a_released_version_never_changes(key: tuple[str, int]) -> None:
    m = BUNDLED[key]
    got = fingerprint(m)
    assert got == PINNED.get(key), (
        f"{m.id} v{m.version} changed what it asks or how it scores (wording, options, scores, "
        f"skip logic, scales, flags, needs or barriers): fingerprint {got}, pinned "
        f"{PINNED.get(key)}. A version that has reached main never changes: give the file the "
        f"next version number (version: {m.version + 1}), pin the new fingerprint in PINNED, "
        "and note the change and its source in docs/clinical-safety.md. Screenings already "
        "stored keep the version they were asked with."
    )


def test_the_fingerprint_sees_a_change_of_wording_and_of_score() -> None:
    m = BUNDLED[("probation-health", 3)]
    base = fingerprint(m)
    data = m.model_dump()
    data["sections"][0]["items"][0]["text"] += " now"
    assert fingerprint(QuestionnaireModel.model_validate(data)) != base
    data = m.model_dump()
    name = next(iter(data["option_sets"]))
    data["option_sets"][name][0]["score"] = (data["option_sets"][name][0]["score"] or 0) + 1
    assert fingerprint(QuestionnaireModel.model_validate(data)) != base
    data = m.model_dump()
    data["flags"][0]["message"] += " More help."  # a message is not part of it
    assert fingerprint(QuestionnaireModel.model_validate(data)) == base
