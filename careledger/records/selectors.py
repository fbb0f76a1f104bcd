"""Gather everything held about one patient, section by section (HIPAA 164.524 right of access).

Each section lists every stored field of its records, so a field added to a model later appears
in the export without a change here. Only the practice and patient columns are left out: the
record is about this patient of this practice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import models

from careledger.accounts.models import Practice
from careledger.billing.models import Amendment, BillingLine, PatientMonth
from careledger.careplans.models import AcuteEvent, CarePlan, CarePlanVersion, Sharing
from careledger.devices.models import Alert, Device, Reading
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.programs.models import (
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    OtherClaim,
    RatingScale,
    SetupEvent,
)
from careledger.timelog.models import TimeEntry

# Never shown: the scope of the record, and secrets that are not about the patient.
LEFT_OUT = frozenset({"practice", "patient", "webhook_secret"})


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Item:
    """One stored record: its fields in model order, values as text."""

    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    practice: Practice
    as_of: datetime
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _text(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, get_user_model()):
        return value.get_full_name() or value.get_username()
    return str(value)


def _label(field: models.Field[Any, Any]) -> str:
    # Keep acronyms as they are ("MRN", "MBI"); only the first letter is raised.
    name = str(field.verbose_name)
    return name[:1].upper() + name[1:]


def _fields_of(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if f.name not in LEFT_OUT]


def _items(queryset: models.QuerySet[Any], zone: ZoneInfo) -> tuple[Item, ...]:
    fields = _fields_of(queryset.model)
    related = [f.name for f in fields if f.is_relation]
    items = []
    for row in queryset.select_related(*related):
        values = []
        for field in fields:
            if field.choices and not field.is_relation:
                value: Any = getattr(row, f"get_{field.name}_display")()
            else:
                value = getattr(row, field.name)
            values.append(Field(label=_label(field), value=_text(value, zone)))
        items.append(Item(fields=tuple(values)))
    return tuple(items)


def patient_record(*, patient: Patient, as_of: datetime) -> PatientRecord:
    """Return every record held about ``patient`` (already scoped to the caller's practice)."""
    practice = patient.practice
    zone = ZoneInfo(practice.timezone)
    entries = TimeEntry.objects.filter(patient=patient)
    versions = CarePlanVersion.objects.filter(plan__patient=patient)
    querysets: list[tuple[str, str, models.QuerySet[Any]]] = [
        ("demographics", "Demographics", Patient.objects.filter(pk=patient.pk)),
        (
            "demographic_history",
            "Demographic history (every saved version)",
            patient.history.order_by("history_date", "history_id"),
        ),
        ("conditions", "Conditions", Condition.objects.filter(patient=patient).order_by("id")),
        ("visits", "Visits", Visit.objects.filter(patient=patient).order_by("visited_on", "id")),
        (
            "enrollments",
            "Program enrollments and consents",
            Enrollment.objects.filter(patient=patient).order_by("started_on", "id"),
        ),
        (
            "enrollment_history",
            "Enrollment and consent history",
            Enrollment.history.filter(patient_id=patient.pk).order_by("history_date", "history_id"),
        ),
        ("time_entries", "Care-management time", entries.order_by("started_at", "id")),
        (
            "time_entry_amendments",
            "Care-management time: amendments (every saved version)",
            TimeEntry.history.filter(patient_id=patient.pk).order_by("id", "history_date"),
        ),
        ("care_plans", "Care plans", CarePlan.objects.filter(patient=patient).order_by("id")),
        ("care_plan_versions", "Care-plan versions", versions.order_by("plan_id", "number")),
        (
            "care_plan_sharings",
            "Care plans given to the patient",
            Sharing.objects.filter(version__in=versions).order_by("shared_on", "id"),
        ),
        (
            "acute_events",
            "Hospital stays and ED visits",
            AcuteEvent.objects.filter(patient=patient).order_by("occurred_on", "id"),
        ),
        (
            "devices",
            "Devices",
            Device.objects.filter(patient=patient).order_by("assigned_on", "id"),
        ),
        (
            "readings",
            "Device readings",
            Reading.objects.filter(patient=patient).order_by("measured_at", "id"),
        ),
        ("alerts", "Alerts", Alert.objects.filter(patient=patient).order_by("opened_at", "id")),
        (
            "setup_events",
            "Device set-up and education",
            SetupEvent.objects.filter(patient=patient).order_by("performed_on", "id"),
        ),
        (
            "other_claims",
            "Other practitioners' claims",
            OtherClaim.objects.filter(patient=patient).order_by("period_start_on", "id"),
        ),
        (
            "complex_ccm",
            "Complex CCM decision making",
            ComplexCcmRecord.objects.filter(patient=patient).order_by("month_start_on", "id"),
        ),
        (
            "cocm_episodes",
            "Collaborative-care episodes",
            CocmEpisode.objects.filter(patient=patient).order_by("started_on", "id"),
        ),
        (
            "rating_scales",
            "Validated rating scales",
            RatingScale.objects.filter(patient=patient).order_by("administered_on", "id"),
        ),
        (
            "bhi_elements",
            "General-BHI service elements",
            BhiElementsRecord.objects.filter(patient=patient).order_by("month_start_on", "id"),
        ),
        (
            "patient_months",
            "Closed months: the billing engine's findings",
            PatientMonth.objects.filter(patient=patient).order_by("billing_month_id", "id"),
        ),
        (
            "billing_lines",
            "Billed lines",
            BillingLine.objects.filter(patient=patient).order_by("dos", "code", "id"),
        ),
        (
            "billing_amendments",
            "Billing amendments",
            Amendment.objects.filter(patient=patient).order_by("accepted_at", "id"),
        ),
    ]
    sections = tuple(
        Section(key=key, title=title, items=_items(queryset, zone))
        for key, title, queryset in querysets
    )
    return PatientRecord(patient=patient, practice=practice, as_of=as_of, sections=sections)
