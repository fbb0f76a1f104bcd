"""Every time and day threshold flips exactly at its documented boundary (n-1, n, n+1)."""

import pytest

from careledger.rules import evaluate_month
from careledger.rules.scenario import parse_scenario


def scenario(programs, *, month="2026-04", entries=(), periods=(), **extra):
    """Return a scenario dict with every precondition met for ``programs``."""
    data = {
        "service_month": month,
        "practice_timezone": "America/Chicago",
        "billing_practitioner": "P1",
        "setting": "physician_office",
        "patient": {
            "medicare_ffs": True,
            "established_patient": True,
            "chronic_conditions": 3,
            "single_high_risk_condition": True,
            "qmb": False,
            "seen_by_billing_practitioner_within_12_months": True,
        },
        "programs": list(programs),
        "consent": {program: "2024-12-01" for program in programs},
        "care_plan": {
            "comprehensive_care_plan": "current_and_shared_with_patient",
            "disease_specific_care_plan": "current_and_shared_with_patient",
        },
        "rpm_setup_already_billed": True,
        "rtm_setup_already_billed": True,
        "rtm_category": "musculoskeletal",
        "cocm_month_index": 2,
        "device_periods": list(periods),
        "time_entries": list(entries),
    }
    data.update(extra)
    return data


def entry(minutes, program, *, role="clinical_staff", kind="interactive_call", day="06"):
    year_month = "2026-04"
    return {
        "start": f"{year_month}-{day}T08:00:00-05:00",
        "minutes": minutes,
        "kind": kind,
        "role": role,
        "program": program,
    }


def billed(data):
    result = evaluate_month(parse_scenario(data))
    return {line.code: line.units for line in result.lines}


TIME_CASES = [
    # (label, program, role, extra scenario keys, minutes, expected {code: units})
    # CCM-2, CCM-5: 99490 at 20, 99439 each further 20, at most 2.
    *[
        ("99490", "CCM", "clinical_staff", {}, m, e)
        for m, e in [(19, {}), (20, {"99490": 1}), (21, {"99490": 1})]
    ],
    *[
        ("99439", "CCM", "clinical_staff", {}, m, e)
        for m, e in [
            (39, {"99490": 1}),
            (40, {"99490": 1, "99439": 1}),
            (41, {"99490": 1, "99439": 1}),
            (59, {"99490": 1, "99439": 1}),
            (60, {"99490": 1, "99439": 2}),
            (61, {"99490": 1, "99439": 2}),
            (80, {"99490": 1, "99439": 2}),
        ]
    ],
    # CCM-2, P9: 99491 at 30 physician minutes, 99437 each further 30.
    *[
        ("99491", "CCM", "physician_qhp", {}, m, e)
        for m, e in [(29, {"99490": 1}), (30, {"99491": 1}), (31, {"99491": 1})]
    ],
    *[
        ("99437", "CCM", "physician_qhp", {}, m, e)
        for m, e in [
            (59, {"99491": 1}),
            (60, {"99491": 1, "99437": 1}),
            (61, {"99491": 1, "99437": 1}),
        ]
    ],
    # CCM-2: complex 99487 at 60, 99489 each further 30.
    *[
        (
            "99487",
            "CCM",
            "clinical_staff",
            {
                "complex_ccm": {
                    "mdm": "high",
                    "care_plan_established_or_substantially_revised": True,
                }
            },
            m,
            e,
        )
        for m, e in [
            (59, {"99490": 1, "99439": 1}),
            (60, {"99487": 1}),
            (61, {"99487": 1}),
            (89, {"99487": 1}),
            (90, {"99487": 1, "99489": 1}),
            (91, {"99487": 1, "99489": 1}),
        ]
    ],
    # PCM-2: 30-minute blocks for both families.
    *[
        ("99426", "PCM", "clinical_staff", {}, m, e)
        for m, e in [
            (29, {}),
            (30, {"99426": 1}),
            (31, {"99426": 1}),
            (59, {"99426": 1}),
            (60, {"99426": 1, "99427": 1}),
            (61, {"99426": 1, "99427": 1}),
        ]
    ],
    *[
        ("99424", "PCM", "physician_qhp", {}, m, e)
        for m, e in [
            (29, {}),
            (30, {"99424": 1}),
            (31, {"99424": 1}),
            (59, {"99424": 1}),
            (60, {"99424": 1, "99425": 1}),
            (61, {"99424": 1, "99425": 1}),
        ]
    ],
    # RPM-3, RPM-8: 99470 at 10, 99457 at 20, 99458 each further full 20.
    *[
        ("99470", "RPM", "clinical_staff", {}, m, e)
        for m, e in [
            (9, {}),
            (10, {"99470": 1}),
            (11, {"99470": 1}),
            (19, {"99470": 1}),
            (20, {"99457": 1}),
            (21, {"99457": 1}),
            (39, {"99457": 1}),
            (40, {"99457": 1, "99458": 1}),
            (41, {"99457": 1, "99458": 1}),
            (60, {"99457": 1, "99458": 2}),
        ]
    ],
    # RTM-1, P13: 98979 at 10, 98980 at 20, 98981 each further 20.
    *[
        ("98979", "RTM", "clinical_staff", {}, m, e)
        for m, e in [
            (9, {}),
            (10, {"98979": 1}),
            (11, {"98979": 1}),
            (19, {"98979": 1}),
            (20, {"98980": 1}),
            (21, {"98980": 1}),
            (39, {"98980": 1}),
            (40, {"98980": 1, "98981": 1}),
            (41, {"98980": 1, "98981": 1}),
        ]
    ],
    # BHI-1: 99484 at 20.
    *[
        ("99484", "BHI", "clinical_staff", {}, m, e)
        for m, e in [(19, {}), (20, {"99484": 1}), (21, {"99484": 1})]
    ],
    # BHI-2, BHI-4: CoCM first month; G2214 from 16, 99492 from 36, 99494 from 70+16.
    *[
        ("99492", "CoCM", "bh_care_manager", {"cocm_month_index": 1}, m, e)
        for m, e in [
            (15, {}),
            (16, {"G2214": 1}),
            (17, {"G2214": 1}),
            (35, {"G2214": 1}),
            (36, {"99492": 1}),
            (37, {"99492": 1}),
            (85, {"99492": 1}),
            (86, {"99492": 1, "99494": 1}),
            (87, {"99492": 1, "99494": 1}),
            (115, {"99492": 1, "99494": 1}),
            (116, {"99492": 1, "99494": 2}),
            (117, {"99492": 1, "99494": 2}),
        ]
    ],
    # BHI-2: later months; 99493 from 31, 99494 from 60+16.
    *[
        ("99493", "CoCM", "bh_care_manager", {"cocm_month_index": 2}, m, e)
        for m, e in [
            (30, {"G2214": 1}),
            (31, {"99493": 1}),
            (32, {"99493": 1}),
            (75, {"99493": 1}),
            (76, {"99493": 1, "99494": 1}),
            (77, {"99493": 1, "99494": 1}),
        ]
    ],
]


@pytest.mark.parametrize(
    ("label", "program", "role", "extra", "minutes", "expected"),
    TIME_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[4]}min" for c in TIME_CASES],
)
def test_time_threshold_flips_exactly_at_its_boundary(
    label, program, role, extra, minutes, expected
):
    data = scenario([program], entries=[entry(minutes, program, role=role)], **extra)
    assert billed(data) == expected


def period(days, program="RPM", start="2026-04-01", end="2026-04-30"):
    return {
        "program": program,
        "period_start": start,
        "period_end": end,
        "auto_reading_day_count": days,
    }


DAY_CASES = [
    # RPM-1, RPM-2: 99445 for 2-15 days, 99454 for 16-30 (2026).
    ("2026-04", "RPM", True, 1, {}),
    ("2026-04", "RPM", True, 2, {"99445": 1}),
    ("2026-04", "RPM", True, 3, {"99445": 1}),
    ("2026-04", "RPM", True, 15, {"99445": 1}),
    ("2026-04", "RPM", True, 16, {"99454": 1}),
    ("2026-04", "RPM", True, 17, {"99454": 1}),
    # CMS-PFS-2025: 99454 needs 16 days and 99445 does not exist.
    ("2025-04", "RPM", True, 15, {}),
    ("2025-04", "RPM", True, 16, {"99454": 1}),
    ("2025-04", "RPM", True, 17, {"99454": 1}),
    # RTM-1 (musculoskeletal): 98985 for 2-15 days, 98977 for 16-30.
    ("2026-04", "RTM", True, 1, {}),
    ("2026-04", "RTM", True, 2, {"98985": 1}),
    ("2026-04", "RTM", True, 3, {"98985": 1}),
    ("2026-04", "RTM", True, 15, {"98985": 1}),
    ("2026-04", "RTM", True, 16, {"98977": 1}),
    ("2026-04", "RTM", True, 17, {"98977": 1}),
    ("2025-04", "RTM", True, 15, {}),
    ("2025-04", "RTM", True, 16, {"98977": 1}),
    # RPM-16: set-up with the first billable period (2 days in 2026, 16 in 2025).
    ("2026-04", "RPM", False, 1, {}),
    ("2026-04", "RPM", False, 2, {"99453": 1, "99445": 1}),
    ("2026-04", "RPM", False, 3, {"99453": 1, "99445": 1}),
    ("2025-04", "RPM", False, 15, {}),
    ("2025-04", "RPM", False, 16, {"99453": 1, "99454": 1}),
    ("2025-04", "RPM", False, 17, {"99453": 1, "99454": 1}),
    ("2026-04", "RTM", False, 1, {}),
    ("2026-04", "RTM", False, 2, {"98975": 1, "98985": 1}),
]


@pytest.mark.parametrize(
    ("month", "program", "setup_billed", "days", "expected"),
    DAY_CASES,
    ids=[f"{c[1]}-{c[0]}-setup{'done' if c[2] else 'due'}-{c[3]}days" for c in DAY_CASES],
)
def test_reading_day_threshold_flips_exactly_at_its_boundary(
    month, program, setup_billed, days, expected
):
    year = month[:4]
    data = scenario(
        [program],
        month=month,
        periods=[period(days, program, f"{year}-04-01", f"{year}-04-30")],
        rpm_setup_already_billed=setup_billed,
        rtm_setup_already_billed=setup_billed,
    )
    assert billed(data) == expected


def test_99458_needs_a_further_full_20_minutes():
    data = scenario(["RPM"], entries=[entry(39, "RPM")])
    assert billed(data) == {"99457": 1}


def test_99470_does_not_exist_before_2026():
    data = scenario(["RPM"], month="2025-04")
    data["time_entries"] = [dict(entry(15, "RPM"), start="2025-04-06T08:00:00-05:00")]
    assert billed(data) == {}


def test_physician_minutes_reaching_30_switch_ccm_to_the_physician_family():
    staff = entry(20, "CCM", day="03")
    below = scenario(["CCM"], entries=[staff, entry(29, "CCM", role="physician_qhp")])
    at = scenario(["CCM"], entries=[staff, entry(30, "CCM", role="physician_qhp")])
    assert billed(below) == {"99490": 1, "99439": 1}
    assert billed(at) == {"99491": 1}
    result = evaluate_month(parse_scenario(at))
    assert "CCM_ALTERNATIVE_FAMILY" in result.flag_codes


def test_complex_ccm_switches_families_at_60_minutes_and_names_the_alternative():
    complex_month = {"mdm": "moderate", "care_plan_established_or_substantially_revised": True}
    below = scenario(["CCM"], entries=[entry(59, "CCM")], complex_ccm=complex_month)
    at = scenario(["CCM"], entries=[entry(60, "CCM")], complex_ccm=complex_month)
    assert billed(below) == {"99490": 1, "99439": 1}
    assert billed(at) == {"99487": 1}
    flags = evaluate_month(parse_scenario(at)).flags
    alternative = next(flag for flag in flags if flag.code == "CCM_ALTERNATIVE_FAMILY")
    assert "99490 x1 + 99439 x2" in alternative.message


def test_low_complexity_mdm_never_bills_complex_ccm():
    low = {"mdm": "low", "care_plan_established_or_substantially_revised": True}
    data = scenario(["CCM"], entries=[entry(75, "CCM")], complex_ccm=low)
    assert billed(data) == {"99490": 1, "99439": 2}


def test_pcm_physician_minutes_reaching_30_switch_to_the_physician_family():
    staff = entry(31, "PCM", day="03")
    below = scenario(["PCM"], entries=[staff, entry(29, "PCM", role="physician_qhp")])
    at = scenario(["PCM"], entries=[staff, entry(30, "PCM", role="physician_qhp")])
    assert billed(below) == {"99426": 1, "99427": 1}
    assert billed(at) == {"99424": 1}


def test_minutes_are_the_floor_of_summed_seconds():
    halves = [entry(10.5, "CCM", day="03"), entry(9.5, "CCM", day="04")]
    just_short = [entry(10.5, "CCM", day="03"), entry(9.49, "CCM", day="04")]
    assert billed(scenario(["CCM"], entries=halves)) == {"99490": 1}
    assert billed(scenario(["CCM"], entries=just_short)) == {}
