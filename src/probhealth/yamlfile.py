"""Reading definition and answers files safely, with line numbers for every error.

Every questionnaire, rules, services and answers file goes through :func:`load`:

- size capped (1 MiB) before parsing; UTF-8 only (a UTF-8 BOM is tolerated);
- parsed by a PyYAML *safe* loader with YAML 1.2-style scalars: only ``true``/``false`` are
  booleans (so ``no`` stays the text "no"), only plain decimals are numbers (so ``9:30`` stays
  "9:30" instead of YAML 1.1's sexagesimal 570, and ``0123`` keeps its zero);
- anchors and aliases refused (no "billion laughs"), any tag other than the plain types
  refused (``!!python/object`` never reaches a constructor), duplicate keys refused, nesting
  capped, ``RecursionError`` caught;
- the result keeps the line of every value, so a later validation error (pydantic) can be
  reported as ``FILE:LINE: message``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from probhealth.errors import FileError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 40
Loc = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_ALLOWED_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style implicit types and no aliases or anchors."""

    source_name = "<file>"

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.check_event(AliasEvent) or getattr(event, "anchor", None):
            raise FileError(self.source_name, event.start_mark.line + 1, "anchors and aliases (&name, *name) are not allowed")
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?"
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        "0123456789",
    ),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


@dataclass(frozen=True)
class Document:
    """Parsed data plus the line of each value (by its path of keys and indexes)."""

    name: str
    data: Any
    lines: dict[Loc, int]
    columns: dict[Loc, int]

    def line(self, loc: Sequence[str | int]) -> int | None:
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def column(self, loc: Sequence[str | int]) -> int | None:
        return self.columns.get(tuple(loc))

    def error(self, loc: Sequence[str | int], message: str) -> FileError:
        return FileError(self.name, self.line(loc), message)


def read_text(path: Path, *, name: str | None = None, max_bytes: int = MAX_BYTES) -> str:
    """Read a file as UTF-8 text, refusing big, binary or wrongly encoded files."""
    label = name or str(path)
    try:
        if path.is_dir():
            raise FileError(label, None, "is a folder, not a file")
        size = path.stat().st_size
        if size > max_bytes:
            raise FileError(label, None, f"is {size:,} bytes; the limit is {max_bytes:,} bytes")
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise FileError(label, None, "file not found") from None
    except PermissionError:
        raise FileError(label, None, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise FileError(label, None, f"cannot be read ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise FileError(label, None, f"is larger than the {max_bytes:,}-byte limit")
    return decode(raw, label)


def decode(raw: bytes, label: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(label, 1, "is UTF-16 encoded; save it as UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(label, line, "is not valid UTF-8 text; save it as UTF-8") from None
    if "\x00" in text:
        raise FileError(label, text[: text.index("\x00")].count("\n") + 1, "contains a NUL byte; is it a text file?")
    return text


def load(path: Path, *, name: str | None = None, max_bytes: int = MAX_BYTES) -> Document:
    label = name or str(path)
    text = read_text(path, name=label, max_bytes=max_bytes)
    if path.suffix.lower() == ".json":
        return loads_json(text, label)
    return loads(text, label)


def loads(text: str, name: str) -> Document:
    """Parse YAML text (see the module doc for what is refused)."""
    loader = _Loader(text)
    loader.source_name = name
    try:
        node = loader.get_single_node()
    except FileError:
        raise
    except RecursionError:
        raise FileError(name, None, f"is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FileError(name, line, f"is not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FileError(name, None, f"is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise FileError(name, 1, "is empty")
    lines: dict[Loc, int] = {}
    columns: dict[Loc, int] = {}
    try:
        data = _construct(node, (), loader, name, lines, columns, 0)
    except RecursionError:
        raise FileError(name, None, "is nested too deeply") from None
    return Document(name, data, lines, columns)


def _construct(node: Node, loc: Loc, loader: _Loader, name: str, lines: dict[Loc, int], columns: dict[Loc, int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise FileError(name, node.start_mark.line + 1, f"is nested more than {MAX_DEPTH} levels deep")
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        if node.tag not in _ALLOWED_SCALAR_TAGS:
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        # Column of the first character of the value's text (after an opening quote).
        columns[loc] = node.start_mark.column + 1 + (1 if node.style in ("'", '"') else 0)
        if node.tag == _STR:
            return str(node.value)
        try:
            return loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            raise FileError(name, node.start_mark.line + 1, f"cannot read value {node.value!r}: {exc}") from None
    if isinstance(node, SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        return [_construct(child, (*loc, i), loader, name, lines, columns, depth + 1) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise FileError(name, line, "keys must be plain text (no merge keys or complex keys)")
            key = str(key_node.value)
            if key in out:
                raise FileError(name, line, f"the key {key!r} appears twice")
            out[key] = _construct(value_node, (*loc, key), loader, name, lines, columns, depth + 1)
            lines.setdefault((*loc, key), line)
        return out
    raise FileError(name, node.start_mark.line + 1, "unexpected YAML content")  # pragma: no cover


def loads_json(text: str, name: str) -> Document:
    """Parse JSON, refusing duplicate keys; lines are found for top-level keys."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise FileError(name, _json_key_line(text, key), f"the key {key!r} appears twice")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant)
    except FileError:
        raise
    except RecursionError:
        raise FileError(name, None, "is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise FileError(name, exc.lineno, f"is not valid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise FileError(name, None, f"is not valid JSON: {exc}") from None
    lines: dict[Loc, int] = {(): 1}
    if isinstance(data, dict):
        for key in data:
            lines[(key,)] = _json_key_line(text, key)
    return Document(name, data, lines, {})


def _no_constant(value: str) -> Any:
    raise ValueError(f"{value} is not allowed")


def _json_key_line(text: str, key: str) -> int:
    idx = text.find(json.dumps(key))
    return text[:idx].count("\n") + 1 if idx >= 0 else 1


def validation_error(doc: Document, exc: Any) -> FileError:
    """The first pydantic error as ``FILE:LINE: where: what``."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = err.get("type", "")
    where = ".".join(str(p) for p in loc) or "the file"
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        parent = ".".join(str(p) for p in loc[:-1]) or "the top level"
        message = f"unknown key {key!r} in {parent}"
    elif kind == "missing":
        message = f"{where} is required"
    else:
        msg = str(err.get("msg", "invalid value"))
        msg = msg.removeprefix("Value error, ")
        message = f"{where}: {msg}"
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return FileError(doc.name, doc.line(loc), message)
