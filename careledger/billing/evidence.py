"""The evidence packet of one patient-month: everything an auditor needs, readable without us.

Consent and order per enrollment, the care-plan version in force at the month's end and when it
was shared (with the review state the close saw), every counted and every excluded time entry
(start, end, kind, outcome, summary, staff, credential), the live contacts, the device periods
with each reading day's date and devices, the billed lines with the rule set and rule IDs that
decided them, and any amendment, accepted or pending (cms-rules-2026.md section 10).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch

from careledger.billing.amendments import PendingAmendment, pending_amendments
from careledger.billing.models import Amendment, BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import LocalMonth, parse_month
from careledger.careplans.models import CarePlan, CarePlanVersion, Sharing
from careledger.careplans.review import ReviewStatus
from careledger.careplans.selectors import review_statuses
from careledger.devices.models import Device, Reading, Source
from careledger.devices.selectors import device_periods_by_patient
from careledger.patients.models import Enrollment, Patient
from careledger.timelog.models import TimeEntry


@dataclass(frozen=True)
class PlanInForce:
    """A care plan at the end of the month: the signed version in force and its sharing."""

    plan: CarePlan
    status: ReviewStatus
    version: CarePlanVersion | None
    # Every sharing of that version; those after the month's end are marked by the template.
    sharings: tuple[Sharing, ...] = ()
    month_last_on: date | None = None

    @property
    def shared_by_month_end(self) -> list[Sharing]:
        last = self.month_last_on
        return [s for s in self.sharings if last is None or s.shared_on <= last]

    @property
    def shared_later(self) -> list[Sharing]:
        last = self.month_last_on
        return [s for s in self.sharings if last is not None and s.shared_on > last]


@dataclass(frozen=True)
class ReadingDay:
    """One local day with automatic readings, and the devices that sent them."""

    day: date
    readings: int
    devices: tuple[str, ...]
    in_month: bool


@dataclass(frozen=True)
class DevicePeriodEvidence:
    """A 30-day device period (RPM-4) that shares a day with the month, and its reading days."""

    program: str
    starts_on: date
    ends_on: date
    billed_this_month: bool
    days: tuple[ReadingDay, ...] = field(default=())

    @property
    def day_count(self) -> int:
        return len(self.days)


@dataclass(frozen=True)
class EvidencePacket:
    billing_month: BillingMonth
    patient: Patient
    enrollments: list[Enrollment]
    entries: list[TimeEntry]
    counted_ids: frozenset[int]
    lines: list[BillingLine]
    patient_months: list[PatientMonth]
    amendments: list[Amendment]
    plans: list[PlanInForce] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    device_periods: list[DevicePeriodEvidence] = field(default_factory=list)
    pending: list[PendingAmendment] = field(default_factory=list)

    @property
    def counted(self) -> list[TimeEntry]:
        return [e for e in self.entries if self._counts(e)]

    @property
    def excluded(self) -> list[TimeEntry]:
        return [e for e in self.entries if not self._counts(e)]

    def _counts(self, entry: TimeEntry) -> bool:
        return entry.pk in self.counted_ids and entry.countable and entry.voided_at is None

    @property
    def month_last_on(self) -> date:
        return parse_month(self.billing_month.month, self.billing_month.practice.timezone).last_on

    @property
    def live_contacts(self) -> list[TimeEntry]:
        return [e for e in self.counted if e.interactive]

    @property
    def rule_ids(self) -> list[str]:
        rules: set[str] = set()
        for pm in self.patient_months:
            rules |= {str(f.get("rule", "")) for f in pm.flags}
        for line in self.lines:
            rules |= {str(f.get("rule", "")) for f in line.flags}
        return sorted(r for r in rules if r)

    @property
    def summary(self) -> dict[str, Any]:
        return {
            "month": self.billing_month.month,
            "patient_id": self.patient.pk,
            "lines": len(self.lines),
            "counted_entries": len(self.counted),
            "excluded_entries": len(self.excluded),
            "reading_days": sum(p.day_count for p in self.device_periods),
            "plan_versions": [p.version.number for p in self.plans if p.version is not None],
            "amendments": len(self.amendments),
            "pending_amendments": len(self.pending),
        }


def evidence_packet(*, billing_month: BillingMonth, patient: Patient) -> EvidencePacket:
    """Gather the packet for one patient in a closed month (the patient must be the practice's)."""
    month = parse_month(billing_month.month, billing_month.practice.timezone)
    patient_months = list(
        PatientMonth.objects.filter(billing_month=billing_month, patient=patient).order_by(
            "practitioner_id"
        )
    )
    counted = frozenset(
        int(e) for pm in patient_months for ids in pm.entry_ids.values() for e in ids
    )
    entries = list(
        TimeEntry.objects.filter(
            patient=patient, started_at__lt=month.ends_at, ended_at__gt=month.starts_at
        )
        .select_related("staff")
        .order_by("started_at", "id")
    )
    return EvidencePacket(
        billing_month=billing_month,
        patient=patient,
        enrollments=list(
            patient.enrollments.filter(started_on__lte=month.last_on)
            .select_related("billing_practitioner", "ordering_practitioner", "consent_obtained_by")
            .order_by("program", "-started_on")
        ),
        entries=entries,
        counted_ids=counted,
        lines=list(
            BillingLine.objects.filter(billing_month=billing_month, patient=patient)
            .select_related("practitioner", "decided_by")
            .order_by("batch", "program", "code", "id")
        ),
        patient_months=patient_months,
        amendments=list(
            Amendment.objects.filter(billing_month=billing_month, patient=patient)
            .select_related("accepted_by")
            .order_by("batch")
        ),
        plans=plans_in_force(patient, month),
        devices=list(
            Device.objects.filter(patient=patient).select_related("vendor").order_by("assigned_on")
        ),
        device_periods=device_evidence(patient, month),
        pending=pending_amendments(billing_month, patient_ids=[patient.pk]),
    )


def plans_in_force(patient: Patient, month: LocalMonth) -> list[PlanInForce]:
    """Return each care plan's state at the end of the month's last day and its version then.

    The version in force is the latest signed one published by then (the same reading the
    close's care-plan fact uses, ``review_statuses``).
    """
    statuses = review_statuses(
        practice=patient.practice, patient_ids=[patient.pk], on=month.last_on
    )
    numbers = {
        plan.pk: status.version_number
        for plan, status in statuses.values()
        if status.version_number is not None
    }
    versions = {
        (v.plan_id, v.number): v
        for v in CarePlanVersion.objects.filter(plan_id__in=list(numbers))
        .select_related("author", "signed_by")
        .prefetch_related(
            Prefetch(
                "sharings",
                queryset=Sharing.objects.select_related("shared_by").order_by("shared_on", "id"),
            )
        )
        if numbers.get(v.plan_id) == v.number
    }
    out = []
    for plan, status in sorted(statuses.values(), key=lambda pair: pair[0].kind):
        version = versions.get((plan.pk, status.version_number or 0))
        out.append(
            PlanInForce(
                plan=plan,
                status=status,
                version=version,
                sharings=tuple(version.sharings.all()) if version is not None else (),
                month_last_on=month.last_on,
            )
        )
    return out


def device_evidence(patient: Patient, month: LocalMonth) -> list[DevicePeriodEvidence]:
    """Return the device periods sharing a day with the month, each reading day with devices.

    The periods are the close's (``device_periods_by_patient``); a period is billed in the month
    containing its end (P7). Only automatic, non-excluded readings make a reading day (P5).
    """
    periods = device_periods_by_patient(
        patient_ids=[patient.pk], month_start=month.first_on, month_end=month.last_on
    ).get(patient.pk, [])
    if not periods:
        return []
    first = min(p.period_start_on for p in periods)
    last = max(p.period_end_on for p in periods)
    by_day: dict[tuple[str, date], list[Reading]] = defaultdict(list)
    for reading in (
        Reading.objects.filter(
            patient=patient,
            source=Source.AUTOMATIC,
            excluded_at__isnull=True,
            measured_on__gte=first,
            measured_on__lte=last,
        )
        .select_related("device")
        .order_by("measured_on", "measured_at", "id")
    ):
        by_day[(reading.program, reading.measured_on)].append(reading)
    out = []
    for period in sorted(periods, key=lambda p: (p.program, p.period_start_on)):
        dates = sorted(period.reading_dates or ())
        days = []
        for day in dates:
            readings = by_day.get((period.program, day), [])
            devices = sorted(
                {
                    f"{r.device.get_type_display()} {r.device.serial}"
                    + (f" ({r.device.model_name})" if r.device.model_name else "")
                    for r in readings
                }
            )
            days.append(
                ReadingDay(
                    day=day,
                    readings=len(readings),
                    devices=tuple(devices),
                    in_month=month.first_on <= day <= month.last_on,
                )
            )
        out.append(
            DevicePeriodEvidence(
                program=period.program,
                starts_on=period.period_start_on,
                ends_on=period.period_end_on,
                billed_this_month=month.first_on <= period.period_end_on <= month.last_on,
                days=tuple(days),
            )
        )
    return out


def render_pdf(html: str) -> bytes:
    """Render the packet's HTML as a PDF with WeasyPrint (no network, no static files)."""
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDFs need it

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
