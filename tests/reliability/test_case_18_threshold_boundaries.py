"""Case 18: every minute and day-count threshold at n-1, n and n+1.

Pass: codes flip exactly at the documented boundary — in the rules engine (the tables of
tests/rules/test_thresholds.py, run here as well) and through stored time entries and the month
close, where minutes are the floor of summed seconds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careledger.billing.close import close_month
from careledger.billing.models import BillingLine
from tests.billing.builders import MONTH, NOW, START, enrollment_of, rpm_patient
from tests.conftest import PracticeWorld
from tests.factories import log_minutes
from tests.rules.test_thresholds import DAY_CASES, TIME_CASES, billed, entry, period, scenario


@pytest.mark.parametrize(
    ("label", "program", "role", "extra", "minutes", "expected"),
    TIME_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[4]}min" for c in TIME_CASES],
)
def test_the_engine_flips_each_time_threshold_at_its_boundary(
    label: str, program: str, role: str, extra: dict[str, Any], minutes: int, expected: Any
) -> None:
    data = scenario([program], entries=[entry(minutes, program, role=role)], **extra)
    assert billed(data) == expected


@pytest.mark.parametrize(
    ("month", "program", "setup_billed", "days", "expected"),
    DAY_CASES,
    ids=[f"{c[1]}-{c[0]}-setup{'done' if c[2] else 'due'}-{c[3]}days" for c in DAY_CASES],
)
def test_the_engine_flips_each_reading_day_threshold_at_its_boundary(
    month: str, program: str, setup_billed: bool, days: int, expected: Any
) -> None:
    year = month[:4]
    data = scenario(
        [program],
        month=month,
        periods=[period(days, program, f"{year}-04-01", f"{year}-04-30")],
        rpm_setup_already_billed=setup_billed,
        rtm_setup_already_billed=setup_billed,
    )
    assert billed(data) == expected


def test_the_boundaries_around_every_threshold_are_all_tested() -> None:
    by_label: dict[str, set[int]] = {}
    for label, _, _, _, minutes, _ in TIME_CASES:
        by_label.setdefault(label, set()).add(minutes)
    # Each documented minute threshold appears with n-1, n and n+1.
    for label, n in {"99490": 20, "99439": 40, "99491": 30}.items():
        assert {n - 1, n, n + 1} <= by_label[label], label
    days = {(c[0], c[1], c[3]) for c in DAY_CASES}
    for program in ("RPM", "RTM"):
        assert {("2026-04", program, d) for d in (1, 2, 3, 15, 16, 17)} <= days


# RPM treatment management through stored entries (RPM-5..8, 2026 rule set): 99470 at 10 minutes,
# 99457 at 20, 99458 for each further full 20.
STORED = [
    (9 * 60, []),
    (10 * 60, ["99470"]),
    (11 * 60, ["99470"]),
    (19 * 60 + 59, ["99470"]),  # 19 min 59 s floors to 19
    (20 * 60, ["99457"]),
    (21 * 60, ["99457"]),
    (39 * 60, ["99457"]),
    (40 * 60, ["99457", "99458"]),
    (41 * 60, ["99457", "99458"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("seconds", "codes"), STORED, ids=[f"{s}s" for s, _ in STORED])
def test_stored_minutes_flip_the_closed_codes_at_the_boundary(
    world: PracticeWorld, seconds: int, codes: list[str]
) -> None:
    patient = rpm_patient(world, 0)
    enrollment = enrollment_of(patient)
    # Two entries whose seconds add up to the total: boundaries hold on summed time.
    first = seconds // 2
    for start, part in ((START, first), (START + timedelta(days=2), seconds - first)):
        created: Any = log_minutes(enrollment, 1, start=start)
        type(created).objects.filter(pk=created.pk).update(
            seconds=part, ended_at=start + timedelta(seconds=max(part, 1))
        )
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billed_codes = sorted(
        BillingLine.objects.filter(patient=patient, program="RPM")
        .exclude(code__in=["99453", "99454", "99445"])
        .values_list("code", flat=True)
    )
    assert billed_codes == sorted(codes)
