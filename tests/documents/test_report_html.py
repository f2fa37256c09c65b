"""The HTML health needs report: one self-contained file (nothing fetched, no script), charts
drawn from the protected tables only (a suppressed count has no bar, only its "<5"), a table
under every chart, and untrusted text (office and pathway names) that cannot inject markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import Cli, DbHandle, query
from tests.services.test_report import NOW, _caseload

SVG_NS = "{http://www.w3.org/2000/svg}"


def _charts(page: str) -> dict[str, ET.Element]:
    return {
        el.get("id", ""): el
        for el in (ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page, re.S))
    }


def _text(el: ET.Element | None) -> str:
    return " ".join(t.strip() for t in el.itertext() if t.strip()) if el is not None else ""


def _width(el: ET.Element | None) -> float:
    """The width of a bar drawn by matplotlib: the span of its path's x coordinates."""
    if el is None:
        return 0.0
    path = el.find(f"{SVG_NS}path")
    nums = [
        float(v) for v in re.findall(r"-?[0-9.]+", path.get("d", "") if path is not None else "")
    ]
    xs = nums[0::2]
    return max(xs) - min(xs) if xs else 0.0


def _bars(svg: ET.Element) -> dict[str, tuple[float, str]]:
    """Each bar's label -> (bar width, the text beside it), read back from the SVG (matplotlib
    writes each artist as a group with the id the chart gave it, prefixed by the chart's id)."""
    cid = svg.get("id")
    groups = {g.get("id"): g for g in svg.iter(f"{SVG_NS}g")}
    out: dict[str, tuple[float, str]] = {}
    i = 0
    while f"{cid}-row-{i}-label" in groups:
        label = _text(groups[f"{cid}-row-{i}-label"])
        out[label] = (
            _width(groups.get(f"{cid}-row-{i}-bar")),
            _text(groups.get(f"{cid}-row-{i}-value")),
        )
        i += 1
    return out


@pytest.fixture
def page(db: DbHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    out = tmp_path / "report.html"
    Cli(db.path or db.url)("report", "--out", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    return out.read_text(encoding="utf-8")


def test_one_self_contained_file(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    low = page.lower()
    for fetched in ("<script", "<link", "<img", "<iframe", "<object", "@import", "<image"):
        assert fetched not in low, fetched
    # The only addresses are the SVG and XLink namespaces, which are names, not fetches; the
    # only url() references are to a clip path in the same SVG.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert re.findall(r"url\((?!#chart-)", low) == []
    assert re.findall(r'href="(?!#)', low) == []
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    assert "@media print" in page and "break-before: page" in page
    assert "X000001" not in page and "Test Person" not in page  # nothing identifying


def test_headlines_sections_and_a_table_under_every_chart(page: str) -> None:
    assert "Small numbers: counts from 1 to 4 are shown as &lt;5" in page
    glance = page.split('id="at-a-glance-h"')[1].split("</section>")[0]
    # 20 people less 18 screened would give back the 2 never screened: the 20 is hidden.
    assert ">*<" in glance and ">18<" in glance and "no percentage shown" in glance
    for section in ("Caseload and reach", "Needs", "Referral funnel", "Trends"):
        assert f">{section}</h2>" in page
    charts = _charts(page)
    assert {
        "chart-since_screening",
        "chart-needs",
        "chart-access",
        "chart-funnel",
        "chart-trend",
    } <= set(charts)
    for chart_id, svg in charts.items():
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG_NS}title") is not None
        assert (svg.find(f"{SVG_NS}desc").text or "").strip()  # type: ignore[union-attr]
        block = page.split(f'id="{chart_id}"')[1].split('class="block"')[0]
        assert "<table>" in block, f"{chart_id} has no table of the same figures"
    # A chart under a heading of the same words does not draw them again: the heading, the
    # text alternative and the axis label are there once each.
    since = charts["chart-since_screening"]
    drawn = ["".join(t.itertext()) for t in since.iter(f"{SVG_NS}text")]
    assert "Time since the last screening" not in drawn
    assert since.find(f"{SVG_NS}title").text == "Time since the last screening"  # type: ignore[union-attr]
    assert "People on the caseload" in drawn  # the axis label
    assert page.count("<h3>Time since the last screening</h3>") == 1
    funnel = ["".join(t.itertext()) for t in charts["chart-funnel"].iter(f"{SVG_NS}text")]
    assert any(t.startswith("Referral funnel of the") for t in funnel)  # not its table's title


def test_charts_show_only_what_the_tables_show(page: str) -> None:
    needs = _bars(_charts(page)["chart-needs"])
    width, text = needs["Smoking"]
    assert width > 0 and text.startswith("72.2% (49.1–87.5)")
    width, text = needs["Mental health"]  # 3 people: no bar, no percentage
    assert width == 0 and text == "<5"
    desc = _charts(page)["chart-needs"].find(f"{SVG_NS}desc").text  # type: ignore[union-attr]
    assert "Mental health: <5" in (desc or "")
    funnel = _charts(page)["chart-funnel"].find(f"{SVG_NS}desc").text or ""  # type: ignore[union-attr]
    assert "Stop smoking service — Suggested: 7; Agreed: 6; Referred: 0;" in funnel
    # Beta's 8 screened get no percentage, in the table as in the chart of by-office headlines.
    beta = page.split('id="by_group"')[1].split("</table>")[0]
    beta_row = beta.split(">Beta<")[1].split("</tr>")[0]
    assert "—" in beta_row


def test_untrusted_names_cannot_inject_markup() -> None:
    from probhealth.documents.report import render_report_html
    from probhealth.services.report import Column, Report, Table, protect

    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">&'
    table = Table(
        "barriers",
        f"Section {evil}",
        f"Title {evil}",
        [Column("barrier", "Barrier", "text"), Column("people", f"People {evil}")],
        [{"barrier": evil, "people": 12}, {"barrier": "Fine", "people": 3}],
        note=evil,
        chart=("barrier", "people"),
    )
    protect(table, 5)
    page = render_report_html(
        Report((None, date(2026, 6, 30)), (evil,), "office", 5, [table], {"people": 12}),
        "now",
    )
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert "onerror=&#34;" in page or "onerror=&quot;" in page
    svg = _charts(page)["chart-barriers"]  # the SVG still parses: escaped inside too
    bars = _bars(svg)
    assert [text for _w, text in bars.values()] == ["12", "<5"]
    assert list(bars.values())[0][0] > 0  # a bar for 12
    assert bars["Fine"] == (0.0, "<5")  # none for a suppressed count
    assert "".join(list(bars)[0].split()) == "".join(evil.split())  # wrapped, still text


def test_out_refuses_other_formats_and_existing_files(cli: Cli, tmp_path: Path) -> None:
    for name in ("report.txt", "report.docx"):
        result = cli("report", "--out", str(tmp_path / name), expect=2)
        assert "--out" in result.stderr and ".html or .pdf" in result.stderr
        assert not (tmp_path / name).exists()
    target = tmp_path / "report.html"
    target.write_text("keep", encoding="utf-8")
    cli("report", "--out", str(target), expect=2)
    assert target.read_text(encoding="utf-8") == "keep"
    cli("report", "--out", str(target), "--force")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_office_and_pathway_names_from_files_stay_text(
    db: DbHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: an office name in the database and a pathway name in a custom rules file
    that look like markup come out as text, in tables and charts."""
    from probhealth.services.definitions import DEFAULT_RULES, bundled_path

    evil_office = '<script>alert("o")</script>'
    evil_pathway = '<img src=x onerror="alert(1)"> Stop smoking'
    monkeypatch.setenv("PROBHEALTH_NOW", NOW.isoformat())
    _caseload(db.url)
    query(db, "update person set office = ? where office = 'Beta'", evil_office)
    rules = tmp_path / "rules.yaml"
    text = bundled_path(DEFAULT_RULES).read_text(encoding="utf-8")
    rules.write_text(
        text.replace("name: Stop smoking service", f"name: '{evil_pathway}'", 1),
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    Cli(db.path or db.url)("report", "--out", str(out), "--rules", str(rules))
    page = out.read_text(encoding="utf-8")
    low = page.lower()
    assert "<script" not in low and "<img" not in low
    assert "&lt;script&gt;alert(&#34;o&#34;)&lt;/script&gt;" in page  # headlines by office
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Stop smoking" in page  # funnel table
    for svg in _charts(page).values():  # every chart still parses as XML
        assert svg.get("role") == "img"
    labels = "".join("".join(_bars(_charts(page)["chart-funnel"])).split())
    assert "".join(evil_pathway.split()) in labels  # drawn as the text it is


def test_charts_are_the_same_bytes_for_the_same_data() -> None:
    """matplotlib's SVG is made deterministic: no date or creator, ids salted by the chart id
    (so two charts on one page never share a clip path id)."""
    from probhealth.documents.report import chart_svg
    from probhealth.services.report import Column, Table, protect

    def table(table_id: str) -> Table:
        return protect(
            Table(
                table_id,
                "Barriers",
                "Barriers",
                [Column("barrier", "Barrier", "text"), Column("people", "People")],
                [{"barrier": "Opening times", "people": 40}, {"barrier": "No ID", "people": 2}],
                chart=("barrier", "people"),
            ),
            5,
        )

    first, again = chart_svg(table("barriers")), chart_svg(table("barriers"))
    assert first is not None and first == again
    assert "<metadata" not in first and "Matplotlib" not in first and "<?xml" not in first
    other = chart_svg(table("flags")) or ""
    ids = set(re.findall(r'\bid="([^"]+)"', first))
    assert ids and not ids & set(re.findall(r'\bid="([^"]+)"', other))
    assert len(re.findall(r'\bid="([^"]+)"', first)) == len(ids)  # each id once
