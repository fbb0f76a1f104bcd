"""Plan the demo's logged contacts: weekdays 08:00-17:00 local, never today, never overlapping.

Minutes per patient-month follow the patient's position (not chance), so every month holds
patients below, near and above each threshold: CCM 15-19 and 35-39, RPM 5-9 and 15-19, PCM
25-29, and others comfortably past them. The current month is filled in proportion to the
weekdays already gone. Two exceptions, planned in ``careledger.demo.facts_plan``: a complex
CCM patient's previous month holds 64 minutes, and collaborative-care (CoCM) minutes are logged
by the behavioral-health care manager (BHI-2), with her own slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from careledger.demo.facts_plan import COCM_MINUTES, COMPLEX_MINUTES, is_complex, previous_month
from careledger.demo.plan import DemoPlan, PatientSpec, first_demo_month

DAY_START = 8 * 60  # minutes after local midnight
DAY_END = 17 * 60
GAP = 5  # minutes between one person's contacts

# Countable minutes a patient-month aims for, by (patient position + month) in this cycle.
_TARGETS = (22, 17, 41, 8, 62, 36, 12, 19, 27, 45, 16, 5, 33, 24, 58)

_SUMMARIES = {
    "interactive_call": (
        "Called the patient to review this week's symptoms and home readings. "
        "Reinforced the medication schedule and agreed on the next check-in."
    ),
    "video": (
        "Video visit with the patient and caregiver about recent readings. "
        "Reviewed warning signs and when to call the care team."
    ),
    "data_review": (
        "Reviewed the month's readings and the trend since the last call. "
        "No value needed escalation to the practitioner."
    ),
    "care_coordination": (
        "Coordinated a follow-up with the cardiology office and the pharmacy. "
        "Updated the care team on the new appointment."
    ),
    "medication_reconciliation": (
        "Reconciled the medication list against the pharmacy fill history. "
        "Flagged one duplicate prescription for the practitioner."
    ),
    "voicemail": "Left a voicemail asking the patient to call back.",
}
_FOLLOW_UPS = ("data_review", "care_coordination", "medication_reconciliation")
# The staff member who logs a contact: the practice's coordinator, or for CoCM Riverside's
# behavioral-health care manager (careledger.demo.data.STAFF).
COORDINATOR = "coordinator"
BH_CARE_MANAGER = "bh_care_manager"
_COCM_SUMMARIES = {
    "interactive_call": (
        "Behavioral-health follow-up call: reviewed mood, sleep and the PHQ-9 with the "
        "patient. Practiced the agreed coping plan and set the next check-in."
    ),
    "care_coordination": (
        "Reviewed the caseload with the psychiatric consultant. Relayed the recommendation "
        "to the practitioner and updated the registry."
    ),
}


@dataclass(frozen=True)
class EntrySpec:
    """One planned contact for one patient and program, by the practice's coordinator."""

    mrn: str
    practice: str
    program: str
    started_at: datetime
    minutes: int
    kind: str
    outcome: str
    summary: str
    staff: str = COORDINATOR


def _months(today: date) -> list[date]:
    first = first_demo_month(today)
    out = [first]
    while True:
        nxt = (out[-1].replace(day=28) + timedelta(days=4)).replace(day=1)
        if nxt > today:
            return out
        out.append(nxt)


def _weekdays(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


class _Slots:
    """Hand out non-overlapping local time slots for one person, day by day."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self.cursor: dict[date, int] = {}

    def take(self, candidates: list[date], minutes: int, offset: int) -> datetime | None:
        if not candidates:
            return None
        for step in range(len(candidates)):
            day = candidates[(offset + step) % len(candidates)]
            start = self.cursor.get(day, DAY_START)
            if start + minutes <= DAY_END:
                self.cursor[day] = start + minutes + GAP
                local = datetime.combine(day, time(start // 60, start % 60), tzinfo=self.zone)
                return local
        return None


def plan_entries(plan: DemoPlan, timezones: dict[str, str]) -> list[EntrySpec]:
    """Plan every demo contact for consented enrollments over the three demo months."""
    today = plan.today
    slots = {
        (practice, staff): _Slots(tz)
        for practice, tz in timezones.items()
        for staff in (COORDINATOR, BH_CARE_MANAGER)
    }
    entries: list[EntrySpec] = []
    indexes: dict[str, int] = {}
    for position, spec in enumerate(plan.patients):
        index = indexes.get(spec.practice, 0)  # the position among the practice's patients
        indexes[spec.practice] = index + 1
        for month_index, month_start in enumerate(_months(today)):
            entries.extend(
                _patient_month(spec, position, index, month_index, month_start, today, slots)
            )
    return entries


def _patient_month(
    spec: PatientSpec,
    position: int,
    index: int,
    month_index: int,
    month_start: date,
    today: date,
    slots: dict[tuple[str, str], _Slots],
) -> list[EntrySpec]:
    month_end = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    out: list[EntrySpec] = []
    for number, enrollment in enumerate(spec.enrollments):
        if enrollment.consent_on is None or enrollment.program == "APCM":
            continue  # no consent: nothing to log; APCM has no time threshold (APCM-1)
        first_day = max(month_start, enrollment.started_on, enrollment.consent_on)
        last_day = min(month_end, today - timedelta(days=1))
        days = _weekdays(first_day, last_day)
        if not days:
            continue
        target = _TARGETS[(position + 3 * month_index + 7 * number) % len(_TARGETS)]
        if enrollment.program == "PCM":
            target += 10  # PCM's first threshold is 30 minutes
        cocm = enrollment.program == "CoCM"
        staff = BH_CARE_MANAGER if cocm else COORDINATOR
        if cocm:
            target = COCM_MINUTES[min(month_index, len(COCM_MINUTES) - 1)]
        elif (
            enrollment.program == "CCM"
            and is_complex(spec.practice, index)
            and month_start == previous_month(today)
        ):
            target = COMPLEX_MINUTES  # CCM-2: a complex month (facts_plan)
        if last_day < month_end:
            # The current month: only the share of its weekdays already gone.
            share = len(days) / max(len(_weekdays(first_day, month_end)), 1)
            target = int(target * share)
        chunks = _chunks(target)
        if not chunks:
            continue
        for number_in_month, minutes in enumerate(chunks):
            if cocm:
                kind = "interactive_call" if number_in_month == 0 else "care_coordination"
                summary = _COCM_SUMMARIES[kind]
            else:
                kind = (
                    "interactive_call"
                    if number_in_month == 0
                    else _FOLLOW_UPS[(position + number_in_month) % 3]
                )
                if enrollment.program == "RPM" and number_in_month == 1:
                    kind = "data_review"
                summary = _SUMMARIES[kind]
            outcome = "reached" if kind == "interactive_call" else "not_applicable"
            start = slots[(spec.practice, staff)].take(
                days, minutes, position + 5 * number_in_month
            )
            if start is None:
                continue
            out.append(
                EntrySpec(
                    spec.mrn,
                    spec.practice,
                    enrollment.program,
                    start,
                    minutes,
                    kind,
                    outcome,
                    summary,
                    staff,
                )
            )
        if position % 6 == 4 and not cocm:
            # An unanswered attempt: recorded, never counted (P3).
            start = slots[(spec.practice, COORDINATOR)].take(days, 2, position + 11)
            if start is not None:
                out.append(
                    EntrySpec(
                        spec.mrn,
                        spec.practice,
                        enrollment.program,
                        start,
                        2,
                        "voicemail",
                        "left_voicemail",
                        _SUMMARIES["voicemail"],
                    )
                )
    return out


def _chunks(total: int) -> list[int]:
    """Split minutes into contacts of 4 to 15 minutes, the first the longest."""
    chunks: list[int] = []
    left = total
    while left > 0:
        size = min(left, 15 if not chunks else 12)
        if 0 < left - size < 4:
            size = left
        chunks.append(size)
        left -= size
    return chunks
