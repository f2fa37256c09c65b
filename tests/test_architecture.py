"""The layers, checked on the source (``ast``, nothing imported): no import circle except the
deliberate lazy loads named here, no private name imported from another module, the database
stack only in ``store/``, rich only where the terminal is drawn, and no command-line flag in a
string outside ``cli/`` (services name options as ``{opt:NAME}``; see ``errors.py``).

Each check is a function over a package folder, so the tests at the end prove it can fail on
a small package written to a temporary folder.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import probhealth

SRC = Path(probhealth.__file__).parent

# Circles that close only through an import inside a function (a lazy load), by (from, to).
LAZY_CIRCLES = {
    # The questionary asker is loaded only when a prompt is needed; prompts.py uses the
    # asker's Choice type.
    ("probhealth.cli.asker", "probhealth.cli.prompts"),
    # store.models loads the screening/referral/transfer tables on first use (import time of
    # the commands that do not need them); those modules share its column helpers.
    ("probhealth.store.models", "probhealth.store.models_referral"),
    ("probhealth.store.models", "probhealth.store.models_screening"),
    ("probhealth.store.models", "probhealth.store.models_transfer"),
    # Commands suggested in messages name the command list of the root app.
    ("probhealth.cli.context", "probhealth.cli"),
    ("probhealth.cli.shell", "probhealth.cli"),
    # Migrations (Alembic) load only when a database is new or behind; a migration's backup
    # opens its copy through db.connect_file, the one place a database file is opened.
    ("probhealth.store.db", "probhealth.store.migrate"),
    # An erasure another reader kept from scrubbing the file is finished by the next command
    # that opens the database (store.erasure needs the Store it finishes on).
    ("probhealth.store.db", "probhealth.store.erasure"),
    # The portable export (row by row, with SQLAlchemy) loads only when the SQLite fast path
    # cannot write the table; it shares the export's options, pseudonyms and cell helpers.
    ("probhealth.services.export", "probhealth.services.export_rows"),
}
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel", "alembic")
DATABASE_HOME = ("probhealth.store",)
RICH_HOMES = (
    "probhealth.cli.render",
    "probhealth.cli.output",
    # The guided screening's terminal UI draws its own panels, rules and prompts' help.
    "probhealth.cli.guided",
)
FLAG = re.compile(r"(?<![\w-])--[a-z]")
FLAG_TEXT_ALLOWED = {
    # Alembic's env.py refuses to run outside probhealth and says which command to use.
    "probhealth.store.migrations.env",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (or the module a name is imported from)
    name: str | None  # the name imported from it, if any
    lazy: bool  # inside a function
    type_only: bool  # under ``if TYPE_CHECKING``
    line: int


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the package in ``root`` (its name is the folder's)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(root: Path) -> list[Import]:
    mods = modules(root)
    found: list[Import] = []
    for module, path in mods.items():
        found += _imports_of(module, path, mods)
    return found


def _imports_of(module: str, path: Path, mods: dict[str, Path]) -> list[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def add(node: ast.stmt, lazy: bool, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, None, lazy, type_only, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in mods else base
                name = None if sub in mods else alias.name
                found.append(Import(module, target, name, lazy, type_only, node.lineno))

    def walk(node: ast.AST, lazy: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for inner in child.body:
                    visit(inner, lazy, True)
                for inner in child.orelse:
                    visit(inner, lazy, type_only)
            else:
                visit(child, lazy, type_only)

    def visit(node: ast.AST, lazy: bool, type_only: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            add(node, lazy, type_only)
        else:
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            walk(node, lazy or function, type_only)

    walk(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


def circles(found: Iterable[Import], allowed: set[tuple[str, str]]) -> list[list[str]]:
    """Groups of modules that import each other at run time, after leaving out the allowed
    edges, each of which must be a lazy load."""
    found = list(found)
    own = {i.module for i in found}
    graph: dict[str, set[str]] = defaultdict(set)
    for i in found:
        if i.type_only or i.target not in own or i.target == i.module:
            continue
        if (i.module, i.target) in allowed and i.lazy:
            continue
        graph[i.module].add(i.target)
    return [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def private_imports(found: Iterable[Import], package: str) -> list[str]:
    return [
        f"{i.module}:{i.line} imports {i.target}.{i.name}"
        for i in found
        if i.name
        and i.name.startswith("_")
        and not i.name.startswith("__")
        and i.target.split(".")[0] == package
        and i.target != i.module
    ]


def imported_outside(
    found: Iterable[Import], libraries: tuple[str, ...], homes: tuple[str, ...]
) -> list[str]:
    """Imports of ``libraries`` (type-only ones too) from modules outside ``homes``."""
    return [
        f"{i.module}:{i.line} imports {i.target}"
        for i in found
        if i.target.split(".")[0] in libraries
        and not any(i.module == h or i.module.startswith(h + ".") for h in homes)
    ]


def flag_text(root: Path, allowed: set[str]) -> list[str]:
    """String literals (not docstrings) outside ``cli/`` that name a command-line flag."""
    found = []
    for module, path in modules(root).items():
        if module.split(".")[1:2] == ["cli"] or module in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and FLAG.search(node.value)
            ):
                found.append(f"{module}:{node.lineno}: {node.value[:80]!r}")
    return found


# ------------------------------------------------------------------ the checks on probhealth --
@functools.cache
def src_imports() -> tuple[Import, ...]:
    """Every import in probhealth, read when a check first needs it (not at collection, which
    every pytest worker does)."""
    return tuple(imports(SRC))


def test_no_import_circle_but_the_named_lazy_loads() -> None:
    assert circles(src_imports(), LAZY_CIRCLES) == []


def test_each_named_lazy_load_exists_and_is_lazy() -> None:
    edges = {(i.module, i.target): i for i in src_imports() if not i.type_only}
    for edge in sorted(LAZY_CIRCLES):
        assert edge in edges, f"{edge} is listed but no longer imported: remove it"
        assert all(
            i.lazy for i in src_imports() if (i.module, i.target) == edge and not i.type_only
        ), f"{edge} is listed as a lazy load but is imported at module level"


def test_no_private_name_imported_from_another_module() -> None:
    assert private_imports(src_imports(), "probhealth") == []


def test_database_stack_only_in_store() -> None:
    assert imported_outside(src_imports(), DATABASE_LIBRARIES, DATABASE_HOME) == []


def test_rich_only_where_the_terminal_is_drawn() -> None:
    assert imported_outside(src_imports(), ("rich",), RICH_HOMES) == []


def test_no_command_line_flag_in_strings_outside_cli() -> None:
    assert flag_text(SRC, FLAG_TEXT_ALLOWED) == []


# ------------------------------------------------------------------ each check can fail --
def package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return root


def test_a_circle_is_found_and_only_a_named_lazy_load_is_excused(tmp_path: Path) -> None:
    eager = package(tmp_path, {"a.py": "import pkg.b\n", "b.py": "from pkg import a\n"})
    assert circles(imports(eager), set()) == [["pkg.a", "pkg.b"]]
    # Named, but at module level: still a circle.
    assert circles(imports(eager), {("pkg.b", "pkg.a")}) == [["pkg.a", "pkg.b"]]
    lazy = package(
        tmp_path / "2",
        {"a.py": "import pkg.b\n", "b.py": "def f():\n    from pkg import a\n    return a\n"},
    )
    assert circles(imports(lazy), set()) == [["pkg.a", "pkg.b"]]
    assert circles(imports(lazy), {("pkg.b", "pkg.a")}) == []
    typed = package(
        tmp_path / "3",
        {
            "a.py": "import pkg.b\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import X\n",
        },
    )
    assert circles(imports(typed), set()) == []


def test_a_private_import_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "a.py": "def _secret():\n    pass\n",
            "sub/b.py": "from ..a import _secret\nfrom pkg.a import __doc__\n",
        },
    )
    assert private_imports(imports(root), "pkg") == ["pkg.sub.b:1 imports pkg.a._secret"]


def test_the_database_stack_outside_store_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "store/db.py": "import sqlalchemy\n",
            "services/x.py": "def f():\n    from sqlalchemy import text\n",
            "services/y.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from sqlmodel import Session\n"
            ),
        },
    )
    assert imported_outside(imports(root), DATABASE_LIBRARIES, ("pkg.store",)) == [
        "pkg.services.x:2 imports sqlalchemy",
        "pkg.services.y:3 imports sqlmodel",
    ]


def test_rich_outside_its_homes_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {"cli/render.py": "from rich.text import Text\n", "cli/x.py": "import rich.panel\n"},
    )
    assert imported_outside(imports(root), ("rich",), ("pkg.cli.render",)) == [
        "pkg.cli.x:1 imports rich.panel"
    ]


def test_flag_text_outside_cli_is_found(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "cli/x.py": 'HINT = "Use --force"\n',
            "services/x.py": (
                '"""Like ``export --out``: docstrings may name options."""\n'
                "def f(n):\n"
                '    """Also ``--here``."""\n'
                '    a = "Use {opt:force} to replace it; a-b --- -1"\n'
                '    raise ValueError(f"{n} needs --reason")\n'
            ),
        },
    )
    assert flag_text(root, set()) == ["pkg.services.x:5: ' needs --reason'"]
    assert flag_text(root, {"pkg.services.x"}) == []
