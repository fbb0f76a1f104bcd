"""Helpers shared by reliability cases 1-20 (synthetic data only)."""

from __future__ import annotations

from datetime import UTC, datetime

from careledger.audit.models import AuditEvent
from careledger.careplans import services as careplan_services
from careledger.careplans.models import CarePlanVersion
from careledger.patients.models import Patient
from tests.careplans.conftest import complete_content
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, PatientFactory

LONG_AGO = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
PUBLISHED_AT = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)

# Strings that belong only to the other practice: none may appear in the caller's answers.
SECRET_GIVEN = "Zebulonia"
SECRET_FAMILY = "Quarantinova"
SECRET_MRN = "ZZ-SECRET-77"
SECRET_MBI = "9AA9AA9AA99"


def secret_patient(world: PracticeWorld, **fields: object) -> Patient:
    """Add to ``world`` a patient whose name, MRN and MBI appear nowhere else."""
    values: dict[str, object] = {
        "given_name": SECRET_GIVEN,
        "family_name": SECRET_FAMILY,
        "mrn": SECRET_MRN,
        "mbi": SECRET_MBI,
        "coordinator": world.user("coordinator"),
    }
    values.update(fields)
    return PatientFactory(practice=world.practice, **values)


def leaks(body: bytes) -> list[str]:
    """Return the other practice's strings found in ``body``."""
    text = body.decode("utf-8", errors="replace")
    return [s for s in (SECRET_GIVEN, SECRET_FAMILY, SECRET_MRN, SECRET_MBI) if s in text]


def published_plan(world: PracticeWorld, patient: Patient, **overrides: object) -> CarePlanVersion:
    """Give ``patient`` a comprehensive care plan with one signed, published version."""
    conditions = [
        ConditionFactory(patient=patient, icd10_code="I10", created_at=LONG_AGO),
        ConditionFactory(patient=patient, icd10_code="E11.9", created_at=LONG_AGO),
    ]
    plan = careplan_services.start_plan(
        ctx=world.ctx("coordinator"), patient=patient, kind="comprehensive", now=LONG_AGO
    )
    plan = careplan_services.save_draft(
        ctx=world.ctx("coordinator"),
        plan=plan,
        expected_revision=1,
        content=complete_content(conditions, **overrides),
        now=LONG_AGO,
    )
    plan.refresh_from_db()
    return careplan_services.publish_version(
        ctx=world.ctx("practitioner"),
        plan=plan,
        expected_revision=plan.revision,
        revision_reason="",
        sign=True,
        now=PUBLISHED_AT,
    )


def denied_events() -> int:
    """Count the refusals recorded so far."""
    return AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()


SUMMARY = "Called the patient about home readings. Reviewed the medication list together."
