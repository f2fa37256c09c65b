"""The report as an A4 PDF: it opens, holds the headline numbers, the disclosure line, the
protected tables and a chart image per chart, a page per section; 0600, written whole."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Cli, DbHandle
from tests.services.test_report import NOW, _caseload

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def report_pdf(db: DbHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    out = tmp_path / "report.pdf"
    result = Cli(db.path or db.url)("report", "--out", str(out))
    assert "A4" in result.stdout + result.stderr
    return out


def test_the_pdf_opens_with_a_page_per_section_and_a_chart_per_chart(report_pdf: Path) -> None:
    from pypdf import PdfReader

    data = report_pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert report_pdf.stat().st_mode & 0o777 == 0o600
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = "\n".join(p.extract_text() for p in reader.pages)
    sections = ("Caseload and reach", "Needs", "Referral funnel", "Service gaps", "Trends")
    for name in sections:
        # Each section starts a page: its name is at the top of some page.
        assert any(p.extract_text().lstrip().startswith(name) for p in reader.pages), name
    assert len(reader.pages) > 8
    images = sum(len(p.images) for p in reader.pages)
    assert images >= 5  # reach, needs, access, funnel, trend at least
    assert "X000001" not in text and "Test Person" not in text  # nothing identifying


@pytest.mark.skipif(
    PDFTOTEXT is None and not os.environ.get("CI"),
    reason="needs pdftotext (apt-get install poppler-utils)",
)
def test_pdftotext_reads_the_headlines_and_the_disclosure_line(report_pdf: Path) -> None:
    assert PDFTOTEXT, "CI must have poppler-utils (pdftotext)"
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(report_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Health needs report" in flat
    # 20 people less 18 screened would give back the 2 never screened: the 20 is hidden.
    assert "People on the caseload *" in flat
    assert "Screened 18 no percentage shown" in flat
    assert "Small numbers: counts from 1 to 4 are shown as <5" in flat
    # The foot of each page: the rule in short and the page number, on one line.
    pages = text.count("\f") or 1
    feet = [ln for ln in text.splitlines() if "Small numbers: 1 to 4 shown as <5;" in ln]
    assert len(feet) >= pages - 1 and all(re.search(r"Page \d+ of \d+\s*$", ln) for ln in feet)
    assert "Stop smoking service" in flat
    # The protected figures, as in the JSON: 1 high smoking need is <5, 12 moderate hidden.
    smoking = next(line for line in text.splitlines() if line.strip().startswith("Smoking"))
    assert "<5" in smoking and "*" in smoking and "72.2" in smoking
