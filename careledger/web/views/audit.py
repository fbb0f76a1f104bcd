"""The audit log page for auditors and admins (ONC 170.315(d)(3): filter, sort by every field)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careledger.accounts.access import ctx_of, requires
from careledger.accounts.models import Practice
from careledger.audit.models import AuditEvent
from careledger.audit.selectors import audit_events_for
from careledger.audit.services import record_event
from careledger.web.forms import AuditFilterForm

EVENTS_PER_PAGE = 50
DEFAULT_SORT = "-occurred_at"

# Table columns in display order: (ORDERINGS key, heading).
COLUMNS = (
    ("occurred_at", "When"),
    ("event", "Event"),
    ("action", "Action"),
    ("outcome", "Outcome"),
    ("actor", "User"),
    ("patient_id", "Patient"),
    ("object", "Object"),
    ("source_ip", "Source IP"),
    ("id", "#"),
)


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    next_sort: str
    direction: str  # "ascending", "descending" or "" (aria-sort values)


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    details: str


def local_midnight(day: date, practice: Practice) -> datetime:
    """Return the instant the practice's local ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(practice.timezone))


def columns_for(sort: str) -> list[Column]:
    """Describe each heading: where clicking it sorts next and how it sorts now."""
    columns = []
    for key, heading in COLUMNS:
        if sort == key:
            columns.append(Column(key, heading, f"-{key}", "ascending"))
        elif sort == f"-{key}":
            columns.append(Column(key, heading, key, "descending"))
        else:
            columns.append(Column(key, heading, key, ""))
    return columns


@requires("audit.view")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """List the practice's audit events, filtered, sorted and paginated; audit the viewing."""
    ctx = ctx_of(request)
    form = AuditFilterForm(request.GET, practice=ctx.practice)
    context: dict[str, Any] = {"form": form, "columns": columns_for(DEFAULT_SORT)}
    if not form.is_valid():
        # A bad filter or sort column is the caller's mistake: say so, never guess (case 7).
        return render(request, "web/audit/log.html", context, status=400)
    data = form.cleaned_data
    sort = data["sort"] or DEFAULT_SORT
    until = data["until"]
    events = audit_events_for(
        practice=ctx.practice,
        since=local_midnight(data["since"], ctx.practice) if data["since"] else None,
        until=local_midnight(until + timedelta(days=1), ctx.practice) if until else None,
        user=data["user"] or None,
        patient_id=data["patient"],
        event=data["event"] or None,
        ordering=sort,
    )
    paginator = Paginator(events, EVENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        Row(event=e, details=json.dumps(e.details, sort_keys=True) if e.details else "")
        for e in page.object_list
    ]
    record_event(
        "audit.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={
            "count": paginator.count,
            "page": page.number,
            "sort": sort,
            "filters": {key: str(value) for key, value in data.items() if value and key != "sort"},
        },
    )
    context.update(columns=columns_for(sort), page=page, rows=rows, sort=sort)
    return render(request, "web/audit/log.html", context)
