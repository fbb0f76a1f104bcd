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

from careledger.accounts.access import requires
from careledger.audit.services import record_event
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import LocalMonth, month_of, parse_month
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Patient, Program
from careledger.rules.codes import describe
from careledger.rules.schedules import TimeFamily, rule_set_in_force
from careledger.timelog.models import TimeEntry
from careledger.web.views.patients import ctx_of

# Which of the rule set's time families draws the progress bar's marks, per program. Display
# only: the marks are read from the dated rule set, and the next code and the minutes it needs
# always come from the engine. CoCM's midpoint table and APCM (no time) show no marks.
BAR_FAMILY = {
    "CCM": "ccm_staff",
    "PCM": "pcm_staff",
    "RPM": "rpm_treatment",
    "RTM": "rtm_treatment",
    "BHI": "bhi",
}


@dataclass(frozen=True)
class Mark:
    minutes: int
    code: str
    percent: float
    reached: bool


@dataclass(frozen=True)
class Bar:
    """A progress bar of countable minutes, marked at the thresholds of the program's codes."""

    minutes: int
    scale: int
    marks: tuple[Mark, ...]

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.minutes / self.scale) if self.scale else 0.0


def _family_marks(family: TimeFamily, up_to: int) -> list[tuple[int, str]]:
    marks = []
    if family.short_code and family.short_minutes:
        marks.append((family.short_minutes, family.short_code))
    marks.append((family.base_minutes, family.base_code))
    if family.addon_code and family.addon_minutes:
        reach = family.base_minutes + family.addon_minutes
        while reach <= up_to:
            marks.append((reach, family.addon_code))
            reach += family.addon_minutes
    return marks


def bar_for(program: str, minutes: int, month: LocalMonth, target: int | None) -> Bar | None:
    """Draw the bar from the rule set in force for the month; None when no family applies."""
    rule_set = rule_set_in_force(month.first_on)
    name = BAR_FAMILY.get(program)
    if rule_set is None or name is None:
        return None
    family: TimeFamily = getattr(rule_set, name)
    first_addon = family.base_minutes + (family.addon_minutes or 0)
    # Show the next mark beyond the minutes so far (at least the first add-on).
    horizon = max(first_addon, minutes + (family.addon_minutes or family.base_minutes))
    found = _family_marks(family, horizon)
    if target is not None and target not in {m for m, _ in found}:
        found.append((target, ""))
    beyond = [m for m, _ in found if m > minutes]
    scale = max(min(beyond) if beyond else minutes, first_addon)
    marks = tuple(
        Mark(m, code, 100.0 * m / scale, minutes >= m) for m, code in sorted(found) if m <= scale
    )
    return Bar(minutes=minutes, scale=scale, marks=marks)


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
