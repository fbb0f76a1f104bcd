"""Read closed months: the month, its lines with their patients, the review list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from careledger.accounts.models import Practice
from careledger.billing.facts import qmb_as_of
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import parse_month

LINE_ORDER = ("patient_id", "practitioner_id", "program", "code", "dos", "batch", "id")


def billing_month_of(*, practice: Practice, month: str) -> BillingMonth | None:
    """Return the practice's billing month ``YYYY-MM``, or None when it was never closed."""
    return (
        BillingMonth.objects.select_related("practice", "closed_by", "approved_by")
        .filter(practice=practice, month=month)
        .first()
    )


@dataclass(frozen=True)
class LineFilters:
    status: str = ""
    program: str = ""
    flag: str = ""
    coordinator_id: int | None = None
    patient_id: int | None = None


def lines_of(
    billing_month: BillingMonth, filters: LineFilters | None = None
) -> QuerySet[BillingLine]:
    """Return the month's lines with their patients and practitioners, in export order.

    Each line carries ``qmb_then``: the patient's QMB status as of the month, as the engine
    read it (APCM-1), not as the patient row says today.
    """
    month = parse_month(billing_month.month, billing_month.practice.timezone)
    qs = (
        BillingLine.objects.filter(billing_month=billing_month)
        .select_related("patient", "practitioner", "decided_by")
        .annotate(qmb_then=qmb_as_of(month))
        .order_by(*LINE_ORDER)
    )
    if filters is None:
        return qs
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.program:
        qs = qs.filter(program=filters.program)
    if filters.coordinator_id is not None:
        qs = qs.filter(patient__coordinator_id=filters.coordinator_id)
    if filters.patient_id is not None:
        qs = qs.filter(patient_id=filters.patient_id)
    return qs


def filter_by_flag(lines: Iterable[BillingLine], flag: str) -> list[BillingLine]:
    """Keep lines carrying ``flag`` among their flags or review reasons (JSON, so in Python)."""
    if not flag:
        return list(lines)
    return [line for line in lines if flag in line_flag_codes(line)]


def line_flag_codes(line: BillingLine) -> list[str]:
    """Return the sorted flag and review-reason codes of a line."""
    codes = {f.get("code", "") for f in line.flags} | {
        r.get("code", "") for r in line.review_reasons
    }
    return sorted(c for c in codes if c)


def review_list(billing_month: BillingMonth) -> QuerySet[PatientMonth]:
    """Return the patient-months whose codes the engine withheld, for a person to look at."""
    return (
        PatientMonth.objects.filter(billing_month=billing_month, withheld=True)
        .select_related("patient", "practitioner")
        .order_by("patient_id", "practitioner_id")
    )
