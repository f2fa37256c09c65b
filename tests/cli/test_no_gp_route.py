"""Issue 13 item 4 at the command line: ``refer`` through the GP for someone with no GP is
refused with one line naming the no-GP route; ``suggest`` says so on the suggestion."""

from __future__ import annotations

import json

from tests.cli.test_screen import negative_file, person  # noqa: F401

SEVERE_ANXIETY = {f"gad7_{n}": 3 for n in range(1, 8)}


def test_refer_through_a_gp_they_do_not_have_is_refused(cli, person, tmp_path):  # noqa: F811
    cli("consent", person, "--purpose", "share-with-gp", "--given")
    cli(
        "screen",
        person,
        "--answers",
        str(negative_file(tmp_path, gp_registered="no", **SEVERE_ANXIETY)),
    )
    refused = cli("refer", person, "mental-health-assessment", expect=2)
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "X123456 has no GP" in lines[0] and "Register them with a GP first" in lines[0]
    assert "probhealth refer X123456 gp-registration" in lines[0]
    assert json.loads(cli("referral", "list", person, "--json").stdout) == []
    text = cli("suggest", person).stdout
    assert "No GP, so this cannot go through one" in text
    data = json.loads(cli("suggest", person, "--json").stdout)
    mha = next(s for s in data["suggestions"] if s["pathway"] == "mental-health-assessment")
    assert "NHS 111" in mha["no_gp"]["route"]
