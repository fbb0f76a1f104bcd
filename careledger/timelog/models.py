"""Logged contacts and care-management time, amended but never edited or deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from careledger.accounts.models import Practice
from careledger.accounts.roles import Credential, RuleClass
from careledger.patients.models import Enrollment, Patient, Program


class Kind(models.TextChoices):
    INTERACTIVE_CALL = "interactive_call", "Phone call"
    VIDEO = "video", "Video visit"
    SECURE_MESSAGE = "secure_message", "Secure message"
    VOICEMAIL = "voicemail", "Voicemail / attempt"
    DATA_REVIEW = "data_review", "Data review"
    CARE_COORDINATION = "care_coordination", "Care coordination"
    CARE_PLAN_UPDATE = "care_plan_update", "Care plan update"
    MEDICATION_RECONCILIATION = "medication_reconciliation", "Medication reconciliation"
    REGISTRY_REVIEW = "registry_review", "Registry review"
    SCHEDULING = "scheduling", "Scheduling"


class Outcome(models.TextChoices):
    REACHED = "reached", "Reached patient or caregiver"
    LEFT_VOICEMAIL = "left_voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    NOT_APPLICABLE = "not_applicable", "Not a call"


class Source(models.TextChoices):
    TIMER = "timer", "Timer"
    MANUAL = "manual", "Manual entry"
    IMPORT = "import", "Import"
    API = "api", "API"


class NotCountable(models.TextChoices):
    """Why a stored entry does not count, as a code the month's facts builder can act on."""

    UNREACHED = "unreached", "Voicemail or attempt that did not reach the patient (P3)"
    NON_CLINICAL = "non_clinical", "Non-clinical staff (CCM-4)"
    NO_CONSENT = "no_consent", "No consent recorded (P12)"
    BEFORE_CONSENT = "before_consent", "Before the consent date (P12)"
    OUTSIDE_ENROLLMENT = "outside_enrollment", "Outside the enrollment's active span"


# RPM-6: real-time synchronous two-way audio (optionally with video) is interactive communication.
INTERACTIVE_KINDS = frozenset({Kind.INTERACTIVE_CALL, Kind.VIDEO})
# P3: attempts that did not reach the patient or caregiver are recorded, never counted.
UNREACHED_OUTCOMES = frozenset({Outcome.LEFT_VOICEMAIL, Outcome.NO_ANSWER, Outcome.WRONG_NUMBER})


class TimeEntry(models.Model):
    """One contact or stretch of care-management work by one staff member for one program.

    The staff member's credential and rule class are copied at the time of service, so a later
    change of role never rewrites what the entry supports. Changes are amendments (history keeps
    every version with who, when and why); a mistaken entry is voided, never deleted.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="time_entries")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="time_entries"
    )
    program = models.CharField(max_length=5, choices=Program.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    credential = models.CharField(max_length=20, choices=Credential.choices)
    rule_class = models.CharField(max_length=20, choices=RuleClass.choices)
    bh_care_manager = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    summary = models.TextField("clinical summary", blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    interactive = models.BooleanField()
    countable = models.BooleanField()
    not_countable_code = models.CharField(max_length=20, choices=NotCountable.choices, blank=True)
    not_countable_reason = models.CharField(max_length=200, blank=True)
    late = models.BooleanField(default=False)
    late_reason = models.CharField(max_length=500, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["practice", "created_by", "created_at"])

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["patient", "program", "started_at"], name="entry_patient_month"),
            models.Index(fields=["staff", "started_at"], name="entry_staff_time"),
            models.Index(fields=["practice", "started_at"], name="entry_practice_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gt=models.F("started_at")),
                name="entry_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Time entry {self.pk}"

    @property
    def minutes(self) -> int:
        """Return whole minutes of this entry alone (P8 floors the month's sum, not entries)."""
        return self.seconds // 60

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class Timer(models.Model):
    """A user's timer, kept on the server so a reload or a second tab does not lose it.

    A user has at most one running timer. Stopped timers stay, linked to the entry they became
    (or with the reason they were discarded).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.CharField(max_length=5, choices=Program.choices)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(
        TimeEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="timer"
    )
    discard_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(stopped_at__isnull=True),
                name="one_running_timer_per_user",
            )
        ]

    @property
    def running(self) -> bool:
        return self.stopped_at is None
