"""``careledger demo --practices K``: a deterministic health system, bulk loaded, valid."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Sum

from careledger.accounts.models import Membership, Practice
from careledger.audit.models import AuditEvent
from careledger.billing.close import close_month
from careledger.billing.months import parse_month
from careledger.demo.scale import HEALTH_SYSTEM, make_npi
from careledger.devices.models import Device, Reading
from careledger.lib.identifiers import mbi_problem, npi_problem
from careledger.patients.models import Enrollment, Patient
from careledger.timelog.models import TimeEntry

TODAY = date(2026, 5, 10)  # the months are March and April 2026

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    err = io.StringIO()
    call_command("demo", *args, "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def fingerprint() -> str:
    """Hash what was generated, by natural keys (database ids differ between loads)."""
    digest = hashlib.sha256()
    for row in Patient.objects.order_by("mrn").values_list(
        "practice__slug",
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "mbi",
        "coordinator__username",
    ):
        digest.update(repr(row).encode())
    for row in Enrollment.objects.order_by("patient__mrn", "program").values_list(
        "patient__mrn",
        "program",
        "status",
        "started_on",
        "consent_on",
        "billing_practitioner__username",
    ):
        digest.update(repr(row).encode())
    for row in TimeEntry.objects.order_by("patient__mrn", "started_at", "program").values_list(
        "patient__mrn", "program", "started_at", "seconds", "kind", "countable"
    ):
        digest.update(repr(row).encode())
    for row in Reading.objects.order_by("vendor_reading_id").values_list(
        "vendor_reading_id", "measured_at", "measured_on", "systolic"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_300_patients_over_3_practices_have_the_health_system_shape() -> None:
    message = load("--patients", "300", "--practices", "3", "--seed", "5")

    assert "3 practices" in message and "300 patients" in message
    practices = Practice.objects.filter(slug__startswith="hs-")
    assert practices.count() == 3
    for practice in practices:
        roles = dict(
            Membership.objects.filter(practice=practice)
            .values_list("role")
            .annotate(n=Count("id"))
            .values_list("role", "n")
        )
        assert roles == {"manager": 1, "coordinator": 8, "practitioner": 2}
        assert Patient.objects.filter(practice=practice).count() == 100
        assert npi_problem(practice.billing_npi) is None
    assert all(
        npi_problem(npi) is None
        for npi in Membership.objects.filter(role="practitioner").values_list("npi", flat=True)
    )
    assert all(mbi_problem(mbi) is None for mbi in Patient.objects.values_list("mbi", flat=True))
    # Every patient is in a coordinator's panel and has an active, consented enrollment.
    assert not Patient.objects.filter(coordinator__isnull=True).exists()
    enrollments = Enrollment.objects.all()
    assert enrollments.count() >= 450  # about 1.7 programs a patient
    assert not enrollments.exclude(status="active").exists()
    assert not enrollments.filter(consent_on__isnull=True).exists()
    assert not enrollments.filter(program="RPM", ordered_on__isnull=True).exists()
    # One cuff per RPM patient, readings only from it, vendor ids unique.
    rpm = enrollments.filter(program="RPM").count()
    assert Device.objects.count() == rpm
    readings = Reading.objects.all()
    assert readings.count() > rpm * 2 * 16
    assert readings.values("vendor_id", "vendor_reading_id").distinct().count() == readings.count()
    assert {d.isoformat()[:7] for d in readings.values_list("measured_on", flat=True)} == {
        "2026-03",
        "2026-04",
    }
    # Time entries in both months for every patient-program, voicemails never countable.
    entries = TimeEntry.objects.all()
    assert entries.values("patient_id", "program").distinct().count() == enrollments.count()
    assert not entries.filter(kind="voicemail", countable=True).exists()
    assert entries.filter(kind="voicemail").exists()
    assert not entries.exclude(rule_class="clinical_staff").exists()
    # One audit event says what was loaded, not one a row.
    events = AuditEvent.objects.filter(event="demo.loaded")
    assert events.count() == 1
    details = events.get().details
    assert details["scale"] is True and details["patients"] == 300 and details["practices"] == 3
    assert details["readings"] == readings.count()


def test_the_minutes_spread_like_a_health_system() -> None:
    load("--patients", "600", "--practices", "2", "--seed", "3")

    month = parse_month("2026-04", "America/New_York")
    minutes = [
        row["s"] // 60
        for row in TimeEntry.objects.filter(
            countable=True, started_at__gte=month.starts_at, started_at__lt=month.ends_at
        )
        .values("patient_id", "program")
        .annotate(s=Sum("seconds"))
    ]
    under_20 = sum(1 for m in minutes if m < 20) / len(minutes)
    from_60 = sum(1 for m in minutes if m >= 60) / len(minutes)
    assert 0.15 < under_20 < 0.35
    assert 0.04 < from_60 < 0.18


def test_the_same_seed_gives_the_same_health_system_and_another_seed_does_not() -> None:
    with transaction.atomic():
        load("--patients", "90", "--practices", "3", "--seed", "11")
        first = fingerprint()
        transaction.set_rollback(True)
    with transaction.atomic():
        load("--patients", "90", "--practices", "3", "--seed", "11")
        again = fingerprint()
        transaction.set_rollback(True)
    load("--patients", "90", "--practices", "3", "--seed", "12")

    assert first == again
    assert fingerprint() != first


def test_a_second_load_adds_nothing() -> None:
    load("--patients", "30", "--practices", "3")
    patients = Patient.objects.count()

    message = load("--patients", "30", "--practices", "3")

    assert "already loaded" in message
    assert Patient.objects.count() == patients


def test_the_generated_month_closes_with_lines_and_no_review_holds() -> None:
    load("--patients", "60", "--practices", "2", "--seed", "4")
    practice = Practice.objects.filter(slug__startswith="hs-").order_by("slug").first()
    assert practice is not None

    summary = close_month(
        practice=practice,
        month=parse_month("2026-04", practice.timezone),
        actor=None,
        now=datetime(2026, 5, 10, 17, tzinfo=UTC),
    )

    assert summary.patients == 30
    assert summary.by_status.get("proposed", 0) > 30
    assert "needs_review" not in summary.by_status


def test_bad_sizes_are_refused_with_exit_code_2() -> None:
    with pytest.raises(CommandError, match="--practices must be at least 1") as error:
        load("--patients", "30", "--practices", "0")
    assert error.value.returncode == 2
    with pytest.raises(CommandError, match="at least --practices"):
        load("--patients", "2", "--practices", "3")


def test_the_health_system_scale_is_50_practices_and_100000_patients() -> None:
    assert HEALTH_SYSTEM == {"patients": 100_000, "practices": 50}
    assert all(npi_problem(make_npi(n)) is None for n in range(0, 5000, 37))
