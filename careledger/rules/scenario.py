"""Parse a patient-month scenario (scenarios README format) into ``MonthFacts``.

Takes an already-decoded dict; reading the file is the caller's job. Malformed input raises
``ScenarioError`` naming the field; a list-valued ``program`` is not malformed (P2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careledger.rules.facts import (
    DEVICE_PROGRAMS,
    KINDS,
    MDM_LEVELS,
    PROGRAMS,
    ROLES,
    RTM_CATEGORIES,
    SETTINGS,
    ApcmRequirements,
    BhiServiceElements,
    ComplexCcm,
    DevicePeriod,
    MonthFacts,
    OtherClaim,
    PatientFacts,
    TimeEntry,
)

REQUIRED_KEYS = (
    "service_month",
    "practice_timezone",
    "billing_practitioner",
    "setting",
    "patient",
    "programs",
    "consent",
    "time_entries",
)
CARE_PLAN_STATES = ("current_and_shared_with_patient", "none")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ScenarioError(ValueError):
    """A malformed scenario: ``field`` names the offending key path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_scenario(data: object) -> MonthFacts:
    """Return the facts of a scenario dict, or raise ScenarioError for malformed input."""
    if not isinstance(data, Mapping):
        raise ScenarioError("(top level)", "a scenario must be a JSON object")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise ScenarioError(key, "required key is missing")
    patient = _mapping(data["patient"], "patient")
    programs = _programs(data["programs"])
    care_plan = _optional_mapping(data.get("care_plan"), "care_plan")
    return MonthFacts(
        month_start_on=_month(data["service_month"]),
        practice_timezone=_zone(data["practice_timezone"]),
        billing_practitioner=_text(data["billing_practitioner"], "billing_practitioner"),
        setting=_choice(data["setting"], SETTINGS, "setting"),
        patient=PatientFacts(
            medicare_ffs=_opt_bool(patient, "medicare_ffs", "patient"),
            established_patient=_opt_bool(patient, "established_patient", "patient"),
            chronic_conditions=_opt_count(patient, "chronic_conditions", "patient"),
            single_high_risk_condition=_opt_bool(patient, "single_high_risk_condition", "patient"),
            qmb=_opt_bool(patient, "qmb", "patient"),
            seen_by_billing_practitioner_within_12_months=_opt_bool(
                patient, "seen_by_billing_practitioner_within_12_months", "patient"
            ),
        ),
        programs=programs,
        consent_on=_consent(data["consent"]),
        comprehensive_care_plan=_care_plan(care_plan, "comprehensive_care_plan"),
        disease_specific_care_plan=_care_plan(care_plan, "disease_specific_care_plan"),
        complex_ccm=_complex_ccm(data.get("complex_ccm")),
        apcm_requirements=_apcm_requirements(data.get("apcm_requirements")),
        bhi_service_elements=_bhi_elements(data.get("bhi_service_elements")),
        cocm_month_index=_cocm_month_index(data.get("cocm_month_index")),
        psychiatric_consultant=_opt_text(
            data.get("psychiatric_consultant"), "psychiatric_consultant"
        ),
        rpm_setup_already_billed=_flag_bool(data, "rpm_setup_already_billed"),
        rtm_setup_already_billed=_flag_bool(data, "rtm_setup_already_billed"),
        rtm_category=(
            None
            if data.get("rtm_category") is None
            else _choice(data["rtm_category"], RTM_CATEGORIES, "rtm_category")
        ),
        device_periods=_device_periods(data.get("device_periods") or []),
        other_practitioner_claims=_claims(data.get("other_practitioner_claims") or []),
        time_entries=_time_entries(data["time_entries"]),
    )


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(field, "must be an object")
    return value


def _optional_mapping(value: object, field: str) -> Mapping[str, Any]:
    return {} if value is None else _mapping(value, field)


def _list(value: object, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(field, "must be a list")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(field, "must be a non-empty string")
    return value


def _opt_text(value: object, field: str) -> str | None:
    return None if value is None else _text(value, field)


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ScenarioError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _month(value: object) -> date:
    match = _MONTH.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ScenarioError("service_month", f"{value!r} is not a YYYY-MM month")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _zone(value: object) -> str:
    name = _text(value, "practice_timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScenarioError("practice_timezone", f"{name!r} is not an IANA time zone") from error
    return name


def _date(value: object, field: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ScenarioError(field, f"{value!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ScenarioError(field, f"{value!r} is not a valid date") from error


def _opt_bool(data: Mapping[str, Any], key: str, parent: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ScenarioError(f"{parent}.{key}", "must be true, false or absent")
    return value


def _flag_bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ScenarioError(key, "must be true or false")
    return value


def _opt_count(data: Mapping[str, Any], key: str, parent: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{parent}.{key}", "must be a whole number, 0 or more")
    return int(value)


def _programs(value: object) -> tuple[str, ...]:
    items = _list(value, "programs")
    return tuple(
        dict.fromkeys(_choice(item, PROGRAMS, f"programs[{i}]") for i, item in enumerate(items))
    )


def _consent(value: object) -> dict[str, date]:
    consent = _mapping(value, "consent")
    out: dict[str, date] = {}
    for program, consent_on in consent.items():
        _choice(program, PROGRAMS, f"consent.{program}")
        if consent_on is not None:
            out[program] = _date(consent_on, f"consent.{program}")
    return out


def _care_plan(care_plan: Mapping[str, Any], key: str) -> bool:
    value = care_plan.get(key)
    if value is None:
        return False
    return _choice(value, CARE_PLAN_STATES, f"care_plan.{key}") == CARE_PLAN_STATES[0]


def _complex_ccm(value: object) -> ComplexCcm | None:
    if value is None:
        return None
    data = _mapping(value, "complex_ccm")
    mdm = data.get("mdm")
    return ComplexCcm(
        mdm=None if mdm is None else _choice(mdm, MDM_LEVELS, "complex_ccm.mdm"),
        care_plan_established_or_substantially_revised=bool(
            _opt_bool(data, "care_plan_established_or_substantially_revised", "complex_ccm")
        ),
    )


def _apcm_requirements(value: object) -> ApcmRequirements | None:
    if value is None:
        return None
    data = _mapping(value, "apcm_requirements")
    return ApcmRequirements(
        access_24_7=bool(_opt_bool(data, "24_7_access", "apcm_requirements")),
        continuity=bool(_opt_bool(data, "continuity", "apcm_requirements")),
        care_plan=bool(_opt_bool(data, "care_plan", "apcm_requirements")),
        responsible_for_primary_care=bool(
            _opt_bool(data, "responsible_for_primary_care", "apcm_requirements")
        ),
    )


def _bhi_elements(value: object) -> BhiServiceElements | None:
    if value is None:
        return None
    data = _mapping(value, "bhi_service_elements")
    parent = "bhi_service_elements"
    return BhiServiceElements(
        validated_rating_scale=bool(_opt_bool(data, "validated_rating_scale", parent)),
        bh_care_plan=bool(_opt_bool(data, "bh_care_plan", parent)),
        treatment_coordination=bool(_opt_bool(data, "treatment_coordination", parent)),
        continuity=bool(_opt_bool(data, "continuity", parent)),
    )


def _cocm_month_index(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError("cocm_month_index", "must be 1 (first month) or more")
    return value


def _device_periods(value: object) -> tuple[DevicePeriod, ...]:
    periods = []
    for index, item in enumerate(_list(value, "device_periods")):
        field = f"device_periods[{index}]"
        data = _mapping(item, field)
        for key in ("program", "period_start", "period_end"):
            if key not in data:
                raise ScenarioError(f"{field}.{key}", "required key is missing")
        start_on = _date(data["period_start"], f"{field}.period_start")
        end_on = _date(data["period_end"], f"{field}.period_end")
        if end_on < start_on:
            raise ScenarioError(f"{field}.period_end", "is before period_start")
        count = data.get("auto_reading_day_count")
        dates: set[date] | None = None
        if count is not None:
            length = (end_on - start_on).days + 1
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= length:
                raise ScenarioError(
                    f"{field}.auto_reading_day_count", f"must be a whole number from 0 to {length}"
                )
        if "auto_reading_dates" in data:
            dates = set(_dates(data["auto_reading_dates"], f"{field}.auto_reading_dates"))
        if "devices" in data:
            dates = dates or set()
            for d_index, device in enumerate(_list(data["devices"], f"{field}.devices")):
                device_field = f"{field}.devices[{d_index}]"
                device_data = _mapping(device, device_field)
                dates |= set(
                    _dates(
                        device_data.get("auto_reading_dates", []),
                        f"{device_field}.auto_reading_dates",
                    )
                )
        periods.append(
            DevicePeriod(
                program=_choice(data["program"], DEVICE_PROGRAMS, f"{field}.program"),
                period_start_on=start_on,
                period_end_on=end_on,
                reading_day_count=count if dates is None else None,
                reading_dates=None if dates is None else frozenset(dates),
                period_id=field,
            )
        )
    return tuple(periods)


def _dates(value: object, field: str) -> list[date]:
    return [_date(item, f"{field}[{i}]") for i, item in enumerate(_list(value, field))]


def _claims(value: object) -> tuple[OtherClaim, ...]:
    claims = []
    for index, item in enumerate(_list(value, "other_practitioner_claims")):
        field = f"other_practitioner_claims[{index}]"
        data = _mapping(item, field)
        for key in ("practitioner", "code", "period_start", "period_end"):
            if key not in data:
                raise ScenarioError(f"{field}.{key}", "required key is missing")
        claims.append(
            OtherClaim(
                practitioner=_text(data["practitioner"], f"{field}.practitioner"),
                code=_text(data["code"], f"{field}.code"),
                period_start_on=_date(data["period_start"], f"{field}.period_start"),
                period_end_on=_date(data["period_end"], f"{field}.period_end"),
            )
        )
    return tuple(claims)


def _time_entries(value: object) -> tuple[TimeEntry, ...]:
    entries = []
    for index, item in enumerate(_list(value, "time_entries")):
        field = f"time_entries[{index}]"
        data = _mapping(item, field)
        for key in ("start", "minutes", "kind", "role", "program"):
            if key not in data:
                raise ScenarioError(f"{field}.{key}", "required key is missing")
        minutes = data["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes != minutes:
            raise ScenarioError(f"{field}.minutes", f"{minutes!r} is not a number")
        if minutes < 0 or minutes > 24 * 60:
            raise ScenarioError(f"{field}.minutes", f"{minutes!r} must be from 0 to 1440")
        program = data["program"]
        if isinstance(program, list):
            # P2: not malformed; the engine leaves it out and raises TIME_ENTRY_MULTI_PROGRAM.
            tagged: str | tuple[str, ...] = tuple(
                _text(p, f"{field}.program[{i}]") for i, p in enumerate(program)
            )
        else:
            tagged = _choice(program, PROGRAMS, f"{field}.program")
        note = data.get("note")
        entries.append(
            TimeEntry(
                start_at=_instant(data["start"], f"{field}.start"),
                seconds=round(minutes * 60),
                kind=_choice(data["kind"], KINDS, f"{field}.kind"),
                role=_choice(data["role"], ROLES, f"{field}.role"),
                program=tagged,
                entry_id=field,
                note=note if isinstance(note, str) else "",
            )
        )
    return tuple(entries)


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise ScenarioError(field, "must be an ISO 8601 timestamp with a UTC offset")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise ScenarioError(field, f"{value!r} is not an ISO 8601 timestamp") from error
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ScenarioError(field, f"{value!r} has no UTC offset")
    return instant
