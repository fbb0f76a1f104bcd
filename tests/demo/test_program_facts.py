"""The demo's program facts (issue 9): the previous month bills every code the facts unlock."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import transaction

from careledger.accounts.models import Membership
from careledger.audit.models import AuditEvent
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.careplans.models import CarePlanVersion, Kind
from careledger.patients.models import Enrollment, Patient
from careledger.programs.models import (
    ApcmAttestation,
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    RatingScale,
    SetupEvent,
)
from careledger.timelog.models import TimeEntry

TODAY = date(2026, 3, 16)
MONTHS = ("2026-01", "2026-02", "2026-03")
PREVIOUS_MONTH = "2026-02"
FEBRUARY = (date(2026, 2, 1), date(2026, 2, 28))

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> None:
    call_command(
        "demo", *args, "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=io.StringIO()
    )


def month_codes(month: str) -> dict[str, list[str]]:
    """Every patient's billed codes of the month, by MRN, with the demo's today."""
    out = {}
    for patient in Patient.objects.select_related("practice").order_by("mrn"):
        view = evaluate_patient_month(
            patient=patient, month=parse_month(month, patient.practice.timezone), as_of=TODAY
        )
        out[patient.mrn] = sorted(f"{line['code']}x{line['units']}" for line in view.lines)
    return out


def billed(codes: dict[str, list[str]]) -> set[str]:
    return {item.split("x")[0] for items in codes.values() for item in items}


@pytest.mark.parametrize("patients", [30, 200])
def test_the_previous_month_bills_setup_complex_ccm_cocm_and_apcm(patients: int) -> None:
    run_demo("--patients", str(patients))
    codes = billed(month_codes(PREVIOUS_MONTH))
    assert {"99453", "99487"} <= codes
    assert {"99492", "99493"} & codes
    assert {"G0556", "G0557", "G0558"} & codes
    if patients == 200:
        # A QMB patient with two or more chronic conditions (APCM-1).
        assert {"99492", "99493", "G0558"} <= codes


def test_the_complex_month_is_documented_as_ccm_2_asks() -> None:
    run_demo("--patients", "30")
    record = ComplexCcmRecord.objects.select_related("patient", "recorded_by").get()
    assert record.month_start_on == FEBRUARY[0]
    assert record.mdm in {"moderate", "high"}
    assert record.recorded_by.username == "practitioner"
    assert CarePlanVersion.objects.filter(
        plan__patient=record.patient,
        plan__kind=Kind.COMPREHENSIVE,
        published_on__range=FEBRUARY,
    ).exists()
    minutes = sum(
        e.seconds
        for e in TimeEntry.objects.filter(
            patient=record.patient, program="CCM", started_at__date__range=FEBRUARY
        )
        if e.countable
    )
    assert minutes >= 60 * 60
    assert AuditEvent.objects.filter(event="mdm.recorded", patient_id=record.patient.pk).exists()


def test_cocm_minutes_are_the_lcsw_care_managers_in_a_consented_episode() -> None:
    run_demo("--patients", "30")
    manager = Membership.objects.get(practice__slug="riverside", user__username="manager")
    assert manager.bh_care_manager and manager.credential == "LCSW"
    episodes = CocmEpisode.objects.select_related("patient")
    assert {e.started_on < date(2026, 1, 1) for e in episodes} == {True, False}
    for episode in episodes:
        assert episode.psychiatric_consultant
        enrollment = Enrollment.objects.get(patient=episode.patient, program="CoCM")
        assert enrollment.consent_on and enrollment.told_specialist_consultation
        entries = TimeEntry.objects.filter(patient=episode.patient, program="CoCM")
        assert entries.exists()
        assert set(entries.values_list("staff__username", flat=True)) == {"manager"}
        assert all(entries.values_list("bh_care_manager", flat=True))
        assert RatingScale.objects.filter(patient=episode.patient, instrument="PHQ-9").exists()


def test_setup_bills_once_per_episode_and_bhi_patients_have_scales_and_elements() -> None:
    run_demo("--patients", "30")
    by_month = {month: month_codes(month) for month in MONTHS}
    setups: Counter[str] = Counter()
    for codes in by_month.values():
        for mrn, items in codes.items():
            setups[mrn] += sum(item.startswith("99453") for item in items)
    monitored = Patient.objects.filter(devices__isnull=False).distinct()
    assert monitored.exists()
    for patient in monitored:
        assert SetupEvent.objects.filter(patient=patient, program="RPM").count() == 1
        assert setups[patient.mrn] <= 1, patient.mrn
    assert max(setups.values()) == 1
    assert ApcmAttestation.objects.filter(practice__slug="riverside", practitioner=None).exists()
    elements = BhiElementsRecord.objects.select_related("patient")
    assert elements.exists()
    for record in elements:
        assert Enrollment.objects.filter(patient=record.patient, program="BHI").exists()
        assert {"PHQ-9", "GAD-7"} <= set(
            RatingScale.objects.filter(patient=record.patient).values_list("instrument", flat=True)
        )


def test_no_staff_member_has_overlapping_time_entries() -> None:
    run_demo("--patients", "30")
    by_user = defaultdict(list)
    for entry in TimeEntry.objects.order_by("started_at"):
        by_user[entry.staff_id].append((entry.started_at, entry.ended_at))
    assert len(by_user) >= 3  # two coordinators and the BH care manager
    for spans in by_user.values():
        for (_, ended), (started, _) in pairwise(spans):
            assert ended <= started


def facts_fingerprint() -> tuple[object, ...]:
    def rows(model: type, *fields: str) -> list[tuple[object, ...]]:
        return list(model.objects.order_by(*fields).values_list(*fields))  # type: ignore[attr-defined]

    return (
        rows(SetupEvent, "patient__mrn", "program", "performed_on", "device__serial"),
        rows(ComplexCcmRecord, "patient__mrn", "month_start_on", "mdm", "care_plan_revised"),
        rows(CocmEpisode, "patient__mrn", "started_on", "psychiatric_consultant"),
        rows(RatingScale, "patient__mrn", "instrument", "administered_on", "score"),
        rows(BhiElementsRecord, "patient__mrn", "month_start_on", "bh_care_plan"),
        rows(ApcmAttestation, "practice__slug", "effective_on", "access_24_7"),
        month_codes(PREVIOUS_MONTH),
    )


def test_the_same_seed_records_the_same_facts_and_a_second_run_adds_none() -> None:
    with transaction.atomic():
        run_demo("--patients", "30", "--seed", "3")
        first = facts_fingerprint()
        transaction.set_rollback(True)
    assert not SetupEvent.objects.exists()
    run_demo("--patients", "30", "--seed", "3")
    assert facts_fingerprint() == first
    run_demo("--patients", "30", "--seed", "3")
    assert facts_fingerprint() == first
