"""Program-fact services: validation names the field, every write leaves one audit event."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from careledger.audit.models import AuditEvent
from careledger.programs import services
from careledger.programs.models import ComplexCcmRecord
from tests.conftest import PracticeWorld
from tests.programs.helpers import MARCH, NOW, enroll

pytestmark = pytest.mark.django_db


def _field(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return next(iter(exc.value.message_dict))


def _events(name: str) -> int:
    return AuditEvent.objects.filter(event=name).count()


def test_a_claim_with_a_bad_code_names_the_code_field(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_other_claim(
            ctx=world.ctx("biller"),
            patient=world.patient,
            data=services.ClaimData("Dr. X", "9945", date(2026, 3, 1), date(2026, 3, 30)),
            now=NOW,
        )
    assert _field(exc) == "code"


def test_a_claim_that_ends_before_it_starts_names_the_end(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_other_claim(
            ctx=world.ctx("biller"),
            patient=world.patient,
            data=services.ClaimData("Dr. X", "99454", date(2026, 3, 30), date(2026, 3, 1)),
            now=NOW,
        )
    assert _field(exc) == "period_end_on"


def test_a_phq9_score_above_27_names_the_score(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_rating_scale(
            ctx=world.ctx(),
            patient=world.patient,
            instrument="PHQ-9",
            administered_on=date(2026, 3, 2),
            score=28,
            now=NOW,
        )
    assert _field(exc) == "score"


def test_a_set_up_in_the_future_names_its_date(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_setup(
            ctx=world.ctx(),
            patient=world.patient,
            program="RPM",
            performed_on=date(2026, 3, 20),
            now=NOW,
        )
    assert _field(exc) == "performed_on"


def test_only_a_physician_or_qhp_records_mdm(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_complex_ccm(
            ctx=world.ctx("coordinator"),
            patient=world.patient,
            month_start_on=MARCH.first_on,
            mdm="high",
            now=NOW,
        )
    assert _field(exc) == "mdm"


def test_recording_mdm_twice_replaces_it_and_audits_both(world: PracticeWorld) -> None:
    for level in ("low", "high"):
        services.record_complex_ccm(
            ctx=world.ctx("practitioner"),
            patient=world.patient,
            month_start_on=date(2026, 3, 15),
            mdm=level,
            now=NOW,
        )
    record = ComplexCcmRecord.objects.get(patient=world.patient)
    assert (record.month_start_on, record.mdm) == (MARCH.first_on, "high")
    events = AuditEvent.objects.filter(event="mdm.recorded").order_by("id")
    assert events.count() == 2
    assert events.last().details["previous"] == {"mdm": "low", "revised": False}  # type: ignore[union-attr]


def test_a_second_open_cocm_episode_is_refused(world: PracticeWorld) -> None:
    kwargs = {"ctx": world.ctx(), "patient": world.patient, "now": NOW}
    services.start_cocm_episode(
        started_on=date(2026, 2, 1), psychiatric_consultant="Dr. P", **kwargs
    )
    with pytest.raises(ValidationError) as exc:
        services.start_cocm_episode(
            started_on=date(2026, 3, 1), psychiatric_consultant="Dr. P", **kwargs
        )
    assert _field(exc) == "started_on"


def test_every_write_leaves_one_audit_event(world: PracticeWorld) -> None:
    ctx = world.ctx("practitioner")
    patient = world.patient
    services.record_setup(
        ctx=ctx, patient=patient, program="RPM", performed_on=date(2026, 3, 2), now=NOW
    )
    services.record_other_claim(
        ctx=ctx,
        patient=patient,
        data=services.ClaimData("Dr. X", "99454", date(2026, 3, 1), date(2026, 3, 30)),
        now=NOW,
    )
    episode = services.start_cocm_episode(
        ctx=ctx, patient=patient, started_on=date(2026, 3, 1), psychiatric_consultant="P", now=NOW
    )
    services.end_cocm_episode(ctx=ctx, episode=episode, ended_on=date(2026, 3, 9), now=NOW)
    services.record_rating_scale(
        ctx=ctx,
        patient=patient,
        instrument="GAD-7",
        administered_on=date(2026, 3, 2),
        score=21,
        now=NOW,
    )
    services.record_bhi_elements(
        ctx=ctx,
        patient=patient,
        month_start_on=MARCH.first_on,
        elements=services.BhiElements(continuity=True),
        now=NOW,
    )
    services.record_apcm_attestation(ctx=ctx, effective_on=date(2026, 3, 1), now=NOW)
    rtm = enroll(world, patient, "RTM")
    services.set_rtm_category(ctx=ctx, enrollment=rtm, category="cbt", now=NOW)
    for name in (
        "setup.recorded",
        "other_claim.recorded",
        "cocm_episode.started",
        "cocm_episode.ended",
        "rating_scale.recorded",
        "bhi_elements.recorded",
        "apcm_attestation.recorded",
        "rtm_category.set",
    ):
        assert _events(name) == 1, name
    assert AuditEvent.objects.filter(event="setup.recorded").get().patient_id == patient.pk


def test_another_practices_patient_is_refused(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.record_setup(
            ctx=world.ctx(),
            patient=other_world.patient,
            program="RPM",
            performed_on=date(2026, 3, 2),
            now=NOW,
        )
    assert _field(exc) == "patient_id"
    assert _events("setup.recorded") == 0


def test_an_rtm_category_only_fits_an_rtm_enrollment(world: PracticeWorld) -> None:
    ccm = enroll(world, world.patient, "CCM")
    with pytest.raises(ValidationError) as exc:
        services.set_rtm_category(ctx=world.ctx(), enrollment=ccm, category="cbt", now=NOW)
    assert _field(exc) == "rtm_category"
