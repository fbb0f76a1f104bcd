"""Plan the demo's program facts (issue 9) as plain values: by position, never by chance.

Nothing here touches the database or the clock. Which patient gets which fact follows its
position among Riverside's patients (the index ``plan.py`` gives it), so for any
``patients >= 30`` the previous month bills each of these:

- 99453: every monitored patient's set-up and education is recorded on the day the device is
  handed over, which opens the episode; its first device period with two reading days bills
  the set-up code (RPM-16). Most first periods end in the previous month; a newcomer's ends in
  the current one.
- 99487: Riverside's CCM patients at position 18 of a cycle of forty (CCM with RPM, a current
  plan) get 64 clinical-staff minutes in the previous month, a comprehensive care-plan version
  published that month and the practitioner's moderate or high MDM (CCM-2).
- 99492/99493: Riverside's PCM patients at position 6 of a cycle of twenty are in collaborative
  care too, with the psychiatric consultant named; the behavioral-health care manager logs
  their minutes (BHI-2). Positions 6, 46, 86 … have been in an episode since before the
  earliest demo month (99493); positions 26, 66, 106 … start one in the previous month (99492).
- G0556/G0557/G0558: the practice attests the APCM capabilities before the earliest demo month
  (APCM-2); a QMB patient with two or more chronic conditions bills G0558.

PHQ-9 and GAD-7 scores go to the collaborative-care patients and to Riverside's BHI patients at
position 5 of a cycle of twenty, whose previous month also records the four BHI elements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from careledger.demo.data import (
    PSYCHIATRIC_CONSULTANT,
    PSYCHIATRIC_CONSULTANT_NPI,
    RIVERSIDE,
)

if TYPE_CHECKING:
    from careledger.demo.device_plan import DeviceSpec
    from careledger.demo.plan import DemoPlan, PatientSpec

COCM_CYCLE = 20
COCM_AT = 6  # a PCM position of _RIVERSIDE_CYCLE
COMPLEX_CYCLE = 40
COMPLEX_AT = 18  # CCM with RPM, a current plan (careplan_plan.RIVERSIDE_CCM_STATES)
SCALES_CYCLE = 20
SCALES_AT = 5  # CCM with BHI
# Clinical-staff minutes of a complex month: past 99487's 60 (CCM-2), short of 99489's 90.
COMPLEX_MINUTES = 64
# The behavioral-health care manager's minutes by demo month (earliest, previous, current):
# past the 36-minute midpoint of 99492 and the 31 of 99493, short of 99494's (BHI-2).
COCM_MINUTES = (42, 48, 45)
REVISION_REASON = (
    "Substantially revised with the patient after a change in condition: new goals and medicines."
)
SETUP_NOTE = "Device set up with the patient; shown how to take and send a reading."
APCM_ATTESTED_BEFORE = timedelta(days=90)  # before the earliest demo month


def previous_month(today: date) -> date:
    """Return the first day of the month before ``today``'s."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def is_cocm(practice: str, index: int) -> bool:
    return practice == RIVERSIDE and index % COCM_CYCLE == COCM_AT


def is_complex(practice: str, index: int) -> bool:
    return practice == RIVERSIDE and index % COMPLEX_CYCLE == COMPLEX_AT


def has_scales(practice: str, index: int) -> bool:
    return practice == RIVERSIDE and index % SCALES_CYCLE == SCALES_AT


def cocm_started_on(practice: str, index: int, today: date, first_month: date) -> date | None:
    """Return the day the collaborative-care episode (and enrollment) starts, if any."""
    if not is_cocm(practice, index):
        return None
    if (index // COCM_CYCLE) % 2 == 1:
        # A newcomer: month 1 of the episode is the previous month (99492).
        started = weekday_on_or_after(previous_month(today) + timedelta(days=2 + index % 5))
        return min(started, today)
    return first_month - timedelta(days=30 + index % 15)


def revision_on(today: date) -> date:
    """Return the day a complex patient's care plan is substantially revised: last month."""
    return weekday_on_or_after(previous_month(today) + timedelta(days=9))


@dataclass(frozen=True)
class SetupSpec:
    practice: str
    mrn: str
    serial: str
    performed_on: date


@dataclass(frozen=True)
class MdmSpec:
    practice: str
    mrn: str
    month_start_on: date
    mdm: str
    recorded_on: date


@dataclass(frozen=True)
class EpisodeSpec:
    practice: str
    mrn: str
    started_on: date


@dataclass(frozen=True)
class ScaleSpec:
    practice: str
    mrn: str
    instrument: str
    administered_on: date
    score: int


@dataclass(frozen=True)
class ElementsSpec:
    practice: str
    mrn: str
    month_start_on: date
    recorded_on: date


@dataclass(frozen=True)
class AttestationSpec:
    practice: str
    effective_on: date


@dataclass(frozen=True)
class FactsPlan:
    setups: tuple[SetupSpec, ...]
    mdm: tuple[MdmSpec, ...]
    episodes: tuple[EpisodeSpec, ...]
    scales: tuple[ScaleSpec, ...]
    elements: tuple[ElementsSpec, ...]
    attestations: tuple[AttestationSpec, ...]
    consultant: str = PSYCHIATRIC_CONSULTANT
    consultant_npi: str = PSYCHIATRIC_CONSULTANT_NPI


def _indexed(plan: DemoPlan) -> Iterable[tuple[int, PatientSpec]]:
    """Yield each patient with its position among its practice's patients."""
    seen: dict[str, int] = {}
    for spec in plan.patients:
        index = seen.get(spec.practice, 0)
        seen[spec.practice] = index + 1
        yield index, spec


def _monthly_days(start: date, today: date) -> list[date]:
    """Return a weekday near each month's 6th, from ``start`` on, before ``today``."""
    days = []
    month = start.replace(day=1)
    while month <= today:
        day = weekday_on_or_after(max(month + timedelta(days=5), start))
        if day < today and day.month == month.month:
            days.append(day)
        month = next_month(month)
    return days


def plan_facts(plan: DemoPlan, devices: Iterable[DeviceSpec], first_month: date) -> FactsPlan:
    """Plan the set-up events, MDM records, CoCM episodes, scales, elements and attestations."""
    today = plan.today
    last_month = previous_month(today)
    setups = tuple(SetupSpec(d.practice, d.mrn, d.serial, d.assigned_on) for d in devices)
    mdm: list[MdmSpec] = []
    episodes: list[EpisodeSpec] = []
    scales: list[ScaleSpec] = []
    elements: list[ElementsSpec] = []
    for index, spec in _indexed(plan):
        if is_complex(spec.practice, index):
            level = "high" if (index // COMPLEX_CYCLE) % 2 else "moderate"
            mdm.append(MdmSpec(spec.practice, spec.mrn, last_month, level, revision_on(today)))
        started = cocm_started_on(spec.practice, index, today, first_month)
        if started is not None:
            episodes.append(EpisodeSpec(spec.practice, spec.mrn, started))
            # Measurement-based care: a PHQ-9 each month, the score falling as treatment works.
            for number, day in enumerate(_monthly_days(max(started, first_month), today)):
                score = max(4, 16 + index % 5 - 3 * number)
                scales.append(ScaleSpec(spec.practice, spec.mrn, "PHQ-9", day, score))
        if has_scales(spec.practice, index):
            bhi = next((e for e in spec.enrollments if e.program == "BHI" and e.consent_on), None)
            if bhi is None or bhi.consent_on is None:
                continue
            start = max(bhi.started_on, bhi.consent_on, first_month)
            for number, day in enumerate(_monthly_days(start, today)):
                score = max(3, 12 + index % 4 - 2 * number)
                scales.append(ScaleSpec(spec.practice, spec.mrn, "PHQ-9", day, score))
                if day.replace(day=1) == last_month:
                    gad = 6 + index % 7
                    scales.append(ScaleSpec(spec.practice, spec.mrn, "GAD-7", day, gad))
            if start <= last_month + timedelta(days=27):
                elements.append(
                    ElementsSpec(
                        spec.practice, spec.mrn, last_month, next_month(last_month) - timedelta(1)
                    )
                )
    attestations = (AttestationSpec(RIVERSIDE, first_month - APCM_ATTESTED_BEFORE),)
    return FactsPlan(
        setups=setups,
        mdm=tuple(mdm),
        episodes=tuple(episodes),
        scales=tuple(scales),
        elements=tuple(elements),
        attestations=attestations,
    )
