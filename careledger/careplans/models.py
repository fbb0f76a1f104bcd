"""Care plans: the editable draft, its saved revisions, immutable signed versions, sharings.

Nothing here is ever deleted. A version's content never changes after publication; its
sign-off is written once. Thresholds are copied out of each version so the device alerts can
query them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from careledger.patients.models import Patient


class ImmutableError(Exception):
    """A published record was about to be changed or deleted."""


class Kind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", "Comprehensive (CCM, APCM)"
    DISEASE_SPECIFIC = "disease_specific", "Disease-specific (PCM)"


class CarePlan(models.Model):
    """One patient's plan of one kind: the current draft and its edit counter."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_plans")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Optimistic concurrency: a save names the revision it started from; a stale one is refused.
    revision = models.PositiveIntegerField(default=1)
    draft = models.JSONField(default=dict)
    draft_saved_at = models.DateTimeField()
    draft_saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    template = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["patient", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind"], name="one_care_plan_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} care plan {self.pk}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("Care plans are never deleted.")


class DraftRevision(models.Model):
    """Every saved state of a draft, append-only: what the plan said at any moment."""

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="draft_revisions")
    revision = models.PositiveIntegerField()
    content = models.JSONField()
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "revision"], name="one_row_per_draft_revision")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableError("A saved draft revision cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("Draft revisions are never deleted.")


class CarePlanVersion(models.Model):
    """A published plan: numbered, dated, with its author, reason and snapshot (CCM-8).

    The practitioner's sign-off (CCM-10) is written once, by ``sign_version``; nothing else
    may change.
    """

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField()
    published_on = models.DateField(help_text="The practice's local date of publication.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revision_reason = models.CharField(max_length=400)
    draft_revision = models.PositiveIntegerField()
    content = models.JSONField()
    conditions = models.ManyToManyField("patients.Condition", related_name="+", blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_by_npi = models.CharField(max_length=10, blank=True)
    signed_by_credential = models.CharField(max_length=20, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    SIGN_OFF_FIELDS = frozenset({"signed_by", "signed_by_npi", "signed_by_credential", "signed_at"})

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_version_per_number"),
            models.CheckConstraint(
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
                name="version_signed_by_and_at_together",
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.plan}"

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            fields = set(kwargs.get("update_fields") or ())
            stored = CarePlanVersion.objects.filter(pk=self.pk).values("signed_at").first()
            signing_once = (
                fields
                and fields <= self.SIGN_OFF_FIELDS
                and stored is not None
                and stored["signed_at"] is None
            )
            if not signing_once:
                raise ImmutableError("A published care-plan version cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("Published care-plan versions are never deleted.")


class MonitoringThreshold(models.Model):
    """A device alert level from a version's goal: what the readings are checked against."""

    version = models.ForeignKey(
        CarePlanVersion, on_delete=models.PROTECT, related_name="thresholds"
    )
    goal_key = models.CharField(max_length=40)
    metric = models.CharField(max_length=30)
    comparator = models.CharField(max_length=5)
    warning = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    critical = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=20, help_text="UCUM")

    class Meta:
        ordering = ["version", "id"]


class Sharing(models.Model):
    """A copy of a version given to the patient or caregiver (CCM-9)."""

    class Channel(models.TextChoices):
        PRINT = "print", "Printed copy"
        PORTAL = "portal", "Patient portal"
        EMAIL = "email", "Email"
        MAIL = "mail", "Mail"

    version = models.ForeignKey(CarePlanVersion, on_delete=models.PROTECT, related_name="sharings")
    shared_on = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.CharField(max_length=100, blank=True, help_text="Patient or caregiver")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["version", "shared_on", "id"]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("Sharings are never deleted.")


class AcuteEvent(models.Model):
    """A hospitalization or emergency visit: a significant change that calls for a review."""

    class Kind(models.TextChoices):
        HOSPITALIZATION = "hospitalization", "Hospital stay"
        ED_VISIT = "ed_visit", "Emergency department visit"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="acute_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    facility = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=400, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-occurred_on"]


class TemplateVersion(models.Model):
    """One saved state of a practice's copy of a shipped template (plan_templates), append-only.

    A practice never edits a template in place: each save, and each reset to the shipped
    content, is the next numbered version with who saved it, when and why. A plan started from
    a template uses the practice's latest version, or the shipped template when there is none.
    """

    class Action(models.TextChoices):
        EDITED = "edited", "Edited"
        RESET = "reset", "Reset to the shipped template"

    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    template_key = models.CharField(max_length=40)
    number = models.PositiveIntegerField()
    content = models.JSONField()
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=400)
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["practice", "template_key", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "template_key", "number"],
                name="one_template_version_per_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_key} template version {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableError("A saved template version cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("Template versions are never deleted.")
