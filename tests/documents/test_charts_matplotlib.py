"""matplotlib, as the person who runs ``report --out`` meets it: nothing of its own on their
terminal (a font cache being built, an unwritable folder), and its font list cached in
probhealth's own cache folder (0700), unless MPLCONFIGDIR says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DRAW = """
import logging
from probhealth.documents import charts
chart = charts.BarChart("c", "Barriers", "People", [charts.Bar("Opening times", 40.0, "40")])
assert charts.svg(chart).startswith("<svg")
# What matplotlib says while it builds its font cache, the first time, on a slow machine:
logging.getLogger("matplotlib.font_manager").warning(
    "Matplotlib is building the font cache; this may take a moment."
)
import matplotlib
print(matplotlib.get_cachedir())
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME")}
    clean.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), **env)
    return subprocess.run(
        [sys.executable, "-c", DRAW], capture_output=True, text=True, env=clean, check=True
    )


def test_no_matplotlib_message_reaches_the_terminal(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.stderr == ""
    folder = tmp_path / "cache" / "probhealth" / "matplotlib"
    assert done.stdout.strip() == str(folder)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert any(folder.glob("fontlist-*.json"))  # built once, kept for the next report
    assert not (tmp_path / "home").exists()  # nothing in folders other programs share


def test_a_folder_the_person_chose_is_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "mine"
    chosen.mkdir()
    done = _run(tmp_path, MPLCONFIGDIR=str(chosen))
    assert done.stdout.strip() == str(chosen) and done.stderr == ""


def test_without_the_setup_matplotlib_would_print_it(tmp_path: Path) -> None:
    """The check above can fail: matplotlib on its own prints its warning on stderr."""
    plain = DRAW.replace("assert charts.svg(chart)", "import matplotlib.figure  # ")
    clean = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    clean.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-c", plain], capture_output=True, text=True, env=clean, check=True
    )
    assert "building the font cache" in done.stderr
