"""Patient services: errors name their field; one audit event per write; nothing half-done."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careledger.audit.models import AuditEvent
from careledger.patients import services
from careledger.patients.models import Enrollment, Patient
from careledger.patients.selectors import is_established, needs_initiating_visit, patients_of
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _consent(**overrides: Any) -> services.Consent:
    values: dict[str, Any] = {
        "consent_on": date(2026, 11, 2),
        "method": "verbal",
        "told_cost_sharing": True,
        "told_one_practitioner": True,
        "told_right_to_stop": True,
    }
    values.update(overrides)
    return services.Consent(**values)


def _events() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("event", flat=True))


def test_each_write_leaves_exactly_one_audit_event_naming_the_patient(world: PracticeWorld) -> None:
    ctx = world.ctx("coordinator")
    patient = services.create_patient(
        ctx=ctx,
        data={
            "mrn": "Z-1",
            "given_name": "Ida",
            "family_name": "Fenn",
            "birth_date": date(1944, 5, 6),
            "sex": "female",
        },
        now=NOW,
    )
    services.add_condition(ctx=ctx, patient=patient, icd10_code="I10", now=NOW)
    services.record_visit(
        ctx=ctx,
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 10, 1),
        kind="em",
        em_level=3,
        now=NOW,
    )
    enrollment = services.enroll(
        ctx=ctx,
        patient=patient,
        program="CCM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 11, 2),
        now=NOW,
    )
    services.record_consent(ctx=ctx, enrollment=enrollment, consent=_consent(), now=NOW)
    services.end_enrollment(
        ctx=ctx, enrollment=enrollment, ended_on=date(2026, 11, 30), reason="moved", now=NOW
    )
    assert _events() == [
        "patient.created",
        "condition.added",
        "visit.recorded",
        "enrollment.created",
        "enrollment.consent_recorded",
        "enrollment.ended",
    ]
    assert set(AuditEvent.objects.values_list("patient_id", flat=True)) == {patient.pk}
    assert set(AuditEvent.objects.values_list("actor_id", flat=True)) == {ctx.user.pk}


def test_the_condition_description_comes_from_the_code_set(world: PracticeWorld) -> None:
    condition = services.add_condition(
        ctx=world.ctx(), patient=world.patient, icd10_code="i10", now=NOW
    )
    assert condition.icd10_code == "I10"
    assert condition.description == "Essential (primary) hypertension"


@pytest.mark.parametrize("code", ["XYZ", "E11", ""])
def test_a_bad_icd10_code_names_the_field_and_writes_nothing(
    world: PracticeWorld, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.add_condition(ctx=world.ctx(), patient=world.patient, icd10_code=code, now=NOW)
    assert "icd10_code" in caught.value.message_dict
    assert _events() == []


def test_an_enrollment_cannot_be_active_without_consent_even_bypassing_services(
    world: PracticeWorld,
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            patient=world.patient,
            program="RPM",
            status="active",
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 11, 1),
            created_at=NOW,
        )


def test_two_open_enrollments_in_one_program_are_refused_by_the_database(
    world: PracticeWorld,
) -> None:
    def pending() -> Enrollment:
        return Enrollment.objects.create(
            patient=world.patient,
            program="CCM",
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 11, 1),
            created_at=NOW,
        )

    pending()
    with pytest.raises(IntegrityError), transaction.atomic():
        pending()


def test_an_ended_enrollment_allows_a_new_one(world: PracticeWorld) -> None:
    ctx = world.ctx()
    kwargs: dict[str, Any] = {
        "ctx": ctx,
        "patient": world.patient,
        "program": "CCM",
        "billing_practitioner": world.user("practitioner"),
        "started_on": date(2026, 1, 5),
        "now": NOW,
    }
    first = services.enroll(consent=_consent(consent_on=date(2026, 1, 5)), **kwargs)
    services.end_enrollment(
        ctx=ctx, enrollment=first, ended_on=date(2026, 6, 30), reason="paused", now=NOW
    )
    second = services.enroll(**{**kwargs, "started_on": date(2026, 9, 1)})
    assert second.status == "pending"


def test_consent_cannot_be_dated_in_the_future(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as caught:
        services.enroll(
            ctx=world.ctx(),
            patient=world.patient,
            program="CCM",
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 11, 2),
            consent=_consent(consent_on=date(2026, 12, 1)),
            now=NOW,
        )
    assert "consent_on" in caught.value.message_dict
    assert not Enrollment.objects.exists()


def test_behavioral_health_consent_covers_specialist_consultation(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as caught:
        services.enroll(
            ctx=world.ctx(),
            patient=world.patient,
            program="BHI",
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 11, 2),
            consent=_consent(),
            now=NOW,
        )
    assert "told_specialist_consultation" in caught.value.message_dict


def test_corrections_keep_history(world: PracticeWorld) -> None:
    patient = world.patient
    patient.phone = "555-0100"
    patient.save()
    assert patient.history.count() == 2  # type: ignore[attr-defined]


def test_active_on_respects_start_consent_and_end_dates(world: PracticeWorld) -> None:
    services.enroll(
        ctx=world.ctx(),
        patient=world.patient,
        program="CCM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 11, 2),
        consent=_consent(consent_on=date(2026, 11, 5)),
        now=NOW,
    )

    def listed(on: date) -> list[Patient]:
        return list(patients_of(practice=world.practice, program="CCM", active_on=on))

    assert listed(date(2026, 11, 4)) == []
    assert listed(date(2026, 11, 5)) == [world.patient]


def test_established_status_and_the_initiating_visit_follow_from_visits(
    world: PracticeWorld,
) -> None:
    practitioner = world.user("practitioner")
    today = date(2026, 11, 20)
    assert not is_established(patient=world.patient, practitioner_id=practitioner.pk, on=today)
    assert needs_initiating_visit(patient=world.patient, practitioner_id=practitioner.pk, on=today)
    services.record_visit(
        ctx=world.ctx(),
        patient=world.patient,
        practitioner=practitioner,
        visited_on=today - timedelta(days=400),
        kind="awv",
        now=NOW,
    )
    assert is_established(patient=world.patient, practitioner_id=practitioner.pk, on=today)
    assert needs_initiating_visit(patient=world.patient, practitioner_id=practitioner.pk, on=today)
