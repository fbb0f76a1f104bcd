"""Malformed scenarios are rejected with the offending field named; odd but valid ones are not."""

import copy
import json
from pathlib import Path

import pytest

from careledger.rules.scenario import ScenarioError, parse_scenario

SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "domain" / "scenarios"


@pytest.fixture
def valid():
    return json.loads((SCENARIOS_DIR / "CCM-RPM-SEPARATE.json").read_text(encoding="utf-8"))


def broken(data, path, value):
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


MALFORMED = [
    (("service_month",), KeyError, "service_month"),
    (("time_entries",), KeyError, "time_entries"),
    (("consent",), KeyError, "consent"),
    (("service_month",), "2026-13", "service_month"),
    (("service_month",), "April 2026", "service_month"),
    (("practice_timezone",), "Mars/Olympus_Mons", "practice_timezone"),
    (("setting",), "hospital", "setting"),
    (("programs",), ["CCM", "TCM"], "programs[1]"),
    (("consent", "CCM"), "2026-02-30", "consent.CCM"),
    (("consent", "XYZ"), "2026-01-05", "consent.XYZ"),
    (("patient", "chronic_conditions"), "three", "patient.chronic_conditions"),
    (("patient", "qmb"), "no", "patient.qmb"),
    (("time_entries", 0, "start"), "2026-04-06T10:00:00", "time_entries[0].start"),
    (("time_entries", 0, "start"), "yesterday", "time_entries[0].start"),
    (("time_entries", 0, "minutes"), -5, "time_entries[0].minutes"),
    (("time_entries", 0, "minutes"), "12", "time_entries[0].minutes"),
    (("time_entries", 0, "kind"), "fax", "time_entries[0].kind"),
    (("time_entries", 0, "role"), "intern", "time_entries[0].role"),
    (("time_entries", 0, "program"), "TCM", "time_entries[0].program"),
    (("time_entries", 1, "program"), KeyError, "time_entries[1].program"),
    (("device_periods", 0, "period_end"), "2026-03-01", "device_periods[0].period_end"),
    (("device_periods", 0, "program"), "CCM", "device_periods[0].program"),
    (
        ("device_periods", 0, "auto_reading_day_count"),
        -1,
        "device_periods[0].auto_reading_day_count",
    ),
    (("care_plan", "comprehensive_care_plan"), "draft", "care_plan.comprehensive_care_plan"),
    (("rtm_category",), "cardiac", "rtm_category"),
]


@pytest.mark.parametrize(("path", "value", "field"), MALFORMED, ids=[m[2] for m in MALFORMED])
def test_a_malformed_scenario_names_the_offending_field(valid, path, value, field):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(broken(valid, path, value))
    assert caught.value.field == field
    assert field in str(caught.value)


def test_a_scenario_that_is_not_an_object_is_malformed():
    with pytest.raises(ScenarioError):
        parse_scenario(["not", "an", "object"])


def test_a_list_valued_program_is_not_malformed(valid):
    data = broken(valid, ("time_entries", 0, "program"), ["RPM", "CCM"])
    facts = parse_scenario(data)
    assert facts.time_entries[0].program == ("RPM", "CCM")


def test_documentation_keys_and_unknown_extra_keys_are_ignored(valid):
    valid["something_new"] = {"nested": True}
    assert parse_scenario(valid).service_month == "2026-04"


def test_optional_keys_take_their_documented_defaults(valid):
    for key in (
        "care_plan",
        "device_periods",
        "other_practitioner_claims",
        "rpm_setup_already_billed",
    ):
        valid.pop(key, None)
    facts = parse_scenario(valid)
    assert not facts.comprehensive_care_plan
    assert facts.device_periods == ()
    assert facts.other_practitioner_claims == ()
    assert not facts.rpm_setup_already_billed
    assert facts.complex_ccm is None
    assert facts.apcm_requirements is None


def test_a_utc_z_suffix_is_an_offset(valid):
    valid["time_entries"][0]["start"] = "2026-04-06T15:00:00Z"
    assert parse_scenario(valid).time_entries[0].start_at.utcoffset() is not None
