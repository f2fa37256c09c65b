"""Text from people and files: validated on the way in, neutralised on the way out.

Names are stored NFC with no control, format (bidi overrides, zero-width) or private-use
characters (reliability rows 19-21). Everything shown on a terminal also goes through
:func:`for_terminal`, so even text that reached the database another way (an import from an
older version, a definition file) cannot move the cursor, retitle the window or write the
clipboard. Rich markup is never built from data: renderers pass data as ``rich.text.Text``.
"""

from __future__ import annotations

import unicodedata

from probhealth.errors import BadInput

# Categories refused in names and other short fields: control, format (includes bidi
# controls such as U+202E and zero-width characters), surrogate, private use, unassigned,
# line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
NAME_MAX = 100
NOTE_MAX = 2000


def _bad_char(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def clean_name(value: str, field: str, *, max_len: int = NAME_MAX) -> str:
    """Validate a name-like field; return it stripped and NFC-normalised."""
    text = (value if value.isascii() else unicodedata.normalize("NFC", value)).strip()
    if not text:
        raise BadInput(f"{field} is empty; give a value.")
    if text.isprintable() and len(text) <= max_len:
        return text  # no control, format, private-use or unassigned character: nothing to check
    return _checked(text, field, max_len)


def clean_note(value: str, field: str = "note", *, max_len: int = NOTE_MAX) -> str:
    """Free text (notes, reasons): like a name but line breaks and tabs are allowed."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    return _checked(text, field, max_len, allowed="\n\t")


def _checked(text: str, field: str, max_len: int, *, allowed: str = "") -> str:
    """``text`` if it holds no invisible or control character (but those ``allowed``) and is
    no longer than ``max_len``; else the one line that says which."""
    for ch in text:
        if ch not in allowed and _bad_char(ch):
            raise BadInput(
                f"{field} contains an invisible or control character ({describe_char(ch)}); "
                "retype it without that character."
            )
    if len(text) > max_len:
        raise BadInput(f"{field} is longer than {max_len} characters; shorten it.")
    return text


def search_key(value: str) -> str:
    """The form used to match and de-duplicate names: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def scripts_of(value: str) -> set[str]:
    """The writing systems of the letters in ``value`` (first word of the Unicode name)."""
    found: set[str] = set()
    for ch in value:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if name:
                found.add(name.split(" ", 1)[0])
    return found


def mixed_script_warning(value: str, field: str) -> str | None:
    """A warning (not a refusal) for names mixing scripts, e.g. a Cyrillic letter in "Smith"."""
    scripts = scripts_of(value)
    if len(scripts) > 1:
        return (
            f"{field} mixes writing systems ({', '.join(sorted(s.title() for s in scripts))}); "
            "check it was typed as intended."
        )
    return None


def for_terminal(value: object) -> str:
    """Make any value safe to print: control/format characters become visible ``\\xNN`` escapes.

    Newlines and tabs survive (notes); everything else in the refused categories, including
    ESC, C1 controls such as U+009B, bidi overrides and zero-width characters, is escaped.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif _bad_char(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
