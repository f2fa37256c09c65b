"""What a document says, as plain data; the renderers decide how it looks.

A :class:`Line` is one thing to say. ``kind`` tells the renderers how to show it:

- ``para``: a sentence or two;
- ``fact``: a labelled value ("Phone: 01223 000 101"), the label in bold;
- ``check``: a step to tick off (a box to tick on paper);
- ``strong``: a line in bold (a phone number to call now).

``prose`` marks the tool's own words (measured for reading ease); names, addresses, phone
numbers and notes typed by a worker are not prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Kind = Literal["para", "fact", "check", "strong"]
NBSP = "\u00a0"
# A phone number ("01223 000 199", "116 123") or a time range ("5pm to 7pm") broken across two
# lines is easily misread (a number missing its last digits): the renderers keep each on one.
_TOGETHER = re.compile(
    r"(?<![\w:])(?:0\d{2,4}(?: \d{3,4}){1,2}|1\d\d \d{3}"
    r"|\d{1,2}(?::\d\d)?(?:am|pm) to (?:\d{1,2}(?::\d\d)?(?:am|pm)|12 noon)|12 noon)(?!\w)"
)


def keep_together(text: str) -> str:
    """The text with the spaces inside phone numbers and time ranges made non-breaking."""
    return _TOGETHER.sub(lambda m: m.group(0).replace(" ", NBSP), text)


@dataclass(frozen=True)
class Line:
    text: str
    kind: Kind = "para"
    label: str | None = None
    prose: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[Line, ...]
    kind: str = "item"  # item | steps | help | contact | details

    def to_json(self) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "kind": self.kind,
            "lines": [line.to_json() for line in self.lines],
        }


@dataclass(frozen=True)
class Document:
    kind: str  # handout | letter
    title: str
    sections: tuple[Section, ...]
    intro: tuple[Line, ...] = ()
    large_print: bool = False
    footer: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # for the page header (date, from)

    def prose(self) -> str:
        """The tool's own sentences, one paragraph each (for the reading-ease check)."""
        parts = [line.text for line in self.intro if line.prose]
        for section in self.sections:
            parts.extend(line.text for line in section.lines if line.prose)
        return "\n".join(_sentence(p) for p in parts)

    def kept_together(self) -> Document:
        """The same document with phone numbers and time ranges that never break a line."""

        def lines(items: tuple[Line, ...]) -> tuple[Line, ...]:
            return tuple(replace(line, text=keep_together(line.text)) for line in items)

        return replace(
            self,
            intro=lines(self.intro),
            sections=tuple(replace(s, lines=lines(s.lines)) for s in self.sections),
            meta={key: keep_together(value) for key, value in self.meta.items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "large_print": self.large_print,
            "intro": [line.to_json() for line in self.intro],
            "sections": [s.to_json() for s in self.sections],
            "footer": self.footer,
        }


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."
