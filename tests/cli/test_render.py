"""Tables at a worker's 80 columns: a date is never cut in two."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime

from probhealth.services.goals import GoalRecord

REVIEWED = datetime(2026, 10, 29, 22, 26, tzinfo=UTC)


def _goal(n: int) -> GoalRecord:
    return GoalRecord(
        id=n,
        crn=f"Z1000{n:02d}",
        text="Set a quit date and use the stop smoking service",
        domain="smoking",
        target_date=date(2026, 11, 26),
        status="active",
        created_by="demo",
        created_at=REVIEWED,
        reviews=(("partly", None, "demo", REVIEWED),),
    )


WALK = replace(_goal(37), domain="physical-activity", text="Walk for 30 minutes three times a week")


def test_goals_due_at_80_columns_keep_each_date_whole(monkeypatch):
    from rich.console import Console

    from probhealth.cli import render

    monkeypatch.setenv("PROBHEALTH_NOW", "2026-12-02T10:00:00Z")
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(
        render.goals_table([_goal(1), WALK], caseload=True, due=True)
    )
    text = buf.getvalue()
    # The last review reads as a date, whole on one line (it read "(2026-10-2" / "9 22:26").
    assert re.search(r"2026-10-29", text), text
    assert not re.search(r"\d{4}-\d{2}-\d(?!\d)", text), text
    assert "2026-11-26" in text
