"""Read patients and their enrollments, always scoped to one practice."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, QuerySet

from careledger.accounts.models import Practice
from careledger.patients.models import Enrollment, Patient, Visit


def patients_of(
    *,
    practice: Practice,
    search: str = "",
    program: str = "",
    coordinator_id: int | None = None,
    active_on: date | None = None,
    any_status: bool = False,
) -> QuerySet[Patient]:
    """Return the practice's patients, filtered; ordered by id.

    With ``program``, only patients whose enrollment in it is active and consented on
    ``active_on`` (or, with ``any_status``, any enrollment in it).
    """
    qs = Patient.objects.filter(practice=practice)
    term = search.strip()
    if term:
        words = term.replace(",", " ").split()
        for word in words:
            qs = qs.filter(
                Q(mrn__iexact=word) | Q(family_name__icontains=word) | Q(given_name__icontains=word)
            )
    if coordinator_id is not None:
        qs = qs.filter(coordinator_id=coordinator_id)
    if program:
        enrollments = Enrollment.objects.filter(program=program)
        if not any_status:
            enrollments = active_enrollments(enrollments, on=active_on)
        qs = qs.filter(id__in=enrollments.values("patient_id"))
    return qs.order_by("id")


def active_enrollments(qs: QuerySet[Enrollment], *, on: date | None) -> QuerySet[Enrollment]:
    """Keep enrollments that are active and consented on the date ``on``."""
    qs = qs.filter(status=Enrollment.Status.ACTIVE, consent_on__isnull=False)
    if on is not None:
        qs = qs.filter(started_on__lte=on, consent_on__lte=on).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=on)
        )
    return qs


def patient_in_practice(*, practice: Practice, patient_id: int) -> Patient:
    """Return the patient if it belongs to ``practice``; otherwise raise Patient.DoesNotExist."""
    return Patient.objects.select_related("coordinator").get(practice=practice, pk=patient_id)


def enrollments_of(patient: Patient) -> QuerySet[Enrollment]:
    return patient.enrollments.select_related(
        "billing_practitioner", "consent_obtained_by", "ordering_practitioner"
    ).order_by("program", "-started_on")


def is_established(*, patient: Patient, practitioner_id: int, on: date) -> bool:
    """Tell whether the practitioner saw the patient face to face in the 3 years before ``on``.

    RPM-10 limits RPM to established patients; CPT's definition of an established patient is one
    seen by the same practitioner (or group, same specialty) within the past three years.
    """
    since = on - timedelta(days=3 * 365)
    return Visit.objects.filter(
        patient=patient, practitioner_id=practitioner_id, visited_on__gte=since, visited_on__lte=on
    ).exists()


def needs_initiating_visit(*, patient: Patient, practitioner_id: int, on: date) -> bool:
    """Tell whether CCM/PCM/APCM need an initiating visit first (CCM-7: none in 12 months)."""
    since = on - timedelta(days=365)
    return not Visit.objects.filter(
        patient=patient, practitioner_id=practitioner_id, visited_on__gte=since, visited_on__lte=on
    ).exists()
