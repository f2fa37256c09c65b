"""The condition language (``probhealth.expr``): parsing, evaluation and safety.

Table tests pin the grammar (precedence, ``in``/``not in``, no chained comparisons), the
missing/declined semantics and type strictness; hostile inputs must be refused with an
``ExprError`` that points at a sensible column. Hypothesis properties check that arbitrary
text never raises anything but ``ExprError``, never runs code, and that valid conditions
always test to a bool that agrees with a small independent oracle.
"""

from __future__ import annotations

import builtins
import os
import subprocess
from contextlib import ExitStack
from datetime import date
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probhealth import expr
from probhealth.expr import DECLINED, MISSING, Compiled, Env, ExprError, Scope, compile_expr

SCOPE = Scope(
    fields={
        "answers": frozenset({"a", "b", "s", "m", "d", "n", "x", "yn"}),
        "scores": frozenset({"phq2"}),
        "person": frozenset({"age", "sex"}),
    },
    collections=frozenset({"barriers"}),
    functions=frozenset({"referrals.open"}),
)
TODAY = date(2024, 1, 31)


def make_env(**answers: Any) -> Env:
    base: dict[str, Any] = {
        "a": 1,
        "b": 2,
        "s": "2",
        "m": ["x", "y"],
        "d": date(2024, 1, 1),
        "n": DECLINED,
        "yn": "yes",
    }
    base.update(answers)
    return Env(
        roots={
            "answers": base,
            "scores": {"phq2": 4},
            "person": {"age": 30, "sex": "female"},
        },
        collections={"barriers": frozenset({"low-literacy"})},
        calls={"referrals.open": lambda *args: "gp" in args},
        today=TODAY,
    )


def run(text: str, **answers: Any) -> bool:
    return compile_expr(text, SCOPE).test(make_env(**answers))


def refused(text: str, scope: Scope = SCOPE) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expr(text, scope)
    err = info.value
    assert isinstance(err.column, int)
    assert 1 <= err.column <= max(len(text), 1) + 1, (text, err.column)
    assert f"(column {err.column})" in str(err)
    return err


# ------------------------------------------------------------------ evaluation table ---
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # precedence: not > and > or
        ("not true or true", True),
        ("not (true or true)", False),
        ("true or true and false", True),
        ("(true or true) and false", False),
        ("false and false or true", True),
        ("false and (false or true)", False),
        ("not false and false", False),
        ("not (false and false)", True),
        ("not not true", True),
        ("NOT FALSE AND TRUE", True),  # keywords are case-insensitive
        ("not answers.a == 2", True),  # not binds looser than ==
        ("not answers.a in [1]", False),  # ... and looser than in
        # plain comparisons
        ("answers.a == 1", True),
        ("answers.a != 1", False),
        ("answers.a < 2", True),
        ("answers.a <= 1", True),
        ("answers.a > 0", True),
        ("answers.a >= 2", False),
        ("answers.b > answers.a", True),
        ("1.5 > 1", True),
        ("-1 < 0", True),
        ("- 1 == -1", True),
        ("scores.phq2 >= 3", True),
        ('person.age < 50 and person.sex in ["female", "intersex"]', True),
        # in / not in with lists
        ("answers.a in [1, 2]", True),
        ("answers.a in [2, 3]", False),
        ("answers.a not in [2, 3]", True),
        ("answers.a not in [1]", False),
        ("answers.a in []", False),
        ('answers.yn in ["yes", "no"]', True),
        ("answers.yn in ['no']", False),
        # multi-choice answers: any overlap
        ('answers.m in ["x"]', True),
        ('answers.m in ["z", "y"]', True),
        ('answers.m in ["z"]', False),
        ('answers.m not in ["x"]', False),
        ('answers.m not in ["z"]', True),
        ('"x" in answers.m', True),
        ('"z" in answers.m', False),
        ('"z" not in answers.m', True),
        ('any_of(answers.m, ["y"])', True),
        ('any_of(answers.m, ["q"])', False),
        # collections and caller functions
        ('"low-literacy" in barriers', True),
        ('"housing" in barriers', False),
        ('"housing" not in barriers', True),
        ("barriers", True),
        ('referrals.open("gp")', True),
        ('referrals.open("dentist")', False),
        # builtins
        ("answered(answers.a)", True),
        ("answered(answers.n)", False),
        ("answered(answers.x)", False),
        ("declined(answers.n)", True),
        ("declined(answers.x)", False),
        ("declined(answers.a)", False),
        ("count(answers.a == 1, answers.b == 2, answers.n) >= 2", True),
        ("count(answers.a == 1, answers.b == 2, answers.n) == 2", True),
        ("count(answers.x, answers.n) == 0", True),
        ("days_since(answers.d) == 30", True),
        ("days_since(answers.d) > 30", False),
        ("days_since(answers.a) == 30", False),  # not a date: missing
        ("days_since(answers.x) >= 0", False),
        # string escapes
        ("answers.s == '2'", True),
        ('answers.s == "2"', True),
    ],
)
def test_evaluation_table(text: str, expected: bool) -> None:
    result = run(text)
    assert result is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'answers.s == "say \"hi\""', 'say "hi"'),
        (r"answers.s == 'it\'s'", "it's"),
        (r'answers.s == "a\\b"', "a\\b"),
        (r'answers.s == "a\\\\"', "a\\\\"),
        ('answers.s == "café ✓"', "café ✓"),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    assert run(text, s=value) is True
    assert run(text, s=value + "!") is False


def test_nul_in_a_string_literal_is_kept() -> None:
    # BUG: parse_literal uses "\x00" as a temporary marker for an escaped backslash, so a
    # real NUL inside a quoted literal comes back as a backslash ("a\x00b" -> "a\\b").
    compiled = compile_expr('answers.s == "a\x00b"', SCOPE)
    assert compiled.comparisons[0][2] == ("a\x00b",)
    assert compiled.test(make_env(s="a\x00b")) is True
    assert compiled.test(make_env(s="a\\b")) is False


# ------------------------------------------------------------------ missing / declined ---
@pytest.mark.parametrize("absent", [MISSING, DECLINED])
@pytest.mark.parametrize(
    "text",
    [
        "answers.a == 1",
        "answers.a != 1",
        "answers.a < 1",
        "answers.a <= 1",
        "answers.a > 1",
        "answers.a >= 1",
        "answers.a == answers.a",
        "answers.a != answers.b",
        "answers.a in [1, 2]",
        "answers.a not in [1, 2]",
        "answers.b in answers.a",
        "answers.b not in answers.a",
        '"x" in answers.a',
        '"x" not in answers.a',
        "any_of(answers.a, [1])",
        "answers.a",
        "answers.a == null",
        "answers.a != null",
        "days_since(answers.a) >= 0",
    ],
)
def test_every_comparison_with_a_missing_or_declined_value_is_false(
    text: str, absent: object
) -> None:
    assert run(text, a=absent) is False


def test_missing_and_declined_are_told_apart() -> None:
    assert run("answered(answers.a)", a=MISSING) is False
    assert run("declined(answers.a)", a=MISSING) is False
    assert run("answered(answers.a)", a=DECLINED) is False
    assert run("declined(answers.a)", a=DECLINED) is True
    assert run("not answered(answers.a)", a=MISSING) is True
    assert not MISSING and not DECLINED
    assert expr.is_absent(MISSING) and expr.is_absent(DECLINED) and not expr.is_absent(0)


def test_unknown_root_in_env_is_missing() -> None:
    compiled = compile_expr("answers.a == 1 or answers.a != 1", SCOPE)
    assert compiled.test(Env(roots={})) is False


# ------------------------------------------------------------------ type strictness ----
@pytest.mark.parametrize(
    ("text", "answers"),
    [
        ("answers.s == 2", {"s": "2"}),
        ("answers.s != 2", {"s": "2"}),  # neither equal nor unequal: not comparable
        ("answers.s < 3", {"s": "2"}),
        ("answers.s >= 1", {"s": "2"}),
        ('answers.a == "1"', {"a": 1}),
        ('answers.a > "0"', {"a": 1}),
        ('answers.a in ["1"]', {"a": 1}),
        ("answers.s in [2]", {"s": "2"}),
        ("answers.b == answers.s", {"b": 2, "s": "2"}),
        ("answers.d > 3", {"d": date(2024, 1, 1)}),
        ('answers.d == "2024-01-01"', {"d": date(2024, 1, 1)}),
        ('answers.d < "2025"', {"d": date(2024, 1, 1)}),
        ('answers.m == "x"', {"m": ["x"]}),
        ('answers.m > "a"', {"m": ["x"]}),
        ("answers.m in [1]", {"m": ["1"]}),
        ('barriers == "low-literacy"', {}),
        ('barriers > "a"', {}),
    ],
)
def test_type_mismatches_are_false(text: str, answers: dict[str, Any]) -> None:
    assert run(text, **answers) is False


@pytest.mark.parametrize(
    "text", ["answers.a in 1", 'answers.a in "not sure"', 'answers.a not in "x"']
)
def test_in_needs_a_list_or_a_name_on_the_right(text: str) -> None:
    # A text literal would silently mean "substring of": refused when the file is loaded.
    with pytest.raises(ExprError, match="must be a list"):
        compile_expr(text, SCOPE)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("answers.x == true", 1),
        ("answers.x == false", 0),
        ("answers.x == 1", True),
        ("answers.x in [1]", True),
        ("answers.x == 0", False),
    ],
)
def test_booleans_and_numbers_are_different_types(text: str, value: Any) -> None:
    # BUG: _compare falls back to Python equality when either side is a bool, so 1 == true
    # and True == 1 hold (and `answers.x in [1]` matches a True answer), unlike "2" vs 2.
    assert run(text, x=value) is False


def test_booleans_compare_with_booleans() -> None:
    assert run("answers.x == true", x=True) is True
    assert run("answers.x != true", x=False) is True
    assert run("answers.x < true", x=False) is False  # no ordering of booleans


# ------------------------------------------------------------------ refused text -------
@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("1 < 2 < 3", 7, "chained"),
        ("answers.a == 1 == 1", 16, "chained"),
        ("answers.a < answers.b >= 3", 23, "chained"),
        ("answers.q == 1", 1, "unknown name 'answers.q'"),
        ("answers.a == 1 and answers.zz", 20, "unknown name 'answers.zz'"),
        ("scores.nope > 1", 1, "unknown name"),
        ("answers", 1, "unknown name"),
        ("flags.x", 1, "unknown name"),
        ("answers.a.b", 1, "unknown name"),
        ("answers.a.__class__", 1, "unknown name"),
        ("answers.__class__", 1, "unknown name"),
        ("answers.a.__class__.__mro__", 1, "unknown name"),
        ('__import__("os")', 1, "unknown function '__import__'"),
        ('__import__("os").system("echo hacked")', 17, "unexpected character '.'"),
        ('eval("1")', 1, "unknown function 'eval'"),
        ('exec("1")', 1, "unknown function 'exec'"),
        ('open("/etc/passwd")', 1, "unknown function 'open'"),
        ("answers.a.real", 1, "unknown name"),
        ('getattr(answers, "a")', 9, "unknown name 'answers'"),
        ('getattr(answers.a, "real")', 1, "unknown function 'getattr'"),
        ("lambda: 1", 7, "unexpected character ':'"),
        ("lambda x: x", 9, "unexpected character ':'"),
        ("lambda", 1, "unknown name 'lambda'"),
        ('f"{answers.a}"', 1, "unknown name 'f'"),
        ("answers.a == f'x'", 14, "unknown name 'f'"),
        ('answers.a == "\\n"', 14, "unexpected character"),
        ("answers.a\\", 10, "unexpected character '\\\\'"),
        ('answers.a == "abc', 14, "unexpected character '\"'"),
        ("answers.a == 'abc", 14, 'unexpected character "\'"'),
        ('"abc', 1, "unexpected character"),
        ('answers.a == "a\nb"', 14, "unexpected character"),
        ("answers.a ==", 13, "the end"),
        ("answers.a = 1", 11, "unexpected character '='"),
        ("answers.a && answers.b", 11, "unexpected character '&'"),
        ("answers.a || answers.b", 11, "unexpected character '|'"),
        ("answers.a + 1 > 2", 11, "unexpected character '+'"),
        ("answers.a; 1", 10, "unexpected character ';'"),
        ("answers.a # comment", 11, "unexpected character '#'"),
        ("answers.a\x1b[2J", 10, "U+001B"),
        ("-answers.a", 2, "expected 'num'"),
        ("answers.a not answers.b", 11, "unexpected 'not'"),
        ("answers.a in", 13, "the end"),
        ("(answers.a == 1", 16, "expected ')'"),
        ("answers.a == 1)", 15, "unexpected ')'"),
        ("[answers.a] == 1", 2, "lists may contain only"),
        ("answers.a in [[1]]", 15, "lists may contain only"),
        ("answers.a in [1,", 17, "lists may contain only"),
        ("answers.a in [1 2]", 17, "expected ']'"),
        ("foo(1)", 1, "unknown function 'foo'"),
        ("answers.a(1)", 1, "unknown function 'answers.a'"),
        ("referrals.open(answers.a)", 1, "takes quoted text"),
        ("answered(1)", 1, "needs a name"),
        ("answered(barriers)", 1, "needs a name"),
        ("answered(answers.a, answers.b)", 1, "takes 1 argument"),
        ("answered()", 1, "takes 1 argument"),
        ("count()", 1, "takes 1 to 50"),
        ("any_of(answers.a, answers.b)", 1, "needs a list"),
        ("days_since(1) > 2", 1, "days_since() takes one name"),
        ("days_since() > 2", 1, "days_since() takes one name"),
        ("1.", 2, "unexpected character '.'"),
        ("answers.1", 8, "unexpected character '.'"),
    ],
)
def test_refused_with_column(text: str, column: int, fragment: str) -> None:
    err = refused(text)
    assert err.column == column, (text, err.message)
    assert fragment in err.message, err.message


def test_any_of_requires_a_list_second() -> None:
    # BUG: any_of() only checks that its second argument carries literals, and a single quoted
    # string does, so any_of(answers.s, "not sure") compiles (despite the "needs a list"
    # message) and then does substring matching: an answer "no" satisfies it.
    err = refused('any_of(answers.s, "not sure")')
    assert "list" in err.message
    refused("any_of(answers.s, 3)")


def test_too_many_arguments_and_list_values() -> None:
    args = ", ".join(["answers.a"] * 51)
    assert "too many arguments" in refused(f"count({args})").message
    values = ", ".join(str(i) for i in range(201))
    err = refused(f"answers.a in [{values}]")
    assert "at most 200" in err.message
    assert err.column == 14
    assert run(f"count({', '.join(['answers.a'] * 50)}) == 50") is True


def test_longer_than_the_limit() -> None:
    ok = "answers.a == 1" + " " * (expr.MAX_LENGTH - len("answers.a == 1"))
    assert len(ok) == expr.MAX_LENGTH
    assert run(ok) is True
    for text in (ok + " ", "x" * 2001, " or ".join(["answers.a == 1"] * 200), "(" * 5000):
        err = refused(text)
        assert "longer than 2000" in err.message
        assert err.column <= len(text)


@pytest.mark.parametrize("depth", [21, 40, 100, 600])
def test_deep_parentheses(depth: int) -> None:
    text = "(" * depth + "answers.a == 1" + ")" * depth
    err = refused(text)
    assert "nested more than 40 levels" in err.message
    # The error points into the run of opening parentheses, not at the end of the text.
    assert err.column <= depth + 1


def test_nesting_within_the_limit_is_fine() -> None:
    text = "(" * 15 + "answers.a == 1" + ")" * 15
    assert run(text) is True
    assert run("not " * 30 + "true") is True


def test_deep_not_and_calls() -> None:
    assert "nested" in refused("not " * 450 + "true").message
    assert "nested" in refused("count(" * 30 + "1" + ")" * 30).message
    assert "lists may contain only" in refused("answers.a in [[[[1]]]]").message


# ------------------------------------------------------------------ metadata -----------
def test_names_collections_and_comparisons_are_recorded() -> None:
    compiled = compile_expr(
        'answers.yn == "yes" and "low-literacy" in barriers or answers.a in [1, -2]'
        ' or any_of(answers.m, ["x"]) or referrals.open("gp")',
        SCOPE,
    )
    assert isinstance(compiled, Compiled)
    assert ("answers", "yn") in compiled.names
    assert ("answers", "m") in compiled.names
    assert compiled.collections == frozenset({"barriers"})
    comps = {(root, attr): lits for root, attr, lits, _col in compiled.comparisons}
    assert comps[("answers", "yn")] == ("yes",)
    assert comps[("answers", "a")] == (1, -2)
    assert comps[("answers", "m")] == ("x",)
    assert comps[("referrals.open", "")] == ("gp",)
    # The column of a literal compared with a name points at the literal.
    col = next(c for r, a, _l, c in compiled.comparisons if (r, a) == ("answers", "yn"))
    assert compiled.source[col - 1 :].startswith('"yes"')


def test_did_you_mean() -> None:
    err = refused("scores.phq == 1")
    assert "did you mean scores.phq2?" in err.message


def test_not_text_is_refused() -> None:
    with pytest.raises(ExprError):
        compile_expr(123, SCOPE)  # type: ignore[arg-type]


def test_empty_scope_allows_only_literals() -> None:
    assert compile_expr("1 < 2", Scope()).test(Env({})) is True
    err = refused("answers.a", Scope())
    assert "no names are allowed here" in err.message


def test_errors_raised_by_caller_functions_are_contained() -> None:
    compiled = compile_expr('referrals.open("gp")', SCOPE)

    def boom(*_args: Any) -> Any:
        raise TypeError("bad")

    assert compiled.test(Env({}, calls={"referrals.open": boom})) is False
    assert compiled.test(Env({})) is False  # no such function in the env: missing


def test_days_since_without_today_is_missing() -> None:
    compiled = compile_expr("days_since(answers.d) >= 0", SCOPE)
    assert compiled.test(Env({"answers": {"d": date(2024, 1, 1)}})) is False


# ------------------------------------------------------------------ properties ---------
TOKENS = [
    "answers.a",
    "answers.b",
    "answers.s",
    "answers.m",
    "answers.d",
    "answers.n",
    "answers.zz",
    "scores.phq2",
    "person.age",
    "barriers",
    "referrals.open",
    "answered",
    "declined",
    "count",
    "any_of",
    "days_since",
    "eval",
    "exec",
    "__import__",
    "os.system",
    "lambda",
    "__class__",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "none",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "(",
    ")",
    "[",
    "]",
    ",",
    "-",
    ".",
    ":",
    "0",
    "1",
    "2.5",
    "99999999999999999999",
    '"a"',
    "'b'",
    '"',
    "'",
    "\\",
    '\\"',
    "x",
    " ",
    "\t",
    "\n",
    "\x00",
    "{",
    "}",
    'f"',
    "#",
    "é",
    "٣",
]
grammarish = st.lists(st.sampled_from(TOKENS), max_size=40).flatmap(
    lambda toks: st.sampled_from([" ".join(toks), "".join(toks)])
)
arbitrary_text = st.text(max_size=300) | grammarish | st.text(alphabet="()[]not ", max_size=2100)

ENV_VALUES = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.booleans(),
    st.just(MISSING),
    st.just(DECLINED),
    st.dates(),
    st.lists(st.sampled_from(["a", "b", "x"]), max_size=3),
)
SAFE_TYPES = (bool, int, float, str, tuple, list, frozenset, date, type(MISSING))


def _forbidden(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the condition language tried to run code")


@given(text=arbitrary_text, a=ENV_VALUES, m=ENV_VALUES, d=ENV_VALUES)
def test_arbitrary_text_compiles_or_raises_expr_error(text: str, a: Any, m: Any, d: Any) -> None:
    try:
        compiled = compile_expr(text, SCOPE)
    except ExprError as err:
        assert 1 <= err.column <= max(len(text), 1) + 1
        assert err.message
    else:
        assert isinstance(compiled, Compiled)
        assert compiled.test(make_env(a=a, m=m, d=d)) in (True, False)


@given(
    text=arbitrary_text
    | st.sampled_from(
        [
            '__import__("os").system("echo hacked")',
            "eval(\"__import__('os').system(1)\")",
            'exec("import os")',
            'os.system("echo hacked")',
            "answers.a.__class__.__base__.__subclasses__()",
            "compile('1', 'x', 'eval')",
            'open("/etc/passwd")',
        ]
    ),
    a=ENV_VALUES,
    m=ENV_VALUES,
)
def test_never_executes_code(text: str, a: Any, m: Any) -> None:
    with ExitStack() as stack:
        for target, attr in (
            (os, "system"),
            (os, "popen"),
            (os, "execv"),
            (os, "execvp"),
            (os, "fork"),
            (os, "remove"),
            (subprocess, "Popen"),
            (builtins, "eval"),
            (builtins, "exec"),
            (builtins, "compile"),
            (builtins, "open"),
        ):
            stack.enter_context(mock.patch.object(target, attr, _forbidden))
        try:
            compiled = compile_expr(text, SCOPE)
        except ExprError:
            return
        env = make_env(a=a, m=m)
        value = compiled.evaluate(env)
        result = compiled.test(env)
    assert isinstance(value, SAFE_TYPES), type(value)
    assert not callable(value)
    assert result is True or result is False


# A small independent oracle for comparison/logic expressions over int and str values.
NAMES = ["a", "b", "s", "m"]
INT_OR_STR = st.one_of(st.integers(-3, 3), st.sampled_from(["x", "y", "z", "no", "not sure"]))
ANSWER = st.one_of(
    INT_OR_STR,
    st.just(MISSING),
    st.just(DECLINED),
    st.lists(st.sampled_from(["x", "y", "z"]), max_size=3, unique=True),
)


def _lit(value: int | str) -> str:
    return str(value) if isinstance(value, int) else f'"{value}"'


def _absent(value: Any) -> bool:
    return value is MISSING or value is DECLINED


def _eq(left: Any, right: Any) -> bool:
    if _absent(left) or _absent(right):
        return False
    if isinstance(left, int) != isinstance(right, int):
        return False
    return left == right


def _cmp(op: str, left: Any, right: Any) -> bool:
    if _absent(left) or _absent(right) or isinstance(left, list) or isinstance(right, list):
        return False
    if isinstance(left, int) != isinstance(right, int):
        return False
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _in(left: Any, options: list[Any]) -> bool:
    if _absent(left):
        return False
    if isinstance(left, list):
        return any(_eq(v, o) for v in left for o in options)
    return any(_eq(left, o) for o in options)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> tuple[str, Any]:
    """(text, oracle) where oracle(answers) -> bool."""
    kind = draw(
        st.sampled_from(
            ["cmp", "in", "notin", "answered", "declined"]
            + (["and", "or", "not", "paren"] if depth < 4 else [])
        )
    )
    if kind == "cmp":
        name = draw(st.sampled_from(NAMES))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        lit = draw(INT_OR_STR)
        if draw(st.booleans()):
            return f"answers.{name} {op} {_lit(lit)}", lambda ans: _cmp(op, ans[name], lit)
        flipped = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        return f"{_lit(lit)} {flipped} answers.{name}", lambda ans: _cmp(op, ans[name], lit)
    if kind in ("in", "notin"):
        name = draw(st.sampled_from(NAMES))
        opts = draw(st.lists(INT_OR_STR, max_size=4))
        text = f"answers.{name} {'in' if kind == 'in' else 'not in'} [{', '.join(_lit(o) for o in opts)}]"
        if kind == "in":
            return text, lambda ans: _in(ans[name], opts)
        return text, lambda ans: not _absent(ans[name]) and not _in(ans[name], opts)
    if kind == "answered":
        name = draw(st.sampled_from(NAMES))
        return f"answered(answers.{name})", lambda ans: not _absent(ans[name])
    if kind == "declined":
        name = draw(st.sampled_from(NAMES))
        return f"declined(answers.{name})", lambda ans: ans[name] is DECLINED
    if kind == "not":
        text, fn = draw(conditions(depth + 1))
        return f"not {text}", lambda ans: not fn(ans)
    if kind == "paren":
        text, fn = draw(conditions(depth + 1))
        return f"({text})", fn
    left_text, left = draw(conditions(depth + 1))
    right_text, right = draw(conditions(depth + 1))
    # Parenthesise both sides so the oracle does not need precedence rules.
    if kind == "and":
        return f"({left_text}) and ({right_text})", lambda ans: left(ans) and right(ans)
    return f"({left_text}) or ({right_text})", lambda ans: left(ans) or right(ans)


@given(cond=conditions(), values=st.fixed_dictionaries(dict.fromkeys(NAMES, ANSWER)))
def test_valid_conditions_test_to_a_bool_matching_the_oracle(
    cond: tuple[str, Any], values: dict[str, Any]
) -> None:
    text, oracle = cond
    compiled = compile_expr(text, SCOPE)
    result = compiled.test(make_env(**values))
    assert result is True or result is False
    assert result == oracle(values), (text, values)


@given(
    name=st.sampled_from(NAMES),
    op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    lit=INT_OR_STR,
    absent=st.sampled_from([MISSING, DECLINED]),
)
def test_absent_values_never_satisfy_a_comparison(
    name: str, op: str, lit: Any, absent: Any
) -> None:
    for text in (f"answers.{name} {op} {_lit(lit)}", f"{_lit(lit)} {op} answers.{name}"):
        assert compile_expr(text, SCOPE).test(make_env(**{name: absent})) is False
