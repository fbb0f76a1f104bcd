"""Check and convert one reading's values: pure functions, problems returned as values.

Units are UCUM. Values are converted to one canonical unit per quantity (kg, mg/dL, mm[Hg], %,
L, L/min); the value and unit as sent are kept beside them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Physiological limits in canonical units: outside them a value is impossible, not just abnormal.
LIMITS: dict[str, tuple[float, float]] = {
    "systolic": (40, 300),
    "diastolic": (20, 200),
    "pulse": (20, 250),
    "glucose": (10, 1000),
    "weight": (1, 500),
    "spo2": (50, 100),
    "fev1": (0.1, 8),
    "pef": (20, 1000),
}

LB_TO_KG = 0.45359237
# Glucose C6H12O6, 180.156 g/mol: 1 mmol/L = 18.0156 mg/dL.
MMOL_TO_MG_DL = 18.0156

# Reading type -> (accepted units -> factor to the canonical unit), canonical unit.
UNITS: dict[str, tuple[dict[str, float], str]] = {
    "blood_pressure": ({"mm[Hg]": 1.0}, "mm[Hg]"),
    "glucose": ({"mg/dL": 1.0, "mmol/L": MMOL_TO_MG_DL}, "mg/dL"),
    "weight": ({"kg": 1.0, "[lb_av]": LB_TO_KG}, "kg"),
    "spo2": ({"%": 1.0}, "%"),
    "spirometry": ({"L": 1.0}, "L"),
}
READING_TYPES = tuple(UNITS)
SOURCES = ("automatic", "manual")
# Which reading types each device type may send ("other" may send any).
DEVICE_SENDS: dict[str, frozenset[str]] = {
    "blood_pressure": frozenset({"blood_pressure"}),
    "glucose": frozenset({"glucose"}),
    "weight": frozenset({"weight"}),
    "spo2": frozenset({"spo2"}),
    "spirometer": frozenset({"spirometry"}),
    "other": frozenset(READING_TYPES),
}
MAX_ID_LENGTH = 128


@dataclass(frozen=True)
class Problem:
    """Why one reading of a batch is refused."""

    index: int
    field: str
    reason: str


@dataclass(frozen=True)
class CheckedReading:
    """A reading whose values passed, in canonical units; the device is not resolved yet."""

    index: int
    vendor_reading_id: str
    measured_at: datetime
    type: str
    source: str
    device_id: int | None
    device_serial: str
    values: dict[str, Any] = field(default_factory=dict)


def _number(raw: Any) -> float | None:
    """Return a finite number, or None for anything else (strings, booleans, NaN, Infinity)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    number = float(raw)
    return number if math.isfinite(number) else None


def _within(name: str, value: float, unit: str) -> str:
    low, high = LIMITS[name]
    if value < low or value > high:
        return f"{value:g} {unit} is not physiologically possible ({low:g} to {high:g} {unit})"
    return ""


def parse_instant(raw: Any) -> datetime | None:
    """Parse an ISO 8601 instant with a UTC offset; None when it has none or is not one."""
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.utcoffset() is not None else None


def check_reading(
    index: int, item: Any, *, now: datetime, skew_seconds: int = 600
) -> CheckedReading | Problem:
    """Check one reading as sent: fields, units and physiological limits (case 11)."""
    if not isinstance(item, Mapping):
        return Problem(index, "reading", "must be an object")
    device_id = item.get("device_id")
    serial = item.get("device_serial")
    if device_id is None and not serial:
        return Problem(index, "device_id", "give device_id or device_serial")
    if device_id is not None and (isinstance(device_id, bool) or not isinstance(device_id, int)):
        return Problem(index, "device_id", "must be an integer")
    if serial is not None and not isinstance(serial, str):
        return Problem(index, "device_serial", "must be a string")
    reading_id = item.get("vendor_reading_id")
    if isinstance(reading_id, int) and not isinstance(reading_id, bool):
        reading_id = str(reading_id)
    if not isinstance(reading_id, str) or not reading_id.strip():
        return Problem(index, "vendor_reading_id", "required: the vendor's id for this reading")
    if len(reading_id) > MAX_ID_LENGTH:
        return Problem(index, "vendor_reading_id", f"at most {MAX_ID_LENGTH} characters")
    measured_at = parse_instant(item.get("measured_at"))
    if measured_at is None:
        return Problem(index, "measured_at", "give an ISO 8601 time with its UTC offset")
    if (measured_at - now).total_seconds() > skew_seconds:
        # Case 29: a device clock far in the future is refused, not stored.
        return Problem(index, "measured_at", "is in the future; check the device clock")
    kind = item.get("type")
    if kind not in UNITS:
        return Problem(index, "type", f"choose one of: {', '.join(READING_TYPES)}")
    source = item.get("source", "automatic")
    if source not in SOURCES:
        return Problem(index, "source", "choose automatic or manual")
    converted = _values(index, str(kind), item)
    if isinstance(converted, Problem):
        return converted
    return CheckedReading(
        index=index,
        vendor_reading_id=reading_id.strip(),
        measured_at=measured_at,
        type=str(kind),
        source=str(source),
        device_id=device_id,
        device_serial=(serial or "").strip(),
        values=converted,
    )


def _values(index: int, kind: str, item: Mapping[str, Any]) -> dict[str, Any] | Problem:
    factors, canonical = UNITS[kind]
    unit = item.get("unit")
    if unit not in factors:
        return Problem(index, "unit", f"{kind} takes {' or '.join(factors)} (UCUM)")
    unit = str(unit)
    if kind == "blood_pressure":
        out: dict[str, Any] = {"unit": canonical, "original_unit": unit}
        for name, required in (("systolic", True), ("diastolic", True), ("pulse", False)):
            raw = item.get(name)
            if raw is None and not required:
                continue
            number = _number(raw)
            if number is None:
                return Problem(index, name, "must be a finite number")
            why = _within(name, number, "/min" if name == "pulse" else "mm[Hg]")
            if why:
                return Problem(index, name, why)
            out[name] = number
        if out["diastolic"] >= out["systolic"]:
            return Problem(index, "diastolic", "must be below the systolic pressure")
        return out
    number = _number(item.get("value"))
    if number is None:
        return Problem(index, "value", "must be a finite number")
    value = number * factors[unit]
    value = round(value, 3 if kind in ("weight", "spirometry") else 1)
    limit = {"glucose": "glucose", "weight": "weight", "spo2": "spo2", "spirometry": "fev1"}[kind]
    why = _within(limit, value, canonical)
    if why:
        return Problem(index, "value", why)
    out = {"value": value, "unit": canonical, "original_value": number, "original_unit": unit}
    if kind == "glucose":
        fasting = item.get("fasting")
        if fasting is not None and not isinstance(fasting, bool):
            return Problem(index, "fasting", "must be true or false")
        out["fasting"] = fasting
    if kind == "spo2" and item.get("pulse") is not None:
        pulse = _number(item.get("pulse"))
        if pulse is None:
            return Problem(index, "pulse", "must be a finite number")
        why = _within("pulse", pulse, "/min")
        if why:
            return Problem(index, "pulse", why)
        out["pulse"] = pulse
    if kind == "spirometry" and item.get("pef") is not None:
        pef = _number(item.get("pef"))
        if pef is None:
            return Problem(index, "pef", "must be a finite number")
        why = _within("pef", pef, "L/min")
        if why:
            return Problem(index, "pef", why)
        out["pef"] = pef
    return out
