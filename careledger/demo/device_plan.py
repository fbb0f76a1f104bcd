"""Plan the demo's devices and automatic readings as plain values.

Nothing here touches the database; the clock comes in as ``now``. Each consented RPM patient
gets one cellular device on the day monitoring starts: mostly blood-pressure cuffs, some
glucometers and weight scales, by position. Readings follow 30-day device periods (RPM-4): the
first starts on a day of the earliest demo month chosen so that it ends in the previous month,
where it bills 99454 or 99445 (RPM-1, P7); the next one is running today. How many days of a
period hold a reading is decided by the patient's position, never by chance: most periods reach
16 days, some stay at 2-15, some have a single day, and some current periods can still reach 16.
Values vary with ``random.Random`` seeded from the demo seed; a few planned values are out of
range and raise alerts, one of them critical.

The vendor forwards readings every few minutes: a reading measured in a five-minute slot is
received one minute after the slot ends, so it arrives two to six minutes after it was taken.
Readings that would arrive after ``now`` are not planned.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from careledger.demo.data import RIVERSIDE
from careledger.demo.plan import DemoPlan, first_demo_month

PERIOD_DAYS = 30  # RPM-4: device codes run on 30-day periods
SLOT_MINUTES = 5
RECEIVED_AFTER_SLOT = timedelta(minutes=1)
MORNING = time(6, 30)
EVENING = time(19, 0)
MORNING_SLOTS = 12  # 06:30 to 07:25
EVENING_SLOTS = 6  # 19:00 to 19:25

# By position among the practice's monitored patients (position 0 anchors the RPM panel).
_DEVICE_TYPES = (
    "blood_pressure",
    "blood_pressure",
    "glucose",
    "blood_pressure",
    "weight",
    "blood_pressure",
    "blood_pressure",
    "glucose",
    "blood_pressure",
    "weight",
)
MODELS = {
    "blood_pressure": ("BPC", "Cellular BP Monitor BP-800"),
    "glucose": ("GLU", "Cellular Glucometer GM-200"),
    "weight": ("WSC", "Cellular Weight Scale WS-400"),
}
FULL, FEW, ONE, REACHABLE = "full", "few", "one", "reachable"
# Reading-day pattern of a finished period and of the running one, by position.
_FINISHED = (FULL, FULL, FEW, FULL, ONE, FULL, FEW, FULL)
_RUNNING = (FULL, REACHABLE, FULL, FEW, FULL, REACHABLE, ONE, FULL)
_FULL_DAYS = (24, 18, 27, 21, 17, 29)  # of 30: at least 16, 99454 (RPM-1)
_FEW_DAYS = (9, 4, 12, 6, 15, 2)  # 2-15, 99445 (RPM-1)
# Out-of-range values, on the patient's last reading before today (by position, Riverside).
CRITICAL_AT = 1  # systolic 188 mm[Hg]: at or over 180 is critical everywhere
WARNING_EVERY = 8  # positions 3, 11, 19 …: a high blood pressure or glucose, a warning
WARNING_AT = 3


@dataclass(frozen=True)
class DeviceSpec:
    practice: str
    mrn: str
    position: int  # among the practice's monitored patients
    type: str
    serial: str
    model_name: str
    assigned_on: date


@dataclass(frozen=True)
class ReadingSpec:
    """One reading as the vendor sends it: the API's reading object."""

    serial: str
    vendor_reading_id: str
    measured_at: datetime
    type: str
    values: dict[str, Any] = field(default_factory=dict)

    def item(self) -> dict[str, Any]:
        return {
            "device_serial": self.serial,
            "vendor_reading_id": self.vendor_reading_id,
            "measured_at": self.measured_at.isoformat(),
            "type": self.type,
            "source": "automatic",
            **self.values,
        }


@dataclass(frozen=True)
class Delivery:
    """One vendor delivery: the readings of one practice received at one moment."""

    practice: str
    received_at: datetime
    readings: tuple[ReadingSpec, ...]


def vendor_slug(practice: str) -> str:
    return f"demo-cellular-{practice}"


def plan_devices(plan: DemoPlan) -> tuple[DeviceSpec, ...]:
    """Give each consented RPM patient one device, handed over when monitoring starts."""
    out: list[DeviceSpec] = []
    positions: dict[str, int] = {}
    for spec in plan.patients:
        enrollment = next(
            (e for e in spec.enrollments if e.program == "RPM" and e.consent_on is not None), None
        )
        if enrollment is None or enrollment.consent_on is None:
            continue
        position = positions.get(spec.practice, 0)
        positions[spec.practice] = position + 1
        kind = _DEVICE_TYPES[position % len(_DEVICE_TYPES)]
        prefix, model = MODELS[kind]
        out.append(
            DeviceSpec(
                practice=spec.practice,
                mrn=spec.mrn,
                position=position,
                type=kind,
                serial=f"{prefix}-{spec.mrn}",
                model_name=model,
                assigned_on=max(enrollment.started_on, enrollment.consent_on),
            )
        )
    return tuple(out)


def plan_deliveries(
    plan: DemoPlan, devices: tuple[DeviceSpec, ...], timezones: dict[str, str], now: datetime
) -> list[Delivery]:
    """Plan every reading of the demo months, grouped into the vendor's deliveries in order."""
    rng = random.Random(f"careledger-demo-readings-{plan.seed}")
    by_moment: dict[tuple[str, datetime], list[ReadingSpec]] = {}
    for device in devices:
        zone = ZoneInfo(timezones[device.practice])
        for reading in _readings(device, plan.today, zone, rng):
            received_at = _received_at(reading.measured_at, zone)
            if received_at <= now:
                by_moment.setdefault((device.practice, received_at), []).append(reading)
    return [
        Delivery(practice, received_at, tuple(readings))
        for (practice, received_at), readings in sorted(
            by_moment.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    ]


def first_reading_on(device: DeviceSpec, today: date) -> date:
    """Return the day the first device period starts: in time for it to end last month."""
    this_month = today.replace(day=1)
    last_month_end = this_month - timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    earliest = max(first_demo_month(today), last_month - timedelta(days=PERIOD_DAYS - 1))
    latest = last_month_end - timedelta(days=PERIOD_DAYS - 1)
    if device.assigned_on > earliest:
        # A newcomer: monitoring starts a day or two after the cuff is handed over.
        return min(device.assigned_on + timedelta(days=device.position % 3), today)
    span = (latest - earliest).days + 1
    return earliest + timedelta(days=(device.position * 5) % span)


def reading_days(device: DeviceSpec, today: date) -> list[date]:
    """Return the planned local days with a reading, period by period, up to today."""
    start = first_reading_on(device, today)
    days: list[date] = []
    number = 0
    while start <= today:
        end = start + timedelta(days=PERIOD_DAYS - 1)
        position = device.position
        if end < today:
            pattern = _FINISHED[(position + 3 * number) % len(_FINISHED)]
            last = end
        else:
            pattern = _RUNNING[position % len(_RUNNING)]
            # "Still reachable" keeps today open; the others may read this morning too.
            last = today - timedelta(days=1) if pattern == REACHABLE else today
        available = (last - start).days + 1
        count = _day_count(pattern, available, position + number, PERIOD_DAYS - available)
        # Spread evenly from the period's first day, which always holds a reading.
        offsets = sorted({(i * available) // count for i in range(count)})
        days += [start + timedelta(days=o) for o in offsets]
        start = end + timedelta(days=1)
        number += 1
    return days


def _day_count(pattern: str, available: int, position: int, days_left: int) -> int:
    if available <= 0:
        return 0
    if pattern == ONE:
        wanted = 1
    elif pattern == FEW:
        wanted = _FEW_DAYS[position % len(_FEW_DAYS)]
    elif pattern == REACHABLE:
        # Below 16 so far, with more than enough days left to get there.
        lowest = max(1, 16 - days_left + 1)
        wanted = max(lowest, min(15, available // 2))
    else:
        wanted = round(_FULL_DAYS[position % len(_FULL_DAYS)] * available / PERIOD_DAYS)
    return max(1, min(wanted, available))


def _received_at(measured_at: datetime, zone: ZoneInfo) -> datetime:
    local = measured_at.astimezone(zone)
    slot_start = local.replace(minute=local.minute - local.minute % SLOT_MINUTES, second=0)
    return (slot_start + timedelta(minutes=SLOT_MINUTES) + RECEIVED_AFTER_SLOT).astimezone(
        measured_at.tzinfo
    )


def _slot(base: time, index: int, day: date, zone: ZoneInfo, position: int) -> datetime:
    minutes = base.hour * 60 + base.minute + index * SLOT_MINUTES + (position + day.day) % 4
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def _readings(
    device: DeviceSpec, today: date, zone: ZoneInfo, rng: random.Random
) -> list[ReadingSpec]:
    days = reading_days(device, today)
    position = device.position
    morning = position % MORNING_SLOTS
    twice_daily = device.type != "weight" and position % 4 == 1
    base = _Baseline(device.type, rng)
    out: list[ReadingSpec] = []
    for day in days:
        at = _slot(MORNING, morning, day, zone, position)
        out.append(_reading(device, at, base.values(rng, morning=True)))
        if twice_daily:
            at = _slot(EVENING, position % EVENING_SLOTS, day, zone, position)
            out.append(_reading(device, at, base.values(rng, morning=False)))
    return _out_of_range(device, out, today, zone)


def _reading(device: DeviceSpec, at: datetime, values: dict[str, Any]) -> ReadingSpec:
    return ReadingSpec(
        serial=device.serial,
        vendor_reading_id=f"{device.serial}-{at:%Y%m%d%H%M}",
        measured_at=at,
        type=device.type,
        values=values,
    )


class _Baseline:
    """A patient's usual values; each reading varies a little around them, inside every goal."""

    def __init__(self, kind: str, rng: random.Random) -> None:
        self.kind = kind
        self.systolic = rng.randint(116, 124)
        self.diastolic = rng.randint(70, 75)
        self.pulse = rng.randint(62, 76)
        self.fasting = rng.randint(100, 118)
        self.weight_lb = rng.randint(140, 230) + 0.5 * rng.randint(0, 1)

    def values(self, rng: random.Random, *, morning: bool) -> dict[str, Any]:
        if self.kind == "blood_pressure":
            # Below 135/85, the strictest care-plan goal (careplans.plan_templates).
            return {
                "systolic": self.systolic + rng.randint(-6, 8),
                "diastolic": self.diastolic + rng.randint(-5, 7),
                "pulse": self.pulse + rng.randint(-4, 6),
                "unit": "mm[Hg]",
            }
        if self.kind == "glucose":
            # Fasting below 140 and after meals below 250 (the practice default).
            value = self.fasting + rng.randint(-8, 14) if morning else rng.randint(130, 175)
            return {"value": value, "unit": "mg/dL", "fasting": morning}
        # Within 0.6 lb of the usual weight: never a 2 lb gain in a day or 5 lb in a week.
        return {
            "value": round(self.weight_lb + rng.randint(-6, 6) / 10, 1),
            "unit": "[lb_av]",
        }


def _out_of_range(
    device: DeviceSpec, readings: list[ReadingSpec], today: date, zone: ZoneInfo
) -> list[ReadingSpec]:
    """Make the last reading before today out of range for a few planned positions."""
    if device.practice != RIVERSIDE or device.type == "weight":
        return readings
    values: dict[str, Any] | None = None
    if device.position == CRITICAL_AT and device.type == "blood_pressure":
        values = {"systolic": 188, "diastolic": 112, "pulse": 96, "unit": "mm[Hg]"}
    elif device.position % WARNING_EVERY == WARNING_AT:
        if device.type == "blood_pressure":
            values = {"systolic": 152, "diastolic": 94, "pulse": 88, "unit": "mm[Hg]"}
        else:
            values = {"value": 268, "unit": "mg/dL", "fasting": False}
    if values is None:
        return readings
    before_today = [
        i for i, r in enumerate(readings) if r.measured_at.astimezone(zone).date() < today
    ]
    if not before_today:
        return readings
    index = before_today[-1]
    readings[index] = ReadingSpec(
        serial=device.serial,
        vendor_reading_id=readings[index].vendor_reading_id,
        measured_at=readings[index].measured_at,
        type=device.type,
        values=values,
    )
    return readings
