"""HTML to PDF with WeasyPrint: a pure-Python layout engine from PyPI that needs only
Pango from the OS (see scripts/apt-packages.txt), prints CSS paged media (page size,
page numbers, page breaks) and draws the inline SVG charts. No browser, no network."""

from __future__ import annotations


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


def html_to_pdf(html: str) -> bytes:
    try:
        # Imported here: loading Pango costs time every other format should not pay.
        from weasyprint import HTML
    except (ImportError, OSError) as error:
        raise PdfUnavailable(
            "PDF output needs WeasyPrint and Pango: pip install weasyprint, and "
            f"apt-get install the packages in scripts/apt-packages.txt ({error})"
        ) from None
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf
