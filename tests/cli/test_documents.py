"""``probhealth handout`` (and ``letter``) at the command line: formats by extension, text in
the terminal, JSON, and one-line refusals with exit 2 that write nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import add_person


def test_handout_shows_text_in_the_terminal(cli) -> None:
    add_person(cli, office="Cambridge")
    cli("refer", "X123456", "stop-smoking", "--self-referral")
    result = cli("handout", "X123456")
    assert "What happens next, for Ann" in result.stdout
    assert "Stop smoking service" in result.stdout
    assert "Samaritans free on 116 123" in result.stdout
    assert "office.yaml has no entry" in result.stderr  # the worker is told what is missing


def test_handout_writes_each_format_and_json(cli, tmp_path: Path) -> None:
    add_person(cli)
    cli("refer", "X123456", "stop-smoking", "--self-referral")
    for ext in ("pdf", "html", "txt"):
        out = tmp_path / f"h.{ext}"
        result = cli("handout", "X123456", "--out", str(out))
        assert out.exists() and "Wrote the handout" in result.stderr
    assert (tmp_path / "h.pdf").read_bytes().startswith(b"%PDF")
    data = json.loads(cli("handout", "X123456", "--json").stdout)
    assert data["document"]["title"] == "What happens next, for Ann"
    assert data["format"] == "txt" and len(data["sha256"]) == 64


def test_handout_refusals_are_one_line_and_write_nothing(cli, tmp_path: Path) -> None:
    add_person(cli)
    result = cli("handout", "X123456", "--out", str(tmp_path / "h.docx"), expect=2)
    assert result.stderr.count("\n") == 1 and ".pdf, .html or .txt" in result.stderr
    result = cli("handout", "X123456", "--include", "dentist", expect=2)
    assert "--include takes" in result.stderr
    cli("handout", "X999999", expect=2)
    assert not list(tmp_path.glob("h.*"))


def test_letter_without_consent_is_one_line_exit_2_and_writes_nothing(cli, tmp_path: Path) -> None:
    add_person(cli)
    cli("consent", "X123456", "--purpose", "share-with-services", "--given")
    cli("refer", "X123456", "dentist", "--worker-referral")
    cli("consent", "X123456", "--purpose", "share-with-services", "--withdrawn")
    out = tmp_path / "l.pdf"
    result = cli("letter", "1", "--out", str(out), expect=2)
    assert result.stderr.count("\n") == 1
    assert "probhealth consent X123456 --purpose share-with-services --given" in result.stderr
    assert not out.exists()
    audit = cli("audit", "list", "--json").stdout
    assert "letter.produce" not in audit
    result = cli("letter", "1", "--to", "gp", expect=2)
    assert "--purpose share-with-gp" in result.stderr


def test_letter_with_consent_and_gp_registration(cli, tmp_path: Path) -> None:
    add_person(cli, nhs_number="9434765919")
    cli("consent", "X123456", "--purpose", "share-with-gp", "--given")
    cli("refer", "X123456", "dentist", "--self-referral")
    result = cli("letter", "1", "--to", "gp")
    assert "Referral: NHS dentist" in result.stdout or "Referral:" in result.stdout
    assert "943 476 5919" in result.stdout
    cli("letter", "1", "--to", "gp", "--out", str(tmp_path / "l.html"))
    assert "<!DOCTYPE html>" in (tmp_path / "l.html").read_text()
    data = json.loads(cli("letter", "--gp-registration", "X123456", "--json").stdout)
    assert data["kind"] == "gp-registration" and data["referral"] is None
    cli("letter", "X123456", expect=2)  # a CRN without --gp-registration
    cli("letter", "1", "--office-address", expect=2)


def test_at_a_terminal_the_person_chooses_from_a_checklist(cli, monkeypatch) -> None:
    from probhealth.cli import asker, documents
    from tests.helpers import ScriptedAsker

    add_person(cli)
    cli("refer", "X123456", "stop-smoking", "--self-referral")
    cli("refer", "X123456", "sexual-health", "--self-referral")
    scripted = ScriptedAsker([["Stop smoking service"]])
    monkeypatch.setattr(asker, "asker_factory", lambda: scripted)
    monkeypatch.setattr(documents, "interactive", lambda: True)
    text = cli("handout", "X123456").stdout
    assert "Stop smoking service" in text and "Sexual health clinic" not in text


def test_private_care_starts_unticked_and_is_named_when_left_off(cli, monkeypatch) -> None:
    from probhealth.cli import asker, documents

    add_person(cli)
    cli("refer", "X123456", "stop-smoking", "--self-referral")
    cli("refer", "X123456", "drug-service", "--self-referral")
    seen: dict[str, object] = {}

    class Recording:
        def checkbox(self, message, choices, *, checked=(), instruction=None):  # type: ignore[no-untyped-def]
            seen["choices"], seen["checked"] = list(choices), list(checked)
            return list(checked)

    monkeypatch.setattr(asker, "asker_factory", lambda: Recording())
    monkeypatch.setattr(documents, "interactive", lambda: True)
    result = cli("handout", "X123456")
    assert ("drug-service", "Drug service (only if they want it on)") in seen["choices"]
    assert seen["checked"] == ["stop-smoking"]
    assert "Drug service" not in result.stdout
    # Without a terminal: left off, and the worker is told how to add it.
    monkeypatch.setattr(documents, "interactive", lambda: False)
    err = cli("handout", "X123456").stderr
    assert "Not on the handout: Drug service." in err and "--include drug-service" in err
