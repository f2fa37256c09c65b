"""Turning what someone typed (or wrote in an answers file) into a stored answer value.

Choices accept the option's value or its label, case-insensitively ("Several days", "1" and 1
are the same answer to a PHQ item). Yes/no items take yes/no (and true/false from JSON).
"Prefer not to say" is accepted for every optional item and stored as a refusal, not a value.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from probhealth import clock, expr, validation
from probhealth.errors import BadInput
from probhealth.questionnaire.model import Item
from probhealth.textsafe import clean_note

PREFER_NOT = "Prefer not to say"
DATE_HINT = "needs a real date written YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-11-01 or 01/11/2026"
_PREFER_NOT_WORDS = {"prefer not to say", "prefer-not-to-say", "prefer_not_to_say", "declined"}


class AnswerError(BadInput):
    def __init__(self, item_id: str, message: str) -> None:
        super().__init__(f"{item_id}: {message}")
        self.item_id = item_id
        self.detail = message


def _norm(text: str) -> str:
    return " ".join(text.strip().casefold().split())


def _choice(item: Item, raw: Any) -> int | str:
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    if isinstance(raw, int):
        for opt in item.options:
            if opt.value == raw and type(opt.value) is int:
                return opt.value
    elif isinstance(raw, str):
        key = _norm(raw)
        for opt in item.options:
            if (isinstance(opt.value, str) and _norm(opt.value) == key) or _norm(opt.label) == key:
                return opt.value
            if isinstance(opt.value, int) and key.lstrip("-").isdigit() and int(key) == opt.value:
                return opt.value
    allowed = "; ".join(
        f"{o.value} ({o.label})" if str(o.value) != o.label else o.label for o in item.options
    )
    raise AnswerError(item.id, f"{_show(raw)} is not one of the answers: {allowed}")


def _show(raw: Any) -> str:
    text = repr(raw) if not isinstance(raw, str) else f"'{raw}'"
    return text if len(text) <= 40 else text[:37] + "...'"


def parse(item: Item, raw: Any, *, today: date | None = None) -> Any:
    """Validate ``raw`` for ``item``: returns the value to store, or ``expr.DECLINED``."""
    if raw is None:
        raise AnswerError(item.id, "has no answer")
    if isinstance(raw, str) and _norm(raw) in _PREFER_NOT_WORDS:
        if not item.optional:
            raise AnswerError(item.id, "needs an answer ('prefer not to say' is not offered here)")
        return expr.DECLINED
    kind = item.type
    if kind in ("single", "yesno"):
        if isinstance(raw, (list, dict)):
            raise AnswerError(item.id, "takes one answer, not a list")
        return _choice(item, raw)
    if kind == "multi":
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise AnswerError(item.id, "choose at least one answer (or the 'none' answer)")
        chosen = [_choice(item, v) for v in values]
        ordered = [o.value for o in item.options if o.value in chosen]
        exclusive = [v for v in ordered if v in item.exclusive]
        if exclusive and len(ordered) > 1:
            raise AnswerError(
                item.id, f"'{item.label_of(exclusive[0])}' cannot be chosen with other answers"
            )
        return ordered
    if kind == "integer":
        if isinstance(raw, bool):
            raise AnswerError(item.id, "needs a whole number")
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw.strip())
        if not isinstance(raw, int):
            raise AnswerError(item.id, f"needs a whole number from {item.min} to {item.max}")
        if (item.min is not None and raw < item.min) or (item.max is not None and raw > item.max):
            raise AnswerError(item.id, f"{raw} is outside {item.min} to {item.max}")
        return raw
    if kind == "date":
        day: date
        if isinstance(raw, date):
            day = raw
        elif isinstance(raw, str):
            # As the worker writes dates everywhere else: YYYY-MM-DD or DD/MM/YYYY.
            try:
                day = validation.iso_date(raw, "The date")
            except BadInput:
                raise AnswerError(item.id, DATE_HINT) from None
        else:
            raise AnswerError(item.id, DATE_HINT)
        today = today or clock.today()
        if not item.future_dates and day > today:
            raise AnswerError(item.id, "is in the future; check the date")
        if day.year < 1900:
            raise AnswerError(item.id, "is before 1900; check the date")
        return day
    if kind == "text":
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise AnswerError(item.id, "needs some text")
        try:
            text = clean_note(str(raw), item.id, max_len=item.max_length)
        except BadInput as exc:
            raise AnswerError(item.id, exc.message.removeprefix(f"{item.id} ")) from None
        if not text:
            raise AnswerError(item.id, "is empty")
        return text
    raise AnswerError(item.id, f"has an unknown type {kind}")  # pragma: no cover


def to_storage(value: Any) -> Any:
    """A parsed value as JSON-able data (dates as ISO text)."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_storage(item: Item, value: Any) -> Any:
    if item.type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value
