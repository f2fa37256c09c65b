"""A document as plain text: a phone number at the end of a line is never split across two
('please call us on 01223 000' / '199'), and the file keeps ordinary spaces."""

from __future__ import annotations

from probhealth.documents import Document, Line, Section
from probhealth.documents.model import NBSP
from probhealth.documents.text import render_text


def test_a_phone_number_is_never_split_across_lines() -> None:
    for pad in range(0, 30):  # move the number across the 72-column edge
        text = (
            "x" * pad + " please call us on 01223 000 199 to agree a time, or 116 123 at any time."
        )
        doc = Document(
            kind="letter",
            title="Referral",
            sections=(Section("What they ask for", (Line(text, prose=False),)),),
        )
        out = render_text(doc)
        assert NBSP not in out
        flat = [line.strip() for line in out.splitlines()]
        assert any("01223 000 199" in line for line in flat), (pad, out)
        assert any("116 123" in line for line in flat), (pad, out)
