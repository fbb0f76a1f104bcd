"""The pre-close worklist and the dashboard rows as JSON."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from careledger.accounts.access import PracticeContext, ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.audit.services import record_event
from careledger.billing.months import LocalMonth, parse_month
from careledger.lib.localtime import local_today
from careledger.worklists.queries import panel_totals
from careledger.worklists.selectors import (
    panel_rows,
    pre_close_worklist,
    worklist_opens_on,
)

router = Router(tags=["worklists"])


class MonthQuery(Schema):
    month: str | None = Field(None, description="YYYY-MM; default the current month")
    as_of: date | None = Field(None, description="local date; default today in the practice")
    coordinator_id: int | None = None


class WorklistItemOut(Schema):
    patient_id: int
    mrn: str
    name: str
    program: str
    reason: str
    minutes: int
    next_code: str | None
    minutes_needed: int | None
    reading_days: int | None
    reading_days_needed: int | None
    reachable: bool
    every_remaining_day: bool
    value_at_stake: Decimal | None
    assigned_to: str | None


class WorklistOut(Schema):
    month: str
    as_of: date
    opens_on: date
    open: bool
    items: list[WorklistItemOut]
    count: int


class RowOut(Schema):
    patient_id: int
    mrn: str
    name: str
    program: str
    minutes: int
    interactive_contact: bool
    reading_days: int | None
    codes: list[str]
    flags: list[str]
    next_code: str | None
    minutes_needed: int | None
    device_next_code: str | None
    reading_days_needed: int | None
    entry_ids: list[int]
    projected_value: Decimal | None


class DashboardOut(Schema):
    month: str
    as_of: date
    items: list[RowOut]
    count: int
    totals: dict[str, Any]


def _month_and_day(ctx: PracticeContext, query: MonthQuery) -> tuple[LocalMonth, date]:
    today = local_today(ctx.practice, timezone.now())
    as_of = query.as_of or today
    try:
        month = parse_month(query.month or f"{as_of:%Y-%m}", ctx.practice.timezone)
    except ValueError as exc:
        raise ValidationError({"month": [str(exc)]}) from None
    return month, as_of


def _audit(ctx: PracticeContext, event: str, month: LocalMonth, count: int) -> None:
    record_event(
        event,
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"month": month.label, "rows": count, "via": "api"},
    )


@router.get("/worklists/pre-close", response={200: WorklistOut, **ERRORS})
@api_permission("patient.view")
def pre_close(request: HttpRequest, query: Query[MonthQuery]) -> dict[str, Any]:
    """List patients a short contact (or a few readings) from their next code, best value first."""
    ctx = ctx_of(request)
    month, as_of = _month_and_day(ctx, query)
    items = pre_close_worklist(
        practice=ctx.practice, month=month, as_of=as_of, coordinator_id=query.coordinator_id
    )
    opens_on = worklist_opens_on(ctx.practice, month)
    _audit(ctx, "worklist.viewed", month, len(items))
    return {
        "month": month.label,
        "as_of": as_of,
        "opens_on": opens_on,
        "open": opens_on <= as_of,
        "items": [
            {
                "patient_id": i.row.patient_id,
                "mrn": i.row.mrn,
                "name": i.row.name,
                "program": i.row.program,
                "reason": i.reason,
                "minutes": i.row.minutes,
                "next_code": i.next_code,
                "minutes_needed": i.row.minutes_needed if i.reason == "minutes" else None,
                "reading_days": i.row.reading_days,
                "reading_days_needed": i.row.reading_days_needed,
                "reachable": i.reachable,
                "every_remaining_day": i.every_remaining_day,
                "value_at_stake": i.value_at_stake,
                "assigned_to": i.assigned_to,
            }
            for i in items
        ],
        "count": len(items),
    }


@router.get("/dashboard", response={200: DashboardOut, **ERRORS})
@api_permission("patient.view")
def dashboard(request: HttpRequest, query: Query[MonthQuery]) -> dict[str, Any]:
    """One row per enrolled patient and program: minutes, live contact, days, next code."""
    ctx = ctx_of(request)
    month, as_of = _month_and_day(ctx, query)
    rows = panel_rows(
        practice=ctx.practice, month=month, as_of=as_of, coordinator_id=query.coordinator_id
    )
    _audit(ctx, "dashboard.viewed", month, len(rows))
    return {
        "month": month.label,
        "as_of": as_of,
        "items": [row.__dict__ for row in rows],
        "count": len(rows),
        "totals": panel_totals(rows),
    }
