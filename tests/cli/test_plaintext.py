"""Text and flag parameters pass typer's coercion without pydantic, with the values typer's
own adapters give (issue 19: the start-up of every command)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import typer
from typer import core
from typer.testing import CliRunner

from probhealth.cli import plaintext

pytestmark = pytest.mark.skipif(
    not getattr(core.build_runtime_param, "plain_text", False),
    reason="this typer coerces without pydantic adapters: nothing is installed",
)


def _app(seen: list[dict[str, Any]]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def run(
        name: Annotated[str, typer.Argument()],
        where: Annotated[str | None, typer.Option("--where", envvar="PLAINTEXT_WHERE")] = None,
        label: Annotated[str, typer.Option("--label")] = "none",
        loud: Annotated[bool, typer.Option("--loud", envvar="PLAINTEXT_LOUD")] = False,
        keep: Annotated[bool, typer.Option("--keep/--drop")] = True,
        count: Annotated[int, typer.Option("--count")] = 1,
        tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    ) -> None:
        seen.append(
            {
                "name": name,
                "where": where,
                "label": label,
                "loud": loud,
                "keep": keep,
                "count": count,
                "tag": tag,
            }
        )

    @app.command()
    def other() -> None:  # a second command, so `run` is a subcommand
        pass

    return app


CASES = [
    ["run", "x"],
    ["run", "Zoë ü ß", "--where", "", "--label", " spaced  ", "--loud", "--drop"],
    ["run", "--", "-dash", "--where=a,b", "--count", "7", "--tag", "a", "--tag", "b"],
    ["run", "x", "--count", "seven"],
    ["run"],
    ["run", "x", "--where"],
]
ENVS = [{}, {"PLAINTEXT_WHERE": "from env", "PLAINTEXT_LOUD": "yes"}, {"PLAINTEXT_LOUD": "maybe"}]


def _outcomes(monkeypatch: pytest.MonkeyPatch, build: Any) -> list[tuple[int, str, Any]]:
    monkeypatch.setattr(core, "build_runtime_param", build)
    runner = CliRunner()
    found = []
    for env in ENVS:
        for argv in CASES:
            seen: list[dict[str, Any]] = []
            result = runner.invoke(_app(seen), argv, env=env)
            found.append((result.exit_code, result.output, seen))
    return found


def test_the_values_and_errors_are_typers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = core.build_runtime_param
    original = installed.__closure__[0].cell_contents  # type: ignore[attr-defined]
    assert getattr(original, "plain_text", False) is False
    ours = _outcomes(monkeypatch, installed)
    theirs = _outcomes(monkeypatch, original)
    assert ours == theirs
    assert any(seen and seen[0]["where"] == "from env" for _, _, seen in ours)
    assert any(code == 2 for code, _, _ in ours)  # the bad --count and the missing values


def test_only_other_types_build_an_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    original = core.build_runtime_param.__closure__[0].cell_contents  # type: ignore[attr-defined]

    def spy(descriptor: Any) -> Any:
        built.append(descriptor.annotation)
        return original(descriptor)

    monkeypatch.setattr(core, "build_runtime_param", spy)
    plaintext.install()  # wraps the spy as it wrapped typer's own
    seen: list[dict[str, Any]] = []
    result = CliRunner().invoke(
        _app(seen), ["run", "x", "--where", "here", "--loud"], catch_exceptions=False
    )
    assert result.exit_code == 0 and seen[0]["where"] == "here" and seen[0]["loud"] is True
    assert str not in built and bool not in built
    assert int in built  # --count: typer's adapter, as before

    built.clear()
    CliRunner().invoke(_app(seen), ["run", "x"], env={"PLAINTEXT_LOUD": "yes"})
    assert bool in built  # a flag's text from the environment: typer's adapter decides
    assert seen[-1]["loud"] is True


def test_install_is_once(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = core.build_runtime_param
    assert plaintext.install() is True
    assert core.build_runtime_param is installed


def test_a_descriptor_of_another_shape_goes_to_typers_adapter() -> None:
    """A later typer whose descriptors lack these fields: its own adapter, never a crash."""

    class Odd:
        annotation = str  # no parameter_info

    assert plaintext.plain(Odd()) is False
    assert plaintext.plain(object()) is False
