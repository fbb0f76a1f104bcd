"""Benchmark the rules engine: evaluate 100,000 synthetic patient-months, print the rate.

Run: ``.venv/bin/python bench/rules_engine.py [--months N] [--seed S]``. Never part of the tests.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from careledger.rules import (
    ApcmRequirements,
    DevicePeriod,
    MonthFacts,
    PatientFacts,
    TimeEntry,
    evaluate_month,
)

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
PROGRAM_MIXES = (
    ("CCM",),
    ("RPM",),
    ("CCM", "RPM"),
    ("PCM",),
    ("RTM",),
    ("BHI", "CCM"),
    ("CoCM",),
    ("APCM", "RPM"),
)
ROLES = ("clinical_staff", "clinical_staff", "clinical_staff", "physician_qhp", "non_clinical")
KINDS = ("interactive_call", "data_review", "care_coordination", "secure_message", "voicemail")


def synthetic_month(rng: random.Random, month_start_on: date) -> MonthFacts:
    """Return one plausible patient-month with 0-12 time entries and a device period."""
    zone_name = rng.choice(ZONES)
    zone = ZoneInfo(zone_name)
    programs = rng.choice(PROGRAM_MIXES)
    entries = tuple(
        TimeEntry(
            start_at=datetime(
                month_start_on.year,
                month_start_on.month,
                rng.randint(1, 28),
                rng.randint(7, 23),
                rng.choice((0, 15, 30, 50)),
                tzinfo=zone,
            ),
            seconds=rng.randint(1, 25) * 60,
            kind=rng.choice(KINDS),
            role=rng.choice(ROLES),
            program=rng.choice(programs),
            entry_id=f"e{i}",
        )
        for i in range(rng.randint(0, 12))
    )
    end_on = month_start_on + timedelta(days=rng.randint(0, 27))
    period = DevicePeriod(
        rng.choice(("RPM", "RTM")),
        end_on - timedelta(days=29),
        end_on,
        reading_day_count=rng.randint(0, 30),
    )
    return MonthFacts(
        month_start_on=month_start_on,
        practice_timezone=zone_name,
        billing_practitioner="P1",
        setting="physician_office",
        patient=PatientFacts(True, True, rng.randint(1, 4), True, rng.random() < 0.2, True),
        programs=programs,
        consent_on=dict.fromkeys(programs, date(2025, 6, 1)),
        comprehensive_care_plan=True,
        disease_specific_care_plan=True,
        apcm_requirements=ApcmRequirements(True, True, True, True),
        cocm_month_index=rng.randint(1, 3),
        rtm_category="musculoskeletal",
        rpm_setup_already_billed=rng.random() < 0.8,
        device_periods=(period,),
        time_entries=entries,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--months", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    months = [date(2026, rng.randint(1, 12), 1) for _ in range(args.months)]
    facts = [synthetic_month(rng, month) for month in months]
    started = time.perf_counter()
    lines = 0
    for month_facts in facts:
        lines += len(evaluate_month(month_facts).lines)
    elapsed = time.perf_counter() - started
    print(
        f"evaluated {len(facts):,} patient-months in {elapsed:.2f} s: "
        f"{len(facts) / elapsed:,.0f} patient-months per second ({lines:,} lines)"
    )


if __name__ == "__main__":
    main()
