"""Phone numbers and time ranges are kept on one line (their spaces made non-breaking), and
nothing else is touched."""

from __future__ import annotations

import pytest

from probhealth.documents.model import NBSP, keep_together


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("call us on 01223 000 199 to agree", "01223 000 199"),
        ("call 020 7946 0999 now", "020 7946 0999"),
        ("Samaritans free on 116 123, at any time", "116 123"),
        ("Tuesday, 5pm to 7pm; Saturday", "5pm to 7pm"),
        ("Monday, 9:30am to 12 noon", "9:30am to 12 noon"),
    ],
)
def test_numbers_and_times_are_kept_together(text: str, kept: str) -> None:
    assert kept.replace(" ", NBSP) in keep_together(text)
    assert keep_together(text).replace(NBSP, " ") == text


def test_other_words_still_break() -> None:
    text = "Go to the clinic on Saturday 5 December 2026 at the front desk"
    assert keep_together(text) == text
