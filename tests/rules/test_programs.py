"""Preconditions, role rules, calendar policy and cross-program conflicts, one behaviour each."""

from dataclasses import replace
from datetime import date

from careledger.rules import evaluate_month
from careledger.rules.explain import explain
from careledger.rules.scenario import parse_scenario
from careledger.rules.schedules.base import Policies
from careledger.rules.schedules.cms_pfs_2026 import CMS_PFS_2026


def scenario(programs, *, entries=(), periods=(), claims=(), **extra):
    """Return an April 2026 scenario dict with every precondition met for ``programs``."""
    data = {
        "service_month": "2026-04",
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
        "consent": {program: "2026-01-05" for program in programs},
        "care_plan": {
            "comprehensive_care_plan": "current_and_shared_with_patient",
            "disease_specific_care_plan": "current_and_shared_with_patient",
        },
        "apcm_requirements": {
            "24_7_access": True,
            "continuity": True,
            "care_plan": True,
            "responsible_for_primary_care": True,
        },
        "rpm_setup_already_billed": True,
        "rtm_setup_already_billed": True,
        "rtm_category": "respiratory",
        "cocm_month_index": 1,
        "device_periods": list(periods),
        "other_practitioner_claims": list(claims),
        "time_entries": list(entries),
    }
    data.update(extra)
    return data


def entry(minutes, program, *, role="clinical_staff", kind="interactive_call", start=None):
    return {
        "start": start or "2026-04-06T10:00:00-05:00",
        "minutes": minutes,
        "kind": kind,
        "role": role,
        "program": program,
    }


def evaluate(data, **kwargs):
    return evaluate_month(parse_scenario(data), **kwargs)


def codes(result):
    return {line.code: line.units for line in result.lines}


def test_non_clinical_time_never_counts():
    result = evaluate(scenario(["CCM"], entries=[entry(45, "CCM", role="non_clinical")]))
    assert codes(result) == {}
    assert result.minutes_by_program["CCM"] == 0
    assert "ROLE_TIME_NOT_COUNTABLE" in result.flag_codes


def test_cocm_counts_only_the_behavioral_health_care_managers_time():
    entries = [entry(40, "CoCM", role="clinical_staff"), entry(20, "CoCM", role="bh_care_manager")]
    result = evaluate(scenario(["CoCM"], entries=entries))
    assert codes(result) == {"G2214": 1}
    assert result.minutes_by_program["CoCM"] == 20


def test_time_before_the_consent_date_does_not_count():
    entries = [
        entry(15, "CCM", start="2026-04-03T10:00:00-05:00"),
        entry(15, "CCM", start="2026-04-20T10:00:00-05:00"),
    ]
    data = scenario(["CCM"], entries=entries, consent={"CCM": "2026-04-10"})
    result = evaluate(data)
    assert codes(result) == {}
    assert result.minutes_by_program["CCM"] == 15
    assert "TIME_BEFORE_CONSENT" in result.flag_codes


def test_consent_dated_after_the_service_month_is_missing_consent():
    data = scenario(["CCM"], entries=[entry(25, "CCM")], consent={"CCM": "2026-05-02"})
    result = evaluate(data)
    assert codes(result) == {}
    assert "MISSING_CONSENT" in result.flag_codes


def test_a_missing_patient_fact_raises_fact_unknown_and_bills_nothing_that_needs_it():
    data = scenario(["RPM", "CCM"], entries=[entry(25, "RPM"), entry(25, "CCM")])
    del data["patient"]["established_patient"]
    result = evaluate(data)
    assert codes(result) == {"99490": 1}
    assert any(f.code == "FACT_UNKNOWN" and f.program == "RPM" for f in result.flags)


def test_a_patient_outside_medicare_fee_for_service_gets_no_lines():
    data = scenario(["CCM"], entries=[entry(25, "CCM")])
    data["patient"]["medicare_ffs"] = False
    result = evaluate(data)
    assert result.lines == ()
    assert "NOT_MEDICARE_FFS" in result.flag_codes


def test_ccm_needs_two_chronic_conditions():
    data = scenario(["CCM"], entries=[entry(25, "CCM")])
    data["patient"]["chronic_conditions"] = 1
    result = evaluate(data)
    assert codes(result) == {}
    assert "NOT_ELIGIBLE" in result.flag_codes


def test_ccm_needs_an_initiating_visit_when_not_seen_in_12_months():
    data = scenario(["CCM"], entries=[entry(25, "CCM")])
    data["patient"]["seen_by_billing_practitioner_within_12_months"] = False
    result = evaluate(data)
    assert codes(result) == {}
    assert "MISSING_INITIATING_VISIT" in result.flag_codes


def test_pcm_needs_a_disease_specific_care_plan():
    data = scenario(["PCM"], entries=[entry(35, "PCM")])
    data["care_plan"]["disease_specific_care_plan"] = "none"
    result = evaluate(data)
    assert codes(result) == {}
    assert "MISSING_CARE_PLAN" in result.flag_codes


def test_a_secure_message_counts_as_time_but_never_as_live_contact():
    entries = [entry(25, "RPM", kind="secure_message")]
    result = evaluate(scenario(["RPM"], entries=entries))
    assert codes(result) == {}
    assert result.minutes_by_program["RPM"] == 25
    assert "NO_INTERACTIVE_COMMUNICATION" in result.flag_codes


def test_a_video_visit_is_live_contact():
    result = evaluate(scenario(["RPM"], entries=[entry(20, "RPM", kind="video")]))
    assert codes(result) == {"99457": 1}


def test_rtm_treatment_management_needs_live_contact():
    result = evaluate(scenario(["RTM"], entries=[entry(25, "RTM", kind="data_review")]))
    assert codes(result) == {}
    assert "NO_INTERACTIVE_COMMUNICATION" in result.flag_codes


def test_rtm_does_not_need_an_established_patient():
    data = scenario(["RTM"], entries=[entry(20, "RTM")])
    data["patient"]["established_patient"] = False
    assert codes(evaluate(data)) == {"98980": 1}


def test_rtm_without_a_category_bills_no_device_supply_but_still_bills_time():
    period = {
        "program": "RTM",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "auto_reading_day_count": 20,
    }
    data = scenario(["RTM"], entries=[entry(20, "RTM")], periods=[period])
    del data["rtm_category"]
    result = evaluate(data)
    assert codes(result) == {"98980": 1}
    assert "FACT_UNKNOWN" in result.flag_codes


def test_ccm_and_pcm_by_the_same_practitioner_are_both_held_for_a_choice():
    entries = [entry(25, "CCM"), entry(35, "PCM")]
    result = evaluate(scenario(["CCM", "PCM"], entries=entries))
    assert codes(result) == {}
    assert "CCM_PCM_SAME_PRACTITIONER_CONFLICT" in result.flag_codes


def test_ccm_with_pcm_billed_by_another_practitioner_is_flagged_but_billed():
    claim = {
        "practitioner": "P9",
        "code": "99426",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
    }
    result = evaluate(scenario(["CCM"], entries=[entry(25, "CCM")], claims=[claim]))
    assert codes(result) == {"99490": 1}
    assert "CCM_PCM_SAME_PRACTITIONER_CONFLICT" in result.flag_codes


def test_ccm_billed_by_another_practitioner_this_month_holds_ours():
    claim = {
        "practitioner": "P9",
        "code": "99490",
        "period_start": "2026-04-30",
        "period_end": "2026-04-30",
    }
    result = evaluate(scenario(["CCM"], entries=[entry(25, "CCM")], claims=[claim]))
    assert codes(result) == {}
    assert "CCM_BILLED_BY_OTHER_PRACTITIONER" in result.flag_codes


def test_general_bhi_and_cocm_in_one_month_are_both_held():
    entries = [entry(25, "BHI"), entry(40, "CoCM", role="bh_care_manager")]
    result = evaluate(scenario(["BHI", "CoCM"], entries=entries))
    assert codes(result) == {}
    assert "BHI_COCM_SAME_MONTH_CONFLICT" in result.flag_codes


def test_apcm_with_all_bhi_elements_bills_g0570_and_suppresses_99484():
    elements = dict.fromkeys(
        ("validated_rating_scale", "bh_care_plan", "treatment_coordination", "continuity"), True
    )
    data = scenario(["APCM", "BHI"], entries=[entry(25, "BHI")], bhi_service_elements=elements)
    result = evaluate(data)
    assert codes(result) == {"G0557": 1, "G0570": 1}
    assert "99484_SUPPRESSED_BY_APCM_BH_ADDON" in result.flag_codes


def test_apcm_without_the_bhi_elements_leaves_99484_to_its_minutes():
    result = evaluate(scenario(["APCM", "BHI"], entries=[entry(25, "BHI")]))
    assert codes(result) == {"G0557": 1, "99484": 1}


def test_apcm_with_cocm_bills_the_first_month_add_on_instead_of_99492():
    entries = [entry(40, "CoCM", role="bh_care_manager")]
    result = evaluate(scenario(["APCM", "CoCM"], entries=entries))
    assert codes(result) == {"G0557": 1, "G0568": 1}


def test_apcm_add_ons_do_not_exist_in_2025():
    data = scenario(
        ["APCM", "CoCM"],
        service_month="2025-04",
        consent={"APCM": "2025-01-05", "CoCM": "2025-01-05"},
    )
    data["time_entries"] = [
        entry(40, "CoCM", role="bh_care_manager", start="2025-04-06T10:00:00-05:00")
    ]
    assert codes(evaluate(data)) == {"G0557": 1, "99492": 1}


def test_apcm_level_follows_chronic_conditions_and_qmb():
    one = scenario(["APCM"])
    one["patient"]["chronic_conditions"] = 1
    qmb = scenario(["APCM"])
    qmb["patient"]["qmb"] = True
    unknown = scenario(["APCM"])
    del unknown["patient"]["qmb"]
    assert codes(evaluate(one)) == {"G0556": 1}
    assert codes(evaluate(qmb)) == {"G0558": 1}
    assert codes(evaluate(unknown)) == {}
    assert "FACT_UNKNOWN" in evaluate(unknown).flag_codes


def test_apcm_needs_its_practice_requirements():
    data = scenario(["APCM"])
    data["apcm_requirements"]["24_7_access"] = False
    result = evaluate(data)
    assert codes(result) == {}
    assert "APCM_REQUIREMENTS_NOT_MET" in result.flag_codes


def test_pcm_is_bundled_into_apcm_for_the_same_practitioner():
    result = evaluate(scenario(["APCM", "PCM"], entries=[entry(35, "PCM")]))
    assert codes(result) == {"G0557": 1}
    assert any(
        f.code == "CCM_BUNDLED_IN_APCM_SAME_PRACTITIONER" and f.program == "PCM"
        for f in result.flags
    )


def test_a_device_period_is_billed_in_the_month_that_contains_its_end():
    period = {
        "program": "RPM",
        "period_start": "2026-03-20",
        "period_end": "2026-04-18",
        "auto_reading_day_count": 20,
    }
    april = evaluate(scenario(["RPM"], periods=[period]))
    march = evaluate(scenario(["RPM"], periods=[period], service_month="2026-03"))
    assert [(line.code, line.dos) for line in april.lines] == [("99454", date(2026, 4, 18))]
    assert march.lines == ()


def test_reading_days_are_the_union_of_distinct_dates_across_devices():
    devices = [
        {"device": "bp", "auto_reading_dates": [f"2026-04-{d:02d}" for d in range(1, 11)]},
        {"device": "scale", "auto_reading_dates": [f"2026-04-{d:02d}" for d in range(5, 17)]},
    ]
    period = {
        "program": "RPM",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "devices": devices,
    }
    result = evaluate(scenario(["RPM"], periods=[period]))
    assert codes(result) == {"99454": 1}
    assert result.programs["RPM"].reading_days == 16


def test_a_device_period_that_is_not_30_days_is_held():
    period = {
        "program": "RPM",
        "period_start": "2026-04-01",
        "period_end": "2026-04-20",
        "auto_reading_day_count": 18,
    }
    result = evaluate(scenario(["RPM"], periods=[period]))
    assert codes(result) == {}
    assert "DEVICE_PERIOD_NOT_30_DAYS" in result.flag_codes


def test_rpm_and_rtm_billed_by_another_practitioner_conflict():
    claim = {
        "practitioner": "P9",
        "code": "98977",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
    }
    result = evaluate(scenario(["RPM"], entries=[entry(20, "RPM")], claims=[claim]))
    assert codes(result) == {}
    assert "RPM_RTM_SAME_PERIOD_CONFLICT" in result.flag_codes


def test_an_entry_tagged_to_several_programs_is_left_out_and_named():
    entries = [entry(25, ["CCM", "RPM"]), entry(20, "CCM", start="2026-04-09T10:00:00-05:00")]
    result = evaluate(scenario(["CCM", "RPM"], entries=entries))
    assert codes(result) == {"99490": 1}
    flag = next(f for f in result.flags if f.code == "TIME_ENTRY_MULTI_PROGRAM")
    assert "time_entries[0]" in flag.message


def test_the_month_bucket_uses_the_practice_time_zone():
    late_march_in_new_york = entry(20, "CCM", start="2026-04-01T03:30:00+00:00")
    new_york = scenario(
        ["CCM"], entries=[late_march_in_new_york], practice_timezone="America/New_York"
    )
    utc = scenario(["CCM"], entries=[late_march_in_new_york], practice_timezone="UTC")
    assert codes(evaluate(new_york)) == {}
    assert codes(evaluate(utc)) == {"99490": 1}


def test_an_entry_across_a_dst_change_counts_its_real_duration():
    # 2026-03-08 02:00 does not exist in Chicago; 01:30 CST + 60 min is 03:30 CDT.
    data = scenario(
        ["CCM"],
        service_month="2026-03",
        entries=[entry(20, "CCM", start="2026-03-08T01:30:00-06:00")],
    )
    result = evaluate(data)
    assert result.minutes_by_program["CCM"] == 20
    assert [line.dos for line in result.lines] == [date(2026, 3, 31)]


def test_ccm_date_of_service_can_be_the_day_the_threshold_was_met():
    entries = [
        entry(12, "CCM", start="2026-04-03T10:00:00-05:00"),
        entry(12, "CCM", start="2026-04-14T10:00:00-05:00"),
    ]
    facts = parse_scenario(scenario(["CCM"], entries=entries))
    on_threshold_day = replace(CMS_PFS_2026, policies=Policies(ccm_dos_on_threshold_day=True))
    assert evaluate_month(facts).lines[0].dos == date(2026, 4, 30)
    assert evaluate_month(facts, on_threshold_day).lines[0].dos == date(2026, 4, 14)


def test_as_of_counts_only_time_up_to_that_day_and_shows_the_next_threshold():
    entries = [
        entry(12, "RPM", start="2026-04-03T10:00:00-05:00"),
        entry(12, "RPM", kind="data_review", start="2026-04-20T10:00:00-05:00"),
    ]
    facts = parse_scenario(scenario(["RPM"], entries=entries))
    summary = evaluate_month(facts, as_of=date(2026, 4, 10)).programs["RPM"]
    assert summary.minutes == 12
    assert summary.interactive_contact
    assert summary.next_threshold is not None
    assert (summary.next_threshold.code, summary.next_threshold.minutes_needed) == ("99457", 8)


def test_the_dashboard_shows_reading_days_still_needed_for_99454():
    period = {
        "program": "RPM",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "auto_reading_day_count": 11,
    }
    summary = evaluate(scenario(["RPM"], periods=[period])).programs["RPM"]
    assert summary.next_device_threshold is not None
    assert summary.next_device_threshold.as_dict() == {"code": "99454", "reading_days_needed": 5}


def test_99439_stops_at_two_units_and_has_no_next_threshold():
    result = evaluate(scenario(["CCM"], entries=[entry(95, "CCM")]))
    assert codes(result) == {"99490": 1, "99439": 2}
    assert result.programs["CCM"].next_threshold is None


def test_the_explanation_names_each_line_and_each_reason():
    data = scenario(["RPM"], entries=[entry(25, "RPM", kind="data_review")])
    text = explain(evaluate(data))
    assert "Nothing is billable" in text
    assert "NO_INTERACTIVE_COMMUNICATION (rule RPM-6)" in text
    assert "CMS-PFS-2026" in text
