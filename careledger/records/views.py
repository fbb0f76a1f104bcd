"""Right-of-access downloads from the patient page. Every view declares its permission."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from careledger.accounts.access import PracticeContext, requires
from careledger.patients.access import patient_for
from careledger.records.services import Disclosure, Format, disclose_record


def _download(request: HttpRequest, patient_id: int, format: Format) -> HttpResponse:
    ctx: PracticeContext = request.ctx  # type: ignore[attr-defined]
    patient = patient_for(ctx, patient_id, audit_view=False)
    disclosure = disclose_record(
        ctx=ctx, patient=patient, format=format, via="page", now=timezone.now()
    )
    return as_attachment(disclosure)


def as_attachment(disclosure: Disclosure) -> HttpResponse:
    """Answer with the file to save; never cached (it is the patient's whole record)."""
    response = HttpResponse(disclosure.body, content_type=disclosure.content_type)
    response["Content-Disposition"] = f'attachment; filename="{disclosure.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@requires("patient.record_export")
def record_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Download everything held about the patient as a PDF."""
    return _download(request, patient_id, "pdf")


@require_GET
@requires("patient.record_export")
def record_fhir(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Download everything held about the patient as a FHIR R4B Bundle."""
    return _download(request, patient_id, "fhir")
