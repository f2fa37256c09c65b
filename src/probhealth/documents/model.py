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

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["para", "fact", "check", "strong"]


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
