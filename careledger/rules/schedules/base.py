"""Shapes of a dated rule set: time families, day bands, unit caps and policy settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class TimeFamily:
    """A base code at ``base_minutes`` and an add-on for each further full ``addon_minutes``.

    ``short_code`` covers the band ``short_minutes`` .. ``base_minutes - 1`` (99470, 98979).
    No midpoint rounding (P4, CCM-5, RPM-8): every threshold needs its full minutes.
    """

    name: str
    base_code: str
    base_minutes: int
    addon_code: str | None = None
    addon_minutes: int = 0
    short_code: str | None = None
    short_minutes: int | None = None
    rule_id: str = ""


@dataclass(frozen=True, slots=True)
class MidpointFamily:
    """A CoCM month code that applies CPT's midpoint table (BHI-2, P4 exception)."""

    name: str
    base_code: str
    base_minutes: int
    midpoint_minutes: int
    addon_code: str
    addon_minutes: int
    addon_midpoint_minutes: int
    rule_id: str = "BHI-2"


@dataclass(frozen=True, slots=True)
class DayBand:
    """A device-supply code billed for ``min_days`` .. ``max_days`` reading days in 30 days."""

    code: str
    min_days: int
    max_days: int


@dataclass(frozen=True, slots=True)
class Policies:
    """Engine policies where CMS is silent (cms-rules-2026.md section 11), with defaults."""

    # P1: split entries that cross local midnight; off = the whole entry goes to its start day.
    split_entries_at_local_midnight: bool = True
    # P3: voicemail and unanswered attempts never count.
    exclude_voicemail: bool = True
    # P7/CAL-1: CCM date of service on the day its threshold was met (off = last day of month).
    ccm_dos_on_threshold_day: bool = False
    # P9: physician/QHP personal minutes that switch CCM/PCM to the physician family.
    physician_family_switch: bool = True
    # P10: APCM BH add-ons replace 99484 / CoCM codes for the same practitioner.
    apcm_bh_addons_replace: bool = True
    # P12: time on local dates before the consent date does not count.
    exclude_time_before_consent: bool = True
    # P12 extension: reading dates before the consent date do not count either.
    exclude_readings_before_consent: bool = True
    # P13: RTM treatment management needs one real-time interactive communication.
    rtm_requires_interactive: bool = True
    # P14: hold CCM+PCM (same practitioner) and BHI+CoCM for a person to choose.
    hold_ccm_pcm_same_practitioner: bool = True
    hold_bhi_cocm_same_month: bool = True
    # RTM-3: hold RPM+RTM in the same period for a person to choose.
    hold_rpm_rtm_same_period: bool = True
    # Device periods must be exactly 30 days (RPM-4); others are held.
    device_period_days: int = 30


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One dated set of CMS rules, thresholds and engine settings, with its sources."""

    id: str
    effective_on: date
    ended_on: date | None
    sources: tuple[str, ...]
    # Code -> first date it may be billed under this set (checked against the date of service).
    code_effective_on: Mapping[str, date]
    ccm_staff: TimeFamily
    ccm_physician: TimeFamily
    ccm_complex: TimeFamily
    pcm_physician: TimeFamily
    pcm_staff: TimeFamily
    rpm_treatment: TimeFamily
    rtm_treatment: TimeFamily
    bhi: TimeFamily
    cocm_initial: MidpointFamily
    cocm_subsequent: MidpointFamily
    cocm_short_code: str
    cocm_short_midpoint_minutes: int
    rpm_supply: tuple[DayBand, ...]
    rtm_supply: Mapping[str, tuple[DayBand, ...]]
    setup_min_days: int
    ccm_min_chronic_conditions: int
    apcm_codes: tuple[str, str, str]
    apcm_bh_addons: Mapping[str, str] | None
    # MUE-style unit caps per code (configuration, RPM-9, PCM-2); 99439 is capped by CCM-2.
    unit_caps: Mapping[str, int] = field(default_factory=dict)
    # P11/FQ-1: last day G0511 was optional for RHC/FQHC (None: not valid under this set).
    g0511_optional_through: date | None = None
    policies: Policies = field(default_factory=Policies)

    def code_in_effect(self, code: str, dos: date) -> bool:
        """Return True when the code may be billed on ``dos`` under this rule set."""
        first_on = self.code_effective_on.get(code)
        return first_on is not None and first_on <= dos
