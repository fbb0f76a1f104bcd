"""The evidence packet of one patient-month: everything an auditor needs, readable without us.

Consent and order per enrollment, the care-plan version in force and when it was shared, every
counted and every excluded time entry (start, end, kind, outcome, summary, staff, credential),
the live contacts, the billed lines with the rule set and rule IDs that decided them, and any
amendment (cms-rules-2026.md section 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from careledger.billing.models import Amendment, BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import parse_month
from careledger.careplans.models import CarePlanVersion
from careledger.patients.models import Enrollment, Patient
from careledger.timelog.models import TimeEntry


@dataclass(frozen=True)
class EvidencePacket:
    billing_month: BillingMonth
    patient: Patient
    enrollments: list[Enrollment]
    plan_versions: list[CarePlanVersion]
    entries: list[TimeEntry]
    counted_ids: frozenset[int]
    lines: list[BillingLine]
    patient_months: list[PatientMonth]
    amendments: list[Amendment]

    @property
    def counted(self) -> list[TimeEntry]:
        return [e for e in self.entries if self._counts(e)]

    @property
    def excluded(self) -> list[TimeEntry]:
        return [e for e in self.entries if not self._counts(e)]

    def _counts(self, entry: TimeEntry) -> bool:
        return entry.pk in self.counted_ids and entry.countable and entry.voided_at is None

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
    versions = list(
        CarePlanVersion.objects.filter(plan__patient=patient, published_on__lte=month.last_on)
        .select_related("plan", "author", "signed_by")
        .prefetch_related("sharings")
        .order_by("plan__kind", "-number")
    )
    newest: dict[str, CarePlanVersion] = {}
    for version in versions:
        newest.setdefault(version.plan.kind, version)
    return EvidencePacket(
        billing_month=billing_month,
        patient=patient,
        enrollments=list(
            patient.enrollments.filter(started_on__lte=month.last_on)
            .select_related("billing_practitioner", "ordering_practitioner", "consent_obtained_by")
            .order_by("program", "-started_on")
        ),
        plan_versions=list(newest.values()),
        entries=entries,
        counted_ids=counted,
        lines=list(
            BillingLine.objects.filter(billing_month=billing_month, patient=patient)
            .select_related("practitioner", "decided_by")
            .order_by("batch", "program", "code", "id")
        ),
        patient_months=patient_months,
        amendments=list(
            Amendment.objects.filter(billing_month=billing_month, patient=patient).order_by("batch")
        ),
    )


def render_pdf(html: str) -> bytes:
    """Render the packet's HTML as a PDF with WeasyPrint (no network, no static files)."""
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDFs need it

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
