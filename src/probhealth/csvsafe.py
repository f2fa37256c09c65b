"""Spreadsheet-safe CSV cells (reliability row 14, OWASP CSV injection).

A text cell is neutralised line by line: a line whose first non-space character could start a
formula (= + - @, tab, carriage return, or their full-width forms) gets a leading apostrophe,
which spreadsheets show as "this is text". A line that already starts with an apostrophe gets
one too, so the change is exactly reversible: :func:`restore` removes one leading apostrophe
from every line that has one. Numbers, dates and booleans are never text cells, so ``-3``
stays a number. Quoting (RFC 4180) is the csv module's job; it does not stop formulas.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# Every character a cell may start with that needs a closer look: triggers, the apostrophe,
# and all whitespace (a formula may hide behind it).
RISKY_FIRST = frozenset(TRIGGERS | {"'"} | {chr(c) for c in range(0x3001) if chr(c).isspace()})


def _needs_apostrophe(line: str) -> bool:
    if line.startswith("'"):
        return True
    for ch in line:
        if ch in TRIGGERS:
            return True
        if not ch.isspace():
            return False
    return False


def neutralise(text: str) -> str:
    if not text:
        return text
    first = text[0]
    if "\n" not in text and first not in TRIGGERS and first != "'" and not first.isspace():
        return text  # the common case, decided by one character
    return "\n".join("'" + line if _needs_apostrophe(line) else line for line in text.split("\n"))


def restore(text: str) -> str:
    """The original text of a neutralised cell."""
    return "\n".join(line[1:] if line.startswith("'") else line for line in text.split("\n"))


def cell(value: Any) -> Any:
    """A value ready for csv.writer: text neutralised, numbers as numbers, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def fast_cell(value: Any) -> Any:
    """``cell`` with the common types decided first (the export's inner loop)."""
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if kind is int or kind is float:
        return value
    return cell(value)
