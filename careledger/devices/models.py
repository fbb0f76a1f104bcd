"""Devices, their vendors, the readings they send, and the alerts readings raise.

Readings are evidence (OIG OEI-02-23-00260 asks for transmission dates per 30-day period): they
are never edited or deleted. A wrong reading is excluded, with who, when and why; database
triggers (migration 0002) refuse DELETE and any change to a reading's measurement.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from careledger.accounts.models import Practice
from careledger.patients.models import Patient, Program


class DeviceType(models.TextChoices):
    BLOOD_PRESSURE = "blood_pressure", "Blood pressure cuff"
    GLUCOSE = "glucose", "Glucometer"
    WEIGHT = "weight", "Weight scale"
    SPO2 = "spo2", "Pulse oximeter"
    SPIROMETER = "spirometer", "Spirometer"
    OTHER = "other", "Other"


class ReadingType(models.TextChoices):
    BLOOD_PRESSURE = "blood_pressure", "Blood pressure"
    GLUCOSE = "glucose", "Glucose"
    WEIGHT = "weight", "Weight"
    SPO2 = "spo2", "SpO2"
    SPIROMETRY = "spirometry", "Spirometry"


class Source(models.TextChoices):
    # RPM-13: only automatically transmitted readings count toward device days.
    AUTOMATIC = "automatic", "Transmitted automatically"
    MANUAL = "manual", "Entered manually"


class Via(models.TextChoices):
    API = "api", "API"
    WEBHOOK = "webhook", "Vendor webhook"
    IMPORT = "import", "File import"


class Vendor(models.Model):
    """A device vendor's integration with one practice: its slug names the webhook URL.

    The webhook secret is kept as it is: verifying an HMAC needs the key itself.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    webhook_secret = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Device(models.Model):
    """A device assigned to one patient for one program; a serial has one patient at a time."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="devices")
    program = models.CharField(max_length=5, choices=Program.choices)
    type = models.CharField(max_length=20, choices=DeviceType.choices)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="devices")
    serial = models.CharField("serial or IMEI", max_length=64)
    model_name = models.CharField("device model", max_length=100, blank=True)
    # RPM-13: the device must meet the FDA definition of a medical device.
    fda_cleared = models.BooleanField("FDA cleared", default=False)
    assigned_on = models.DateField()
    returned_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-assigned_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "serial"],
                condition=Q(returned_on__isnull=True),
                name="serial_with_one_patient_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(program__in=["RPM", "RTM"]), name="device_program_is_rpm_or_rtm"
            ),
        ]
        indexes = [models.Index(fields=["practice", "serial"], name="device_practice_serial")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.serial}"

    @property
    def active(self) -> bool:
        return self.returned_on is None


class ReadingBatch(models.Model):
    """One delivery of readings (an API request, a webhook call, an import file): provenance."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices)
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField()
    sent = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    source_name = models.CharField(max_length=200, blank=True)


class Reading(models.Model):
    """One measurement, in canonical UCUM units, with the value and unit as sent."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="readings")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="readings")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ReadingBatch, on_delete=models.PROTECT, related_name="readings")
    program = models.CharField(max_length=5, choices=Program.choices)
    vendor_reading_id = models.CharField(max_length=128)
    type = models.CharField(max_length=20, choices=ReadingType.choices)
    measured_at = models.DateTimeField()
    # The practice-local date of measured_at (P5 counts local calendar days).
    measured_on = models.DateField()
    received_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    systolic = models.FloatField(null=True, blank=True)
    diastolic = models.FloatField(null=True, blank=True)
    pulse = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    pef = models.FloatField("peak expiratory flow (L/min)", null=True, blank=True)
    fasting = models.BooleanField(null=True, blank=True)
    original_value = models.FloatField(null=True, blank=True)
    original_unit = models.CharField(max_length=16, blank=True)
    # Case 26: measured in a month the practice had already locked when the reading arrived.
    # Decided once, at receipt, from the practice-local measured month; it is stored (and
    # counts in an open month's live view) but approved billing changes only by amendment.
    late = models.BooleanField(default=False)
    late_reason = models.CharField(max_length=200, blank=True)
    excluded_at = models.DateTimeField(null=True, blank=True)
    excluded_reason = models.CharField(max_length=500, blank=True)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [
            # A repeated delivery of the same vendor reading is stored once.
            models.UniqueConstraint(
                fields=["vendor", "vendor_reading_id"], name="one_reading_per_vendor_id"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "program", "measured_on"], name="reading_days"),
            models.Index(fields=["patient", "type", "measured_at"], name="reading_series"),
            # Reading days (RPM-4, P5) of a whole practice, read by the month close from this
            # index alone: only the rows that count, with every column the read needs.
            models.Index(
                fields=["patient", "program", "measured_on"],
                name="automatic_reading_days",
                condition=models.Q(source="automatic", excluded_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} reading {self.pk}"

    @property
    def excluded(self) -> bool:
        return self.excluded_at is not None

    @property
    def display_value(self) -> str:
        if self.type == ReadingType.BLOOD_PRESSURE:
            return f"{self.systolic:g}/{self.diastolic:g} mm[Hg]"
        if self.type == ReadingType.SPIROMETRY:
            return f"FEV1 {self.value:g} L" + (f", PEF {self.pef:g} L/min" if self.pef else "")
        return f"{self.value:g} {self.unit}"


class WebhookDelivery(models.Model):
    """A signature a vendor has used: a second use is a replay (case 24)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+")
    signature = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    batch = models.ForeignKey(
        ReadingBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "signature"], name="one_use_per_signature")
        ]


class Alert(models.Model):
    """Work for a coordinator: one per patient and condition per episode, never one per reading."""

    class Kind(models.TextChoices):
        BLOOD_PRESSURE_HIGH = "bp_high", "Blood pressure high"
        BLOOD_PRESSURE_LOW = "bp_low", "Blood pressure low"
        PULSE_HIGH = "pulse_high", "Pulse high"
        PULSE_LOW = "pulse_low", "Pulse low"
        GLUCOSE_HIGH = "glucose_high", "Glucose high"
        GLUCOSE_LOW = "glucose_low", "Glucose low"
        SPO2_LOW = "spo2_low", "SpO2 low"
        WEIGHT_GAIN_DAY = "weight_gain_24h", "Weight gain over 24 hours"
        WEIGHT_GAIN_WEEK = "weight_gain_7d", "Weight gain over 7 days"
        NO_READINGS = "no_readings", "No readings"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        WARNING = "warning", "Warning"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="device_alerts")
    program = models.CharField(max_length=5, choices=Program.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    message = models.CharField(max_length=300)
    threshold_source = models.CharField(max_length=100, blank=True)
    reading = models.ForeignKey(
        Reading, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reading_count = models.PositiveIntegerField(default=0)
    measured_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    time_entry = models.ForeignKey(
        "timelog.TimeEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One alert per condition per episode: the episode lasts until the alert is resolved.
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_open_alert_per_condition",
            ),
        ]
        indexes = [models.Index(fields=["practice", "status"], name="alert_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.severity})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED
