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

A file with several problems: :func:`validation_problems` turns every pydantic error into one
plain ``FILE:LINE: message`` (a pattern is described in words, never shown as a regex), and
:class:`FileProblems` carries them all. A ``check`` command shows the whole list; loading a
file for use raises :meth:`FileProblems.summary`, one line naming the first problem, how many
more there are, and a remedy naming the check that lists them.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from probhealth.errors import FileError, Remedy

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


_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available (10x faster)


class _Loader(_BASE):  # type: ignore[misc]
    """Safe loader (libyaml's C parser when present) with YAML 1.2-style implicit types.

    Aliases, anchors and explicit tags are refused by :func:`_check_events` before any node
    is composed, so they never reach a constructor."""


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


def _check_events(text: str, name: str) -> None:
    """One streaming pass over the parser's events: refuse anchors, aliases, explicit tags and
    deep nesting before anything is built (the event parser itself does not recurse)."""
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
                raise FileError(name, line, "anchors and aliases (&name, *name) are not allowed")
            tag = getattr(event, "tag", None)
            if tag is not None and not (isinstance(event, DocumentStartEvent)):
                raise FileError(
                    name,
                    line,
                    f"explicit tags such as {tag} are not allowed; write the plain value",
                )
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FileError(name, line, f"is nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Document:
    """Parsed data plus the line of each value (by its path of keys and indexes); for a
    mapping entry, the line of its key."""

    name: str
    data: Any
    lines: dict[Loc, int]
    columns: dict[Loc, int]
    text: str = ""
    scalars: dict[Loc, ScalarNode] | None = None

    def position(self, loc: Sequence[str | int], offset: int) -> tuple[int, int] | None:
        """Line and column (1-based) in the file of character ``offset`` of a text value, or
        None when the value's layout cannot be mapped exactly (then callers say less)."""
        node = (self.scalars or {}).get(tuple(loc))
        if node is None or not self.text:
            return None
        positions = scalar_positions(self.text, node)
        if positions is None or not 0 <= offset < len(positions):
            return None
        line0, col0 = positions[offset]
        return line0 + 1, col0 + 1

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


_ESCAPE_LEN = {"x": 4, "u": 6, "U": 10}


def _decode_segment(raw: str, style: str | None) -> list[tuple[str, int]] | None:
    """Characters of one line of a scalar with the raw offset each came from."""
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if style == '"' and ch == "\\":
            if i + 1 >= len(raw):
                return None
            kind = raw[i + 1]
            width = _ESCAPE_LEN.get(kind, 2)
            try:
                decoded = yaml.safe_load('"' + raw[i : i + width] + '"')
            except yaml.YAMLError:
                return None
            if not isinstance(decoded, str) or len(decoded) != 1:
                return None
            out.append((decoded, i))
            i += width
            continue
        if style == "'" and raw.startswith("''", i):
            out.append(("'", i))
            i += 2
            continue
        out.append((ch, i))
        i += 1
    return out


def scalar_positions(text: str, node: ScalarNode) -> list[tuple[int, int]] | None:
    """(line, column), 0-based, of each character of a scalar's value in the file, for the
    layouts conditions are written in: plain, quoted (with escapes), folded or literal blocks.
    None if the mapping cannot be proved (the rebuilt text must equal the parsed value)."""
    start, end = node.start_mark, node.end_mark
    raw = text[start.index : end.index]
    style = node.style or None  # libyaml reports plain scalars as "", PyYAML as None
    lines = raw.split("\n")
    segments: list[tuple[int, int, str]] = []  # (line, column of first char, text)
    if style in (None, "'", '"'):
        if style:
            lines[0] = lines[0][1:]
            lines[-1] = lines[-1][:-1] if lines[-1].endswith(style) else lines[-1]
        for k, part in enumerate(lines):
            col = (
                start.column + (1 if style else 0)
                if k == 0
                else len(part) - len(part.lstrip(" \t"))
            )
            body = part if k == 0 else part.lstrip(" \t")
            segments.append(
                (
                    start.line + k,
                    col,
                    body.rstrip(" \t") if k < len(lines) - 1 or not style else body,
                )
            )
        joiner = " "
    elif style in (">", "|"):
        content = list(lines[1:])
        while content and not content[-1].strip():
            content.pop()
        if not content or any(not ln.strip() for ln in content):
            return None
        indent = min(len(ln) - len(ln.lstrip(" ")) for ln in content)
        for k, part in enumerate(content):
            segments.append((start.line + 1 + k, indent, part[indent:]))
        joiner = " " if style == ">" else "\n"
        if style == ">" and any(seg[2].startswith((" ", "\t")) for seg in segments):
            return None
    else:
        return None
    chars: list[str] = []
    positions: list[tuple[int, int]] = []
    for k, (line, col, body) in enumerate(segments):
        decoded = _decode_segment(body, style if style in ("'", '"') else None)
        if decoded is None:
            return None
        if k:
            chars.append(joiner)
            positions.append(positions[-1] if positions else (line, col))
        for ch, offset in decoded:
            chars.append(ch)
            positions.append((line, col + offset))
    rebuilt = "".join(chars)
    if rebuilt.rstrip("\n") != node.value.rstrip("\n"):
        return None
    return positions


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
        raise FileError(
            label,
            text[: text.index("\x00")].count("\n") + 1,
            "contains a NUL byte; is it a text file?",
        )
    return text


def load(path: Path, *, name: str | None = None, max_bytes: int = MAX_BYTES) -> Document:
    label = name or str(path)
    text = read_text(path, name=label, max_bytes=max_bytes)
    if path.suffix.lower() == ".json":
        return loads_json(text, label)
    return loads(text, label)


def _check_flow_depth(text: str, name: str) -> None:
    """Refuse deep [ { nesting before PyYAML's scanner (quadratic on it) sees it."""
    depth = 0
    quote: str | None = None
    line = 1
    prev = "\n"
    for ch in text:
        if ch == "\n":
            line += 1
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and (prev in " \t\n[{,:"):
            quote = ch
        elif ch == "#" and prev in " \t\n":
            quote = "\n"  # a comment runs to the end of the line
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise FileError(name, line, f"is nested more than {MAX_DEPTH} levels deep")
        elif ch in "]}":
            depth = max(0, depth - 1)
        prev = ch


def loads(text: str, name: str) -> Document:
    """Parse YAML text (see the module doc for what is refused)."""
    _check_flow_depth(text, name)
    try:
        _check_events(text, name)
    except FileError:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, name) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except RecursionError:
        raise FileError(
            name, None, f"is nested too deeply (more than {MAX_DEPTH} levels)"
        ) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, name) from None
    finally:
        loader.dispose()
    if node is None:
        raise FileError(name, 1, "is empty")
    lines: dict[Loc, int] = {}
    columns: dict[Loc, int] = {}
    scalars: dict[Loc, ScalarNode] = {}
    try:
        data = _construct(node, (), loader, name, lines, columns, 0, scalars)
    except RecursionError:
        raise FileError(name, None, "is nested too deeply") from None
    return Document(name, data, lines, columns, text, scalars)


def _yaml_error(exc: yaml.YAMLError, text: str, name: str) -> FileError:
    """One ``FILE:LINE: message`` line for any PyYAML error (a ReaderError has no mark, only
    a character position, and its own text spans two lines)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return FileError(name, line, f"is not valid YAML: {exc.problem or exc.context}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return FileError(
            name, line, f"contains a control character (U+{code:04X}); remove it and try again"
        )
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FileError(name, None, f"is not valid YAML: {first}")


def _construct(
    node: Node,
    loc: Loc,
    loader: _Loader,
    name: str,
    lines: dict[Loc, int],
    columns: dict[Loc, int],
    depth: int,
    scalars: dict[Loc, ScalarNode],
) -> Any:
    if depth > MAX_DEPTH:
        raise FileError(
            name, node.start_mark.line + 1, f"is nested more than {MAX_DEPTH} levels deep"
        )
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        scalars[loc] = node
        if node.tag not in _ALLOWED_SCALAR_TAGS:
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        # Column of the first character of the value's text (after an opening quote).
        columns[loc] = node.start_mark.column + 1 + (1 if (node.style or None) in ("'", '"') else 0)
        if node.tag == _STR:
            return str(node.value)
        try:
            return loader.construct_object(node, deep=True)
        except Exception as exc:
            raise FileError(
                name, node.start_mark.line + 1, f"cannot read value {node.value!r}: {exc}"
            ) from None
    if isinstance(node, SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        return [
            _construct(child, (*loc, i), loader, name, lines, columns, depth + 1, scalars)
            for i, child in enumerate(node.value)
        ]
    if isinstance(node, MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise FileError(name, node.start_mark.line + 1, f"the tag {node.tag} is not allowed")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise FileError(
                    name, line, "keys must be plain text (no merge keys or complex keys)"
                )
            key = str(key_node.value)
            if key in out:
                raise FileError(name, line, f"the key {key!r} appears twice")
            lines[(*loc, key)] = line  # errors about an entry point at its key
            out[key] = _construct(
                value_node, (*loc, key), loader, name, lines, columns, depth + 1, scalars
            )
        return out
    raise FileError(name, node.start_mark.line + 1, "unexpected YAML content")  # pragma: no cover


def loads_json(text: str, name: str) -> Document:
    """Parse JSON, refusing duplicate keys; lines are found for top-level keys."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise FileError(name, _json_duplicate_line(text), f"the key {key!r} appears twice")
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
    """Line of the first place ``"key":`` appears (a key, not a value)."""
    m = re.search(re.escape(json.dumps(key)) + r"\s*:", text)
    return text[: m.start()].count("\n") + 1 if m else 1


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _json_duplicate_line(text: str) -> int | None:
    """Line of the first key repeated inside one JSON object (text already known valid)."""
    stack: list[set[str] | None] = []
    last: tuple[str, int] | None = None
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok == "{":
            stack.append(set())
        elif tok == "[":
            stack.append(None)
        elif tok in "}]":
            if stack:
                stack.pop()
        elif tok == ":" and last is not None and stack and stack[-1] is not None:
            key, pos = last
            if key in stack[-1]:
                return text[:pos].count("\n") + 1
            stack[-1].add(key)
        last = (json.loads(tok), m.start()) if tok.startswith('"') else None
    return None


def _data_path(data: Any, loc: Sequence[Any]) -> Loc:
    """The part of a pydantic error location that exists in the data (drops union branch
    names such as 'list[OptionModel]' or 'constrained-str')."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and path
            and part not in node
            and not part[:1].isupper()
            and "[" not in part
            and "-" not in part
        ):
            path.append(part)  # a missing or unknown key: report at its parent
            break
    return tuple(path)


# ------------------------------------------------------------------ several problems ----
MAX_LISTED = 50

_PATTERN_HELP: dict[str, str] = {}


def text_pattern(regex: str, description: str) -> Any:
    """A pydantic pattern constraint whose error says ``must be <description>`` in words
    (e.g. "lower-case letters, digits and hyphens") instead of showing the regex."""
    from pydantic import StringConstraints

    # One description per pattern: the table is global, so a second wording would make an
    # error message depend on which module happened to be imported first.
    if _PATTERN_HELP.setdefault(regex, description) != description:
        raise ValueError(f"pattern {regex!r} already described differently")
    return StringConstraints(pattern=regex)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


class FileProblems(FileError):
    """Every problem found in one file, in file order (by line, then column).

    ``str()`` lists them one a line as ``FILE:LINE: message``, at most ``MAX_LISTED`` and
    then how many more; with one problem it is exactly that problem's line. A ``check``
    command shows this; loading a file for use raises :meth:`summary` instead.

    ``complete=False``: the file's layout is wrong, so its conditions and references were
    not checked yet; the heading says so."""

    def __init__(self, name: str, problems: Iterable[FileError], *, complete: bool = True) -> None:
        unique: dict[tuple[int, int, str], FileError] = {}
        for problem in problems:
            unique.setdefault((problem.line or 0, problem.column or 0, problem.detail), problem)
        if not unique:
            raise ValueError("FileProblems needs at least one problem")
        ordered = [unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1]))]
        self.problems: tuple[FileError, ...] = tuple(ordered)
        if len(ordered) == 1:
            only = ordered[0]
            super().__init__(only.file, only.line, only.detail, column=only.column)
            return
        shown = [str(p) for p in ordered[:MAX_LISTED]]
        hidden = len(ordered) - MAX_LISTED
        if hidden > 0:
            shown.append(
                f"{name}: and {hidden} more problem{_s(hidden)}; fix these, then check again"
            )
        heading = f"{len(ordered)} problems"
        if not complete:
            heading += " (conditions and references are checked once these are fixed)"
        super().__init__(name, None, f"{heading}:\n" + "\n".join(shown))

    def summary(self, kind: str) -> FileError:
        """One line for normal use: the first problem and, when there are more, a remedy
        (``check-definition``) naming how many and the check of ``kind`` (``rules``,
        ``questionnaire``) that lists them all."""
        first = self.problems[0]
        more = len(self.problems) - 1
        remedy = (
            Remedy.of("check-definition", kind=kind, path=self.file, more=more) if more else None
        )
        return FileError(first.file, first.line, first.detail, column=first.column, remedy=remedy)


def raise_problems(name: str, problems: Sequence[FileError]) -> None:
    """Raise :class:`FileProblems` if there are any problems."""
    if problems:
        raise FileProblems(name, problems)


# What each kind of value is, for "must be ..." when a value has the wrong type.
_TYPE_NOUNS = {
    "string_type": "text",
    "string_unicode": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "none_required": "empty",
}


def validation_problems(doc: Document, exc: Any, model: Any = None) -> list[FileError]:
    """Every error of a pydantic ``ValidationError`` as a plain ``FILE:LINE: message``.

    ``model`` (the pydantic model validated) lets an unknown key's message list the keys
    allowed there. Where a value may take several forms (an option set's name or a list of
    options), only the form the file was evidently using is reported."""
    out: list[FileError] = []
    for err in _winning_branches(doc.data, exc.errors(include_url=False)):
        loc = _data_path(doc.data, err["loc"])
        out.append(FileError(doc.name, doc.line(loc), _plain_message(err, loc, model)))
    return out


def _has(node: Any, part: Any) -> bool:
    """Whether ``part`` is a key (of a mapping) or an index (of a list) present in ``node``."""
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _branch_point(data: Any, loc: Sequence[Any], kind: str) -> tuple[Loc, Any] | None:
    """Where a pydantic location leaves the data through a union branch name (such as
    'list[OptionModel]' or 'int'): (the location up to it, the branch name)."""
    node = data
    for i, part in enumerate(loc):
        if _has(node, part):
            node = node[part]
        elif isinstance(part, str) and not (i == len(loc) - 1 and kind == "missing"):
            return tuple(loc[:i]), part
        else:
            return None
    return None


def _winning_branches(data: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the errors of union branches the value plainly was not (a list given where an
    option set's name was also allowed); if it matched no branch at all, one error says
    which kinds of value are allowed."""
    out: list[dict[str, Any]] = []
    unions: dict[Loc, dict[Any, list[dict[str, Any]]]] = {}
    for err in errors:
        branch = _branch_point(data, err["loc"], err.get("type", ""))
        if branch is None:
            out.append(err)
        else:
            unions.setdefault(branch[0], {}).setdefault(branch[1], []).append(err)
    for point, branches in unions.items():

        def wrong_kind(err: dict[str, Any], depth: int = len(point)) -> bool:
            return err.get("type") in _TYPE_NOUNS and len(err["loc"]) == depth + 1

        winners = [errs for errs in branches.values() if not all(map(wrong_kind, errs))]
        if winners:
            # Without the branch name, a union nested inside this branch is found next.
            depth = len(point)
            inner = [
                {**err, "loc": (*err["loc"][:depth], *err["loc"][depth + 1 :])}
                for errs in winners
                for err in errs
            ]
            out.extend(_winning_branches(data, inner))
            continue
        nouns: list[str] = []
        for errs in branches.values():
            for err in errs:
                noun = _TYPE_NOUNS[err["type"]]
                if noun not in nouns:
                    nouns.append(noun)
        first = next(iter(branches.values()))[0]
        out.append({**first, "loc": point, "type": "union_kind", "nouns": nouns})
    return out


def _shown(value: Any) -> str | None:
    """A short form of a scalar value for a message, or None for anything bigger."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 42 else text[:38] + "...'"
    return None


def _requirement(err: dict[str, Any]) -> tuple[str, bool] | None:
    """(what the value must be, whether to show the value found), or None if unknown."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "union_kind":
        return "must be " + " or ".join(err["nouns"]), True
    if kind in _TYPE_NOUNS:
        return f"must be {_TYPE_NOUNS[kind]}", True
    if kind == "string_pattern_mismatch":
        described = _PATTERN_HELP.get(str(ctx.get("pattern")))
        return (f"must be {described}" if described else "is not in the expected form"), True
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}", True
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return ("must not be empty" if n == 1 else f"must be at least {n} characters"), False
    if kind == "string_too_long":
        n = ctx.get("max_length")
        size = len(err["input"]) if isinstance(err.get("input"), str) else None
        return f"must be at most {n} characters" + (f" (it has {size})" if size else ""), False
    if kind == "too_short":
        n = int(ctx.get("min_length", 1))
        return f"needs at least {n} entr{'y' if n == 1 else 'ies'}", False
    if kind == "too_long":
        n = int(ctx.get("max_length", 0))
        return f"can have at most {n} entr{'y' if n == 1 else 'ies'}", False
    for key, words in (
        ("ge", "{} or more"),
        ("gt", "more than {}"),
        ("le", "{} or less"),
        ("lt", "less than {}"),
    ):
        if key in ctx and kind.startswith(("greater_than", "less_than")):
            return "must be " + words.format(ctx[key]), True
    return None


def plain_message(err: Any) -> str:
    """One pydantic error in plain words, where its location is the path as given."""
    return _plain_message(err, tuple(err["loc"]), None)


def _plain_message(err: dict[str, Any], loc: Loc, model: Any) -> str:
    raw_loc = tuple(err["loc"])
    kind = err.get("type", "")
    where = ".".join(str(p) for p in loc) or "the file"
    if kind == "extra_forbidden":
        key = raw_loc[-1] if raw_loc else "?"
        parent = ".".join(str(p) for p in loc[:-1]) or "the top level"
        message = f"unknown key {key!r} in {parent}"
        allowed = _allowed_keys(model, raw_loc[:-1]) if model is not None else None
        return message + (f" (allowed keys: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        key = raw_loc[-1] if raw_loc else "?"
        if isinstance(key, int):  # a fixed-length list such as a band [low, high, label]
            return f"{where}: value {key + 1} is missing"
        parent = ".".join(str(p) for p in (loc[:-1] if loc and loc[-1] == key else loc))
        return f"{parent}: {key} is required" if parent else f"{key} is required (at the top level)"
    requirement = _requirement(err)
    if requirement is None:
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        msg = msg.removeprefix("Assertion failed, ")
        if msg.startswith("Input should be "):
            msg = "must be " + msg.removeprefix("Input should be ")
            return f"{where} {msg}"
        return f"{where}: {msg}"
    text, show = requirement
    found = _shown(err.get("input")) if show else None
    return f"{where} {text}" + (f" (found {found})" if found is not None else "")


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _step(tp: Any, part: str | int) -> Any:
    """The type found at ``part`` (a key or index) inside ``tp``, or None."""
    tp = _unwrap(tp)
    if _is_union(tp):
        for member in typing.get_args(tp):
            if member is not type(None):
                found = _step(member, part)
                if found is not None:
                    return found
        return tp if isinstance(part, str) else None  # a branch name: stay on the union
    fields = getattr(tp, "model_fields", None)
    if isinstance(tp, type) and isinstance(fields, dict):
        field = fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
        if origin is tuple and args[-1] is not Ellipsis:
            return args[part] if part < len(args) else None
        return args[0]
    if origin is dict and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _allowed_keys(model: Any, loc: Sequence[Any]) -> list[str] | None:
    """The keys the pydantic model allows at ``loc`` (a pydantic location), if known."""
    tp: Any = model
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    candidates = typing.get_args(tp) if _is_union(tp) else (tp,)
    for candidate in candidates:
        fields = getattr(_unwrap(candidate), "model_fields", None)
        if isinstance(fields, dict):
            return list(fields)
    return None
