"""Pseudonymised exports carry coarse facts only (issue 14 item 8): the suggestions' rendered
reasons quote exact values ("Aged 65", "Released 14 days ago"), so only identifiable exports
carry them, and pseudonymised ones the evidence's kind and band instead; a rules file whose
reason would copy free text is refused."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.cli.test_screen import negative_file
from tests.helpers import Cli, add_person

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "src" / "probhealth" / "data" / "rules.yaml"


def _export(cli, *extra: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    out = cli("export", "suggestions", "--out", "-", *extra).stdout
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))


def test_pseudonymised_suggestions_carry_rule_ids_not_sentences(cli, tmp_path):
    cli("services", "load", str(ROOT / "examples" / "services-fictional.yaml"))
    add_person(cli, "X123456", sex="male", release_date="2026-11-20")
    cli("consent", "X123456", "--purpose", "screening", "--given")
    answers = negative_file(tmp_path, gp_registered="no", phq9_1=1, phq9_2=0, phq9_9=2)
    cli("screen", "X123456", "--answers", str(answers))
    full = _export(cli, "--identifiable")
    assert full and all(r["because"] for r in full)  # the reasons exist ...
    pseudo = _export(cli)
    assert pseudo and "because" not in pseudo[0]  # ... and stay out of the pseudonymised file
    assert [r["rules_fired"] for r in pseudo] == [r["rules_fired"] for r in full]
    # ... in their place the evidence's kind and band, never a value that identifies
    evidence = {r["rules_fired"]: r["evidence"] for r in pseudo}
    assert "evidence" not in full[0]
    assert evidence["no-gp"] == "answer: gp_registered", evidence
    assert "flag: self_harm_thoughts" in evidence["self-harm-thoughts-assessment"], evidence
    assert all(e for e in evidence.values()), evidence
    text = cli("export", "suggestions", "--out", "-").stdout
    assert not re.search(r"\b(aged|age) \d+|\d+ days? ago", text, re.IGNORECASE), text


def test_rules_check_refuses_a_reason_that_copies_free_text(tmp_path):
    text = BUNDLED.read_text()
    first = re.search(r"^(\s+)because: .*$", text, re.MULTILINE)
    assert first is not None
    bad = text.replace(
        first.group(0), f'{first.group(1)}because: "Registered at {{answers.gp_practice}}"', 1
    )
    path = tmp_path / "rules.yaml"
    path.write_text(bad)
    result = Cli(None)("rules", "check", str(path), expect=2)
    assert "{answers.gp_practice} would copy free text" in result.stderr
    assert result.stderr.count("\n") == 1
