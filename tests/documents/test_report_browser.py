"""The HTML report in a real browser: headless Chromium (the system's packages chromium and
chromium-driver; .ci/run installs them) opens the file, makes no network request, lays out
every chart at a non-zero size, shows the headline numbers, takes a screenshot, and prints
with a page per section.

Skipped, with the reason, only where Chromium is missing and CI is not set; in CI a missing
browser fails the test instead, so the check cannot quietly stop running.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, DbHandle
from tests.services.test_report import NOW, _caseload

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [
        name for name, path in (("chromium", CHROMIUM), ("chromedriver", DRIVER)) if not path
    ]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - selenium is a dev dependency
        missing.append("selenium (pip install -e '.[dev]')")
    if missing:
        reason = f"needs {', '.join(missing)}: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test; {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1000,1400",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def report_file(db: DbHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    out = tmp_path / "report.html"
    Cli(db.path or db.url)("report", "--out", str(out))
    return out


def _requests(driver: Any) -> list[str]:
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_report_in_headless_chromium(browser: Any, report_file: Path, tmp_path: Path) -> None:
    _requests(browser)  # drop anything logged before this page
    url = report_file.as_uri()
    browser.get(url)
    # Nothing but the file itself was requested: no font, image, style or script from anywhere.
    assert [u for u in _requests(browser) if u != url] == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.title.startswith("Health needs report")

    sizes = browser.execute_script(
        "return [...document.querySelectorAll('svg.chart')].map(s => {"
        " const r = s.getBoundingClientRect(); return [s.id, r.width, r.height]; })"
    )
    expected = report_file.read_text(encoding="utf-8").count('class="chart"')
    assert len(sizes) == expected >= 4
    for chart_id, width, height in sizes:
        assert width > 100 and height > 40, f"{chart_id} is drawn {width}x{height}"

    glance = browser.execute_script("return document.getElementById('at-a-glance').innerText")
    # 20 people less 18 screened would give back the 2 never screened: the 20 is hidden.
    assert "People on the caseload\n*" in glance
    assert "Screened\n18\nno percentage shown" in glance
    text = browser.execute_script("return document.body.innerText")
    assert "Small numbers: counts from 1 to 4 are shown as <5" in text
    assert "Stop smoking service" in text

    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    # Print: A4, a new page for each section, so more pages than sections.
    from pypdf import PdfReader

    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
    pages = len(PdfReader(io.BytesIO(base64.b64decode(pdf["data"]))).pages)
    sections = browser.execute_script("return document.querySelectorAll('section.part').length")
    assert pages > sections >= 8
