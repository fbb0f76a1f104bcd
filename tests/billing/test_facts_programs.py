"""Each program fact, stored through its service, changes the engine's decision as the rules say.

Stored records -> the one facts builder -> the engine (careledger.billing.facts).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.billing.facts import build_month_facts
from careledger.patients.models import Enrollment, Patient
from careledger.programs import services
from tests.careplans.conftest import LONG_AGO
from tests.conftest import PracticeWorld
from tests.factories import PatientFactory, log_minutes
from tests.programs.helpers import (
    APRIL,
    MARCH,
    NOW,
    bh_minutes,
    ccm_patient,
    codes,
    decide,
    enroll,
    rpm_patient,
    shared_plan,
    visit,
)

pytestmark = pytest.mark.django_db

HistoricalPatient = Patient.history.model  # type: ignore[attr-defined]


def test_60_staff_minutes_with_moderate_mdm_and_a_revised_plan_bill_99487(
    world: PracticeWorld,
) -> None:
    patient = ccm_patient(world, minutes=60)
    services.record_complex_ccm(
        ctx=world.ctx("practitioner"),
        patient=patient,
        month_start_on=MARCH.first_on,
        mdm="moderate",
        now=NOW,
    )
    lines, flags = decide(patient, MARCH)
    assert lines == {"99487": 1}
    assert "FACT_UNKNOWN" not in codes(flags)


def test_the_same_month_without_mdm_bills_99490_and_99439_and_names_the_missing_mdm(
    world: PracticeWorld,
) -> None:
    patient = ccm_patient(world, minutes=60)
    lines, flags = decide(patient, MARCH)
    assert lines == {"99490": 1, "99439": 2}
    unknown = [f for f in flags if f["code"] == "FACT_UNKNOWN"]
    assert unknown and "complex_ccm.mdm" in str(unknown[0]["message"])


def test_low_mdm_is_known_and_stays_non_complex(world: PracticeWorld) -> None:
    patient = ccm_patient(world, minutes=60)
    services.record_complex_ccm(
        ctx=world.ctx("practitioner"),
        patient=patient,
        month_start_on=MARCH.first_on,
        mdm="low",
        now=NOW,
    )
    lines, flags = decide(patient, MARCH)
    assert lines == {"99490": 1, "99439": 2}
    assert "FACT_UNKNOWN" not in codes(flags)


def test_moderate_mdm_without_a_plan_revision_in_the_month_is_not_complex(
    world: PracticeWorld,
) -> None:
    patient = world.patient
    visit(world, patient)
    # The plan was published in February: not revised in March.
    shared_plan(world, patient, published=datetime(2026, 2, 10, 15, 0, tzinfo=UTC))
    enrollment = enroll(world, patient, "CCM")
    log_minutes(enrollment, 60, start=datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    services.record_complex_ccm(
        ctx=world.ctx("practitioner"),
        patient=patient,
        month_start_on=MARCH.first_on,
        mdm="high",
        now=NOW,
    )
    assert decide(patient, MARCH)[0] == {"99490": 1, "99439": 2}
    services.record_complex_ccm(
        ctx=world.ctx("practitioner"),
        patient=patient,
        month_start_on=MARCH.first_on,
        mdm="high",
        care_plan_revised=True,
        now=NOW,
    )
    assert decide(patient, MARCH)[0] == {"99487": 1}


def test_a_new_patient_without_an_initiating_visit_gets_no_ccm_and_a_flag(
    world: PracticeWorld,
) -> None:
    patient = ccm_patient(world, minutes=25, seen=False)
    lines, flags = decide(patient, MARCH)
    assert lines == {}
    assert "MISSING_INITIATING_VISIT" in codes(flags)


def test_a_set_up_event_bills_99453_once_per_episode(world: PracticeWorld) -> None:
    patient, device = rpm_patient(world)
    services.record_setup(
        ctx=world.ctx("coordinator"),
        patient=patient,
        program="RPM",
        performed_on=date(2026, 3, 2),
        device=device,
        now=NOW,
    )
    march, _ = decide(patient, MARCH)
    april, _ = decide(patient, APRIL)
    assert march == {"99453": 1, "99454": 1}
    assert april == {"99454": 1}


def test_without_a_set_up_event_99453_is_not_billed_and_the_fact_is_named(
    world: PracticeWorld,
) -> None:
    patient, _ = rpm_patient(world)
    lines, flags = decide(patient, MARCH)
    assert lines == {"99454": 1}
    assert any(f["code"] == "FACT_UNKNOWN" and "set-up" in str(f["message"]) for f in flags)
    assert "FACT_UNKNOWN" not in codes(decide(patient, APRIL)[1])


def test_another_practitioners_overlapping_device_claim_stops_99454(
    world: PracticeWorld,
) -> None:
    patient, _ = rpm_patient(world)
    services.record_other_claim(
        ctx=world.ctx("biller"),
        patient=patient,
        data=services.ClaimData("Dr. Elsewhere", "99454", date(2026, 3, 5), date(2026, 4, 3)),
        now=NOW,
    )
    lines, flags = decide(patient, MARCH)
    assert "99454" not in lines
    assert "DEVICE_PERIOD_ALREADY_BILLED_BY_OTHER_PRACTITIONER" in codes(flags)


def test_a_first_cocm_month_at_40_minutes_bills_99492_and_the_next_month_99493(
    world: PracticeWorld,
) -> None:
    patient = world.patient
    enrollment = enroll(world, patient, "CoCM")
    services.start_cocm_episode(
        ctx=world.ctx("coordinator"),
        patient=patient,
        started_on=date(2026, 3, 2),
        psychiatric_consultant="Dr. Consult",
        now=NOW,
    )
    bh_minutes(enrollment, 40, datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    bh_minutes(enrollment, 40, datetime(2026, 4, 6, 15, 0, tzinfo=UTC))
    assert decide(patient, MARCH)[0] == {"99492": 1}
    assert decide(patient, APRIL)[0] == {"99493": 1}
    built = build_month_facts(practice=world.practice, month=MARCH)[patient.pk][0]
    assert built.facts.psychiatric_consultant == "Dr. Consult"


def test_cocm_without_an_episode_is_fact_unknown(world: PracticeWorld) -> None:
    enrollment = enroll(world, world.patient, "CoCM")
    bh_minutes(enrollment, 40, datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    lines, flags = decide(world.patient, MARCH)
    assert lines == {}
    assert any(
        f["code"] == "FACT_UNKNOWN" and "cocm_month_index" in str(f["message"]) for f in flags
    )


def _apcm(world: PracticeWorld) -> None:
    visit(world, world.patient)
    shared_plan(world, world.patient)
    enroll(world, world.patient, "APCM")


def test_apcm_with_attestations_bills_g0557(world: PracticeWorld) -> None:
    _apcm(world)
    services.record_apcm_attestation(
        ctx=world.ctx("manager"),
        effective_on=date(2026, 1, 1),
        now=NOW,
        access_24_7=True,
        continuity=True,
        responsible_for_primary_care=True,
    )
    lines, _ = decide(world.patient, MARCH)
    assert lines == {"G0557": 1}


def test_apcm_without_attestations_bills_nothing_and_says_why(world: PracticeWorld) -> None:
    _apcm(world)
    lines, flags = decide(world.patient, MARCH)
    assert lines == {}
    assert "APCM_REQUIREMENTS_NOT_MET" in codes(flags)


def test_a_practitioners_own_withdrawal_overrides_the_practice_attestation(
    world: PracticeWorld,
) -> None:
    _apcm(world)
    full = {"access_24_7": True, "continuity": True, "responsible_for_primary_care": True}
    services.record_apcm_attestation(
        ctx=world.ctx("manager"), effective_on=date(2026, 1, 1), now=NOW, **full
    )
    services.record_apcm_attestation(
        ctx=world.ctx("manager"),
        effective_on=date(2026, 3, 15),
        now=NOW,
        practitioner=world.user("practitioner"),
        access_24_7=True,
        continuity=True,
    )
    assert decide(world.patient, MARCH)[0] == {}
    # An attestation dated after the month is not in force for it.
    services.record_apcm_attestation(
        ctx=world.ctx("manager"),
        effective_on=date(2026, 4, 1),
        now=NOW,
        practitioner=world.user("practitioner"),
        **full,
    )
    assert decide(world.patient, MARCH)[0] == {}
    assert decide(world.patient, APRIL)[0] == {"G0557": 1}


def _attested_apcm(world: PracticeWorld, *, qmb: bool) -> None:
    """An APCM patient with two chronic conditions whose record said ``qmb`` since 2025."""
    _apcm(world)
    services.record_apcm_attestation(
        ctx=world.ctx("manager"),
        effective_on=date(2026, 1, 1),
        now=NOW,
        access_24_7=True,
        continuity=True,
        responsible_for_primary_care=True,
    )
    Patient.objects.filter(pk=world.patient.pk).update(qmb=qmb)
    HistoricalPatient.objects.filter(id=world.patient.pk).update(history_date=LONG_AGO, qmb=qmb)


def _change_qmb(patient: Patient, qmb: bool, at: datetime) -> None:
    patient.refresh_from_db()
    patient.qmb = qmb
    patient._history_date = at  # type: ignore[attr-defined]
    patient.save()


def test_a_patient_who_became_qmb_mid_next_month_bills_g0557_for_this_month(
    world: PracticeWorld,
) -> None:
    _attested_apcm(world, qmb=False)
    _change_qmb(world.patient, True, datetime(2026, 4, 15, 15, 0, tzinfo=UTC))
    assert decide(world.patient, MARCH)[0] == {"G0557": 1}
    assert decide(world.patient, APRIL)[0] == {"G0558": 1}


def test_a_patient_who_stopped_being_qmb_mid_next_month_bills_g0558_for_this_month(
    world: PracticeWorld,
) -> None:
    _attested_apcm(world, qmb=True)
    _change_qmb(world.patient, False, datetime(2026, 4, 15, 15, 0, tzinfo=UTC))
    assert decide(world.patient, MARCH)[0] == {"G0558": 1}
    assert decide(world.patient, APRIL)[0] == {"G0557": 1}


def test_qmb_recorded_late_on_the_months_last_local_day_counts_for_that_month(
    world: PracticeWorld,
) -> None:
    _attested_apcm(world, qmb=False)
    # 22:00 on 31 March in Chicago is already 1 April in UTC.
    _change_qmb(world.patient, True, datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    assert decide(world.patient, MARCH)[0] == {"G0558": 1}


def test_a_patient_created_after_the_month_has_their_first_recorded_qmb(
    world: PracticeWorld,
) -> None:
    _attested_apcm(world, qmb=True)
    HistoricalPatient.objects.filter(id=world.patient.pk).update(
        history_date=datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    )
    _change_qmb(world.patient, False, datetime(2026, 6, 1, 15, 0, tzinfo=UTC))
    assert decide(world.patient, MARCH)[0] == {"G0558": 1}


def test_apcm_with_bhi_and_all_four_elements_bills_g0570(world: PracticeWorld) -> None:
    _apcm(world)
    services.record_apcm_attestation(
        ctx=world.ctx("manager"),
        effective_on=date(2026, 1, 1),
        now=NOW,
        access_24_7=True,
        continuity=True,
        responsible_for_primary_care=True,
    )
    bhi = enroll(world, world.patient, "BHI")
    log_minutes(bhi, 25, start=datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    assert decide(world.patient, MARCH)[0] == {"G0557": 1, "99484": 1}
    services.record_rating_scale(
        ctx=world.ctx("coordinator"),
        patient=world.patient,
        instrument="PHQ-9",
        administered_on=date(2026, 3, 4),
        score=14,
        now=NOW,
    )
    services.record_bhi_elements(
        ctx=world.ctx("coordinator"),
        patient=world.patient,
        month_start_on=MARCH.first_on,
        elements=services.BhiElements(
            bh_care_plan=True, treatment_coordination=True, continuity=True
        ),
        now=NOW,
    )
    assert decide(world.patient, MARCH)[0] == {"G0557": 1, "G0570": 1}


def test_the_rtm_category_on_the_enrollment_picks_the_device_code(world: PracticeWorld) -> None:
    patient, _ = rpm_patient(world)
    rtm = Enrollment.objects.get(patient=patient, program="RPM")
    built = build_month_facts(practice=world.practice, month=MARCH)[patient.pk][0]
    assert built.facts.rtm_category is None
    rtm.program = "RTM"
    rtm.save()
    services.set_rtm_category(
        ctx=world.ctx("coordinator"), enrollment=rtm, category="respiratory", now=NOW
    )
    built = build_month_facts(practice=world.practice, month=MARCH)[patient.pk][0]
    assert built.facts.rtm_category == "respiratory"


def _mixed_panel(world: PracticeWorld, size: int) -> None:
    for n in range(size):
        patient = PatientFactory(practice=world.practice)
        for program in ("CCM", "RPM", "CoCM", "APCM", "BHI"):
            enroll(world, patient, program)
        services.record_complex_ccm(
            ctx=world.ctx("practitioner"),
            patient=patient,
            month_start_on=MARCH.first_on,
            mdm="moderate",
            now=NOW,
        )
        services.start_cocm_episode(
            ctx=world.ctx("coordinator"),
            patient=patient,
            started_on=date(2026, 2, 2),
            psychiatric_consultant=f"Dr. {n}",
            now=NOW,
        )
        services.record_setup(
            ctx=world.ctx("coordinator"),
            patient=patient,
            program="RPM",
            performed_on=date(2026, 3, 1),
            now=NOW,
        )
        services.record_other_claim(
            ctx=world.ctx("biller"),
            patient=patient,
            data=services.ClaimData("Dr. X", "99490", date(2026, 2, 1), date(2026, 2, 28)),
            now=NOW,
        )


def test_program_facts_keep_the_query_count_constant_for_any_mix(world: PracticeWorld) -> None:
    services.record_apcm_attestation(
        ctx=world.ctx("manager"), effective_on=date(2026, 1, 1), now=NOW, access_24_7=True
    )
    _mixed_panel(world, 3)
    with CaptureQueriesContext(connection) as small:
        built = build_month_facts(practice=world.practice, month=MARCH)
    assert len(built) == 3
    _mixed_panel(world, 12)
    with CaptureQueriesContext(connection) as large:
        built = build_month_facts(practice=world.practice, month=MARCH)
    assert len(built) == 15
    assert len(small.captured_queries) == len(large.captured_queries)
    facts = next(iter(built.values()))[0].facts
    assert facts.cocm_month_index == 2
    assert facts.complex_ccm is not None and facts.complex_ccm.mdm == "moderate"
    assert facts.apcm_requirements is not None and facts.apcm_requirements.access_24_7
    assert facts.other_practitioner_claims[0].code == "99490"


def test_billing_csv_shows_qmb_as_of_the_month_not_as_the_record_says_today(
    world: PracticeWorld,
) -> None:
    from careledger.billing.close import close_month
    from careledger.billing.exports.csvfile import billing_csv
    from careledger.billing.selectors import billing_month_of, lines_of

    _attested_apcm(world, qmb=False)
    _change_qmb(world.patient, True, datetime(2026, 4, 15, 15, 0, tzinfo=UTC))
    close_month(practice=world.practice, month=MARCH, actor=None, now=NOW)
    billing_month = billing_month_of(practice=world.practice, month="2026-03")
    assert billing_month is not None
    text = billing_csv(billing_month, lines_of(billing_month)).decode()
    apcm = [row for row in csv.DictReader(io.StringIO(text)) if row["code"] == "G0557"]
    assert [row["qmb"] for row in apcm] == ["false"]
    assert Patient.objects.get(pk=world.patient.pk).qmb  # the record says QMB today
