"""A document as one self-contained HTML page (styles inline, no scripts, no links out) that
prints cleanly on A4. Jinja2 autoescapes every value: names and notes are untrusted text."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from probhealth.documents.model import Document

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("probhealth.documents", "templates"),
        autoescape=True,  # every value, whatever the template's name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(doc: Document) -> str:
    template = _environment().get_template("document.html.j2")
    return template.render(doc=doc.kept_together())
