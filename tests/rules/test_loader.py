"""``probhealth rules check FILE`` against hostile and broken rules files.

Each fixture is the bundled rules file with one thing changed, so the real loader runs end
to end. A broken file ends with exit 2 and exactly one line on stderr,
``Error: FILE:LINE: message`` (``FILE:LINE:COL:`` inside a condition), with nothing run and
nothing slow. Expected lines and columns are computed from the mutated text. A file with
several problems (the end of this module) has each listed by ``check``, one a line, and is
one line everywhere else.
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
from probhealth import taxonomy
from probhealth.cli.remedies import explain
from probhealth.errors import FileError
from probhealth.rules.model import check_file, load_file
from probhealth.services.definitions import load_questionnaire
from probhealth.yamlfile import FileProblems
from tests.helpers import Cli

BUNDLED = Path(probhealth.__file__).parent / "data" / "rules.yaml"
SOURCE = BUNDLED.read_text(encoding="utf-8")
NO_GP_WHEN = 'when: answers.gp_registered in ["no", "not sure"]\n    suggest: gp-registration'


@pytest.fixture(autouse=True)
def no_code_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing the loader does may start a process."""

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the loader tried to run a command")

    monkeypatch.setattr(os, "system", fail)
    monkeypatch.setattr(os, "popen", fail)
    monkeypatch.setattr(subprocess, "Popen", fail)


def mutate(tmp_path: Path, old: str, new: str, name: str = "rules.yaml") -> tuple[Path, str]:
    assert SOURCE.count(old) >= 1, f"fixture text not found in the bundled rules: {old!r}"
    text = SOURCE.replace(old, new, 1)
    assert text != SOURCE
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    return text[:idx].count("\n") + 1


def col_of(text: str, needle: str, occurrence: int = 1) -> int:
    idx = -1
    for _ in range(occurrence):
        idx = text.index(needle, idx + 1)
    return idx - (text.rfind("\n", 0, idx) + 1) + 1


def check_fails(path: Path, line: int | None, column: int | None = None) -> str:
    """Run ``rules check``; return the one error line without ``Error: FILE:``.

    ``column`` None: a column may or may not follow the line."""
    result = Cli(None)("rules", "check", str(path), expect=2)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    prefix = f"Error: {path}:"
    assert message.startswith(prefix), message
    if line is None:
        assert message.startswith(f"Error: {path}: "), message
    elif column is None:
        assert re.match(rf"Error: {re.escape(str(path))}:{line}(:\d+)?: ", message), message
    else:
        assert message.startswith(f"Error: {path}:{line}:{column}: "), message
    return message.split(": ", 2)[-1]


# ------------------------------------------------------------------ the bundled file ---
def test_bundled_rules_pass_check() -> None:
    result = Cli(None)("rules", "check", str(BUNDLED))
    assert "Error" not in result.stderr
    assert re.search(r": ok: probation-health-rules v2, \d+ pathways, \d+ rules\.", result.stderr)


def test_rules_show() -> None:
    result = Cli(None)("rules", "show")
    assert "Register with a GP" in result.stdout
    assert "no-gp" in result.stdout or "gp_registered" in result.stdout


def test_rules_show_json() -> None:
    data = json.loads(Cli(None)("rules", "show", "--json").stdout)
    assert data["id"] == "probation-health-rules"
    assert data["questionnaire"] == "probation-health"
    assert re.fullmatch(r"[0-9a-f]{64}", data["hash"])
    ids = [p["id"] for p in data["pathways"]]
    assert len(ids) == len(set(ids))
    assert {r["suggest"] for r in data["rules"]} == set(ids)  # every pathway has a rule
    assert {p["domain"] for p in data["pathways"]} <= set(taxonomy.NEED_DOMAINS)
    rule = next(r for r in data["rules"] if r["id"] == "no-gp")
    assert rule == {
        "id": "no-gp",
        "when": 'answers.gp_registered in ["no", "not sure"]',
        "suggest": "gp-registration",
        "urgency": "soon",
        "because": "Registered with a GP: {answers.gp_registered}",
    }
    reconnect = next(p for p in data["pathways"] if p["id"] == "reconnect")
    assert reconnect["self_referral"] is False and reconnect["shares_information"] is True


def test_rules_show_json_of_an_edited_copy(tmp_path: Path) -> None:
    path, _ = mutate(tmp_path, "version: 2\n", "version: 7\n")
    data = json.loads(Cli(None)("rules", "show", str(path), "--json").stdout)
    assert data["version"] == 7
    original = json.loads(Cli(None)("rules", "show", "--json").stdout)
    assert data["hash"] != original["hash"]


def test_rules_show_of_a_broken_file_is_one_line(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "version: 2\n", "version: 2\nversion: 3\n")
    result = Cli(None)("rules", "show", str(path), "--json", expect=2)
    assert json.loads(result.stdout)["error"]["exit_code"] == 2  # issue 13: JSON error too
    assert result.stderr.splitlines() == [
        f"Error: {path}:{line_of(text, 'version: 3')}: the key 'version' appears twice"
    ]


# ------------------------------------------------------------------ hostile YAML -------
@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["echo hacked"]',
        "!!python/name:eval",
        "!!binary aGFja2Vk",
    ],
)
def test_python_tags_are_refused(tmp_path: Path, tag: str) -> None:
    path, text = mutate(tmp_path, "version: 2\n", f"version: {tag}\n")
    message = check_fails(path, line_of(text, tag))
    assert "explicit tags" in message and "are not allowed" in message


def test_python_tag_inside_a_rule(tmp_path: Path) -> None:
    old = "when: flags.acute_distress\n    suggest: crisis-support"
    new = 'when: !!python/object/apply:os.system ["echo hacked"]\n    suggest: crisis-support'
    path, text = mutate(tmp_path, old, new)
    check_fails(path, line_of(text, "!!python"))


ALIAS_BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n",
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
    ]
)


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "version: 2\n", "version: 2\n" + ALIAS_BOMB)
    message = check_fails(path, line_of(text, "a: &a"))
    assert "anchors and aliases" in message


def test_merge_key_is_refused(tmp_path: Path) -> None:
    old = "  - id: crisis-support\n"
    new = "  - id: crisis-support\n    <<: {follow_up_days: 3}\n"
    path, text = mutate(tmp_path, old, new)
    # Not a merge in YAML 1.2 terms: a plain key '<<', refused as unknown.
    message = check_fails(path, line_of(text, "<<:"))
    assert "'<<'" in message


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, "version: 2\n", "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    )
    message = check_fails(path, line_of(text, "x: ["))
    assert "nested more than" in message


def test_not_yaml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("id: x\n  version: : 1\n\t- what\n", encoding="utf-8")
    message = check_fails(path, 2)
    assert "is not valid YAML" in message


def test_a_list_instead_of_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- id: x\n", encoding="utf-8")
    message = check_fails(path, 1)
    assert "a rules file must be a mapping" in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    assert "is empty" in check_fails(path, 1)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert check_fails(path, None) == "file not found"


# ------------------------------------------------------------------ structure ----------
def test_unknown_key_in_a_pathway(tmp_path: Path) -> None:
    old = "    follow_up_days: 1\n"
    path, text = mutate(tmp_path, old, old + "    colour: blue\n")
    message = check_fails(path, line_of(text, "colour: blue"))
    assert "unknown key 'colour' in pathways.0" in message


def test_unknown_key_in_a_rule(tmp_path: Path) -> None:
    old = "    because: Asked about free vaccines\n"
    path, text = mutate(tmp_path, old, old + "    priority: 3\n")
    message = check_fails(path, line_of(text, "priority: 3"))
    assert "unknown key 'priority'" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "version: 2\n", "version: 1\nauthor: me\n")
    message = check_fails(path, line_of(text, "author: me"))
    assert "unknown key 'author' in the top level" in message


def test_missing_required_key(tmp_path: Path) -> None:
    old = "    for_staff: Hunger Vital Sign positive. Food bank voucher or local food support today.\n"
    path, text = mutate(tmp_path, old, "")
    message = check_fails(path, line_of(text, "- id: food-support"))
    assert "for_staff is required" in message


def test_rule_suggesting_an_unknown_pathway(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, NO_GP_WHEN, NO_GP_WHEN.replace("gp-registration", "gp-registrashun")
    )
    message = check_fails(path, line_of(text, "suggest: gp-registrashun"))
    assert "no pathway 'gp-registrashun' (pathways: crisis-support, gp-registration" in message


def test_pathway_with_no_rule(tmp_path: Path) -> None:
    old = "    suggest: vaccination\n"
    path, text = mutate(tmp_path, old, "    suggest: gp-registration\n")
    message = check_fails(path, line_of(text, "- id: vaccination"))
    assert "no rule suggests pathway 'vaccination'; add one or remove the pathway" in message


def test_duplicate_rule_id(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "  - id: no-gp-after-release\n", "  - id: no-gp\n")
    message = check_fails(path, line_of(text, "  - id: no-gp\n", 2))
    assert "rule 'no-gp' is defined twice" in message


def test_duplicate_pathway_id(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "  - id: dentist\n", "  - id: gp-registration\n")
    # Two problems follow: the duplicate, and the rules that suggest the now-missing dentist.
    lines = Cli(None)("rules", "check", str(path), expect=2).stderr.splitlines()
    line = line_of(text, "  - id: gp-registration\n", 2)
    assert f"{path}:{line}: pathway 'gp-registration' is defined twice" in lines


@pytest.mark.parametrize("urgency", ["asap", "Soon"])
def test_bad_urgency(tmp_path: Path, urgency: str) -> None:
    old = NO_GP_WHEN + "\n    urgency: soon\n"
    path, text = mutate(tmp_path, old, old.replace("urgency: soon", f"urgency: {urgency}"))
    message = check_fails(path, line_of(text, f"urgency: {urgency}"))
    assert "urgency" in message and "'emergency', 'same-day', 'soon' or 'routine'" in message


def test_bad_follow_up_days(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "    follow_up_days: 1\n", "    follow_up_days: 0\n")
    message = check_fails(path, line_of(text, "follow_up_days: 0"))
    assert "follow_up_days" in message


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("sun-sat 00:00-24:00", "the days run backwards"),
        ("sat-sun 09:00-08:00", "must end after it starts"),
        ("sat-sun 9:00-12:00", "is not a period"),
        ("sat-sun 00:00-25:00", "is not a period"),
    ],
)
def test_bad_availability_window(tmp_path: Path, window: str, message: str) -> None:
    old = 'weekends: ["sat-sun 00:00-24:00"]'
    path, text = mutate(tmp_path, old, f'weekends: ["{window}"]')
    assert message in check_fails(path, line_of(text, "weekends:"))


def test_bad_window_in_a_block_list_points_at_its_own_line(tmp_path: Path) -> None:
    old = 'weekends: ["sat-sun 00:00-24:00"]'
    new = 'weekends:\n      - "sat-sun 00:00-24:00"\n      - "sun-sat 09:00-10:00"'
    path, text = mutate(tmp_path, old, new)
    message = check_fails(path, line_of(text, '"sun-sat 09:00-10:00"'))
    assert "the days run backwards" in message


def test_availability_window_for_an_unknown_option(tmp_path: Path) -> None:
    old = 'weekends: ["sat-sun 00:00-24:00"]'
    path, text = mutate(tmp_path, old, 'weekend: ["sat-sun 00:00-24:00"]')
    message = check_fails(path, line_of(text, "weekend:"))
    assert "'weekend' is not an option of unavailable_times" in message


def test_availability_item_that_is_not_multi_choice(tmp_path: Path) -> None:
    path, text = mutate(tmp_path, "item: unavailable_times", "item: gp_registered")
    message = check_fails(path, line_of(text, "item: gp_registered"))
    assert "availability.item must be a multi-choice item of probation-health" in message


def test_rules_for_another_questionnaire(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, "questionnaire: probation-health\n", "questionnaire: prison-health\n"
    )
    message = check_fails(path, line_of(text, "questionnaire: prison-health"))
    assert "these rules are for questionnaire 'prison-health'" in message
    assert "checked against 'probation-health'" in message


def test_need_domain_not_in_the_taxonomy(tmp_path: Path) -> None:
    assert "self-harm" not in taxonomy.NEED_DOMAINS
    path, text = mutate(tmp_path, "    domain: self-harm-risk\n", "    domain: self-harm\n")
    message = check_fails(path, line_of(text, "domain: self-harm\n"))
    assert "unknown need domain 'self-harm'; use one of: mental-health" in message


# ------------------------------------------------------------------ conditions ---------
def test_when_naming_an_unknown_item(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, NO_GP_WHEN, NO_GP_WHEN.replace("answers.gp_registered", "answers.gp_registred")
    )
    line, column = line_of(text, "answers.gp_registred"), col_of(text, "answers.gp_registred")
    message = check_fails(path, line, column)
    assert "unknown name 'answers.gp_registred'" in message
    assert message.startswith("when: ")


def test_unknown_name_later_in_a_condition(tmp_path: Path) -> None:
    old = "when: flags.no_medication and answers.gp_registered"
    path, text = mutate(tmp_path, old, "when: flags.no_medication and answers.nope")
    check_fails(path, line_of(text, "answers.nope"), col_of(text, "answers.nope"))


def test_literal_not_among_the_options(tmp_path: Path) -> None:
    path, text = mutate(
        tmp_path, NO_GP_WHEN, NO_GP_WHEN.replace('["no", "not sure"]', '["no", "Not sure"]')
    )
    # The column is that of the list holding the literal (as for questionnaire conditions).
    message = check_fails(path, line_of(text, '"Not sure"'), col_of(text, '["no", "Not sure"]'))
    assert "'Not sure' is not an option of gp_registered (options: 'yes', 'no', 'not sure')" in (
        message
    )


def test_equality_literal_not_among_the_options(tmp_path: Path) -> None:
    old = 'when: answers.drugs_inject == "yes"'
    path, text = mutate(tmp_path, old, 'when: answers.drugs_inject == "Yes"')
    message = check_fails(path, line_of(text, '"Yes"'), col_of(text, '"Yes"'))
    assert "'Yes' is not an option of drugs_inject" in message


def test_unknown_barrier(tmp_path: Path) -> None:
    old = """when: '"low-literacy" in barriers"""
    path, text = mutate(tmp_path, old, """when: '"not-a-barrier" in barriers""")
    line, column = line_of(text, '"not-a-barrier"'), col_of(text, '"not-a-barrier"')
    message = check_fails(path, line, column)
    assert "'not-a-barrier' is not one of the barriers (low-literacy" in message


def test_unknown_flag_severity(tmp_path: Path) -> None:
    old = """when: '"emergency" in flag_severities'"""
    path, text = mutate(tmp_path, old, """when: '"urgent" in flag_severities'""")
    message = check_fails(path, line_of(text, '"urgent"'), col_of(text, '"urgent"'))
    assert "'urgent' is not one of the flag_severities" in message


def test_referrals_open_unknown_pathway(tmp_path: Path) -> None:
    new = NO_GP_WHEN.replace(
        '["no", "not sure"]', '["no", "not sure"] and not referrals.open("nope")'
    )
    path, text = mutate(tmp_path, NO_GP_WHEN, new)
    needle = 'referrals.open("nope")'
    message = check_fails(path, line_of(text, needle), col_of(text, needle))
    assert "referrals.open: no pathway 'nope'" in message


def test_referrals_open_known_pathway_passes(tmp_path: Path) -> None:
    new = NO_GP_WHEN.replace(
        '["no", "not sure"]', '["no", "not sure"] and not referrals.open("health-trainer")'
    )
    path, _ = mutate(tmp_path, NO_GP_WHEN, new)
    assert ": ok: " in Cli(None)("rules", "check", str(path)).stderr


def test_consented_unknown_purpose(tmp_path: Path) -> None:
    new = NO_GP_WHEN.replace('["no", "not sure"]', '["no", "not sure"] and consented("marketing")')
    path, text = mutate(tmp_path, NO_GP_WHEN, new)
    needle = 'consented("marketing")'
    message = check_fails(path, line_of(text, needle), col_of(text, needle))
    assert "consented: 'marketing' is not a consent purpose (screening, share-with-gp" in message


def test_code_in_a_condition_is_refused(tmp_path: Path) -> None:
    new = "when: __import__('os').system('echo hacked')\n    suggest: gp-registration"
    path, text = mutate(tmp_path, NO_GP_WHEN, new)
    check_fails(path, line_of(text, "__import__"))


def test_unknown_name_in_because(tmp_path: Path) -> None:
    old = 'because: "Registered with a GP: {answers.gp_registered}"'
    path, text = mutate(tmp_path, old, 'because: "Registered with a GP: {answers.gp_reg}"')
    message = check_fails(path, line_of(text, "{answers.gp_reg}"), col_of(text, "{answers.gp_reg}"))
    assert message.startswith("because: ") and "answers.gp_reg" in message


# ------------------------------------------------------------------ several problems ---
INJECTING = [r["id"] for r in yaml.safe_load(SOURCE)["rules"]].index("injecting")
FIRST_SOON = [r["urgency"] for r in yaml.safe_load(SOURCE)["rules"]].index("soon")


def several_problems(tmp_path: Path) -> tuple[Path, str, list[tuple[int, str]]]:
    """The bundled file with five independent mistakes: (path, text, [(line, message)])."""
    text = (
        SOURCE.replace("  - id: crisis-support\n", "  - id: Crisis_Support\n", 1)
        .replace("    follow_up_days: 14\n", "    follow_up_days: 0\n", 1)
        .replace("    urgency: soon\n", "    urgency: urgent\n", 1)
        .replace(
            "    shares_information: false\n",
            "    shares_information: false\n    colour: blue\n",
            1,
        )
        .replace("    because: Has injected drugs\n", "", 1)
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    expected = [
        (
            line_of(text, "id: Crisis_Support"),
            "pathways.0.id must be 2 to 50 lower-case letters, digits and hyphens, "
            "starting with a letter (found 'Crisis_Support')",
        ),
        (
            line_of(text, "colour: blue"),
            "unknown key 'colour' in pathways.0 (allowed keys: id, name, domain, for_person, "
            "for_staff, shares_information, self_referral, follow_up_days, "
            "resuggest_after_days, adjustment, shares_with, without_gp, needs_consent, sensitive,"
            " handout_private)",
        ),
        (
            line_of(text, "follow_up_days: 0"),
            "pathways.1.follow_up_days must be 1 or more (found 0)",
        ),
        (
            line_of(text, "urgency: urgent"),
            f"rules.{FIRST_SOON}.urgency must be 'emergency', 'same-day', 'soon' or 'routine' (found 'urgent')",
        ),
        (line_of(text, "  - id: injecting"), f"rules.{INJECTING}: because is required"),
    ]
    return path, text, expected


def test_check_file_lists_every_problem_in_file_order(tmp_path: Path) -> None:
    path, _, expected = several_problems(tmp_path)
    with pytest.raises(FileProblems) as info:
        check_file(path, load_questionnaire())
    lines = str(info.value).splitlines()
    assert lines[0] == (
        f"{path}: 5 problems (conditions and references are checked once these are fixed):"
    )
    assert lines[1:] == [f"{path}:{line}: {message}" for line, message in expected]
    assert info.value.exit_code == 2


def test_check_file_lists_every_reference_problem(tmp_path: Path) -> None:
    text = (
        SOURCE.replace("    domain: dental\n", "    domain: teeth\n", 1)
        .replace(NO_GP_WHEN, NO_GP_WHEN.replace("gp-registration", "gp-reg"), 1)
        .replace(
            'answers.dentist_registered in ["no", "not sure"]',
            'answers.dentist_registered == "No"',
            1,
        )
        .replace("{answers.gp_registered}", "{answers.gp_reg}", 1)
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileProblems) as info:
        check_file(path, load_questionnaire())
    assert [(p.line, p.detail.split(";")[0].split(" (")[0]) for p in info.value.problems] == [
        (line_of(text, "domain: teeth"), "unknown need domain 'teeth'"),
        (line_of(text, "suggest: gp-reg\n"), "no pathway 'gp-reg'"),
        (line_of(text, "{answers.gp_reg}"), "because: unknown placeholder {answers.gp_reg}"),
        (line_of(text, '== "No"'), "when: 'No' is not an option of dentist_registered"),
    ]


def test_load_file_raises_one_line_pointing_to_check(tmp_path: Path) -> None:
    path, _, expected = several_problems(tmp_path)
    with pytest.raises(FileError) as info:
        load_file(path, load_questionnaire())
    assert not isinstance(info.value, FileProblems)
    line, message = expected[0]
    assert explain(info.value) == (
        f"{path}:{line}: {message} (and 4 more problems; to see them all, run: "
        f"probhealth rules check {path})"
    )


def test_rules_show_of_a_file_with_several_problems_is_one_line(tmp_path: Path) -> None:
    path, _, expected = several_problems(tmp_path)
    result = Cli(None)("rules", "show", str(path), expect=2)
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}:{expected[0][0]}: ")
    assert lines[0].endswith(
        f"(and 4 more problems; to see them all, run: probhealth rules check {path})"
    )


def test_rules_check_lists_every_problem(tmp_path: Path) -> None:
    path, _, expected = several_problems(tmp_path)
    result = Cli(None)("rules", "check", str(path), expect=2)
    assert result.stdout == ""
    assert result.stderr.splitlines()[1:] == [
        f"{path}:{line}: {message}" for line, message in expected
    ]


@pytest.mark.parametrize(
    ("old", "new", "word"),
    [
        ('person.nation == "wales"', 'person.nation == "Wales"', "'Wales' is not a nation"),
        ('person.stage == "pre-sentence"', 'person.stage == "presentence"', "is not a stage"),
    ],
)
def test_a_nation_or_stage_that_is_not_one_is_refused(
    tmp_path: Path, old: str, new: str, word: str
) -> None:
    # issue 12: a typo would otherwise never fire (Wales would get England's pathways)
    path, text = mutate(tmp_path, old, new)
    message = check_fails(path, line_of(text, new))
    assert word in message
