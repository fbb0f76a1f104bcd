"""One reading's values: units converted with the original kept, impossible values refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from careledger.devices.values import CheckedReading, Problem, check_reading

NOW = datetime(2026, 2, 10, 18, 0, tzinfo=UTC)


def _item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "device_serial": "SN-1",
        "vendor_reading_id": "r-1",
        "measured_at": "2026-02-10T11:00:00-06:00",
        "type": "weight",
        "value": 180,
        "unit": "[lb_av]",
        "source": "automatic",
    }
    item.update(overrides)
    return item


def _checked(**overrides: Any) -> CheckedReading:
    outcome = check_reading(0, _item(**overrides), now=NOW)
    assert isinstance(outcome, CheckedReading), outcome
    return outcome


def _problem(**overrides: Any) -> Problem:
    outcome = check_reading(3, _item(**overrides), now=NOW)
    assert isinstance(outcome, Problem), outcome
    assert outcome.index == 3
    return outcome


def test_pounds_become_kilograms_and_the_pounds_are_kept() -> None:
    values = _checked().values
    assert values["value"] == pytest.approx(81.647, abs=0.001)
    assert values["unit"] == "kg"
    assert (values["original_value"], values["original_unit"]) == (180, "[lb_av]")


def test_mmol_per_litre_becomes_mg_per_dl_and_the_original_is_kept() -> None:
    values = _checked(type="glucose", value=7.0, unit="mmol/L", fasting=True).values
    assert values["value"] == pytest.approx(126.1, abs=0.05)
    assert values["unit"] == "mg/dL"
    assert (values["original_value"], values["original_unit"]) == (7.0, "mmol/L")
    assert values["fasting"] is True


def test_a_blood_pressure_keeps_its_three_values() -> None:
    values = _checked(
        type="blood_pressure", systolic=132, diastolic=84, pulse=71, unit="mm[Hg]"
    ).values
    assert (values["systolic"], values["diastolic"], values["pulse"]) == (132, 84, 71)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"value": -5, "unit": "kg"}, "value"),
        ({"value": 0, "unit": "kg"}, "value"),
        ({"value": math.nan, "unit": "kg"}, "value"),
        ({"value": math.inf, "unit": "kg"}, "value"),
        ({"value": -math.inf, "unit": "kg"}, "value"),
        ({"value": 1e308, "unit": "kg"}, "value"),
        ({"type": "glucose", "value": 1e308, "unit": "mmol/L"}, "value"),
        ({"value": "80", "unit": "kg"}, "value"),
        ({"value": "heavy", "unit": "kg"}, "value"),
        ({"value": True, "unit": "kg"}, "value"),
        ({"value": None, "unit": "kg"}, "value"),
        ({"unit": "stone"}, "unit"),
        ({"unit": None}, "unit"),
        ({"type": "glucose", "value": 100, "unit": "kg"}, "unit"),
        ({"type": "spo2", "value": 101, "unit": "%"}, "value"),
        (
            {"type": "blood_pressure", "systolic": 80, "diastolic": 120, "unit": "mm[Hg]"},
            "diastolic",
        ),
        (
            {"type": "blood_pressure", "systolic": 900, "diastolic": 80, "unit": "mm[Hg]"},
            "systolic",
        ),
        ({"type": "blood_pressure", "systolic": 120, "unit": "mm[Hg]"}, "diastolic"),
        ({"type": "blood_pressure", "systolic": 120, "diastolic": 80, "unit": "mmHg"}, "unit"),
        ({"type": "temperature"}, "type"),
        ({"source": "typed"}, "source"),
        ({"measured_at": "2026-02-10T11:00:00"}, "measured_at"),
        ({"measured_at": "yesterday"}, "measured_at"),
        ({"measured_at": "2026-03-10T11:00:00Z"}, "measured_at"),
        ({"vendor_reading_id": ""}, "vendor_reading_id"),
        ({"device_serial": None}, "device_id"),
    ],
)
def test_an_impossible_or_malformed_value_is_refused_with_its_field_and_reason(
    overrides: dict[str, Any], field: str
) -> None:
    problem = _problem(**overrides)
    assert problem.field == field
    assert problem.reason


def test_a_value_outside_the_body_s_range_says_the_range() -> None:
    assert "not physiologically possible" in _problem(value=0, unit="kg").reason


def test_something_that_is_not_an_object_is_refused() -> None:
    outcome = check_reading(7, ["not", "a", "reading"], now=NOW)
    assert outcome == Problem(7, "reading", "must be an object")
