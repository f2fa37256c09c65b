"""``probhealth services list`` at a worker's 80-column terminal."""

from __future__ import annotations

from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "examples" / "services-fictional.yaml"


def test_the_directory_reads_whole_at_80_columns(cli, narrow) -> None:
    """Seven columns folded names into "Quillo / n", pathways into "dentis / t" and phone
    numbers over three lines. Now the id and phone never break and the rest sits under the
    name, between words."""
    cli("services", "load", str(SERVICES))
    shown = cli("services", "list", "--pathway", "dentist", "--area", "CB1").stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    for whole in (
        "nat-nhs-dental-helpline",
        "0300 311 2233",
        "cam-dental-quillon",
        "01223 000 102",
        "for: dentist",
        "in: CB1, CB2, CB4, Cambridge",
        "Quillon Street NHS Dental",
    ):
        assert any(whole in line for line in lines), (whole, shown)
    everything = cli("services", "list").stdout
    assert max(len(line) for line in everything.splitlines()) <= 80
    assert "nat-nhs-111-mental-health" in everything
