"""``probhealth screening list`` at the command line (``cli/screening.py``)."""

from __future__ import annotations

import re

from tests.cli.test_screen import negative_file, person  # noqa: F401


def test_list_reads_whole_at_80_columns(cli, person, tmp_path, narrow):  # noqa: F811
    """User review: at 80 columns "officer.jones" folded to "officer.jo / nes" and "voided
    (entered-in-error)" to "voided (entered-i / n-error)". The worker's name, the status, the
    reason and each date and time now stay whole, within 80 columns."""
    worker = "officer.jones-featherstone"
    for _ in range(2):
        cli("--as", worker, "screen", person, "--answers", str(negative_file(tmp_path)), "--new")
    cli("screening", "void", "1", "--reason", "entered-in-error")
    shown = cli("screening", "list", person).stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    words = {w for line in lines for w in re.split(r"[│ ]+", line) if w}
    for whole in ("voided", "entered-in-error", "completed", "probation-health", "v3"):
        assert whole in words, (whole, shown)
    # On PostgreSQL the actor is the login with the name given: "tester (officer.jones-...)".
    assert any(w.strip("()") == worker for w in words), shown
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", shown)
    times = re.findall(r"\d{2}:\d{2} (?:GMT|BST)", shown)
    assert len(dates) == len(times) == 4, shown  # started and completed, twice
