"""The demo's care plans: every review state in Riverside's CCM panel, placed by position."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from careledger.audit.models import AuditEvent
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.careplans.models import CarePlan, CarePlanVersion, DraftRevision, Kind, Sharing
from careledger.careplans.review import State
from careledger.careplans.selectors import care_plan_fact, review_of
from careledger.demo.plan import first_demo_month
from careledger.patients.models import Enrollment, Patient

TODAY = date(2026, 3, 16)
PREVIOUS_MONTH = "2026-02"
EVERY_STATE = {
    State.MISSING,
    State.UNSHARED,
    State.DUE_SOON,
    State.OVERDUE,
    State.CHANGED,
    State.CURRENT,
}

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> None:
    call_command(
        "demo", *args, "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=io.StringIO()
    )


def riverside_ccm_patients() -> list[Patient]:
    """Riverside's active, consented CCM patients, lowest id first."""
    ids = Enrollment.objects.filter(
        patient__practice__slug="riverside", program="CCM", status="active"
    ).exclude(consent_on=None)
    return list(
        Patient.objects.filter(pk__in=ids.values("patient_id"))
        .select_related("practice")
        .order_by("pk")
    )


def ccm_state(patient: Patient, on: date) -> str:
    plan = CarePlan.objects.filter(patient=patient, kind=Kind.COMPREHENSIVE).first()
    if plan is None:
        return State.MISSING
    return review_of(plan, on).state


def missing_care_plan(patient: Patient, month: str) -> bool:
    view = evaluate_patient_month(
        patient=patient,
        month=parse_month(month, patient.practice.timezone),
        as_of=TODAY,
        setting="physician_office",
    )
    assert "CCM" in view.programs
    return any(f["code"] == "MISSING_CARE_PLAN" and f["program"] == "CCM" for f in view.flags)


def plans_fingerprint() -> str:
    """Hash every plan, version, sharing and acute event, ignoring database ids."""
    lines = []
    for plan in CarePlan.objects.select_related("patient", "created_by").order_by(
        "patient__mrn", "kind"
    ):
        lines.append(f"{plan.patient.mrn} {plan.kind} {plan.template} {plan.created_at}")
        for version in plan.versions.select_related("author", "signed_by").order_by("number"):
            content = dict(version.content)
            content["problems"] = sorted(p["icd10_code"] for p in content["problems"])
            lines.append(
                f"  v{version.number} {version.published_on} {version.author.username} "
                f"{version.signed_by.username if version.signed_by else ''} "
                f"{version.revision_reason} {json.dumps(content, sort_keys=True)}"
            )
            lines += [
                f"    {s.shared_on} {s.channel} {s.shared_by.username}"
                for s in version.sharings.order_by("id")
            ]
        lines += [
            f"  {e.kind} {e.occurred_on} {e.discharged_on}"
            for e in plan.patient.acute_events.order_by("id")
        ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.mark.parametrize("patients", [30, 200])
def test_every_review_state_exists_in_riversides_ccm_panel(patients: int) -> None:
    run_demo("--patients", str(patients))
    states: dict[str, list[Patient]] = {}
    for patient in riverside_ccm_patients():
        state = ccm_state(patient, TODAY)
        states.setdefault(state, []).append(patient)
        # The billing fact agrees with the review clock: only a current plan counts.
        assert care_plan_fact(patient, "CCM", TODAY) == (state in {State.CURRENT, State.DUE_SOON})
    assert set(states) == EVERY_STATE
    # Most of the panel bills: its plan is current.
    current = len(states[State.CURRENT]) + len(states[State.DUE_SOON])
    assert current > sum(len(group) for group in states.values()) / 2
    changed = states[State.CHANGED][0]
    stay = changed.acute_events.get()
    assert stay.kind == "hospitalization" and stay.occurred_on < TODAY


def test_pcm_and_apcm_patients_have_the_plan_their_program_needs() -> None:
    run_demo("--patients", "30")
    enrollments = Enrollment.objects.filter(
        patient__practice__slug="riverside", program__in=["PCM", "APCM"], status="active"
    ).select_related("patient__practice")
    assert {e.program for e in enrollments} == {"PCM", "APCM"}
    for enrollment in enrollments:
        assert care_plan_fact(enrollment.patient, enrollment.program, TODAY), enrollment.program
    kinds = set(
        CarePlan.objects.filter(patient__enrollments__program="PCM").values_list("kind", flat=True)
    )
    assert kinds == {Kind.DISEASE_SPECIFIC}
    lakeside = Patient.objects.filter(practice__slug="lakeside").select_related("practice")
    assert all(care_plan_fact(patient, "CCM", TODAY) for patient in lakeside)


def test_the_lowest_id_ccm_patient_has_a_current_shared_plan_since_before_the_demo_months() -> None:
    run_demo("--patients", "30")
    first = riverside_ccm_patients()[0]
    assert first == Patient.objects.filter(practice__slug="riverside").order_by("pk").first()
    first_month = first_demo_month(TODAY)
    plan = CarePlan.objects.get(patient=first, kind=Kind.COMPREHENSIVE)
    version = plan.versions.get()
    assert version.published_on < first_month and version.signed
    assert version.sharings.filter(shared_on__lt=first_month, channel="print").exists()
    day = first_month - timedelta(days=1)
    while day <= TODAY:
        assert ccm_state(first, day) == State.CURRENT, day
        day += timedelta(days=7)
    assert ccm_state(first, TODAY) == State.CURRENT


def test_plans_are_drafted_by_the_coordinator_and_signed_by_the_practitioner() -> None:
    run_demo("--patients", "30")
    versions = CarePlanVersion.objects.select_related("signed_by", "author", "plan__patient")
    assert versions.exists()
    for version in versions:
        practitioner = "practitioner" if version.plan.patient.mrn[0] == "R" else "practitioner2"
        assert version.signed_by is not None and version.signed_by.username == practitioner
        assert version.author == version.signed_by
        assert version.signed_by_credential == "MD" and len(version.signed_by_npi) == 10
        assert version.published_on < TODAY
    savers = set(DraftRevision.objects.values_list("saved_by__username", flat=True))
    assert savers == {"coordinator", "coordinator2"}
    assert set(Sharing.objects.values_list("channel", flat=True)) == {"print", "portal"}
    assert set(Sharing.objects.values_list("shared_by__username", flat=True)) == {
        "coordinator",
        "coordinator2",
    }
    # Every write went through the services, each leaving its audit event.
    events = AuditEvent.objects.values_list("event", flat=True)
    assert events.filter(event="careplan.started").count() == CarePlan.objects.count()
    assert events.filter(event="careplan.version_published").count() == versions.count()
    assert events.filter(event="careplan.version_signed").count() == versions.count()
    assert events.filter(event="careplan.shared").count() == Sharing.objects.count()
    assert events.filter(event="careplan.acute_event_recorded").exists()


def test_the_previous_month_shows_missing_care_plan_for_one_ccm_patient_not_a_current_one() -> None:
    run_demo("--patients", "30")
    month_end = parse_month(PREVIOUS_MONTH, "America/Chicago").last_on
    panel = riverside_ccm_patients()
    active = [
        p
        for p in panel
        if p.enrollments.filter(
            program="CCM", started_on__lt=month_end, consent_on__lt=month_end
        ).exists()
    ]
    missing = [p for p in active if ccm_state(p, month_end) == State.MISSING]
    current = [p for p in active if ccm_state(p, month_end) == State.CURRENT]
    assert missing and current
    assert missing_care_plan(missing[0], PREVIOUS_MONTH)
    assert not missing_care_plan(current[0], PREVIOUS_MONTH)
    assert current[0] == panel[0]


def test_the_same_seed_loads_the_same_care_plans() -> None:
    with transaction.atomic():
        run_demo("--patients", "30", "--seed", "5")
        first = plans_fingerprint()
        transaction.set_rollback(True)
    assert not CarePlan.objects.exists()
    run_demo("--patients", "30", "--seed", "5")
    assert plans_fingerprint() == first
