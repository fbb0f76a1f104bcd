"""``careledger demo``: both practices, every login, every documented state, audited, once."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from careledger.accounts.models import Membership, Practice, User
from careledger.audit.models import AuditEvent
from careledger.demo.plan import first_demo_month
from careledger.lib.identifiers import mbi_problem, npi_problem
from careledger.patients.models import Enrollment, Patient
from tests.factories import PracticeFactory

TODAY = date(2026, 3, 16)
LOGINS = (
    "admin",
    "manager",
    "coordinator",
    "practitioner",
    "biller",
    "auditor",
    "coordinator2",
    "practitioner2",
)

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", *args, "--today", TODAY.isoformat(), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fingerprint() -> str:
    """Hash every patient's data, diagnoses, visits and enrollments, ignoring database ids."""
    lines = []
    for patient in Patient.objects.select_related("practice", "coordinator").order_by("mrn"):
        lines.append(
            "|".join(
                str(value)
                for value in (
                    patient.practice.slug,
                    patient.mrn,
                    patient.given_name,
                    patient.family_name,
                    patient.birth_date,
                    patient.sex,
                    patient.address_line,
                    patient.city,
                    patient.phone,
                    patient.mbi,
                    patient.coverage,
                    patient.qmb,
                    patient.coordinator.username if patient.coordinator else "",
                )
            )
        )
        lines += [f"  {c.icd10_code} {c.onset_on}" for c in patient.conditions.order_by("id")]
        lines += [f"  {v.kind} {v.visited_on} {v.em_level}" for v in patient.visits.order_by("id")]
        lines += [
            f"  {e.program} {e.status} {e.started_on} {e.consent_on} {e.ordered_on} "
            f"{e.order_indication}"
            for e in patient.enrollments.order_by("id")
        ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_demo_creates_both_practices_with_837p_fields_and_every_login() -> None:
    out, _ = run_demo("--patients", "30")
    riverside = Practice.objects.get(slug="riverside")
    lakeside = Practice.objects.get(slug="lakeside")
    assert riverside.name == "Riverside Family Medicine"
    assert riverside.timezone == "America/Chicago"
    assert lakeside.name == "Lakeside Internal Medicine"
    assert lakeside.timezone == "America/New_York"
    for practice in (riverside, lakeside):
        assert npi_problem(practice.billing_npi) is None
        assert practice.tax_id and practice.taxonomy_code and practice.address_line
        assert practice.default_place_of_service == "11"
        assert practice.mac_name and practice.mac_payer_id and practice.claim_submitter_id
    for username in LOGINS:
        user = User.objects.get(username=username)
        assert user.check_password("demo")
        assert username in out
    roles = dict(
        Membership.objects.filter(practice=riverside).values_list("user__username", "role")
    )
    assert roles == {
        "admin": "admin",
        "manager": "manager",
        "coordinator": "coordinator",
        "practitioner": "practitioner",
        "biller": "biller",
        "auditor": "auditor",
    }
    assert Membership.objects.get(user__username="coordinator").credential == "RN"
    practitioner = Membership.objects.get(user__username="practitioner")
    assert practitioner.credential == "MD" and practitioner.bills
    assert Membership.objects.get(user__username="coordinator2").practice == lakeside
    assert Membership.objects.get(user__username="practitioner2").bills


@pytest.mark.parametrize("patients", [30, 200])
def test_every_documented_state_exists_in_riversides_ccm_and_rpm_panels(patients: int) -> None:
    run_demo("--patients", str(patients))
    riverside = Patient.objects.filter(practice__slug="riverside")
    lakeside = Patient.objects.filter(practice__slug="lakeside")
    assert riverside.count() + lakeside.count() == patients
    assert lakeside.count() == max(3, round(patients / 10))
    assert set(riverside.values_list("coordinator__username", flat=True)) == {"coordinator"}
    assert all(mbi_problem(mbi) is None for mbi in riverside.values_list("mbi", flat=True))
    assert riverside.filter(qmb=True).exists()

    enrollments = Enrollment.objects.filter(patient__practice__slug="riverside")
    active = enrollments.filter(status="active", consent_on__isnull=False)
    for program in ("CCM", "RPM"):
        assert enrollments.filter(program=program, status="pending", consent_on=None).exists()
        assert active.filter(program=program).count() >= 2
    together = set(active.filter(program="CCM").values_list("patient_id", flat=True)) & set(
        active.filter(program="RPM").values_list("patient_id", flat=True)
    )
    assert together
    ordered = active.filter(program="RPM").exclude(ordered_on=None)
    assert ordered.exclude(ordering_practitioner=None).exclude(order_indication="").exists()
    assert {"BHI", "PCM", "APCM"} <= set(active.values_list("program", flat=True))

    lakeside_enrollments = Enrollment.objects.filter(patient__practice__slug="lakeside")
    assert set(lakeside_enrollments.values_list("status", flat=True)) == {"active"}
    assert set(lakeside.values_list("coordinator__username", flat=True)) == {"coordinator2"}
    assert all(p.enrollments.exists() for p in lakeside)


def test_the_lowest_id_riverside_patient_in_each_program_is_fully_documented() -> None:
    run_demo("--patients", "30")
    first_month = first_demo_month(TODAY)
    enrollments = Enrollment.objects.filter(patient__practice__slug="riverside")
    for program in ("CCM", "RPM", "BHI", "PCM", "APCM"):
        first = enrollments.filter(program=program).order_by("patient_id").first()
        assert first is not None, program
        assert first.status == "active"
        assert first.started_on < first_month and first.consent_on < first_month
        assert first.consent_method and first.consent_obtained_by.username == "coordinator"
        assert first.told_cost_sharing and first.told_one_practitioner and first.told_right_to_stop
        assert first.billing_practitioner.username == "practitioner"
        assert first.patient.conditions.filter(chronic=True).count() >= 2
        assert first.patient.visits.filter(visited_on__lt=first.started_on).exists()
        if program == "RPM":
            assert first.ordered_on and first.ordering_practitioner and first.order_indication


def test_the_same_seed_loads_identical_patients() -> None:
    with transaction.atomic():
        run_demo("--patients", "30", "--seed", "5")
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Patient.objects.exists()
    run_demo("--patients", "30", "--seed", "5")
    assert fingerprint() == first


def test_a_different_seed_loads_different_patients() -> None:
    with transaction.atomic():
        run_demo("--patients", "30", "--seed", "5")
        first = fingerprint()
        transaction.set_rollback(True)
    run_demo("--patients", "30", "--seed", "6")
    assert fingerprint() != first


def test_a_second_run_creates_nothing_new() -> None:
    run_demo("--patients", "30")
    counts = (Patient.objects.count(), User.objects.count(), AuditEvent.objects.count())
    out, err = run_demo("--patients", "30")
    assert "already loaded" in err
    assert "coordinator2" in out
    assert (Patient.objects.count(), User.objects.count(), AuditEvent.objects.count()) == counts


def test_the_demo_writes_through_the_services_and_leaves_audit_events() -> None:
    run_demo("--patients", "30")
    events = AuditEvent.objects.values_list("event", flat=True)
    assert events.filter(event="practice.created").count() == 2
    assert events.filter(event="membership.created").count() == len(LOGINS)
    assert events.filter(event="patient.created").count() == 30
    assert (
        events.filter(event="condition.added").count()
        == Patient.objects.filter(conditions__isnull=False).count()
    )
    assert events.filter(event="visit.recorded").exists()
    assert events.filter(event="enrollment.created").count() == Enrollment.objects.count()
    loaded = AuditEvent.objects.get(event="demo.loaded")
    assert loaded.details["patients"] == 30
    assert loaded.details["today"] == TODAY.isoformat()


def test_a_demo_login_name_already_taken_stops_the_load_with_nothing_written() -> None:
    User.objects.create(username="auditor")
    with pytest.raises(CommandError, match="auditor already exists") as raised:
        run_demo("--patients", "30")
    assert raised.value.returncode == 2
    assert not Practice.objects.exists()


def test_half_a_demo_is_refused_rather_than_topped_up() -> None:
    PracticeFactory(slug="riverside")
    with pytest.raises(CommandError, match="part of the demo") as raised:
        run_demo("--patients", "30")
    assert raised.value.returncode == 2


def test_fewer_than_four_patients_is_bad_input() -> None:
    with pytest.raises(CommandError) as raised:
        run_demo("--patients", "3")
    assert raised.value.returncode == 2


def test_demo_time_entries_are_weekday_office_hours_before_today_and_never_late() -> None:
    from zoneinfo import ZoneInfo

    from careledger.timelog.models import TimeEntry

    run_demo("--patients", "30")
    entries = list(TimeEntry.objects.select_related("practice"))
    assert len(entries) > 30
    first = first_demo_month(TODAY)
    for entry in entries:
        zone = ZoneInfo(entry.practice.timezone)
        start = entry.started_at.astimezone(zone)
        end = entry.ended_at.astimezone(zone)
        assert start.weekday() < 5
        assert start.hour >= 8 and (end.hour, end.minute) <= (17, 0)
        assert first <= start.date() < TODAY
        assert not entry.late
        assert (entry.created_at - entry.ended_at).total_seconds() == 180
    assert any(not e.countable and e.not_countable_code == "unreached" for e in entries)
    assert {e.program for e in entries} >= {"CCM", "RPM"}


def test_the_previous_demo_month_has_patients_near_a_threshold() -> None:
    from careledger.billing.facts import evaluate_patient_month
    from careledger.billing.months import parse_month

    run_demo("--patients", "30")
    near = []
    for patient in Patient.objects.filter(practice__slug="riverside"):
        view = evaluate_patient_month(
            patient=patient,
            month=parse_month("2026-02", "America/Chicago"),
            as_of=TODAY,
            setting="physician_office",
        )
        for program, summary in view.programs.items():
            needed = (summary.get("next_threshold") or {}).get("minutes_needed")
            if needed is not None and 0 < needed <= 5:
                near.append(program)
    assert {"CCM", "RPM"} <= set(near)
