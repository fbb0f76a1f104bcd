"""Alert levels: the practice defaults, overridden by the care plan's monitoring thresholds.

Pure values and functions, except ``levels_for`` which reads the patient's signed care plans.
A level says: alert when ``metric`` is ``above`` (or ``below``) ``warning``; ``critical`` is
the more extreme level. Values are in canonical units (mm[Hg], /min, mg/dL, %, lb for gains).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

LB_PER_KG = 1 / 0.45359237
MG_DL_PER_MMOL_L = 18.0156


@dataclass(frozen=True)
class Level:
    metric: str
    comparator: str  # "above" or "below"
    warning: float | None
    critical: float | None
    inclusive: bool = False  # the practice defaults for blood pressure are "at or over"
    source: str = "practice default"

    def severity(self, value: float) -> str | None:
        """Return "critical", "warning" or None for ``value``."""
        for name, level in (("critical", self.critical), ("warning", self.warning)):
            if level is None:
                continue
            if self.comparator == "above":
                hit = value >= level if self.inclusive else value > level
            else:
                hit = value <= level if self.inclusive else value < level
            if hit:
                return name
        return None

    def words(self) -> str:
        level = self.warning if self.warning is not None else self.critical
        over = (
            ("at or over" if self.inclusive else "over")
            if self.comparator == "above"
            else ("at or under" if self.inclusive else "under")
        )
        return f"{over} {level:g}"


# Practice defaults where the care plan sets nothing (PRODUCT.md: monitoring goals set the
# device alert thresholds; these are the conservative fallbacks).
DEFAULT_LEVELS: tuple[Level, ...] = (
    Level("systolic", "above", 140, 180, inclusive=True),
    Level("diastolic", "above", 90, 120, inclusive=True),
    Level("glucose", "above", 250, 400),
    Level("glucose", "below", 70, 54),
    Level("spo2", "below", 92, 88),
    Level("weight_gain_24h", "above", 2, None),
    Level("weight_gain_7d", "above", 5, None),
)
NO_READING_DAYS = 3

# metric, comparator -> alert kind
KINDS: dict[tuple[str, str], str] = {
    ("systolic", "above"): "bp_high",
    ("diastolic", "above"): "bp_high",
    ("systolic", "below"): "bp_low",
    ("diastolic", "below"): "bp_low",
    ("pulse", "above"): "pulse_high",
    ("pulse", "below"): "pulse_low",
    ("glucose", "above"): "glucose_high",
    ("glucose", "below"): "glucose_low",
    ("glucose_fasting", "above"): "glucose_high",
    ("glucose_fasting", "below"): "glucose_low",
    ("spo2", "below"): "spo2_low",
    ("spo2", "above"): "spo2_low",
    ("weight_gain_24h", "above"): "weight_gain_24h",
    ("weight_gain_7d", "above"): "weight_gain_7d",
}
LABELS = {
    "systolic": "Systolic",
    "diastolic": "Diastolic",
    "pulse": "Pulse",
    "glucose": "Glucose",
    "glucose_fasting": "Fasting glucose",
    "spo2": "SpO2",
    "weight_gain_24h": "Weight gain in 24 hours",
    "weight_gain_7d": "Weight gain in 7 days",
}
UNITS = {
    "systolic": "mm[Hg]",
    "diastolic": "mm[Hg]",
    "pulse": "/min",
    "glucose": "mg/dL",
    "glucose_fasting": "mg/dL",
    "spo2": "%",
    "weight_gain_24h": "lb",
    "weight_gain_7d": "lb",
}
# Care-plan units -> factor to ours.
_FACTORS = {"mmol/L": MG_DL_PER_MMOL_L, "kg": LB_PER_KG}


@dataclass(frozen=True)
class Levels:
    """The levels that apply to one patient, by (metric, comparator)."""

    by_key: Mapping[tuple[str, str], Level]
    source: str

    def get(self, metric: str, comparator: str) -> Level | None:
        return self.by_key.get((metric, comparator))


def combine(plan_levels: Iterable[Level]) -> Levels:
    """Overlay care-plan levels on the defaults, one per metric and comparator."""
    table = {(lv.metric, lv.comparator): lv for lv in DEFAULT_LEVELS}
    from_plan = False
    for level in plan_levels:
        if (level.metric, level.comparator) in KINDS:
            table[(level.metric, level.comparator)] = level
            from_plan = True
    return Levels(table, "care plan" if from_plan else "practice defaults")


DEFAULTS = combine(())


def plan_level(raw: Any) -> Level | None:
    """Read one care-plan threshold (``metric``, ``comparator``, ``warning``, ``critical``,
    ``unit``) into a level in our units; None when it cannot be used."""
    metric = getattr(raw, "metric", None)
    comparator = getattr(raw, "comparator", None)
    if (metric, comparator) not in KINDS:
        return None
    factor = _FACTORS.get(str(getattr(raw, "unit", "")), 1.0)

    def number(value: Any) -> float | None:
        return None if value is None else float(value) * factor

    warning, critical = number(raw.warning), number(raw.critical)
    if warning is None and critical is None:
        return None
    return Level(str(metric), str(comparator), warning, critical, source="care plan")


def levels_for(patient: Any, on: date) -> Levels:
    """Return the levels for the patient: the latest signed care-plan versions over defaults."""
    from careledger.careplans.selectors import monitoring_thresholds

    plan = [lv for raw in monitoring_thresholds(patient) if (lv := plan_level(raw)) is not None]
    return combine(plan)


@dataclass(frozen=True)
class Finding:
    """An out-of-range value: the alert kind, its severity and what to tell the coordinator."""

    kind: str
    severity: str
    message: str


_RANK = {"critical": 2, "warning": 1}


def _worst(found: list[tuple[str, str, str]]) -> list[Finding]:
    """Merge per-metric hits into one finding per alert kind, at the worst severity."""
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for kind, severity, message in found:
        by_kind.setdefault(kind, []).append((severity, message))
    out = []
    for kind, hits in by_kind.items():
        severity = max((s for s, _ in hits), key=lambda s: _RANK[s])
        out.append(Finding(kind, severity, "; ".join(m for _, m in hits)))
    return out


def check_values(values: Mapping[str, Any], reading_type: str, levels: Levels) -> list[Finding]:
    """Compare one reading's canonical values with the levels."""
    metrics: list[tuple[str, float]] = []
    if reading_type == "blood_pressure":
        metrics = [("systolic", values["systolic"]), ("diastolic", values["diastolic"])]
    elif reading_type == "glucose":
        metrics = [("glucose", values["value"])]
    elif reading_type == "spo2":
        metrics = [("spo2", values["value"])]
    if reading_type in ("blood_pressure", "spo2") and values.get("pulse") is not None:
        metrics.append(("pulse", values["pulse"]))
    found: list[tuple[str, str, str]] = []
    for metric, value in metrics:
        for comparator in ("above", "below"):
            level = levels.get(metric, comparator)
            if metric == "glucose" and values.get("fasting"):
                level = levels.get("glucose_fasting", comparator) or level
            if level is None:
                continue
            severity = level.severity(value)
            if severity is not None:
                message = (
                    f"{LABELS[level.metric]} {value:g} {UNITS[metric]} {level.words()}"
                    f" ({level.source})"
                )
                found.append((KINDS[(level.metric, comparator)], severity, message))
    return _worst(found)


def weight_gain_findings(
    value_kg: float, lowest_day_kg: float | None, lowest_week_kg: float | None, levels: Levels
) -> list[Finding]:
    """Compare a weight with the lowest of the previous 24 hours and of the previous 7 days."""
    found: list[tuple[str, str, str]] = []
    for metric, lowest in (("weight_gain_24h", lowest_day_kg), ("weight_gain_7d", lowest_week_kg)):
        level = levels.get(metric, "above")
        if level is None or lowest is None:
            continue
        gain = round((value_kg - lowest) * LB_PER_KG, 2)
        severity = level.severity(gain)
        if severity is not None:
            message = f"{LABELS[metric]} {gain:.1f} lb, {level.words()} lb ({level.source})"
            found.append((metric, severity, message))
    return _worst(found)
