"""A small, safe condition language shared by questionnaire skip logic (``show_if``), flags,
needs and barriers, and the rules file (``when``).

    answers.phq9_9 >= 1
    scores.audit_c >= 5 and not flags.self_harm_thoughts
    answers.gp_registered in ["no", "not sure"]
    "low-literacy" in barriers or count(answers.hvs_1 != "never", answers.hvs_2 != "never") >= 1

Text is tokenised and parsed once by a hand-written recursive-descent parser into a tree of
Python closures; nothing is ever passed to ``eval``. Only the names and functions declared by
the caller's :class:`Scope` are accepted, and that is checked when the file is loaded, so a
typo fails at ``questionnaire check`` time rather than silently never firing.

Missing values: an item that was not asked, or not answered, is ``MISSING``; "prefer not to
say" is ``DECLINED``. Both are falsy, and every comparison involving them is false (so both
``answers.x == 1`` and ``answers.x != 1`` are false when ``x`` is missing). Use
``answered(answers.x)`` / ``declined(answers.x)`` to test for them explicitly.

Functions: ``answered(name)``, ``declined(name)``, ``any_of(name, [list])`` (a multi-choice
answer shares a value with the list), ``count(cond, ...)`` (how many are true),
``size(collection)`` (how many barriers, needs...), ``days_since(date name)``, plus whatever
the scope adds (the rules file adds ``referrals.open("pathway")`` and ``consented("purpose")``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 40


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Sentinel("MISSING")
DECLINED: Final = _Sentinel("DECLINED")
# The third truth value: a condition that the answers given can neither prove nor rule out
# (a partly answered scale, or a declined answer read for risk). Falsy, so ``test`` treats it
# as "not met"; ``evaluate`` returns it for callers that show the worker what could apply.
UNKNOWN: Final = _Sentinel("UNKNOWN")


@dataclass(frozen=True)
class Range:
    """A partly answered scale: ``lo`` is what the answered items prove, ``hi`` adds the
    highest score of every missing item. A threshold is met when ``lo`` reaches it, not met
    when ``hi`` stays below it, and UNKNOWN otherwise."""

    lo: int
    hi: int

    def __bool__(self) -> bool:
        return False


def _range_compare(op: str, r: Range, c: Any, flipped: bool) -> Any:
    if isinstance(c, bool) or not isinstance(c, (int, float)):
        return False
    if flipped:  # constant OP range  ->  range OP' constant
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
    lo, hi = r.lo, r.hi
    if op == ">=":
        return True if lo >= c else (False if hi < c else UNKNOWN)
    if op == ">":
        return True if lo > c else (False if hi <= c else UNKNOWN)
    if op == "<=":
        return True if hi <= c else (False if lo > c else UNKNOWN)
    if op == "<":
        return True if hi < c else (False if lo >= c else UNKNOWN)
    if op == "==":
        return True if lo == hi == c else (False if not lo <= c <= hi else UNKNOWN)
    if op == "!=":
        return False if lo == hi == c else (True if not lo <= c <= hi else UNKNOWN)
    return False  # pragma: no cover


def is_absent(value: object) -> bool:
    return value is MISSING or value is DECLINED


class ExprError(ValueError):
    """A condition that cannot be accepted; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


# --------------------------------------------------------------------------- scope ------
@dataclass(frozen=True)
class Scope:
    """What a condition may refer to.

    ``fields``: root name -> the attribute names allowed after it (``answers`` -> item ids).
    ``collections``: bare names that are sets of strings (``barriers``, ``needs``).
    ``functions``: extra function names allowed (``referrals.open``, ``consented``).
    """

    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    collections: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()

    def extend(self, **more_fields: Iterable[str]) -> Scope:
        merged = dict(self.fields)
        for root, names in more_fields.items():
            merged[root] = frozenset(merged.get(root, frozenset())) | frozenset(names)
        return Scope(merged, self.collections, self.functions)


class Env:
    """The values a compiled condition reads. Subclasses or instances fill the mappings."""

    __slots__ = ("_calls", "collections", "kleene", "notes", "roots", "today")

    def __init__(
        self,
        roots: Mapping[str, Mapping[str, Any]],
        collections: Mapping[str, frozenset[str]] | None = None,
        calls: Mapping[str, Callable[..., Any]] | None = None,
        today: date | None = None,
        *,
        kleene: bool = False,
    ) -> None:
        self.roots = roots
        self.collections = collections or {}
        self._calls = calls or {}
        self.today = today
        # kleene: a declined answer compares as UNKNOWN (read for risk) instead of false.
        # Partly answered scales (Range) are three-valued either way.
        self.kleene = kleene
        # (root, name, op, literal) of each comparison that came out UNKNOWN, for the worker.
        self.notes: list[tuple[str, str, str, Any]] = []

    def get(self, root: str, name: str) -> Any:
        mapping = self.roots.get(root)
        if mapping is None:
            return MISSING
        return mapping.get(name, MISSING)

    def call(self, name: str, args: list[Any]) -> Any:
        fn = self._calls.get(name)
        if fn is None:
            return MISSING
        return fn(*args)


# --------------------------------------------------------------------------- tokens -----
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>"(?:[^"\\\n]|\\["\\])*"|'(?:[^'\\\n]|\\['\\])*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|-)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null", "none"})


@dataclass(frozen=True)
class Token:
    kind: str  # num str name op kw end
    text: str
    col: int  # 1-based


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
            raise ExprError(f"unexpected character {shown!r}", pos + 1)
        kind = m.lastgroup or ""
        value = m.group()
        if kind != "ws":
            if kind == "name" and value.lower() in _KEYWORDS:
                kind = "kw"
                value = value.lower()
            tokens.append(Token(kind, value, pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# --------------------------------------------------------------------------- tree -------
Eval = Callable[[Env], Any]


@dataclass
class Compiled:
    """A parsed, checked condition. Call ``evaluate(env)`` as often as needed."""

    source: str
    fn: Eval
    names: frozenset[tuple[str, str]]  # (root, attr) pairs referenced
    collections: frozenset[str]
    comparisons: tuple[tuple[str, str, tuple[Any, ...], int], ...]  # (root, attr, literals, col)

    def evaluate(self, env: Env) -> Any:
        try:
            return self.fn(env)
        except (TypeError, ValueError, ArithmeticError):
            return False

    def truth(self, env: Env) -> Any:
        """True, False or UNKNOWN (the notes on ``env`` say which comparisons were unknown)."""
        try:
            value = self.fn(env)
        except (TypeError, ValueError, ArithmeticError):
            return False
        if value is UNKNOWN:
            return UNKNOWN
        return bool(value) and not is_absent(value)

    def test(self, env: Env) -> bool:
        try:
            return bool(self.fn(env))  # MISSING and DECLINED are falsy
        except (TypeError, ValueError, ArithmeticError):
            return False


def _compare(op: str, left: Any, right: Any) -> bool:
    if is_absent(left) or is_absent(right):
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)):
            return False  # true is not 1: different types never compare
        if op in ("==", "!="):
            return (left == right) if op == "==" else (left != right)
        return False
    numeric = (int, float)
    if isinstance(left, numeric) != isinstance(right, numeric):
        return False  # "2" and 2 are never equal, nor ordered
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if (
        isinstance(left, numeric)
        or (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, date) and isinstance(right, date))
    ):
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
    return False


def _contains(item: Any, container: Any) -> bool:
    if is_absent(item) or is_absent(container):
        return False
    if isinstance(container, (list, tuple, set, frozenset)):
        if isinstance(item, (list, tuple)):  # a multi-choice answer: any overlap
            return any(_compare("==", i, c) for i in item for c in container)
        return any(_compare("==", item, c) for c in container)
    return False


# Functions every scope has. Each takes evaluated args.
def _fn_answered(value: Any) -> bool:
    return not is_absent(value)


def _fn_declined(value: Any) -> bool:
    return value is DECLINED


def _fn_count(*values: Any) -> int:
    return sum(1 for v in values if v and not is_absent(v))


def _fn_any_of(value: Any, options: Any) -> bool:
    return _contains(value, options)


def _fn_size(value: Any) -> int:
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value)
    return 0


BUILTINS: Final[dict[str, tuple[Callable[..., Any], int, int, bool]]] = {
    # name: (function, min args, max args, first arg must be a name)
    "answered": (_fn_answered, 1, 1, True),
    "declined": (_fn_declined, 1, 1, True),
    "count": (_fn_count, 1, 50, False),
    "any_of": (_fn_any_of, 2, 2, True),
    "size": (_fn_size, 1, 1, False),
}
# days_since needs today's date from the environment, so it is special-cased below.


class _Parser:
    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.scope = scope
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.names: set[tuple[str, str]] = set()
        self.collections: set[str] = set()
        self.comparisons: list[tuple[str, str, tuple[Any, ...], int]] = []

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, text: str | None = None) -> Token:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text != text):
            want = text or kind
            got = tok.text or "the end"
            raise ExprError(f"expected {want!r} but found {got!r}", tok.col)
        return self.advance()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"nested more than {MAX_DEPTH} levels deep", self.tok.col)

    def leave(self) -> None:
        self.depth -= 1

    # grammar
    def parse(self) -> Eval:
        if not self.text.strip():
            raise ExprError("the condition is empty", 1)
        fn = self.parse_or()
        if self.tok.kind != "end":
            raise ExprError(f"unexpected {self.tok.text!r}", self.tok.col)
        return fn

    def parse_or(self) -> Eval:
        self.enter()
        parts = [self.parse_and()]
        while self.tok.kind == "kw" and self.tok.text == "or":
            self.advance()
            parts.append(self.parse_and())
        self.leave()
        if len(parts) == 1:
            return parts[0]

        def either(env: Env) -> Any:  # Kleene: true wins, then unknown
            unknown = False
            for part in parts:
                value = part(env)
                if value is UNKNOWN:
                    unknown = True
                elif value:  # MISSING and DECLINED are falsy
                    return True
            return UNKNOWN if unknown else False

        return either

    def parse_and(self) -> Eval:
        parts = [self.parse_not()]
        while self.tok.kind == "kw" and self.tok.text == "and":
            self.advance()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]

        def both(env: Env) -> Any:  # Kleene: false wins, then unknown
            unknown = False
            for part in parts:
                value = part(env)
                if value is UNKNOWN:
                    unknown = True
                elif not value:
                    return False
            return UNKNOWN if unknown else True

        return both

    def parse_not(self) -> Eval:
        if self.tok.kind == "kw" and self.tok.text == "not":
            self.advance()
            self.enter()
            inner = self.parse_not()
            self.leave()

            def negate(env: Env) -> Any:
                value = inner(env)
                return UNKNOWN if value is UNKNOWN else not _truthy(value)

            return negate
        return self.parse_comparison()

    def parse_comparison(self) -> Eval:
        left_tok = self.tok
        left, left_name = self.parse_primary()
        tok = self.tok
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            op = self.advance().text
            right_tok = self.tok
            right, right_name = self.parse_primary()
            self._note_comparison(left_name, right_name, left, right, left_tok, right_tok)
            if self.tok.kind == "op" and self.tok.text in ("==", "!=", "<", "<=", ">", ">="):
                raise ExprError("comparisons cannot be chained; join them with 'and'", self.tok.col)
            base = _fast_compare(op, left, right) or (
                lambda env: _compare(op, left(env), right(env))
            )
            return _three_valued(op, left, right, base, left_name or right_name)
        negate = False
        if tok.kind == "kw" and tok.text == "not" and self.tokens[self.pos + 1].text == "in":
            self.advance()
            negate = True
        if self.tok.kind == "kw" and self.tok.text == "in":
            self.advance()
            right_tok = self.tok
            right, right_name = self.parse_primary()
            if getattr(right, "literals", None) is not None and not getattr(
                right, "is_list", False
            ):
                raise ExprError(
                    'the right side of "in" must be a list such as ["a", "b"], or a name',
                    right_tok.col,
                )
            self._note_comparison(left_name, right_name, left, right, left_tok, right_tok)
            where = left_name or right_name
            if negate:

                def not_in(env: Env) -> Any:
                    lv, rv = left(env), right(env)
                    if env.kleene and (lv is DECLINED or rv is DECLINED):
                        return _unknown(env, where, "not in", getattr(right, "value", None))
                    return False if is_absent(lv) or is_absent(rv) else not _contains(lv, rv)

                return not_in
            contains = _fast_contains(left, right) or (lambda env: _contains(left(env), right(env)))

            def member(env: Env) -> Any:
                if contains(env):
                    return True
                if env.kleene and (left(env) is DECLINED or right(env) is DECLINED):
                    return _unknown(env, where, "in", getattr(right, "value", None))
                return False

            return member
        if negate:  # pragma: no cover - guarded above
            raise ExprError("expected 'in' after 'not'", tok.col)
        return left

    def _note_comparison(
        self,
        left_name: tuple[str, str] | None,
        right_name: tuple[str, str] | None,
        left: Eval,
        right: Eval,
        left_tok: Token,
        right_tok: Token,
    ) -> None:
        # Record "name OP literal(s)" so loaders can check literals against an item's options.
        for name, other, tok in ((left_name, right, right_tok), (right_name, left, left_tok)):
            if name is None:
                continue
            literals = getattr(other, "literals", None)
            if literals is not None:
                self.comparisons.append((name[0], name[1], tuple(literals), tok.col))

    def parse_primary(self) -> tuple[Eval, tuple[str, str] | None]:
        tok = self.tok
        if tok.kind == "op" and tok.text == "(":
            self.advance()
            self.enter()
            inner = self.parse_or()
            self.leave()
            self.expect("op", ")")
            return inner, None
        if tok.kind == "op" and tok.text == "[":
            return self.parse_list(), None
        if tok.kind in ("num", "str", "kw") or (tok.kind == "op" and tok.text == "-"):
            value = self.parse_literal()
            return _const(value), None
        if tok.kind == "name":
            if self.tokens[self.pos + 1].kind == "op" and self.tokens[self.pos + 1].text == "(":
                return self.parse_call(), None
            return self.parse_name()
        raise ExprError(f"expected a value but found {tok.text or 'the end'!r}", tok.col)

    def parse_literal(self) -> Any:
        tok = self.advance()
        if tok.kind == "op" and tok.text == "-":
            num = self.expect("num")
            return -_number(num.text)
        if tok.kind == "num":
            return _number(tok.text)
        if tok.kind == "str":
            return re.sub(r"\\([\"'\\])", r"\1", tok.text[1:-1])
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return tok.text == "true"
        if tok.kind == "kw" and tok.text in ("null", "none"):
            return MISSING
        raise ExprError(f"unexpected {tok.text!r}", tok.col)

    def parse_list(self) -> Eval:
        start = self.expect("op", "[")
        values: list[Any] = []
        if not (self.tok.kind == "op" and self.tok.text == "]"):
            while True:
                if self.tok.kind not in ("num", "str", "kw") and not (
                    self.tok.kind == "op" and self.tok.text == "-"
                ):
                    raise ExprError("lists may contain only numbers and quoted text", self.tok.col)
                values.append(self.parse_literal())
                if len(values) > 200:
                    raise ExprError("a list may hold at most 200 values", start.col)
                if self.tok.kind == "op" and self.tok.text == ",":
                    self.advance()
                    continue
                break
        self.expect("op", "]")
        fn = _const(tuple(values), literals=values)
        fn.is_list = True  # type: ignore[attr-defined]
        return fn

    def parse_name(self) -> tuple[Eval, tuple[str, str] | None]:
        tok = self.advance()
        parts = tok.text.split(".")
        root = parts[0]
        if len(parts) == 1:
            if root in self.scope.collections:
                self.collections.add(root)
                return (lambda env: env.collections.get(root, frozenset())), (root, "")
            raise ExprError(f"unknown name {root!r}; {self._known()}", tok.col)
        if len(parts) != 2 or root not in self.scope.fields:
            raise ExprError(f"unknown name {tok.text!r}; {self._known()}", tok.col)
        attr = parts[1]
        allowed = self.scope.fields[root]
        if attr not in allowed:
            hint = _closest(attr, allowed)
            raise ExprError(
                f"unknown name {tok.text!r}" + (f"; did you mean {root}.{hint}?" if hint else ""),
                tok.col,
            )
        self.names.add((root, attr))

        def name(env: Env) -> Any:
            mapping = env.roots.get(root)
            return MISSING if mapping is None else mapping.get(attr, MISSING)

        return name, (root, attr)

    def _known(self) -> str:
        roots = sorted([*(f"{r}.…" for r in self.scope.fields), *self.scope.collections])
        return "names start with " + ", ".join(roots) if roots else "no names are allowed here"

    def parse_call(self) -> Eval:
        tok = self.advance()
        name = tok.text
        self.expect("op", "(")
        self.enter()
        args: list[Eval] = []
        arg_names: list[tuple[str, str] | None] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            while True:
                arg_tok = self.tok
                start = self.pos
                args.append(self.parse_or())
                bare = (
                    self.pos == start + 1
                    and arg_tok.kind == "name"
                    and arg_tok.text.count(".") == 1
                )
                arg_names.append(tuple(arg_tok.text.split(".", 1)) if bare else None)  # type: ignore[arg-type]
                if len(args) > 50:
                    raise ExprError("too many arguments", arg_tok.col)
                if self.tok.kind == "op" and self.tok.text == ",":
                    self.advance()
                    continue
                break
        self.expect("op", ")")
        self.leave()
        if name == "days_since":
            if len(args) != 1 or arg_names[0] is None:
                raise ExprError(
                    "days_since() takes one name, e.g. days_since(answers.release_date)", tok.col
                )
            arg = args[0]
            return lambda env: _days_since(arg(env), env.today)
        if name in BUILTINS:
            fn, lo, hi, needs_name = BUILTINS[name]
            if not lo <= len(args) <= hi:
                count = str(lo) if lo == hi else f"{lo} to {hi}"
                raise ExprError(f"{name}() takes {count} argument(s), not {len(args)}", tok.col)
            if needs_name and arg_names[0] is None:
                raise ExprError(
                    f"{name}() needs a name such as answers.gp_registered first", tok.col
                )
            if name == "any_of":
                literals = getattr(args[1], "literals", None)
                if literals is None or not getattr(args[1], "is_list", False):
                    raise ExprError('any_of() needs a list such as ["a", "b"] second', tok.col)
                assert arg_names[0] is not None
                self.comparisons.append(
                    (arg_names[0][0], arg_names[0][1], tuple(literals), tok.col)
                )
            if name == "any_of":
                first = args[0]
                where = arg_names[0]
                listed = getattr(args[1], "value", None)

                def any_of(env: Env) -> Any:
                    value = first(env)
                    if env.kleene and value is DECLINED:
                        return _unknown(env, where, "any of", listed)
                    return _fn_any_of(value, listed)

                return any_of
            return lambda env: fn(*(a(env) for a in args))
        if name in self.scope.functions:
            for a in args:
                if getattr(a, "literals", None) is None:
                    raise ExprError(
                        f'{name}() takes quoted text, e.g. {name}("gp-registration")', tok.col
                    )
            self.comparisons.append((name, "", tuple(v for a in args for v in a.literals), tok.col))  # type: ignore[attr-defined]
            return lambda env: env.call(name, [a(env) for a in args])
        known = sorted([*BUILTINS, "days_since", *self.scope.functions])
        raise ExprError(f"unknown function {name!r}; allowed: {', '.join(known)}", tok.col)


def _unknown(env: Env, where: tuple[str, str] | None, op: str, literal: Any) -> Any:
    if where is not None:
        env.notes.append((where[0], where[1], op, literal))
    return UNKNOWN


def _three_valued(
    op: str, left: Eval, right: Eval, base: Eval, where: tuple[str, str] | None
) -> Eval:
    """A comparison that is true, false, or UNKNOWN when one side is a partly answered scale
    (a Range) or, in a Kleene environment, a declined answer."""

    def compare(env: Env) -> Any:
        result = base(env)
        if result:
            return result
        lv, rv = left(env), right(env)
        if type(lv) is Range:
            out = _range_compare(op, lv, rv, False)
            literal = rv
        elif type(rv) is Range:
            out = _range_compare(op, rv, lv, True)
            literal = lv
        elif env.kleene and (lv is DECLINED or rv is DECLINED):
            out = UNKNOWN
            literal = rv if lv is DECLINED else lv
        else:
            return result
        if out is UNKNOWN:
            return _unknown(env, where, op, literal)
        return out

    return compare


def _truthy(value: Any) -> bool:
    return bool(value) and not is_absent(value)


def _const(value: Any, literals: list[Any] | None = None) -> Eval:
    def const(_env: Env) -> Any:
        return value

    const.literals = literals if literals is not None else ([value] if not is_absent(value) else [])  # type: ignore[attr-defined]
    const.value = value  # type: ignore[attr-defined]
    return const


_OPS: dict[str, Callable[[Any, Any], bool]] = {}


def _ops() -> dict[str, Callable[[Any, Any], bool]]:
    if not _OPS:
        import operator

        _OPS.update(
            {
                "==": operator.eq,
                "!=": operator.ne,
                "<": operator.lt,
                "<=": operator.le,
                ">": operator.gt,
                ">=": operator.ge,
            }
        )
    return _OPS


def _fast_compare(op: str, left: Eval, right: Eval) -> Eval | None:
    """``name OP constant`` compiled to a closure with the type rule built in; the same
    result as ``_compare``, without its general dispatch (rules run over whole caseloads)."""
    if not hasattr(right, "value") or getattr(right, "is_list", False) or hasattr(left, "value"):
        return None
    c = right.value
    fn = _ops()[op]
    if type(c) in (int, float):

        def numeric(env: Env) -> bool:
            v = left(env)
            return (type(v) is int or type(v) is float) and fn(v, c)

        return numeric
    if type(c) is str:

        def text(env: Env) -> bool:
            v = left(env)
            return type(v) is str and fn(v, c)

        return text
    return None


def _fast_contains(left: Eval, right: Eval) -> Eval | None:
    """``name in ["text", ...]``: a set lookup when every literal is text (a multi-choice
    answer matches when any of its values is in the set)."""
    if not getattr(right, "is_list", False) or hasattr(left, "value"):
        return None
    values = right.value  # type: ignore[attr-defined]
    if not values or not all(type(v) is str for v in values):
        return None
    wanted = frozenset(values)

    def member(env: Env) -> bool:
        v = left(env)
        if type(v) is str:
            return v in wanted
        if type(v) is list:
            return any(type(x) is str and x in wanted for x in v)
        return False

    return member


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _days_since(value: Any, today: date | None) -> Any:
    if isinstance(value, date) and today is not None:
        return (today - value).days
    return MISSING


def _closest(word: str, options: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return found[0] if found else None


def compile_expr(text: str, scope: Scope) -> Compiled:
    """Parse and check ``text`` against ``scope``. Raises :class:`ExprError`."""
    if not isinstance(text, str):
        raise ExprError("a condition must be text", 1)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the condition is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    try:
        parser = _Parser(text, scope)
        fn = parser.parse()
    except RecursionError:  # pragma: no cover - MAX_DEPTH guards this
        raise ExprError("nested too deeply", 1) from None
    return Compiled(
        source=text,
        fn=fn,
        names=frozenset(parser.names),
        collections=frozenset(parser.collections),
        comparisons=tuple(parser.comparisons),
    )


# --------------------------------------------------------------------------- templates --
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Template:
    """A ``because`` text with ``{answers.x}``-style placeholders, checked at load time."""

    source: str
    names: tuple[tuple[str, str], ...]

    def render(self, lookup: Callable[[str, str], str]) -> str:
        return _PLACEHOLDER.sub(lambda m: lookup(*m.group(1).strip().split(".", 1)), self.source)


def compile_template(text: str, scope: Scope) -> Template:
    names: list[tuple[str, str]] = []
    for m in _PLACEHOLDER.finditer(text):
        inner = m.group(1).strip()
        parts = inner.split(".")
        if (
            len(parts) != 2
            or parts[0] not in scope.fields
            or parts[1] not in scope.fields[parts[0]]
        ):
            raise ExprError(f"unknown placeholder {{{inner}}}", m.start() + 1)
        names.append((parts[0], parts[1]))
    stray = _PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        raise ExprError("unmatched { or } in the text", max(stray.find("{"), stray.find("}")) + 1)
    return Template(text, tuple(names))
