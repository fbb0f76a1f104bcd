"""Rule sets are dated data: the month's own set applies unless another is named."""

from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.rules import RULE_SETS, UnknownRuleSetError, evaluate_month
from careledger.rules.calendar import practice_zone
from careledger.rules.codes import CODES_NEW_IN_2026
from careledger.rules.facts import (
    ApcmRequirements,
    BhiServiceElements,
    DevicePeriod,
    MonthFacts,
    PatientFacts,
    TimeEntry,
)

CHICAGO = practice_zone("America/Chicago")
ALL_PROGRAMS = ("CCM", "PCM", "RPM", "RTM", "BHI", "CoCM", "APCM")


def facts_for(month_start_on, *, minutes=15, days=10, **extra):
    start_at = datetime(month_start_on.year, month_start_on.month, 6, 10, tzinfo=CHICAGO)
    entries = tuple(
        TimeEntry(
            start_at=start_at,
            seconds=minutes * 60,
            kind="interactive_call",
            role=role,
            program=program,
            entry_id=f"e-{program}",
        )
        for program, role in (
            ("RPM", "clinical_staff"),
            ("RTM", "clinical_staff"),
            ("CoCM", "bh_care_manager"),
        )
    )
    end_on = date(month_start_on.year, month_start_on.month, 28)
    period_start_on = date.fromordinal(end_on.toordinal() - 29)
    base = MonthFacts(
        month_start_on=month_start_on,
        practice_timezone="America/Chicago",
        billing_practitioner="P1",
        setting="physician_office",
        patient=PatientFacts(True, True, 3, True, False, True),
        programs=("RPM",),
        consent_on={p: date(2024, 1, 1) for p in ALL_PROGRAMS},
        comprehensive_care_plan=True,
        rpm_setup_already_billed=True,
        device_periods=(DevicePeriod("RPM", period_start_on, end_on, reading_day_count=days),),
        time_entries=entries,
    )
    return replace(base, **extra)


def test_the_registry_lists_2025_then_2026():
    assert [rs.id for rs in RULE_SETS] == ["CMS-PFS-2025", "CMS-PFS-2026"]


def test_a_month_is_evaluated_under_the_rule_set_in_force_on_its_first_day():
    assert evaluate_month(facts_for(date(2025, 12, 1))).rule_set == "CMS-PFS-2025"
    assert evaluate_month(facts_for(date(2026, 1, 1))).rule_set == "CMS-PFS-2026"


def test_99445_and_99470_are_2026_codes():
    codes_2026 = {line.code for line in evaluate_month(facts_for(date(2026, 4, 1))).lines}
    codes_2025 = {line.code for line in evaluate_month(facts_for(date(2025, 4, 1))).lines}
    assert codes_2026 == {"99445", "99470"}
    assert codes_2025 == set()


def test_a_named_rule_set_overrides_the_one_in_force_and_says_so():
    result = evaluate_month(facts_for(date(2026, 4, 1), days=10), "CMS-PFS-2025")
    assert result.rule_set == "CMS-PFS-2025"
    assert result.lines == ()
    assert "RULE_SET_NOT_IN_FORCE" in result.flag_codes


def test_a_2026_code_is_never_dated_before_2026_even_under_the_2026_rule_set():
    result = evaluate_month(facts_for(date(2025, 12, 1), days=10), "CMS-PFS-2026")
    assert {line.code for line in result.lines} & CODES_NEW_IN_2026 == set()
    assert "CODE_NOT_IN_EFFECT" in result.flag_codes


def test_an_unknown_rule_set_is_bad_input():
    with pytest.raises(UnknownRuleSetError):
        evaluate_month(facts_for(date(2026, 4, 1)), "CMS-PFS-1999")


def test_a_month_before_every_rule_set_bills_nothing_and_says_why():
    result = evaluate_month(facts_for(date(2024, 6, 1)))
    assert result.lines == ()
    assert "NO_RULE_SET_IN_FORCE" in result.flag_codes


def test_g0511_is_never_a_line_and_was_optional_only_in_early_2025():
    early = evaluate_month(facts_for(date(2025, 3, 1), setting="fqhc"))
    late = evaluate_month(facts_for(date(2025, 9, 1), setting="rhc"))
    in_2026 = evaluate_month(facts_for(date(2026, 3, 1), setting="rhc"))
    assert "G0511_OPTIONAL_NOT_PRODUCED" in early.flag_codes
    assert "G0511_TRANSITION_ENDED" in late.flag_codes
    assert "G0511_NOT_VALID_2026" in in_2026.flag_codes
    for result in (early, late, in_2026):
        assert "G0511" not in {line.code for line in result.lines}


@settings(max_examples=150, deadline=None)
@given(
    programs=st.sets(st.sampled_from(ALL_PROGRAMS), min_size=1),
    minutes=st.integers(0, 120),
    days=st.integers(0, 30),
    qmb=st.booleans(),
    cocm_month_index=st.integers(1, 3),
    rtm_category=st.sampled_from(["respiratory", "musculoskeletal", "cbt"]),
)
def test_a_december_2025_month_under_its_own_rule_set_never_yields_a_2026_only_code(
    programs, minutes, days, qmb, cocm_month_index, rtm_category
):
    facts = facts_for(
        date(2025, 12, 1),
        minutes=minutes,
        days=days,
        programs=tuple(sorted(programs)),
        cocm_month_index=cocm_month_index,
        rtm_category=rtm_category,
        apcm_requirements=ApcmRequirements(True, True, True, True),
        bhi_service_elements=BhiServiceElements(True, True, True, True),
        patient=PatientFacts(True, True, 3, True, qmb, True),
    )
    result = evaluate_month(facts)
    assert result.rule_set == "CMS-PFS-2025"
    assert {line.code for line in result.lines} & CODES_NEW_IN_2026 == set()
