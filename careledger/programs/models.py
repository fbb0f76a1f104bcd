"""Program facts the billing engine needs and nothing else records (issue 9).

Set-up events (RPM-16, RTM-1), other practitioners' claims (RPM-5, CCM-6), complex-CCM decision
making (CCM-2), CoCM episodes (BHI-2), validated rating scales and general-BHI service elements
(BHI-1, P10), and APCM attestations (APCM-2). Each row is written by one service with its audit
event; the facts builder reads them through the bulk selectors.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from careledger.accounts.models import Practice
from careledger.devices.models import Device
from careledger.patients.models import Patient


class DeviceProgram(models.TextChoices):
    RPM = "RPM", "Remote physiologic monitoring"
    RTM = "RTM", "Remote therapeutic monitoring"


class SetupEvent(models.Model):
    """Set-up and patient education for a device program: opens an episode of care (RPM-16)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="setup_events")
    program = models.CharField(max_length=5, choices=DeviceProgram.choices)
    performed_on = models.DateField("set-up date")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=400, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "program", "performed_on", "id"]


class OtherClaim(models.Model):
    """A claim another practitioner made for the patient (RPM-5, CCM-6: one biller)."""

    class Source(models.TextChoices):
        ENTRY = "entry", "Entered"
        IMPORT = "import", "Imported"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="other_claims")
    practitioner = models.CharField("other practitioner", max_length=200)
    practitioner_npi = models.CharField("NPI", max_length=10, blank=True)
    code = models.CharField("CPT/HCPCS code", max_length=5)
    period_start_on = models.DateField("period start")
    period_end_on = models.DateField("period end")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ENTRY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "period_start_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end_on__gte=models.F("period_start_on")),
                name="other_claim_period_in_order",
            )
        ]


class MdmLevel(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class ComplexCcmRecord(models.Model):
    """The practitioner's medical decision making for one patient-month (CCM-2: 99487/99489).

    ``care_plan_revised`` records a revision made outside careledger; a comprehensive care-plan
    version published in the month counts as well (the facts builder reads both).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    month_start_on = models.DateField("month")
    mdm = models.CharField("medical decision making", max_length=10, choices=MdmLevel.choices)
    care_plan_revised = models.BooleanField(
        "care plan established or substantially revised", default=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "month_start_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "month_start_on"], name="one_mdm_record_per_patient_month"
            )
        ]


class CocmEpisode(models.Model):
    """A collaborative-care episode: its first month is month 1 (BHI-2: 99492, then 99493)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cocm_episodes")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    psychiatric_consultant = models.CharField(max_length=200)
    psychiatric_consultant_npi = models.CharField(max_length=10, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-started_on", "id"]


class Instrument(models.TextChoices):
    PHQ9 = "PHQ-9", "PHQ-9 (depression)"
    GAD7 = "GAD-7", "GAD-7 (anxiety)"


# The instruments' score ranges: PHQ-9 sums nine items of 0-3, GAD-7 seven.
SCORE_RANGES: dict[str, tuple[int, int]] = {Instrument.PHQ9: (0, 27), Instrument.GAD7: (0, 21)}


class RatingScale(models.Model):
    """A validated rating scale administered to the patient (BHI service element, P10)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="rating_scales")
    instrument = models.CharField(max_length=10, choices=Instrument.choices)
    administered_on = models.DateField()
    score = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-administered_on", "id"]


class BhiElementsRecord(models.Model):
    """The general-BHI service elements furnished in one patient-month (P10, APCM-4: G0570).

    A rating scale administered in the month also counts as ``validated_rating_scale``.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    month_start_on = models.DateField("month")
    validated_rating_scale = models.BooleanField(default=False)
    bh_care_plan = models.BooleanField("behavioral-health care plan", default=False)
    treatment_coordination = models.BooleanField(default=False)
    continuity = models.BooleanField("continuity of care", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "month_start_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "month_start_on"], name="one_bhi_elements_per_patient_month"
            )
        ]


class ApcmAttestation(models.Model):
    """A dated attestation of the APCM capabilities (APCM-2), practice-wide or one practitioner's.

    The attestation in force on a day is the latest one dated on or before it: the
    practitioner's own if they have one, else the practice's. A later attestation with a box
    unticked withdraws it.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the attestation covers the whole practice.",
    )
    effective_on = models.DateField()
    access_24_7 = models.BooleanField("24/7 access", default=False)
    continuity = models.BooleanField("continuity with a designated care-team member", default=False)
    responsible_for_primary_care = models.BooleanField(
        "responsible for the patients' primary care", default=False
    )
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField()

    class Meta:
        ordering = ["practice", "-effective_on", "-id"]
