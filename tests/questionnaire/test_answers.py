"""What a worker types for an answer becomes the stored value: dates as they are written
everywhere else in probhealth (YYYY-MM-DD or day first, DD/MM/YYYY), never month first."""

from __future__ import annotations

from datetime import date

import pytest

from probhealth.questionnaire import answers as A
from probhealth.services.definitions import load_questionnaire

TODAY = date(2026, 12, 2)
RELEASE = next(item for item in load_questionnaire().items if item.id == "release_date")


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-11-20", date(2026, 11, 20)),
        ("20/11/2026", date(2026, 11, 20)),
        ("1/11/2026", date(2026, 11, 1)),  # day first, as people write it in the UK
        (" 01/11/2026 ", date(2026, 11, 1)),
    ],
)
def test_a_date_answer_is_read_as_written(typed: str, day: date) -> None:
    assert A.parse(RELEASE, typed, today=TODAY) == day


@pytest.mark.parametrize("typed", ["11/20/2026", "31/02/2026", "tomorrow", "2026-1-2", ""])
def test_a_date_answer_that_is_not_a_date_says_how_to_write_it(typed: str) -> None:
    with pytest.raises(A.AnswerError) as caught:
        A.parse(RELEASE, typed, today=TODAY)
    assert caught.value.detail == A.DATE_HINT
    assert "DD/MM/YYYY" in str(caught.value)


def test_a_future_date_is_still_refused() -> None:
    with pytest.raises(A.AnswerError, match="in the future"):
        A.parse(RELEASE, "03/12/2026", today=TODAY)
