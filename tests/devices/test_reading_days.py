"""Reading days per 30-day device period (RPM-4, RPM-13, P5), as the engine and pages see them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Reading
from careledger.devices.selectors import (
    build_periods,
    device_periods_for,
    period_progress,
)
from careledger.devices.services import Assignment, assign_device, create_vendor, exclude_reading
from careledger.rules import evaluate_month
from careledger.rules.facts import DevicePeriod
from careledger.rules.scenario import parse_scenario
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

SCENARIO = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "domain"
    / "scenarios"
    / "RPM-DEV-SPAN.json"
)
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 2, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def scenario() -> dict[str, Any]:
    return json.loads(SCENARIO.read_text())


@pytest.fixture
def patient_with_cuff(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 1, 5),
        consent_on=date(2026, 1, 5),
    )
    create_vendor(practice=world.practice, slug="acme", name="Acme", now=NOW)
    for kind, serial in (("blood_pressure", "BP-1"), ("weight", "WT-1")):
        assign_device(
            ctx=world.ctx(),
            patient=world.patient,
            assignment=Assignment("RPM", kind, "acme", serial, date(2026, 1, 2)),
            now=NOW,
        )
    return world


def _reading(serial: str, ident: str, local: datetime, source: str = "automatic") -> dict[str, Any]:
    base: dict[str, Any] = {
        "device_serial": serial,
        "vendor_reading_id": ident,
        "measured_at": local.isoformat(),
        "source": source,
    }
    if serial.startswith("BP"):
        return {
            **base,
            "type": "blood_pressure",
            "systolic": 126,
            "diastolic": 80,
            "unit": "mm[Hg]",
        }
    return {**base, "type": "weight", "value": 81.5, "unit": "kg"}


def _store(world: PracticeWorld, items: list[dict[str, Any]]) -> None:
    result = ingest_readings(practice=world.practice, items=items, via="api", now=NOW)
    assert result.errors == [], result.errors


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHICAGO)


def test_day_counting_across_the_month_boundary_equals_rpm_dev_span(
    patient_with_cuff: PracticeWorld, scenario: dict[str, Any]
) -> None:
    world = patient_with_cuff
    expected = scenario["device_periods"][0]
    days = [date.fromisoformat(d) for d in expected["auto_reading_dates"]]
    items = []
    for n, day in enumerate(days):
        # Two devices, several readings a day, one late in the local evening: still one day each.
        items.append(_reading("BP-1", f"bp-{n}-a", _at(day, 7, 30)))
        items.append(_reading("BP-1", f"bp-{n}-b", _at(day, 23, 40)))
        items.append(_reading("WT-1", f"wt-{n}", _at(day, 6, 55)))
    _store(world, items)

    periods = device_periods_for(world.patient, "RPM", date(2026, 2, 1), date(2026, 2, 28))
    assert len(periods) == 1
    period = periods[0]
    assert (period.period_start_on.isoformat(), period.period_end_on.isoformat()) == (
        expected["period_start"],
        expected["period_end"],
    )
    assert period.reading_dates == frozenset(days)
    assert period.reading_day_count == 17

    # The engine, fed our period instead of the scenario's, bills what the scenario expects.
    facts = dataclasses.replace(parse_scenario(scenario), device_periods=tuple(periods))
    lines = {(b.code, b.units, b.dos.isoformat()) for b in evaluate_month(facts).lines}
    assert lines == {(e["code"], e["units"], e["dos"]) for e in scenario["expected"]}

    # January sees the same period (it overlaps), but it is billed in February, where it ends.
    january = device_periods_for(world.patient, "RPM", date(2026, 1, 1), date(2026, 1, 31))
    assert january == periods


def test_a_late_evening_reading_counts_on_its_local_day(patient_with_cuff: PracticeWorld) -> None:
    # 23:30 in Chicago on Jan 31 is Feb 1 in UTC; P5 counts the practice's local day.
    _store(patient_with_cuff, [_reading("BP-1", "late", _at(date(2026, 1, 31), 23, 30))])
    period = device_periods_for(
        patient_with_cuff.patient, "RPM", date(2026, 1, 1), date(2026, 1, 31)
    )[0]
    assert period.reading_dates == frozenset({date(2026, 1, 31)})


def test_manual_and_excluded_readings_do_not_count(patient_with_cuff: PracticeWorld) -> None:
    world = patient_with_cuff
    _store(
        world,
        [
            _reading("BP-1", "auto-1", _at(date(2026, 2, 2), 8)),
            _reading("BP-1", "manual-1", _at(date(2026, 2, 3), 8), source="manual"),
            _reading("BP-1", "wrong-1", _at(date(2026, 2, 4), 8)),
        ],
    )
    wrong = Reading.objects.get(vendor_reading_id="wrong-1")
    exclude_reading(
        ctx=world.ctx(), reading_id=wrong.pk, reason="Cuff worn by a neighbour.", now=NOW
    )
    periods = device_periods_for(world.patient, "RPM", date(2026, 2, 1), date(2026, 2, 28))
    assert [p.reading_dates for p in periods] == [frozenset({date(2026, 2, 2)})]
    assert Reading.objects.count() == 3  # excluded, never deleted


def test_readings_before_consent_start_no_period(world: PracticeWorld) -> None:
    spans = [(date(2026, 1, 10), None)]
    periods = build_periods([date(2026, 1, 5), date(2026, 1, 12)], spans, "RPM")
    assert [p.period_start_on for p in periods] == [date(2026, 1, 12)]


def test_periods_run_back_to_back_and_restart_after_a_silent_period() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 31), date(2026, 4, 15)]
    periods = build_periods(days, [(date(2026, 1, 1), None)], "RPM")
    assert [(p.period_start_on, p.period_end_on) for p in periods] == [
        (date(2026, 1, 1), date(2026, 1, 30)),
        (date(2026, 1, 31), date(2026, 3, 1)),
        (date(2026, 4, 15), date(2026, 5, 14)),
    ]


def test_as_of_counts_only_readings_up_to_that_local_day(patient_with_cuff: PracticeWorld) -> None:
    _store(
        patient_with_cuff,
        [_reading("BP-1", f"d{n}", _at(date(2026, 2, 1) + timedelta(days=n), 9)) for n in range(6)],
    )
    periods = device_periods_for(
        patient_with_cuff.patient,
        "RPM",
        date(2026, 2, 1),
        date(2026, 2, 28),
        as_of=date(2026, 2, 3),
    )
    assert periods[0].reading_day_count == 3


def _period(days: list[int]) -> DevicePeriod:
    start = date(2026, 3, 1)
    dates = frozenset(start + timedelta(days=d) for d in days)
    return DevicePeriod("RPM", start, start + timedelta(days=29), len(dates), dates)


def test_progress_says_what_is_still_possible() -> None:
    # Day 20 of 30 (Mar 20), 5 reading days so far, none today: 11 days left, 16 reachable only
    # with a reading every remaining day.
    progress = period_progress(_period([0, 1, 2, 3, 4]), date(2026, 3, 20))
    assert (progress.days, progress.days_left, progress.days_possible) == (5, 11, 16)
    assert (progress.reaches_2, progress.reaches_16, progress.needs_every_day) == (True, True, True)


def test_progress_knows_when_16_days_are_out_of_reach() -> None:
    progress = period_progress(_period([0]), date(2026, 3, 25))
    assert (progress.days_possible, progress.reaches_2, progress.reaches_16) == (7, True, False)


def test_a_reading_today_is_not_counted_twice_in_what_is_possible() -> None:
    progress = period_progress(_period([0, 29]), date(2026, 3, 30))
    assert (progress.days, progress.days_left, progress.days_possible) == (2, 0, 2)


def test_a_finished_period_has_nothing_left() -> None:
    progress = period_progress(_period([]), date(2026, 5, 1))
    assert (progress.days_possible, progress.reaches_2) == (0, False)


def _periods_before_bisect(
    dates: list[date], spans: list[tuple[date, date | None]], program: str
) -> list[DevicePeriod]:
    """The quadratic build_periods this module had before it was made linear: the reference."""
    periods: list[DevicePeriod] = []
    for span_start, span_end in spans:
        inside = [d for d in dates if d >= span_start and (span_end is None or d <= span_end)]
        start: date | None = inside[0] if inside else None
        while start is not None:
            end = start + timedelta(days=29)
            days = frozenset(d for d in inside if start <= d <= end)
            periods.append(
                DevicePeriod(
                    program=program,
                    period_start_on=start,
                    period_end_on=end,
                    reading_dates=days,
                    reading_day_count=len(days),
                    period_id=f"{program} period {start.isoformat()}",
                )
            )
            later = [d for d in inside if d > end]
            if not later:
                break
            start = end + timedelta(days=1) if later[0] <= end + timedelta(days=30) else later[0]
    return periods


DAY0 = date(2026, 1, 1)


@settings(max_examples=300, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 400), max_size=120),
    span_bounds=st.lists(
        st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(0, 400))), max_size=3
    ),
)
def test_periods_are_those_of_the_reference_cut(
    offsets: list[int], span_bounds: list[tuple[int, int | None]]
) -> None:
    dates = sorted({DAY0 + timedelta(days=n) for n in offsets})
    spans = sorted(
        (
            (DAY0 + timedelta(days=a), None if b is None else DAY0 + timedelta(days=a + b))
            for a, b in span_bounds
        ),
        key=lambda span: span[0],
    )
    assert build_periods(dates, spans, "RPM") == _periods_before_bisect(dates, spans, "RPM")
    # Any order and repeats give the same periods.
    assert build_periods(dates[::-1] + dates, spans, "RPM") == build_periods(dates, spans, "RPM")


def test_readings_long_after_the_month_do_not_change_its_periods(
    patient_with_cuff: PracticeWorld,
) -> None:
    # The selector reads readings only up to 29 days after the month (no period that shares
    # a day with the month ends later); what it returns is what all the readings give.
    days = [date(2026, 3, 20) + timedelta(days=n) for n in range(0, 80, 2)]
    result = ingest_readings(
        practice=patient_with_cuff.practice,
        items=[_reading("BP-1", f"d-{n}", _at(day, 9)) for n, day in enumerate(days)],
        via="api",
        now=datetime(2026, 6, 10, tzinfo=UTC),
    )
    assert result.errors == []
    periods = device_periods_for(
        patient_with_cuff.patient, "RPM", date(2026, 4, 1), date(2026, 4, 30)
    )
    every = build_periods(days, [(date(2026, 1, 5), None)], "RPM")
    assert periods == [p for p in every if p.overlaps(date(2026, 4, 1), date(2026, 4, 30))]
    assert [p.period_end_on for p in periods] == [date(2026, 4, 18), date(2026, 5, 18)]
