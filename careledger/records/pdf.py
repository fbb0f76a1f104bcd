"""Render a patient's whole record as a PDF with WeasyPrint (like the care-plan patient copy)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from careledger.records.selectors import PatientRecord


def record_html(record: PatientRecord) -> str:
    """Return the printable page of the record: every section, every field that holds a value."""
    return render_to_string(
        "records/record_pdf.html",
        {
            "patient": record.patient,
            "practice": record.practice,
            "as_of_local": record.as_of.astimezone(ZoneInfo(record.practice.timezone)),
            "sections": record.sections,
        },
    )


def render_pdf(record: PatientRecord) -> bytes:
    """Render the record as a PDF (no network, no static files)."""
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDFs need it

    pdf: bytes = HTML(string=record_html(record)).write_pdf()
    return pdf
