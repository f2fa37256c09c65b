"""``screen`` (answers file and guided), ``screening list|show``, ``need``, ``barrier``."""

from __future__ import annotations

import json

import pytest
import yaml

from probhealth.services.definitions import load_questionnaire
from tests.helpers import ScriptedAsker, add_person, fingerprint, negative_answer

Q = load_questionnaire()


@pytest.fixture
def person(cli, built_once):  # type: ignore[no-untyped-def]
    """A person who gave screening consent (made once a process, copied for each test)."""

    def build() -> None:
        add_person(cli, sex="male")
        cli("consent", "X123456", "--purpose", "screening", "--given")

    built_once(build)
    return "X123456"


def negative_file(tmp_path, **overrides):  # type: ignore[no-untyped-def]
    from datetime import date

    from probhealth.questionnaire import answers as A
    from probhealth.questionnaire.engine import PersonFacts, evaluate

    person = PersonFacts(36, "male")
    answers: dict[str, object] = {}
    parsed: dict[str, object] = {}
    for key, value in overrides.items():
        answers[key] = value
        parsed[key] = A.parse(Q.item(key), value)
    while (item := evaluate(Q, parsed, person, date.today()).next_item()) is not None:
        answers[item.id] = negative_answer(item)
        parsed[item.id] = A.parse(item, answers[item.id])
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers, allow_unicode=True))
    return path


def test_answers_file_scores_and_flags(cli, person, tmp_path):
    path = negative_file(
        tmp_path,
        phq9_1=2,
        phq9_2=1,
        phq9_9=1,
        auditc_1="4+ times per week",
        auditc_2="10+",
        auditc_3="Weekly",
    )
    data = json.loads(cli("screen", person, "--answers", str(path), "--json").stdout)
    assert data["status"] == "completed"
    assert data["scores"]["phq2"]["value"] == 3 and data["scores"]["audit_c"]["value"] == 11
    assert data["scores"]["audit_c"]["band"] == "possible dependence"
    flags = {f["id"]: f for f in data["flags"]}
    assert (
        flags["self_harm_thoughts"]["severity"] == "emergency"
        and flags["self_harm_thoughts"]["acknowledged"] is False
    )
    assert "alcohol_dependence_risk" in flags
    shown = json.loads(cli("screening", "show", str(data["id"]), "--json").stdout)
    assert {n["domain"] for n in shown["needs"]} >= {"self-harm-risk", "alcohol"}
    assert shown["flags"] and isinstance(shown["barriers"], list)
    human = cli("screening", "show", str(data["id"])).stdout
    assert "NOT ACKNOWLEDGED" in human and "AUDIT-C" in human


def test_flags_from_an_answers_file_are_acknowledged_later(cli, person, tmp_path):
    path = negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=3)
    sid = str(json.loads(cli("screen", person, "--answers", str(path), "--json").stdout)["id"])
    refused = cli("screening", "ack", sid, expect=2)  # no terminal: must say --yes
    assert "--yes" in refused.stderr and "EMERGENCY" in refused.stderr
    assert "raised no flag 'nonsense'" in cli("screening", "ack", sid, "nonsense", expect=2).stderr
    done = cli("screening", "ack", sid, "--yes")
    assert "Acknowledged" in done.stderr and "116 123" in done.stderr
    flags = json.loads(cli("screening", "show", sid, "--json").stdout)["flags"]
    urgent = [f for f in flags if f["severity"] in ("emergency", "same-day")]
    assert urgent and all(f["acknowledged"] and f["acknowledged_by"] == "tester" for f in urgent)
    assert "no flags waiting" in cli("screening", "ack", sid, "--yes").stderr


def test_unacknowledged_emergency_is_shown_loudly(cli, person, tmp_path):
    path = negative_file(tmp_path, phq9_1=1, phq9_2=0, phq9_9=3)
    result = cli("screen", person, "--answers", str(path))
    assert "EMERGENCY" in result.stderr and "116 123" in result.stderr


def test_answers_file_lists_every_problem_and_saves_nothing(cli, person, tmp_path, db):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "phq9_1: 7\nphq9_2: sometimes\nno_such_item: 1\nrelease_date: 01/31/2026\nlong_term_conditions: [none, diabetes]\n"
    )
    before = fingerprint(db)
    err = cli("screen", person, "--answers", str(path), expect=2).stderr
    for item_id in ("phq9_1", "phq9_2", "no_such_item", "release_date", "long_term_conditions"):
        assert item_id in err
    assert "nothing was saved" in err
    assert fingerprint(db) == before


def test_answers_file_missing_answers_are_listed(cli, person, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("gp_registered: 'yes'\n")
    err = cli("screen", person, "--answers", str(path), expect=2).stderr
    assert "gp_practice" in err and "would be asked" in err


def test_answers_the_skip_logic_would_not_ask_are_reported(cli, person, tmp_path):
    path = negative_file(tmp_path)
    text = path.read_text() + "phq9_5: 3\nhsi_1: 3\n"
    path.write_text(text)
    result = cli("screen", person, "--answers", str(path))
    assert "phq9_5" in result.stderr and "hsi_1" in result.stderr
    data = json.loads(cli("screening", "show", "1", "--json").stdout)
    assert "phq9_5" not in {a["item"] for a in data["answers"]}


def test_labels_and_values_are_both_accepted(cli, person, tmp_path):
    path = negative_file(tmp_path, phq9_1="nearly every day", phq9_2="2", gad7_1="SEVERAL DAYS")
    data = json.loads(cli("screen", person, "--answers", str(path), "--json").stdout)
    assert data["scores"]["phq2"]["value"] == 5


def test_screen_without_terminal_names_the_option(cli, person):
    err = cli("screen", person, expect=2).stderr
    assert "--answers" in err


def test_screen_without_consent(cli, tmp_path):
    add_person(cli, "Y111111")
    err = cli("screen", "Y111111", "--answers", str(tmp_path / "x.yaml"), expect=2).stderr
    assert "consent" in err.lower()


def test_json_answers_file(cli, person, tmp_path):
    path = negative_file(tmp_path)
    data = yaml.safe_load(path.read_text())
    jpath = tmp_path / "a.json"
    jpath.write_text(json.dumps(data))
    assert (
        json.loads(cli("screen", person, "--answers", str(jpath), "--json").stdout)["status"]
        == "completed"
    )


def test_screening_list_need_and_barrier_commands(cli, person, tmp_path):
    path = negative_file(tmp_path, gp_registered="no", sils_1="often")
    cli("screen", person, "--answers", str(path))
    rows = json.loads(cli("screening", "list", person, "--json").stdout)
    assert [r["status"] for r in rows] == ["completed"]
    needs = json.loads(cli("need", "list", person, "--json").stdout)
    assert {n["domain"] for n in needs} == {"primary-care-access"}
    barriers = json.loads(cli("barrier", "list", person, "--json").stdout)
    assert {b["type"] for b in barriers} == {"not-registered-gp", "low-literacy"}
    added = json.loads(
        cli(
            "barrier", "add", person, "competing-priorities", "--note", "works nights", "--json"
        ).stdout
    )
    assert added["source"] == "worker"
    assert "already has" in cli("barrier", "add", person, "competing-priorities", expect=2).stderr
    assert "Unknown barrier type" in cli("barrier", "add", person, "bad-luck", expect=2).stderr
    cli("barrier", "resolve", str(added["id"]))
    assert {b["type"] for b in json.loads(cli("barrier", "list", person, "--json").stdout)} == {
        "not-registered-gp",
        "low-literacy",
    }
    need_id = needs[0]["id"]
    cli("need", "update", str(need_id), "--status", "met")
    assert json.loads(cli("need", "list", person, "--json").stdout) == []
    assert len(json.loads(cli("need", "list", person, "--all", "--json").stdout)) == 1
    assert (
        "Status must be one of"
        in cli("need", "update", str(need_id), "--status", "done", expect=2).stderr
    )


def test_screening_show_unknown(cli):
    assert "No screening 99" in cli("screening", "show", "99", expect=2).stderr


# --------------------------------------------------------------- guided, via the Asker seam
def policy(overrides=None):  # type: ignore[no-untyped-def]
    """An asker entry that answers each question with its negative answer (or an override)."""
    by_text = {item.text: item for item in Q.items}
    overrides = overrides or {}

    def answer(kind, message, choices):  # type: ignore[no-untyped-def]
        if kind == "confirm":
            return True
        if message not in by_text:  # the referral decisions after the screening
            return overrides.get("__decisions__", "Decide later")
        item = by_text[message]
        value = overrides.get(item.id, negative_answer(item))
        if kind == "text":
            return str(value)
        if kind == "checkbox":
            return [item.label_of(v) for v in value]
        return item.label_of(value)

    return answer


@pytest.fixture
def terminal(monkeypatch):  # type: ignore[no-untyped-def]
    import probhealth.cli.asker as asker_mod
    import probhealth.cli.screen as screen_mod

    monkeypatch.setattr(screen_mod, "interactive", lambda: True)

    def install(asker):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(asker_mod, "asker_factory", lambda: asker)
        return asker

    return install


def test_guided_screen_through_the_seam(cli, person, terminal):
    asker = terminal(ScriptedAsker([policy({"phq9_1": 1, "phq9_9": 1})] * 60))
    result = cli("screen", person)
    assert "complete" in result.stderr
    kinds = [k for k, _ in asker.asked]
    assert "confirm" in kinds  # the emergency acknowledgement
    assert "EMERGENCY" in result.stdout and "Samaritans" in result.stdout
    data = json.loads(cli("screening", "show", "1", "--json").stdout)
    assert data["flags"][0]["acknowledged"] is True


def test_guided_screen_offers_to_record_consent(cli, terminal):
    add_person(cli, "Y222222", sex="male")
    terminal(ScriptedAsker([True] + [policy()] * 60))
    cli("screen", "Y222222")
    shown = json.loads(cli("person", "show", "Y222222", "--json").stdout)
    assert shown["consent"]["screening"]["status"] == "given"


def test_guided_screen_refused_consent_saves_nothing(cli, terminal):
    add_person(cli, "Y333333", sex="male")
    terminal(ScriptedAsker([False]))
    assert (
        "consent to the health screening (screening)" in cli("screen", "Y333333", expect=2).stderr
    )
    assert json.loads(cli("screening", "list", "Y333333", "--json").stdout) == []


def test_ctrl_c_says_how_to_resume(cli, person, terminal):
    terminal(ScriptedAsker([policy()] * 5))  # the script runs out -> KeyboardInterrupt
    result = cli("screen", person, expect=130)
    assert "probhealth screen X123456" in result.stderr
    rows = json.loads(cli("screening", "list", person, "--json").stdout)
    assert rows[0]["status"] == "in-progress"
    detail = json.loads(cli("screening", "show", str(rows[0]["id"]), "--json").stdout)
    assert detail["questions_asked"] == 5 and detail["next_item"]


def test_after_the_screening_decisions_become_referrals(cli, person, terminal, tmp_path):
    """Issue 4 part 6: suggestions are offered; agreed / declined / later are recorded."""
    decisions = iter(
        [
            "Agreed: they will contact the service themselves",
            "Larkspur Row Surgery (fictional)",
            "They do not want it",
            "Does not want it now",
        ]
    )

    def decide(kind, message, choices):  # type: ignore[no-untyped-def]
        titles = [t for _, t in choices]
        if "do they agree" in message:
            wanted = next(decisions, "Decide later")
            return wanted if wanted in titles else "Decide later"
        if message in ("Which service?", "Why not?"):
            return next(decisions)
        return policy({"gp_registered": "no", "smoking_status": "current", "hsi_1": 2, "hsi_2": 1})(
            kind, message, choices
        )

    from pathlib import Path

    cli(
        "services",
        "load",
        str(Path(__file__).resolve().parents[2] / "examples" / "services-fictional.yaml"),
    )
    cli("person", "edit", person, "--postcode", "CB1 2AB", "--office", "Cambridge")
    terminal(ScriptedAsker([decide] * 80))
    cli("screen", person)
    refs = json.loads(cli("referral", "list", person, "--json").stdout)
    by_pathway = {r["pathway"]: r for r in refs}
    assert (
        by_pathway["gp-registration"]["status"] == "agreed"
        and by_pathway["gp-registration"]["self_referral"] is True
    )
    assert by_pathway["gp-registration"]["service"] == "cam-gp-larkspur"
    declined = [r for r in refs if r["status"] == "declined-by-person"]
    assert len(declined) == 1 and declined[0]["closed_reason"] == "not-wanted-now"
    assert all(r["reasons"] for r in refs)


def test_worker_referral_without_sharing_consent_asks_and_records_it(cli, person, terminal):
    """A worker referral shares details: with no consent the worker is asked, and a yes is
    recorded as verbal share-with-services consent before the referral is made."""
    decisions = iter(
        ["Agreed: I will refer them (shares their details)", "Larkspur Row Surgery (fictional)"]
    )

    def decide(kind, message, choices):  # type: ignore[no-untyped-def]
        if kind == "confirm" and "sharing their details" in message:
            return True
        if "do they agree" in message:
            titles = [t for _, t in choices]
            wanted = next(decisions, "Decide later") if "GP" in message else "Decide later"
            return wanted if wanted in titles else "Decide later"
        if message == "Which service?":
            return next(decisions)
        return policy({"gp_registered": "no"})(kind, message, choices)

    from pathlib import Path

    cli(
        "services",
        "load",
        str(Path(__file__).resolve().parents[2] / "examples" / "services-fictional.yaml"),
    )
    cli("person", "edit", person, "--postcode", "CB1 2AB", "--office", "Cambridge")
    before = json.loads(cli("person", "show", person, "--json").stdout)["consent"]
    assert before.get("share-with-services", {}).get("status") != "given"
    terminal(ScriptedAsker([decide] * 80))
    result = cli("screen", person)
    assert "sharing their details with services" in result.stderr  # the consent warning
    refs = {r["pathway"]: r for r in json.loads(cli("referral", "list", person, "--json").stdout)}
    gp = refs["gp-registration"]
    assert gp["self_referral"] is False and gp["service"] == "cam-gp-larkspur"
    after = json.loads(cli("person", "show", person, "--json").stdout)["consent"]
    assert after["share-with-services"]["status"] == "given"
    assert after["share-with-services"]["method"] == "verbal"
