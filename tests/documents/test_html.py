"""A handout or letter as HTML, laid out by headless Chromium: a labelled value that wraps
("Open: Monday to Friday, 9am to 5pm; ... Saturday, 10am to 1pm") carries on under itself,
never under its label, and a step to tick wraps past its box, so each reads as one block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from probhealth.documents import Document, Line, Section
from probhealth.documents.html import render_html
from tests.documents.test_report_browser import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

LONG = "Monday to Friday, 9am to 5pm; Tuesday, 5pm to 7pm; Saturday, 10am to 1pm; " * 2
# For each wrapped line of each value: its left edge, and the right edge of its label (or box).
LINES_JS = """
const out = [];
for (const p of document.querySelectorAll('p.fact, p.check')) {
  const label = p.querySelector('b');
  const start = label ? label.getBoundingClientRect().right
                      : p.getBoundingClientRect().left + 12;
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (label && label.contains(node)) continue;
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) out.push([p.className, r.left, start]);
  }
}
return out;
"""


@pytest.mark.parametrize("large_print", [False, True])
def test_wrapped_values_and_steps_keep_their_indent(
    browser: Any,  # noqa: F811
    tmp_path: Path,
    large_print: bool,
) -> None:
    doc = Document(
        kind="handout",
        title="What happens next, for Sam",
        large_print=large_print,
        sections=(
            Section("Your next steps", (Line("Wait for the service to call you. " * 4, "check"),)),
            Section(
                "Stop smoking service",
                (
                    Line(LONG, "fact", "Open", prose=False),
                    Line("If the fare or the trip is hard, tell us. " * 3, "fact", "Getting there"),
                ),
            ),
        ),
    )
    page = tmp_path / "doc.html"
    page.write_text(render_html(doc), encoding="utf-8")
    browser.get(page.as_uri())
    lines = browser.execute_script(LINES_JS)
    assert {kind for kind, _, _ in lines} == {"fact", "check"}
    assert len(lines) > 4  # the values do wrap
    for kind, left, start in lines:
        assert left >= start - 1, f"a {kind} line starts at {left}, left of {start}"
