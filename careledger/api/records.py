"""A patient's right-of-access export: everything held about them, as a PDF or FHIR Bundle."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from careledger.accounts.access import ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.patients.access import patient_for
from careledger.records.services import Format, disclose_record
from careledger.records.views import as_attachment

router = Router(tags=["right of access"])


BINARY: dict[str, object] = {"type": "string", "format": "binary"}
BUNDLE: dict[str, object] = {
    "type": "object",
    "description": "A FHIR R4B Bundle of type collection",
    "properties": {"resourceType": {"const": "Bundle"}, "entry": {"type": "array"}},
    "required": ["resourceType"],
}


def _file(content_type: str, schema: dict[str, object], description: str) -> dict[str, object]:
    content = {content_type: {"schema": schema}}
    return {"responses": {200: {"description": description, "content": content}}}


def _export(request: HttpRequest, patient_id: int, format: Format) -> HttpResponse:
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    now = timezone.now()
    return as_attachment(
        disclose_record(ctx=ctx, patient=patient, format=format, via="api", now=now)
    )


@router.get(
    "/patients/{patient_id}/record.pdf",
    response=ERRORS,
    openapi_extra=_file("application/pdf", BINARY, "Everything held about the patient, as a PDF"),
)
@api_permission("patient.record_export")
def record_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Export everything held about the patient as a PDF, recorded as a disclosure."""
    return _export(request, patient_id, "pdf")


@router.get(
    "/patients/{patient_id}/record.fhir.json",
    response=ERRORS,
    openapi_extra=_file(
        "application/fhir+json", BUNDLE, "Everything held about the patient, as a FHIR R4B Bundle"
    ),
)
@api_permission("patient.record_export")
def record_fhir(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Export everything held about the patient as a FHIR R4B collection Bundle, as a disclosure."""
    return _export(request, patient_id, "fhir")
