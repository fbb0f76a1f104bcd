"""Month-close pages under /billing/: the month, its review, approval, and evidence packets."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.audit.services import record_event
from careledger.billing import amendments, services
from careledger.billing.close import MonthAlreadyApproved, close_month
from careledger.billing.evidence import evidence_packet, render_pdf
from careledger.billing.exports.csvfile import billing_csv
from careledger.billing.models import BillingLine, BillingMonth
from careledger.billing.months import month_of, parse_month
from careledger.billing.selectors import (
    LineFilters,
    billing_month_of,
    filter_by_flag,
    line_flag_codes,
    lines_of,
    review_list,
)
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for


def _label(ctx: PracticeContext, value: str) -> str:
    try:
        return parse_month(value, ctx.practice.timezone).label
    except ValueError:
        raise Http404("No such month.") from None


def _closed(ctx: PracticeContext, month: str) -> BillingMonth:
    found = billing_month_of(practice=ctx.practice, month=_label(ctx, month))
    if found is None:
        raise Http404("This month has not been closed.")
    return found


@requires("billing.view")
def months_page(request: HttpRequest) -> HttpResponse:
    """List the closed months and offer to close last month."""
    ctx = ctx_of(request)
    today = local_today(ctx.practice, timezone.now())
    last = month_of(today.replace(day=1) - timedelta(days=1), ctx.practice.timezone)
    months = BillingMonth.objects.filter(practice=ctx.practice).order_by("-month")
    return render(
        request,
        "billing/months.html",
        {
            "months": months,
            "last_month": last.label,
            "may_close": ctx.may("month.close"),
            "nav_section": "billing",
        },
    )


@requires("billing.view")
def month_page(request: HttpRequest, month: str) -> HttpResponse:
    """Show a closed month: its lines (filter by status, program, flag, coordinator) and review."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    coordinator = request.GET.get("coordinator", "")
    filters = LineFilters(
        status=request.GET.get("status", ""),
        program=request.GET.get("program", ""),
        coordinator_id=int(coordinator) if coordinator.isdigit() else None,
    )
    lines = filter_by_flag(lines_of(billing_month, filters), request.GET.get("flag", ""))
    with transaction.atomic():
        record_event(
            "billing_month.viewed",
            actor=ctx.user,
            practice=ctx.practice,
            obj=billing_month,
            source_ip=ctx.source_ip,
            details={"month": billing_month.month},
        )
    return render(
        request,
        "billing/month.html",
        {
            "billing_month": billing_month,
            "rows": [(line, line_flag_codes(line)) for line in lines],
            "review": review_list(billing_month),
            "pending": amendments.pending_amendments(billing_month),
            "statuses": BillingLine.Status.choices,
            "filters": filters,
            "flag": request.GET.get("flag", ""),
            "may_close": ctx.may("month.close"),
            "may_approve": ctx.may("month.approve"),
            "may_export": ctx.may("billing.export"),
            "nav_section": "billing",
        },
    )


@require_POST
@requires("month.close")
def close_page(request: HttpRequest, month: str) -> HttpResponse:
    """Close (or re-close) a month from the page."""
    ctx = ctx_of(request)
    local = parse_month(_label(ctx, month), ctx.practice.timezone)
    now = timezone.now()
    if local.starts_at > now:
        raise Http404("This month has not started.")
    try:
        summary = close_month(
            practice=ctx.practice, month=local, actor=ctx.user, now=now, source_ip=ctx.source_ip
        )
    except MonthAlreadyApproved as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Closed {local.label}: {sum(summary.by_status.values())} lines.")
    return redirect("billing-month", month=local.label)


@require_POST
@requires("month.approve")
def approve_page(request: HttpRequest, month: str) -> HttpResponse:
    """Approve the month: clean lines approved, the rest held and listed, the month locked."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    try:
        approval = services.approve_month(ctx=ctx, billing_month=billing_month, now=timezone.now())
    except MonthAlreadyApproved as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Approved and locked {billing_month.month}: {approval.approved} lines approved, "
            f"{len(approval.held)} held for review.",
        )
    return redirect("billing-month", month=billing_month.month)


@require_POST
@requires("month.approve")
def decide_page(request: HttpRequest, month: str, line_id: int) -> HttpResponse:
    """Approve, hold or remove one line with a reason."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    line = lines_of(billing_month).filter(pk=line_id).first()
    if line is None:
        raise Http404("No such line.")
    try:
        services.decide_line(
            ctx=ctx,
            line=line,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            now=timezone.now(),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except MonthAlreadyApproved as error:
        messages.error(request, str(error))
    return redirect("billing-month", month=billing_month.month)


@require_http_methods(["GET"])
@requires("billing.export")
def csv_page(request: HttpRequest, month: str) -> HttpResponse:
    """Download billing.csv for the month."""
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    with transaction.atomic():
        record_event(
            "export.csv",
            actor=ctx.user,
            practice=ctx.practice,
            obj=billing_month,
            source_ip=ctx.source_ip,
            details={"month": billing_month.month, "via": "page"},
        )
    response = HttpResponse(
        billing_csv(billing_month, lines_of(billing_month)), content_type="text/csv; charset=utf-8"
    )
    name = f"billing-{ctx.practice.slug}-{billing_month.month}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _packet(request: HttpRequest, month: str, patient_id: int, event: str):  # type: ignore[no-untyped-def]
    ctx = ctx_of(request)
    billing_month = _closed(ctx, month)
    # Case 1: another practice's patient is not found, and the attempt is audited as denied.
    patient = patient_for(ctx, patient_id, audit_view=False)
    packet = evidence_packet(billing_month=billing_month, patient=patient)
    with transaction.atomic():
        record_event(
            event,
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=billing_month,
            source_ip=ctx.source_ip,
            details=packet.summary,
        )
    return packet


@requires("evidence.view")
def evidence_page(request: HttpRequest, month: str, patient_id: int) -> HttpResponse:
    """Show one patient-month's evidence packet."""
    packet = _packet(request, month, patient_id, "evidence.viewed")
    return render(request, "billing/evidence.html", {"packet": packet, "nav_section": "billing"})


@requires("evidence.view")
def evidence_pdf(request: HttpRequest, month: str, patient_id: int) -> HttpResponse:
    """Download one patient-month's evidence packet as a PDF."""
    packet = _packet(request, month, patient_id, "evidence.pdf_viewed")
    html = render_to_string("billing/evidence_pdf.html", {"packet": packet})
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    name = f"evidence-{packet.billing_month.month}-{packet.patient.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
