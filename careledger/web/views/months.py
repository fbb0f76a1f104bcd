"""The patient's month on the patient page: minutes, live contact, the engine's decision.

The decision and the next threshold come from the billing engine (``evaluate_patient_month``),
the same one the month close runs; this module only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from careledger.accounts.access import ctx_of, requires
from careledger.audit.services import record_event
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import LocalMonth, month_of, parse_month
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Patient, Program
from careledger.rules.codes import describe
from careledger.timelog.models import TimeEntry
from careledger.worklists.queries import Bar, bar_for


@dataclass
class ProgramMonth:
    program: str
    label: str
    minutes: int
    interactive_contact: bool
    reading_days: int | None
    next_threshold: dict[str, Any] | None
    next_device_threshold: dict[str, Any] | None
    lines: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    entries: list[TimeEntry]
    bar: Bar | None

    @property
    def next_description(self) -> str:
        return describe(self.next_threshold["code"]) if self.next_threshold else ""


def month_entries(patient: Patient, month: LocalMonth) -> list[TimeEntry]:
    """Return every entry touching the month, voided ones too (shown, never counted)."""
    return list(
        TimeEntry.objects.filter(
            patient=patient, started_at__lt=month.ends_at, ended_at__gt=month.starts_at
        )
        .select_related("staff")
        .order_by("started_at", "id")
    )


def programs_in_month(patient: Patient, month: LocalMonth) -> list[str]:
    """Return the programs with an enrollment overlapping the month (any status)."""
    overlapping = patient.enrollments.filter(started_on__lte=month.last_on).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=month.first_on)
    )
    return sorted(set(overlapping.values_list("program", flat=True)))


def _described(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**line, "description": describe(str(line["code"]))} for line in lines]


@requires("patient.view")
@require_GET
def patient_month(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show a patient-month per program; HTMX gets only the panel (month in ``?month=``)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    current = month_of(today, ctx.practice.timezone)
    try:
        month = parse_month(request.GET.get("month") or current.label, ctx.practice.timezone)
    except ValueError:
        month = current
    if month.first_on > current.first_on:
        month = current
    view = evaluate_patient_month(
        patient=patient, month=month, as_of=today, setting=ctx.practice.setting
    )
    record_event(
        "month.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient.pk,
        obj=patient,
        source_ip=ctx.source_ip,
        details={"month": month.label, "as_of": today.isoformat()},
        now=now,
    )
    summaries = view.programs
    entries = month_entries(patient, month)
    enrolled = sorted(set(programs_in_month(patient, month)) | set(summaries))
    labels = dict(Program.choices)
    programs = []
    for program in enrolled:
        summary: dict[str, Any] = summaries.get(program) or {}
        minutes = int(summary.get("minutes") or 0)
        nxt = summary.get("next_threshold")
        target = minutes + nxt["minutes_needed"] if nxt and nxt.get("minutes_needed") else None
        programs.append(
            ProgramMonth(
                program=program,
                label=labels.get(program, program),
                minutes=minutes,
                interactive_contact=bool(summary.get("interactive_contact")),
                reading_days=summary.get("reading_days"),
                next_threshold=nxt,
                next_device_threshold=summary.get("next_device_threshold"),
                lines=_described([ln for ln in view.lines if ln["program"] == program]),
                flags=[f for f in view.flags if f["program"] == program],
                entries=[e for e in entries if e.program == program],
                bar=bar_for(program, minutes, month, target),
            )
        )
    previous = month_of(month.first_on - timedelta(days=1), ctx.practice.timezone)
    following = month_of(month.last_on + timedelta(days=1), ctx.practice.timezone)
    context = {
        "patient": patient,
        "month": month,
        "month_first_on": month.first_on,
        "as_of": today,
        "is_current": month.label == current.label,
        "previous_label": previous.label,
        "next_label": following.label if month.label != current.label else None,
        "current_label": current.label,
        "programs": programs,
        "general_flags": [f for f in view.flags if not f["program"]],
        "rule_sets": view.rule_sets,
        "may_log_time": ctx.may("time.log"),
        "practice_zone": ctx.practice.timezone,
    }
    template = "web/months/panel.html"
    if getattr(request, "htmx", False):
        template += "#month-panel"
    with timezone.override(ZoneInfo(ctx.practice.timezone)):
        return render(request, template, context)
