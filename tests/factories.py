"""Synthetic practices, people and patients for tests (never real data)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from careledger.accounts.models import Membership, Practice, User
from careledger.accounts.roles import Credential, Role
from careledger.patients.models import Condition, Enrollment, Patient

# Valid NPIs (Luhn with the 80840 prefix), one per sequence number.
NPIS = ["1234567893", "1245319599", "1003000126", "1679576722", "1588667638", "1497758544"]


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Test Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    timezone = "America/Chicago"
    billing_npi = "1234567893"
    tax_id = "123456789"
    state = "IL"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: object = None) -> None:
        if create:
            instance.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    role = Role.COORDINATOR
    credential = Credential.RN


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    given_name = "Ada"
    family_name = factory.Sequence(lambda n: f"Testpatient{n}")
    birth_date = dt.date(1948, 3, 14)
    sex = Patient.Sex.FEMALE
    mbi = "1EG4TE5MK73"
    created_at = factory.LazyFunction(timezone.now)


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    patient = factory.SubFactory(PatientFactory)
    icd10_code = "E11.9"
    description = "Type 2 diabetes mellitus without complications"
    created_at = factory.LazyFunction(timezone.now)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    patient = factory.SubFactory(PatientFactory)
    program = "CCM"
    status = Enrollment.Status.ACTIVE
    billing_practitioner = factory.SubFactory(UserFactory)
    started_on = dt.date(2026, 1, 5)
    consent_on = dt.date(2026, 1, 5)
    consent_method = Enrollment.ConsentMethod.VERBAL
    told_cost_sharing = True
    told_one_practitioner = True
    told_right_to_stop = True
    created_at = factory.LazyFunction(timezone.now)


def log_minutes(
    enrollment: Enrollment,
    minutes: int,
    *,
    start: dt.datetime,
    kind: str = "interactive_call",
    outcome: str = "reached",
    staff: User | None = None,
) -> object:
    """Store a countable entry directly (the services' own tests cover validation)."""
    from careledger.timelog.models import TimeEntry

    patient = enrollment.patient
    user = staff or enrollment.billing_practitioner
    return TimeEntry.objects.create(
        practice=patient.practice,
        patient=patient,
        enrollment=enrollment,
        program=enrollment.program,
        staff=user,
        credential="RN",
        rule_class="clinical_staff",
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        seconds=minutes * 60,
        kind=kind,
        outcome=outcome,
        source="manual",
        interactive=kind in ("interactive_call", "video") and outcome == "reached",
        countable=True,
        created_by=user,
        created_at=start,
        updated_at=start,
    )
