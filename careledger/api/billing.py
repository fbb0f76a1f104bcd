"""Month close as JSON: close, review, approve and lock; billing.csv, billing.json, claims.837.

Who may do what (API.md): close and exports, managers and billers; approve and line decisions,
managers only; reading a month, also auditors and admins.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from careledger.accounts.access import PracticeContext, ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ErrorOut
from careledger.audit.services import record_event
from careledger.billing import amendments, services
from careledger.billing.close import MonthAlreadyApproved, close_month
from careledger.billing.exports.claims import claims_837
from careledger.billing.exports.csvfile import billing_csv
from careledger.billing.exports.jsonfile import billing_document, billing_json
from careledger.billing.models import BillingLine, BillingMonth
from careledger.billing.months import LocalMonth, parse_month
from careledger.billing.selectors import (
    LineFilters,
    billing_month_of,
    filter_by_flag,
    line_flag_codes,
    lines_of,
    review_list,
)
from careledger.patients.access import patient_for
from careledger.worklists.selectors import Fees

router = Router(tags=["month close"])


def _file_response(
    content_type: str, description: str, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Document a 200 whose body is a file rather than a ninja schema."""
    schema = schema or {"type": "string", "format": "binary"}
    return {
        "responses": {
            200: {"description": description, "content": {content_type: {"schema": schema}}}
        }
    }


ERRORS: dict[int, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
EXPORT_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _month(ctx: PracticeContext, value: str) -> LocalMonth:
    try:
        return parse_month(value, ctx.practice.timezone)
    except ValueError as error:
        raise ValidationError({"month": [str(error)]}) from None


def _closed(ctx: PracticeContext, value: str) -> BillingMonth:
    month = _month(ctx, value)
    found = billing_month_of(practice=ctx.practice, month=month.label)
    if found is None:
        raise Http404("This month has not been closed.")
    return found


def _conflict(request: HttpRequest, message: str) -> Status[dict[str, Any]]:
    return Status(409, {"detail": message, "errors": [{"field": "month", "message": message}]})


class CloseOut(Schema):
    practice: str
    month: str
    billing_month_id: int
    status: str
    close_count: int
    rule_sets: list[str]
    facts_sha256: str
    patients: int
    lines: int
    by_status: dict[str, int]
    lines_created: int
    lines_updated: int
    lines_dropped: int
    decisions_kept: int
    review_list: int


class CloseQuery(Schema):
    async_: int = Field(0, alias="async", description="background close: not supported yet")


@router.post("/months/{month}/close", response={200: CloseOut, **ERRORS})
@api_permission("month.close")
def close(request: HttpRequest, month: str, query: Query[CloseQuery]) -> Any:
    """Close (or re-close) the month: compute and store its lines, then answer.

    Re-closing before approval recomputes every line nobody decided on; a person's decisions
    stay. An approved month answers 409.
    """
    ctx = ctx_of(request)
    if query.async_:
        raise ValidationError(
            {"async": ["Background closes are not supported yet; omit async to close now."]}
        )
    local = _month(ctx, month)
    now = timezone.now()
    if local.starts_at > now:
        raise ValidationError({"month": [f"{local.label} has not started yet."]})
    try:
        summary = close_month(
            practice=ctx.practice, month=local, actor=ctx.user, now=now, source_ip=ctx.source_ip
        )
    except MonthAlreadyApproved as error:
        return _conflict(request, str(error))
    return summary.as_dict()


class HeldOut(Schema):
    line_id: int
    patient_id: int
    program: str
    code: str
    reasons: list[dict[str, Any]]


class ApprovalOut(Schema):
    month: str
    status: str
    locked: bool
    approved: int
    held: list[HeldOut]


@router.post("/months/{month}/approve", response={200: ApprovalOut, **ERRORS})
@api_permission("month.approve")
def approve(request: HttpRequest, month: str) -> Any:
    """Approve every line that needs no review, hold the rest (listed), and lock the month."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    try:
        approval = services.approve_month(ctx=ctx, billing_month=billing_month, now=timezone.now())
    except MonthAlreadyApproved as error:
        return _conflict(request, str(error))
    return approval.as_dict()


class LineOut(Schema):
    id: int
    patient_id: int
    program: str
    code: str
    units: int
    dos: date
    practitioner: str
    billing_npi: str
    rendering_npi: str
    pos: str
    diagnoses: list[str]
    status: str
    flags: list[str]
    review_reasons: list[dict[str, Any]]
    source: str
    batch: int
    engine_units: int | None
    engine_agrees: bool
    decision_reason: str


def _line_out(line: BillingLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "patient_id": line.patient_id,
        "program": line.program,
        "code": line.code,
        "units": line.units,
        "dos": line.dos,
        "practitioner": line.practitioner.get_username(),
        "billing_npi": line.billing_npi,
        "rendering_npi": line.rendering_npi,
        "pos": line.place_of_service,
        "diagnoses": list(line.diagnoses),
        "status": line.status,
        "flags": line_flag_codes(line),
        "review_reasons": list(line.review_reasons),
        "source": line.source,
        "batch": line.batch,
        "engine_units": line.engine_units,
        "engine_agrees": line.engine_agrees,
        "decision_reason": line.decision_reason,
    }


class LineList(Schema):
    items: list[LineOut]
    count: int


class LineQuery(Schema):
    status: BillingLine.Status | None = None
    program: str = Field("", max_length=5)
    flag: str = Field("", max_length=60)
    coordinator_id: int | None = None
    patient_id: int | None = None


@router.get("/months/{month}/lines", response={200: LineList, **ERRORS})
@api_permission("billing.view")
def list_lines(request: HttpRequest, month: str, filters: Query[LineQuery]) -> dict[str, Any]:
    """List the month's lines; filter by status, program, flag or coordinator."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    lines = lines_of(
        billing_month,
        LineFilters(
            status=filters.status or "",
            program=filters.program,
            coordinator_id=filters.coordinator_id,
            patient_id=filters.patient_id,
        ),
    )
    items = [_line_out(line) for line in filter_by_flag(lines, filters.flag)]
    return {"items": items, "count": len(items)}


def _line(ctx: PracticeContext, month: str, line_id: int) -> BillingLine:
    billing_month = _closed(ctx, month)
    line = lines_of(billing_month).filter(pk=line_id).first()
    if line is None:
        raise Http404("No such line.")
    return line


class DecisionIn(Schema):
    action: str = Field(description="approve, hold or remove")
    reason: str = Field("", max_length=500)


@router.post("/months/{month}/lines/{line_id}/decision", response={200: LineOut, **ERRORS})
@api_permission("month.approve")
def decide(request: HttpRequest, month: str, line_id: int, payload: DecisionIn) -> Any:
    """Approve, hold or remove a line with a reason (approving a plain proposal needs none)."""
    ctx = ctx_of(request)
    line = _line(ctx, month, line_id)
    try:
        services.decide_line(
            ctx=ctx, line=line, action=payload.action, reason=payload.reason, now=timezone.now()
        )
    except MonthAlreadyApproved as error:
        return _conflict(request, str(error))
    return _line_out(line)


class EditIn(Schema):
    units: int = Field(ge=1, le=99)
    reason: str = Field(max_length=500)


@router.patch("/months/{month}/lines/{line_id}", response={200: LineOut, **ERRORS})
@api_permission("month.approve")
def edit(request: HttpRequest, month: str, line_id: int, payload: EditIn) -> Any:
    """Change a line's units with a reason; the engine's units stay beside them."""
    ctx = ctx_of(request)
    line = _line(ctx, month, line_id)
    try:
        services.edit_line(
            ctx=ctx, line=line, units=payload.units, reason=payload.reason, now=timezone.now()
        )
    except MonthAlreadyApproved as error:
        return _conflict(request, str(error))
    return _line_out(line)


class ManualLineIn(Schema):
    patient_id: int
    code: str = Field(max_length=5)
    units: int = Field(1, ge=1, le=99)
    dos: date
    reason: str = Field(max_length=500)
    practitioner_id: int | None = None


@router.post("/months/{month}/lines", response={201: LineOut, **ERRORS})
@api_permission("month.approve")
def add(request: HttpRequest, month: str, payload: ManualLineIn) -> Any:
    """Add a line by hand (for example a code the engine withheld), with a reason."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    patient = patient_for(ctx, payload.patient_id, audit_view=False)
    try:
        line = services.add_line(
            ctx=ctx,
            billing_month=billing_month,
            manual=services.ManualLine(
                patient=patient,
                code=payload.code,
                units=payload.units,
                dos=payload.dos,
                reason=payload.reason,
                practitioner_id=payload.practitioner_id,
            ),
            now=timezone.now(),
        )
    except MonthAlreadyApproved as error:
        return _conflict(request, str(error))
    return Status(201, _line_out(lines_of(billing_month).get(pk=line.pk)))


class AmendmentOut(Schema):
    patient_id: int
    entries: list[dict[str, Any]]
    gained: list[dict[str, Any]]
    lost: list[dict[str, Any]]


class AmendmentList(Schema):
    items: list[AmendmentOut]
    count: int


@router.get("/months/{month}/amendments", response={200: AmendmentList, **ERRORS})
@api_permission("billing.view")
def list_amendments(request: HttpRequest, month: str) -> dict[str, Any]:
    """List the pending amendments of a locked month: what changed and its effect on billing."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    items = [p.as_dict() for p in amendments.pending_amendments(billing_month)]
    return {"items": items, "count": len(items)}


class AcceptIn(Schema):
    patient_id: int
    reason: str = Field(max_length=500)


class AcceptOut(Schema):
    patient_id: int
    batch: int
    gained: list[dict[str, Any]]
    lost: list[dict[str, Any]]


@router.post("/months/{month}/amendments", response={201: AcceptOut, **ERRORS})
@api_permission("month.approve")
def accept_amendment(request: HttpRequest, month: str, payload: AcceptIn) -> Any:
    """Accept a patient's pending amendment into the month's next supplementary batch."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    patient = patient_for(ctx, payload.patient_id, audit_view=False)
    amendment = amendments.accept_amendment(
        ctx=ctx,
        billing_month=billing_month,
        patient=patient,
        reason=payload.reason,
        now=timezone.now(),
    )
    return Status(
        201,
        {
            "patient_id": patient.pk,
            "batch": amendment.batch,
            "gained": amendment.gained,
            "lost": amendment.lost,
        },
    )


def _export(
    ctx: PracticeContext, billing_month: BillingMonth, event: str, body: bytes, kind: str, name: str
) -> HttpResponse:
    with transaction.atomic():
        record_event(
            event,
            actor=ctx.user,
            practice=ctx.practice,
            obj=billing_month,
            source_ip=ctx.source_ip,
            details={"month": billing_month.month, "status": billing_month.status, "via": "api"},
        )
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Careledger-Export-Status"] = "final" if billing_month.approved else "draft"
    return response


@router.get(
    "/months/{month}/billing.csv",
    response=EXPORT_ERRORS,
    openapi_extra=_file_response("text/csv", "The month's lines as CSV"),
)
@api_permission("billing.export")
def export_csv(request: HttpRequest, month: str) -> HttpResponse:
    """The month's lines as billing.csv (API.md columns); a draft until the month is approved."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    body = billing_csv(billing_month, lines_of(billing_month))
    name = f"billing-{ctx.practice.slug}-{billing_month.month}.csv"
    return _export(ctx, billing_month, "export.csv", body, "text/csv; charset=utf-8", name)


@router.get(
    "/months/{month}/billing.json",
    response=EXPORT_ERRORS,
    openapi_extra=_file_response(
        "application/json", "The month as a JSON document", {"type": "object"}
    ),
)
@api_permission("billing.export")
def export_json(request: HttpRequest, month: str) -> HttpResponse:
    """The month, its lines with reasons and evidence, and the review list, as JSON."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    document = billing_document(billing_month, lines_of(billing_month), review_list(billing_month))
    name = f"billing-{ctx.practice.slug}-{billing_month.month}.json"
    return _export(
        ctx, billing_month, "export.json", billing_json(document), "application/json", name
    )


class ClaimsQuery(Schema):
    batch: int = Field(0, ge=0, le=99, description="0: the close; 1, 2, ...: supplementary")


@router.get(
    "/months/{month}/claims.837",
    response=EXPORT_ERRORS,
    openapi_extra=_file_response("application/edi-x12", "X12 837P claims"),
)
@api_permission("billing.export")
def export_837(request: HttpRequest, month: str, query: Query[ClaimsQuery]) -> HttpResponse:
    """X12 837P 005010X222A1 claims grouped by billing practitioner (ISA15 = T until approval)."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    local = _month(ctx, month)
    fees = Fees(ctx.practice, local.last_on)

    def charge_of(code: str, on: date) -> Decimal | None:
        return fees.amount(code)

    body = claims_837(billing_month, charge_of=charge_of, batch=query.batch).encode("ascii")
    name = f"claims-{ctx.practice.slug}-{billing_month.month}.837"
    return _export(ctx, billing_month, "export.837p", body, "application/edi-x12", name)
