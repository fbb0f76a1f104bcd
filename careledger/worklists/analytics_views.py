"""The capture-analytics page and its CSV, under /worklists/analytics/ (billing viewers only).

The views parse the month, authorize with ``requires``, call ``capture_trend`` once and render;
every number comes from ``careledger.worklists.analytics``.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.audit.services import record_event
from careledger.billing.months import LocalMonth, month_of, parse_month
from careledger.lib.localtime import local_today
from careledger.worklists import analytics
from careledger.worklists.views import neutralise


def _chosen_month(ctx: PracticeContext, request: HttpRequest) -> tuple[LocalMonth, LocalMonth]:
    """Return the month asked for (default: last month, never a later month) and this month."""
    tz = ctx.practice.timezone
    today = local_today(ctx.practice, timezone.now())
    current = month_of(today, tz)
    try:
        month = parse_month(request.GET.get("month", ""), tz)
    except ValueError:
        month = month_of(current.first_on - timedelta(days=1), tz)
    if month.first_on > current.first_on:
        month = current
    return month, current


def _trend(ctx: PracticeContext, month: LocalMonth) -> list[analytics.MonthCapture]:
    today = local_today(ctx.practice, timezone.now())
    return analytics.capture_trend(practice=ctx.practice, last=month, today=today)


def _audit(ctx: PracticeContext, event: str, month: LocalMonth, **details: object) -> None:
    record_event(
        event,
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"month": month.label, "months": analytics.TREND_MONTHS, **details},
    )


@requires("billing.view")
@require_GET
def capture_analytics(request: HttpRequest) -> HttpResponse:
    """Show the month's capture numbers per program and coordinator, and the 12-month trend."""
    ctx = ctx_of(request)
    month, current = _chosen_month(ctx, request)
    trend = _trend(ctx, month)
    shown = trend[-1]
    _audit(ctx, "analytics.viewed", month, source=shown.source)
    previous = month_of(month.first_on - timedelta(days=1), month.timezone)
    following = month_of(month.last_on + timedelta(days=1), month.timezone)
    context = {
        "month": month,
        "shown": shown,
        "groups": shown.groups,
        "trend": [(m, m.total) for m in reversed(trend)],
        "chart": analytics.chart_data(trend),
        "previous_label": previous.label,
        "next_label": following.label if following.first_on <= current.first_on else None,
        "near_minutes": analytics.NEAR_MINUTES,
        "near_days": analytics.NEAR_READING_DAYS,
        "typical": analytics.TYPICAL_SHARE,
        "best": analytics.BEST_SHARE,
        "nav_section": "billing",
        "billing_tab": "analytics",
    }
    with timezone.override(ZoneInfo(ctx.practice.timezone)):
        return render(request, "worklists/analytics.html", context)


@requires("billing.view")
@require_GET
def capture_analytics_csv(request: HttpRequest) -> HttpResponse:
    """Download the 12 months' numbers per program and coordinator (formula cells neutralised)."""
    ctx = ctx_of(request)
    month, _ = _chosen_month(ctx, request)
    trend = _trend(ctx, month)
    rows = analytics.csv_rows(trend)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"careledger-capture-{ctx.practice.slug}-{month.label}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(analytics.CSV_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    _audit(ctx, "analytics.exported", month, rows=len(rows), format="csv")
    return response
