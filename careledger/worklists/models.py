"""Per-practice worklist settings: fee estimates, holidays and outreach assignments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from careledger.accounts.models import Practice
from careledger.patients.models import Patient, Program


class PracticeFee(models.Model):
    """A practice's own amount for a code from a date on (overrides the shipped table)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=5)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    effective_on = models.DateField()
    estimate = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["practice", "code", "-effective_on"]


class PracticeHoliday(models.Model):
    """A day the practice does not count as a business day (besides federal holidays)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="holidays")
    day = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "day"], name="one_holiday_a_day")
        ]


class OutreachAssignment(models.Model):
    """A worklist row handed to a coordinator for outreach before the month closes."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.CharField(max_length=5, choices=Program.choices)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "patient", "program", "-assigned_at"]
