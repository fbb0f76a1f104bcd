"""A closed month: its billing lines, the patient-months behind them, and later amendments.

A ``BillingMonth`` is created by the first close and recomputed by every close until a manager
approves it; approval locks it (``careledger.locks.MonthLock``) and database triggers refuse any
change to it or its lines from then on (reliability case 15). Later changes reach a locked month
only as ``Amendment`` rows accepted into a supplementary batch.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from careledger.accounts.models import Practice
from careledger.patients.models import Patient, Program


class BillingMonth(models.Model):
    """One practice's month (YYYY-MM, in its zone): draft until approved, then locked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Closed, draft"
        APPROVED = "approved", "Approved and locked"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rule_sets = models.CharField(max_length=200, blank=True)
    facts_sha256 = models.CharField("SHA-256 of the month's facts", max_length=64, blank=True)
    close_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two concurrent closes of one month find one row (reliability case 21).
            models.UniqueConstraint(fields=["practice", "month"], name="one_billing_month")
        ]
        ordering = ["practice", "-month"]

    def __str__(self) -> str:
        return f"{self.month} ({self.status})"

    @property
    def approved(self) -> bool:
        return self.status == self.Status.APPROVED


class PatientMonth(models.Model):
    """One patient and billing practitioner in a closed month: the engine's flags and inputs."""

    billing_month = models.ForeignKey(
        BillingMonth, on_delete=models.PROTECT, related_name="patient_months"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    programs = models.JSONField(default=list)
    rule_set = models.CharField(max_length=40, blank=True)
    facts_sha256 = models.CharField(max_length=64)
    flags = models.JSONField(default=list)
    minutes = models.JSONField(default=dict)
    entry_ids = models.JSONField(default=dict)
    # The engine's per-program summary at the close (minutes, reading days, next thresholds):
    # capture analytics read near misses from here. Null for months closed before it was kept.
    summaries = models.JSONField(null=True, blank=True)
    # Codes the engine withheld (a conflict, another practitioner's claim): the review list.
    withheld = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["billing_month", "patient", "practitioner"], name="one_patient_month"
            )
        ]
        ordering = ["billing_month", "patient", "practitioner"]


class BillingLine(models.Model):
    """One code to bill for one patient-month, with what a person decided about it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        APPROVED = "approved", "Approved"
        HELD = "held", "Held"
        REMOVED = "removed", "Removed"

    class Source(models.TextChoices):
        ENGINE = "engine", "Rules engine"
        MANUAL = "manual", "Added by hand"
        AMENDMENT = "amendment", "Accepted amendment"

    billing_month = models.ForeignKey(BillingMonth, on_delete=models.PROTECT, related_name="lines")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    program = models.CharField(max_length=5, choices=Program.choices)
    code = models.CharField(max_length=5)
    units = models.PositiveSmallIntegerField()
    dos = models.DateField("date of service")
    billing_npi = models.CharField(max_length=10, blank=True)
    rendering_npi = models.CharField(max_length=10, blank=True)
    place_of_service = models.CharField(max_length=2)
    diagnoses = models.JSONField(default=list)
    rule_set = models.CharField(max_length=40, blank=True)
    evidence = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=Status.choices)
    review_reasons = models.JSONField(default=list)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ENGINE)
    # 0: the close; 1, 2, ...: supplementary batches of accepted amendments.
    batch = models.PositiveSmallIntegerField(default=0)
    # Set when a person decides (approve, hold, edit, remove, add); a re-close never touches it.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    engine_units = models.PositiveSmallIntegerField(null=True, blank=True)
    # False when a later close no longer proposes a line a person had decided on.
    engine_agrees = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["billing_month", "patient", "practitioner", "program", "code", "dos", "id"]
        indexes = [models.Index(fields=["billing_month", "status"], name="line_month_status")]

    def __str__(self) -> str:
        return f"{self.code} x{self.units} on {self.dos}"

    @property
    def key(self) -> tuple[int, int, str, str, str]:
        """Identify the line across closes: the same code for the same patient-month."""
        return (
            self.patient_id,
            self.practitioner_id,
            self.program,
            self.code,
            self.dos.isoformat(),
        )

    @property
    def decided(self) -> bool:
        return self.decided_by_id is not None or self.source != self.Source.ENGINE


class Amendment(models.Model):
    """A change that reached a locked month, accepted by a manager into a supplementary batch."""

    billing_month = models.ForeignKey(
        BillingMonth, on_delete=models.PROTECT, related_name="amendments"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    batch = models.PositiveSmallIntegerField()
    facts_sha256 = models.CharField(max_length=64)
    entry_ids = models.JSONField(default=list)
    gained = models.JSONField(default=list)
    lost = models.JSONField(default=list)
    reason = models.CharField(max_length=500)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["billing_month", "batch", "patient"]
