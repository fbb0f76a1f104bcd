"""Patients, their conditions and visits, and their enrollment and consent in each program."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from careledger.accounts.models import Practice
from careledger.lib.identifiers import icd10_problem, mbi_problem


def validate_mbi(value: str) -> None:
    """Refuse a Medicare Beneficiary Identifier that breaks the CMS format."""
    problem = mbi_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_mbi")


def validate_icd10(value: str) -> None:
    """Refuse a code that is not a billable ICD-10-CM code in the shipped code set."""
    problem = icd10_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_icd10")


class Program(models.TextChoices):
    CCM = "CCM", "Chronic care management"
    PCM = "PCM", "Principal care management"
    RPM = "RPM", "Remote physiologic monitoring"
    RTM = "RTM", "Remote therapeutic monitoring"
    BHI = "BHI", "Behavioral health integration"
    COCM = "CoCM", "Collaborative care (CoCM)"
    APCM = "APCM", "Advanced primary care management"


DEVICE_PROGRAMS = frozenset({Program.RPM, Program.RTM})


class RtmCategory(models.TextChoices):
    RESPIRATORY = "respiratory", "Respiratory"
    MUSCULOSKELETAL = "musculoskeletal", "Musculoskeletal"
    CBT = "cbt", "Cognitive behavioral therapy"


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    class Coverage(models.TextChoices):
        MEDICARE_FFS = "medicare_ffs", "Medicare fee-for-service"
        MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
        OTHER = "other", "Other"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=40)
    given_name = models.CharField("first name", max_length=100)
    family_name = models.CharField("last name", max_length=100)
    birth_date = models.DateField("date of birth")
    sex = models.CharField(max_length=10, choices=Sex.choices)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    mbi = models.CharField("MBI", max_length=11, blank=True, validators=[validate_mbi])
    coverage = models.CharField(
        max_length=20, choices=Coverage.choices, default=Coverage.MEDICARE_FFS
    )
    qmb = models.BooleanField("qualified Medicare beneficiary (QMB)", default=False)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="panel",
        help_text="The care coordinator whose panel this patient is in.",
    )
    created_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "mrn"], name="mrn_unique_in_practice")
        ]
        indexes = [models.Index(fields=["practice", "family_name", "given_name"])]

    def __str__(self) -> str:
        return f"Patient {self.pk}"

    @property
    def name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


class Condition(models.Model):
    """A diagnosis on the problem list, coded in ICD-10-CM."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    icd10_code = models.CharField("ICD-10-CM code", max_length=8, validators=[validate_icd10])
    description = models.CharField(max_length=255)
    chronic = models.BooleanField(default=True)
    onset_on = models.DateField("onset", null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "id"]

    def __str__(self) -> str:
        return self.icd10_code


class Visit(models.Model):
    """A face-to-face visit with a practitioner: makes the patient established (RPM-10, CCM-7)."""

    class Kind(models.TextChoices):
        EM = "em", "E/M visit"
        AWV = "awv", "Annual wellness visit"
        IPPE = "ippe", "Welcome to Medicare (IPPE)"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    visited_on = models.DateField()
    kind = models.CharField(max_length=5, choices=Kind.choices)
    em_level = models.PositiveSmallIntegerField("E/M level", null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-visited_on"]


class Enrollment(models.Model):
    """A patient's participation in one program, with the consent CMS requires (CCM-6, RPM-11)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting consent"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class ConsentMethod(models.TextChoices):
        VERBAL = "verbal", "Verbal"
        WRITTEN = "written", "Written"
        ELECTRONIC = "electronic", "Electronic"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    program = models.CharField(max_length=5, choices=Program.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    billing_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField("services start")
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # RPM/RTM: the order (OIG OEI-02-23-00260 asks for the ordering practitioner and indication).
    ordered_on = models.DateField(null=True, blank=True)
    ordering_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    order_indication = models.CharField(
        "order indication (ICD-10-CM)", max_length=8, blank=True, validators=[validate_icd10]
    )
    # Consent: date, method, who obtained it, what the patient was told (CCM-6, BHI-1).
    consent_on = models.DateField("consent date", null=True, blank=True)
    consent_method = models.CharField(max_length=10, choices=ConsentMethod.choices, blank=True)
    consent_obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    told_cost_sharing = models.BooleanField("told about cost sharing", default=False)
    told_one_practitioner = models.BooleanField(
        "told only one practitioner may bill a month", default=False
    )
    told_right_to_stop = models.BooleanField("told they may stop at any time", default=False)
    told_specialist_consultation = models.BooleanField(
        "agreed to consultation with specialists (BHI/CoCM)", default=False
    )
    # RTM-1: the device-supply code depends on the category (98976/98984 respiratory, ...).
    rtm_category = models.CharField(
        "RTM category", max_length=20, choices=RtmCategory.choices, blank=True
    )
    created_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "program", "-started_on"]
        constraints = [
            # A patient holds at most one open (pending or active) enrollment per program.
            models.UniqueConstraint(
                fields=["patient", "program"],
                condition=Q(status__in=["pending", "active"]),
                name="one_open_enrollment_per_program",
            ),
            # An enrollment cannot be active without consent (CCM-6, RPM-11).
            models.CheckConstraint(
                condition=~Q(status="active") | Q(consent_on__isnull=False),
                name="active_enrollment_has_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} enrollment {self.pk}"

    @property
    def consented(self) -> bool:
        return self.consent_on is not None
