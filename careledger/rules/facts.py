"""Frozen facts of one patient-month: the only input the rules engine reads.

The shell (selectors, or ``scenario.parse_scenario`` for a JSON file) builds these values; the
engine never reads a database, a file or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

PROGRAMS: tuple[str, ...] = ("CCM", "PCM", "RPM", "RTM", "BHI", "CoCM", "APCM")
SETTINGS: tuple[str, ...] = ("physician_office", "fqhc", "rhc")
KINDS: tuple[str, ...] = (
    "interactive_call",
    "video",
    "secure_message",
    "voicemail",
    "data_review",
    "care_coordination",
    "care_plan_update",
    "medication_reconciliation",
    "registry_review",
    "scheduling",
)
# RPM-6: only real-time two-way audio (optionally with video) is interactive communication.
INTERACTIVE_KINDS: frozenset[str] = frozenset({"interactive_call", "video"})
ROLES: tuple[str, ...] = ("clinical_staff", "physician_qhp", "bh_care_manager", "non_clinical")
RTM_CATEGORIES: tuple[str, ...] = ("respiratory", "musculoskeletal", "cbt")
MDM_LEVELS: tuple[str, ...] = ("low", "moderate", "high")
DEVICE_PROGRAMS: tuple[str, ...] = ("RPM", "RTM")


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Describe the patient; ``None`` means the fact was not recorded (FACT_UNKNOWN)."""

    medicare_ffs: bool | None = None
    established_patient: bool | None = None
    chronic_conditions: int | None = None
    single_high_risk_condition: bool | None = None
    qmb: bool | None = None
    seen_by_billing_practitioner_within_12_months: bool | None = None


@dataclass(frozen=True, slots=True)
class ComplexCcm:
    """Record what makes a CCM month complex (CCM-2: 99487/99489)."""

    mdm: str | None = None
    care_plan_established_or_substantially_revised: bool = False

    @property
    def qualifies(self) -> bool:
        """Return True when MDM is moderate or high and the care plan was (re)established."""
        return (
            self.mdm in ("moderate", "high") and self.care_plan_established_or_substantially_revised
        )


@dataclass(frozen=True, slots=True)
class ApcmRequirements:
    """Record the APCM practice capabilities (APCM-2)."""

    access_24_7: bool = False
    continuity: bool = False
    care_plan: bool = False
    responsible_for_primary_care: bool = False

    @property
    def missing(self) -> tuple[str, ...]:
        """Return the names of the requirements that are not met."""
        names = ("24_7_access", "continuity", "care_plan", "responsible_for_primary_care")
        values = (
            self.access_24_7,
            self.continuity,
            self.care_plan,
            self.responsible_for_primary_care,
        )
        return tuple(name for name, value in zip(names, values, strict=True) if not value)


@dataclass(frozen=True, slots=True)
class BhiServiceElements:
    """Record the general-BHI service elements that unlock G0570 (P10)."""

    validated_rating_scale: bool = False
    bh_care_plan: bool = False
    treatment_coordination: bool = False
    continuity: bool = False

    @property
    def all_recorded(self) -> bool:
        """Return True when all four elements are recorded."""
        return (
            self.validated_rating_scale
            and self.bh_care_plan
            and self.treatment_coordination
            and self.continuity
        )


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """One logged stretch of work, tagged to one program when logged (P2).

    ``program`` is a tuple only when the log tagged several programs; the engine then leaves the
    entry out and raises TIME_ENTRY_MULTI_PROGRAM.
    """

    start_at: datetime
    seconds: int
    kind: str
    role: str
    program: str | tuple[str, ...]
    entry_id: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class DevicePeriod:
    """A 30-day device period (RPM-4) with its automatic reading days (P5).

    Give either ``reading_day_count`` or ``reading_dates`` (local dates, union of all devices);
    with neither, the reading days are unknown.
    """

    program: str
    period_start_on: date
    period_end_on: date
    reading_day_count: int | None = None
    reading_dates: frozenset[date] | None = None
    period_id: str = ""

    @property
    def length_days(self) -> int:
        """Return the number of days in the period, both ends included."""
        return (self.period_end_on - self.period_start_on).days + 1

    def overlaps(self, start_on: date, end_on: date) -> bool:
        """Return True when the period shares a day with [start_on, end_on]."""
        return self.period_start_on <= end_on and start_on <= self.period_end_on


@dataclass(frozen=True, slots=True)
class OtherClaim:
    """A claim another practitioner already made for this patient."""

    practitioner: str
    code: str
    period_start_on: date
    period_end_on: date


@dataclass(frozen=True, slots=True)
class MonthFacts:
    """Everything the engine needs about one patient, one billing practitioner, one month."""

    month_start_on: date
    practice_timezone: str
    billing_practitioner: str
    setting: str
    patient: PatientFacts
    programs: tuple[str, ...]
    consent_on: Mapping[str, date] = field(default_factory=dict)
    comprehensive_care_plan: bool = False
    disease_specific_care_plan: bool = False
    complex_ccm: ComplexCcm | None = None
    apcm_requirements: ApcmRequirements | None = None
    bhi_service_elements: BhiServiceElements | None = None
    cocm_month_index: int | None = None
    psychiatric_consultant: str | None = None
    rpm_setup_already_billed: bool = False
    rtm_setup_already_billed: bool = False
    rtm_category: str | None = None
    device_periods: tuple[DevicePeriod, ...] = ()
    other_practitioner_claims: tuple[OtherClaim, ...] = ()
    time_entries: tuple[TimeEntry, ...] = ()

    @property
    def service_month(self) -> str:
        """Return the month as ``YYYY-MM``."""
        return f"{self.month_start_on.year:04d}-{self.month_start_on.month:02d}"
