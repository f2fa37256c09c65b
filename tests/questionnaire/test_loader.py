"""``probhealth questionnaire check FILE`` against hostile and broken files.

Every broken file must end with exit 2 and exactly one line on stderr,
``Error: FILE:LINE: message`` (``FILE:LINE:COL:`` for a condition, ``FILE: message`` when no
line applies), without a traceback, without running anything, and quickly. Fixtures are
mostly the bundled questionnaire with one mutation, so each test exercises the real loader
end to end; expected line numbers are computed from the mutated text. A file with several
problems (the end of this module) has each listed by ``check``, one a line, and is one line
everywhere else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import probhealth
from probhealth.cli.remedies import explain
from probhealth.errors import FileError
from probhealth.questionnaire.model import check_file, load_file
from probhealth.yamlfile import FileProblems
from tests.helpers import Cli

BUNDLED = Path(probhealth.__file__).parent / "data" / "probation-health.yaml"
SOURCE = BUNDLED.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def no_code_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing the loader does may start a process."""

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the loader tried to run a command")

    monkeypatch.setattr(os, "system", fail)
    monkeypatch.setattr(os, "popen", fail)
    monkeypatch.setattr(subprocess, "Popen", fail)


def mutate(tmp_path: Path, old: str, new: str, name: str = "q.yaml") -> tuple[Path, str]:
    assert SOURCE.count(old) >= 1, f"fixture text not found in the bundled file: {old!r}"
    text = SOURCE.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th occurrence of needle."""
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    return text[:idx].count("\n") + 1


def col_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based column of the n-th occurrence of needle."""
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    return idx - (text.rfind("\n", 0, idx) + 1) + 1


def check_fails(path: Path, line: int | None = None, column: int | None = None) -> str:
    """Run ``questionnaire check``; return the one error line (without ``Error: ``).

    ``line`` None: no line may be given. ``column`` None with a line: any column or none.
    """
    # (No timing assertion: speed lives in benchmarks/. A bomb that got through would hang or
    # exhaust memory here rather than pass slowly.)
    result = Cli(None)("questionnaire", "check", str(path), expect=2)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith(f"Error: {path}:"), message
    if line is None:
        assert message.startswith(f"Error: {path}: "), message
    elif column is None:
        assert re.match(rf"Error: {re.escape(str(path))}:{line}(:\d+)?: ", message), message
    else:
        assert message.startswith(f"Error: {path}:{line}:{column}: "), message
    return message.removeprefix("Error: ")


# ------------------------------------------------------------------ the bundled file ---
def test_bundled_questionnaire_passes_check() -> None:
    result = Cli(None)("questionnaire", "check", str(BUNDLED))
    text = result.stdout + result.stderr
    assert "ok" in text
    assert "8 scales" in text
    assert "Error" not in text


def test_questionnaire_show() -> None:
    result = Cli(None)("questionnaire", "show")
    assert result.stdout.strip()
    assert "phq9_1" in result.stdout or "PHQ" in result.stdout


def test_questionnaire_show_json() -> None:
    result = Cli(None)("questionnaire", "show", "--json")
    data = json.loads(result.stdout)
    assert data["id"] == "probation-health"
    assert len(data["scales"]) == 8
    assert {s["id"] for s in data["scales"]} >= {"phq2", "phq9", "gad2", "gad7", "audit_c"}
    item_ids = [i["id"] for i in data["items"]]
    assert len(item_ids) == len(set(item_ids))
    assert all(i in item_ids for s in data["sections"] for i in s["items"])


def test_show_json_of_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    data = json.loads(Cli(None)("questionnaire", "show", str(path), "--json").stdout)
    assert len(data["scales"]) == 8


def test_show_of_a_broken_file_is_one_line(tmp_path: Path) -> None:
    path, _ = mutate(tmp_path, "version: 3\n", "version: 3\nversion: 4\n")
    result = Cli(None)("questionnaire", "show", str(path), "--json", expect=2)
    assert "appears twice" in json.loads(result.stdout)["error"]["message"]  # issue 13
    assert len(result.stderr.splitlines()) == 1
    assert "appears twice" in result.stderr


# ------------------------------------------------------------------ hostile YAML -------
@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/new:os.system ["echo hacked"]',
        "!!python/name:eval",
        '!!python/object/apply:os.system ["echo hacked"]',
        "!!python/module:os",
    ],
)
def test_python_tags(tmp_path: Path, tag: str) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text(f"id: x\nversion: 1\ntitle: {tag}\nsections: []\n")
    message = check_fails(path, 3)
    assert "not allowed" in message


def test_python_tag_in_an_item(tmp_path: Path) -> None:
    old = "        text: Which GP surgery are you registered with?\n"
    path, text = mutate(
        tmp_path, old, '        text: !!python/object/new:os.system ["echo hacked"]\n'
    )
    check_fails(path, line_of(text, "!!python"))


def test_billion_laughs(tmp_path: Path) -> None:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
        prev = name
    path = tmp_path / "laughs.yaml"
    path.write_text(text)
    message = check_fails(path, 1)
    assert "anchors and aliases" in message


def test_alias_inside_the_questionnaire(tmp_path: Path) -> None:
    old = "  yes_no_not_sure:\n"
    path, text = mutate(tmp_path, old, "  yes_no_not_sure: &yn\n")
    check_fails(path, line_of(text, "&yn"))


def test_fifty_thousand_brackets(tmp_path: Path) -> None:
    path = tmp_path / "brackets.yaml"
    path.write_text("[" * 50000 + "]" * 50000)
    message = check_fails(path, 1)  # refused by the pre-scan, before PyYAML
    assert "nested" in message


def test_two_mebibyte_file_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024 * 1024)  # sparse: nothing is written
    message = check_fails(path)
    assert "2,097,152 bytes" in message
    assert "limit" in message


def test_invalid_utf8_on_line_3(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"id: x\nversion: 1\ntitle: Caf\xe9 \xff\nsections: []\n")
    message = check_fails(path, 3)
    assert "UTF-8" in message


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes(SOURCE.encode("utf-16"))  # starts with a BOM
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    message = check_fails(path, 1)
    assert "UTF-16" in message


def test_nul_byte(tmp_path: Path) -> None:
    text = SOURCE.replace("title: Probation health screening\n", "title: Probation\x00 health\n", 1)
    path = tmp_path / "nul.yaml"
    path.write_bytes(text.encode())
    message = check_fails(path, line_of(text, "\x00"))
    assert "NUL" in message


def test_duplicate_key_reports_the_second(tmp_path: Path) -> None:
    old = "        type: text\n        max_length: 120\n"
    new = "        type: text\n        max_length: 120\n        type: single\n"
    path, text = mutate(tmp_path, old, new)
    message = check_fails(path, line_of(text, "        type: single\n        show_if"))
    assert "'type' appears twice" in message


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "version: 3\n", "version: 3\nversion: 4\n")
    check_fails(path, line_of(text, "version: 4"))


def test_bad_value_under_explicit_timestamp_tag(tmp_path: Path) -> None:
    # BUG: `!!timestamp soon` makes PyYAML raise AttributeError inside _construct, which only
    # catches YAMLError/ValueError: the CLI prints "Internal error" and exits 1.
    path, text = mutate(tmp_path, "version: 3\n", "version: 3\ndescription: !!timestamp soon\n")
    check_fails(path, line_of(text, "!!timestamp"))


def test_bad_value_under_explicit_bool_tag(tmp_path: Path) -> None:
    # BUG: `!!bool maybe` raises KeyError the same way (exit 1, "Internal error").
    old = "        max_length: 120\n"
    path, text = mutate(tmp_path, old, old + "        optional: !!bool maybe\n")
    check_fails(path, line_of(text, "!!bool"))


def test_file_that_is_a_list(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- id: x\n- version: 1\n")
    message = check_fails(path, 1)
    assert "must be a mapping" in message


@pytest.mark.parametrize("content", ["", "\n\n", "# nothing here\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    message = check_fails(path, 1)
    assert "is empty" in message


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    message = check_fails(folder)
    assert message == f"{folder}: is a folder, not a file"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    message = check_fails(path)
    assert message == f"{path}: file not found"


def test_scalar_file(tmp_path: Path) -> None:
    path = tmp_path / "scalar.yaml"
    path.write_text("just text\n")
    check_fails(path, 1)


def test_invalid_yaml(tmp_path: Path) -> None:
    old = "        max_length: 120\n"
    path, text = mutate(tmp_path, old, "        max_length: 120\n\tbad: tab\n")
    message = check_fails(path, line_of(text, "\tbad"))
    assert "not valid YAML" in message


# ------------------------------------------------------------------ schema errors ------
def test_unknown_key_in_an_item(tmp_path: Path) -> None:
    old = "        max_length: 120\n"
    path, text = mutate(tmp_path, old, old + "        colour: blue\n")
    message = check_fails(path, line_of(text, "colour: blue"))
    assert "unknown key 'colour'" in message


def test_unknown_key_with_a_block_value_reports_the_key_line(tmp_path: Path) -> None:
    # BUG: Document keeps the line of each *value*; for a key whose value is a block list or
    # mapping that is the next line, so the error points one line below the unknown key.
    old = "        max_length: 120\n"
    path, text = mutate(tmp_path, old, old + "        colour:\n          - blue\n")
    message = check_fails(path, line_of(text, "colour:"))
    assert "unknown key 'colour'" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "version: 3\n", "version: 3\nauthor: me\n")
    message = check_fails(path, line_of(text, "author: me"))
    assert "unknown key 'author'" in message


def test_bad_item_type(tmp_path: Path) -> None:
    old = "        type: text\n        max_length: 120\n"
    path, text = mutate(tmp_path, old, "        type: essay\n        max_length: 120\n")
    message = check_fails(path, line_of(text, "type: essay"))
    assert "type" in message


def test_inline_option_without_a_label(tmp_path: Path) -> None:
    # BUG (message and line): the `options` union (option-set id | list of options) makes
    # pydantic report its first branch, "options.constrained-str: Input should be a valid
    # string", at the line of `options:` instead of the option that lacks its label.
    old = "          - {value: diabetes, label: Diabetes}\n"
    path, text = mutate(tmp_path, old, "          - {value: diabetes}\n")
    message = check_fails(path, line_of(text, "{value: diabetes}"))
    assert "label" in message


# ------------------------------------------------------------------ conditions ---------
GP_SHOW_IF = 'show_if: answers.gp_registered == "yes"'


def test_show_if_unknown_item_has_line_and_column(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, 'show_if: answers.gp_registerd == "yes"')
    line = line_of(text, "answers.gp_registerd")
    column = col_of(text, "answers.gp_registerd")
    message = check_fails(path, line, column)
    assert "unknown name 'answers.gp_registerd'" in message
    assert "did you mean answers.gp_registered" in message


def test_show_if_unknown_name_later_in_the_condition(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, GP_SHOW_IF, 'show_if: answers.gp_registered == "yes" and answers.nope'
    )
    check_fails(path, line_of(text, "answers.nope"), col_of(text, "answers.nope"))


def test_show_if_refers_to_a_later_item(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, 'show_if: answers.dentist_registered == "yes"')
    message = check_fails(
        path,
        line_of(text, "answers.dentist_registered =="),
        col_of(text, "answers.dentist_registered =="),
    )
    assert "dentist_registered comes later" in message


def test_show_if_refers_to_a_later_scale(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, "show_if: scores.phq9 >= 10")
    message = check_fails(
        path, line_of(text, "scores.phq9 >= 10"), col_of(text, "scores.phq9 >= 10")
    )
    assert "phq9 comes later" in message


def test_show_if_literal_not_an_option(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, 'show_if: answers.gp_registered == "No"')
    message = check_fails(path, line_of(text, '== "No"'), col_of(text, '== "No"') + 3)
    assert "'No' is not an option of gp_registered" in message
    assert "'yes', 'no', 'not sure'" in message


def test_flag_literal_not_an_option(tmp_path: Path) -> None:
    old = 'when: answers.medication_supply in ["no", "not sure"]'
    path, text = mutate(tmp_path, old, 'when: answers.medication_supply in ["no", "Not sure"]')
    message = check_fails(path, line_of(text, '"Not sure"'), col_of(text, '["no", "Not sure"]'))
    assert "'Not sure' is not an option of medication_supply" in message


def test_show_if_syntax_error(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, 'show_if: answers.gp_registered = "yes"')
    message = check_fails(path, line_of(text, ' = "yes"'), col_of(text, ' = "yes"') + 1)
    assert "unexpected character '='" in message


def test_show_if_code_injection(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, GP_SHOW_IF, "show_if: __import__('os').system('echo hacked')")
    check_fails(path, line_of(text, "__import__"))


def test_show_if_in_a_folded_block_reports_the_real_line(tmp_path: Path) -> None:
    # BUG: for a `>-` block scalar the node starts at the indicator, so an error on the next
    # line is reported at the `show_if:` line, with the column counted from the `>`.
    new = 'show_if: >-\n          answers.gp_registered == "Nope"'
    path, text = mutate(tmp_path, GP_SHOW_IF, new)
    message = check_fails(path, line_of(text, '"Nope"'), col_of(text, '"Nope"'))
    assert "'Nope' is not an option" in message


def test_show_if_in_a_quoted_string_with_escapes_reports_the_real_column(tmp_path: Path) -> None:
    # BUG: the column is the value's start plus the offset in the *decoded* text, so each
    # escape (\" or '') before the error shifts the reported column left by one.
    new = 'show_if: "answers.gp_registered == \\"yes\\" and answers.bogus"'
    path, text = mutate(tmp_path, GP_SHOW_IF, new)
    check_fails(path, line_of(text, "answers.bogus"), col_of(text, "answers.bogus"))


def test_condition_too_deep(tmp_path: Path) -> None:
    new = "show_if: " + "(" * 30 + 'answers.gp_registered == "yes"' + ")" * 30
    path, text = mutate(tmp_path, GP_SHOW_IF, new)
    message = check_fails(path, line_of(text, "((("))
    assert "nested" in message


def test_condition_too_long(tmp_path: Path) -> None:
    new = "show_if: " + " or ".join(['answers.gp_registered == "yes"'] * 80)
    path, text = mutate(tmp_path, GP_SHOW_IF, new)
    message = check_fails(path, line_of(text, 'show_if: answers.gp_registered == "yes" or'))
    assert "2000" in message


# ------------------------------------------------------------------ scales -------------
PHQ2_BANDS = "bands: [[0, 2, negative], [3, 6, positive]]"


def test_bands_with_a_gap(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, PHQ2_BANDS, "bands: [[0, 2, negative], [4, 6, positive]]")
    message = check_fails(path, line_of(text, "[4, 6, positive]"))
    assert "without gaps" in message
    assert "phq2" in message


def test_bands_that_stop_short(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, PHQ2_BANDS, "bands: [[0, 2, negative], [3, 5, positive]]")
    message = check_fails(path, line_of(text, "[3, 5, positive]"))
    assert "must end at 6" in message


def test_bands_on_their_own_lines(tmp_path: Path) -> None:
    new = "bands:\n      - [0, 2, negative]\n      - [4, 6, positive]"
    path, text = mutate(tmp_path, PHQ2_BANDS, new)
    check_fails(path, line_of(text, "- [4, 6, positive]"))


def test_scale_over_a_text_item(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "items: [phq9_1, phq9_2]\n", "items: [phq9_1, gp_practice]\n")
    message = check_fails(path, line_of(text, "items: [phq9_1, gp_practice]"))
    assert "gp_practice is text" in message


def test_scale_over_an_unknown_item(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "items: [phq9_1, phq9_2]\n", "items: [phq9_1, phq9_99]\n")
    message = check_fails(path, line_of(text, "phq9_99"))
    assert "unknown item 'phq9_99'" in message


# ------------------------------------------------------------------ several problems ---
def layout_problems(tmp_path: Path) -> tuple[Path, list[tuple[int, str]]]:
    """Four mistakes in the file's layout: (path, [(line, message)]) in file order."""
    text = (
        SOURCE.replace("version: 3\n", "version: 3\nauthor: me\n", 1)
        .replace("{value: 0, label: Not at all}", "{value: -x, label: Not at all}", 1)
        .replace(
            "        type: text\n        max_length: 120\n",
            "        type: essay\n        max_length: 120\n",
            1,
        )
        .replace(
            "          - {value: diabetes, label: Diabetes}\n", "          - {value: diabetes}\n", 1
        )
    )
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    item = next(
        f"sections.{si}.items.{ii}"
        for si, section in enumerate(yaml.safe_load(text)["sections"])
        for ii, entry in enumerate(section["items"])
        if entry["type"] == "essay"
    )
    return path, [
        (
            line_of(text, "author: me"),
            "unknown key 'author' in the top level (allowed keys: id, version, title, "
            "description, credits, option_sets, sections, scales, flags, needs, barriers)",
        ),
        (
            line_of(text, "{value: -x"),
            "option_sets.phq_frequency.0.value must be text that starts with a letter or digit "
            "(at most 60 characters, no control characters) (found '-x')",
        ),
        (
            line_of(text, "type: essay"),
            f"{item}.type must be 'single', 'multi', 'yesno', 'integer', 'date' or 'text' "
            "(found 'essay')",
        ),
        (line_of(text, "{value: diabetes}"), "label is required"),
    ]


def test_check_file_lists_every_layout_problem(tmp_path: Path) -> None:
    path, expected = layout_problems(tmp_path)
    with pytest.raises(FileProblems) as info:
        check_file(path)
    problems = info.value.problems
    assert [p.line for p in problems] == [line for line, _ in expected]
    for problem, (_, message) in zip(problems, expected, strict=True):
        assert problem.detail.endswith(message), problem.detail
    assert not any("pattern" in p.detail or "Input should" in p.detail for p in problems)


def test_check_file_lists_every_reference_problem(tmp_path: Path) -> None:
    text = (
        SOURCE.replace(GP_SHOW_IF, 'show_if: answers.gp_registered == "Yes"', 1)
        .replace(PHQ2_BANDS, "bands: [[0, 2, negative], [4, 6, positive]]", 1)
        .replace("when: answers.phq9_9 >= 1", "when: answers.phq9_99 >= 1", 1)
        .replace("  - type: money\n", "  - type: cash\n", 1)
    )
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileProblems) as info:
        check_file(path)
    got = [(p.line, p.detail) for p in info.value.problems]
    assert [line for line, _ in got] == [
        line_of(text, '== "Yes"'),
        line_of(text, "[4, 6, positive]"),
        line_of(text, "answers.phq9_99"),
        line_of(text, "type: cash"),
    ]
    assert "'Yes' is not an option of gp_registered" in got[0][1]
    assert "without gaps" in got[1][1]
    assert "unknown name 'answers.phq9_99'" in got[2][1]
    assert "unknown barrier type 'cash'" in got[3][1]


def test_a_broken_option_set_is_reported_once(tmp_path: Path) -> None:
    # Not again at each of the nine PHQ-9 items that use it, nor by the scales and the
    # conditions that use those items.
    path, text = mutate(
        tmp_path, "{value: 1, label: Several days}", "{value: 0, label: Several days}"
    )
    with pytest.raises(FileProblems) as info:
        check_file(path)
    assert [(p.line, p.detail) for p in info.value.problems] == [
        (
            line_of(text, "phq_frequency:"),
            "option set 'phq_frequency' has two options with the same value",
        )
    ]


def test_one_broken_item_is_reported_once(tmp_path: Path) -> None:
    # The SILS item (used by a flag and a barrier rule) with two options of the same label.
    old = "          - {value: rarely, label: Rarely}\n"
    path, text = mutate(tmp_path, old, old.replace("label: Rarely", "label: Never"))
    with pytest.raises(FileProblems) as info:
        check_file(path)
    assert [p.detail for p in info.value.problems] == [
        "item 'sils_1' has two options with the same label"
    ]
    assert info.value.problems[0].line == line_of(text, "{value: never, label: Never}") - 1


def test_load_file_raises_one_line_pointing_to_check(tmp_path: Path) -> None:
    path, expected = layout_problems(tmp_path)
    with pytest.raises(FileError) as info:
        load_file(path)
    assert not isinstance(info.value, FileProblems)
    message = explain(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{expected[0][0]}: {expected[0][1]}")
    assert message.endswith(
        f"(and 3 more problems; to see them all, run: probhealth questionnaire check {path})"
    )


def test_questionnaire_check_lists_every_problem(tmp_path: Path) -> None:
    path, expected = layout_problems(tmp_path)
    result = Cli(None)("questionnaire", "check", str(path), expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 + len(expected)
    for got, (line, message) in zip(lines[1:], expected, strict=True):
        assert got.startswith(f"{path}:{line}: ") and got.endswith(message), got
