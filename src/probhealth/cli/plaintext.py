"""Text and flag parameters read without pydantic.

typer (0.2x) checks each parameter's value through a pydantic ``TypeAdapter``, built the
first time the parameter is read. So the first command of a process imported pydantic and
built an adapter for every text option and argument and every flag left out, set or not:
about 0.1 s of CPU for a command such as ``export``, whose parameters are all text and
flags (issue 19). For a plain ``str`` parameter that adapter gives back the very text it is
given (typer's ``str(value)``, then pydantic's check of a ``str``), and for a ``bool`` the
very ``True`` or ``False``; a parameter left out (``None``) stays ``None`` before any adapter
is asked. So :func:`install` passes those values through as they are. Anything else (bytes,
a flag's text from an environment variable, a list, another type, a parser, a file) still
goes to typer's own adapter, built as before when first needed.

Installed once, by ``probhealth.cli``. A typer without this machinery is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class PlainText:
    """typer's runtime coercion (``RuntimeParam.coerce``) of a plain ``str`` or ``bool``
    parameter."""

    def __init__(self, descriptor: Any, build: Callable[[Any], Any]) -> None:
        self.descriptor = descriptor
        self._build = build
        self._full: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if not (param.multiple or param.nargs == -1):
            if value is None or type(value) is self.descriptor.annotation:
                return value
        if self._full is None:  # anything else: typer's adapter, exactly as before
            self._full = self._build(self.descriptor)
        return self._full.coerce(value, param=param, ctx=ctx)


def plain(descriptor: Any) -> bool:
    """A parameter typed ``str`` or ``bool`` (or either ``| None``), with no parser and no
    file opening."""
    try:
        return (
            descriptor.annotation in (str, bool)
            and getattr(descriptor, "file_annotation", None) is None
            and getattr(descriptor.parameter_info, "parser", None) is None
        )
    except AttributeError:  # a typer whose descriptors look otherwise: its own adapter
        return False


def install() -> bool:
    """Route text and flag parameters past pydantic; False when typer has no such layer."""
    try:
        from typer import core
    except ImportError:  # pragma: no cover - typer is a dependency
        return False
    build = getattr(core, "build_runtime_param", None)
    if build is None or not hasattr(core, "_TyperParameter"):
        return False  # a typer that coerces through click's types: nothing to do
    if getattr(build, "plain_text", False):
        return True

    def build_runtime_param(descriptor: Any) -> Any:
        if plain(descriptor):
            return PlainText(descriptor, build)
        return build(descriptor)

    build_runtime_param.plain_text = True  # type: ignore[attr-defined]
    setattr(core, "build_runtime_param", build_runtime_param)  # noqa: B010 - typer's own name
    return True
