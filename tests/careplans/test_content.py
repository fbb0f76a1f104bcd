"""Care-plan content as plain values: thresholds, not-applicable reasons, completeness, diff."""

from __future__ import annotations

from typing import Any

from careledger.careplans.content import (
    ELEMENTS,
    diff,
    goal_targets_changed,
    missing_elements,
    parse_content,
    to_dict,
)


def _goal(**threshold: Any) -> dict[str, Any]:
    base = {"metric": "systolic", "comparator": "above", "warning": 135, "critical": 180}
    return {
        "key": "bp",
        "what": "Blood pressure",
        "target": "below 135/85",
        "thresholds": [{**base, "unit": "mm[Hg]", **threshold}],
    }


def test_a_sensible_threshold_is_accepted_and_round_trips() -> None:
    content, errors = parse_content({"goals": [_goal()]})
    assert errors == {}
    again, errors = parse_content(to_dict(content))
    assert errors == {} and again == content


def test_an_impossible_systolic_level_is_refused_with_its_field() -> None:
    _content, errors = parse_content({"goals": [_goal(warning=1350)]})
    assert list(errors) == ["goals[0].thresholds[0].warning"]
    assert "not a possible systolic blood pressure" in errors["goals[0].thresholds[0].warning"][0]


def test_a_wrong_unit_is_refused_with_its_field() -> None:
    _content, errors = parse_content({"goals": [_goal(unit="mg/dL")]})
    assert "goals[0].thresholds[0].unit" in errors


def test_a_critical_level_milder_than_the_warning_is_refused() -> None:
    _content, errors = parse_content({"goals": [_goal(warning=150, critical=140)]})
    assert errors == {
        "goals[0].thresholds[0].critical": ["The critical level must be higher than the warning."]
    }


def test_spo2_alerts_only_below_a_level_and_weight_gain_only_above() -> None:
    _c, errors = parse_content(
        {"goals": [_goal(metric="spo2", comparator="above", warning=90, critical=95, unit="%")]}
    )
    assert "goals[0].thresholds[0].comparator" in errors
    _c, errors = parse_content(
        {
            "goals": [
                _goal(
                    metric="weight_gain_24h",
                    comparator="above",
                    warning=2,
                    critical=3,
                    unit="[lb_av]",
                )
            ]
        }
    )
    assert errors == {}


def test_a_non_number_level_is_refused() -> None:
    _c, errors = parse_content({"goals": [_goal(warning="high")]})
    assert errors["goals[0].thresholds[0].warning"] == ["Enter a number."]


def test_not_applicable_needs_a_reason() -> None:
    _c, errors = parse_content({"elements": {"caregiver_assessment": {"not_applicable": True}}})
    assert errors == {
        "elements.caregiver_assessment.reason": ["Say why this element does not apply."]
    }


def test_an_empty_plan_misses_every_element_in_ccm_8_order() -> None:
    missing = missing_elements(parse_content({})[0])
    assert [key for key, _ in missing] == [e.key for e in ELEMENTS]


def test_an_element_marked_not_applicable_with_a_reason_is_not_missing() -> None:
    content, _ = parse_content(
        {"elements": {"caregiver_assessment": {"not_applicable": True, "reason": "Lives alone."}}}
    )
    assert "caregiver_assessment" not in dict(missing_elements(content))


def test_a_changed_goal_target_is_noticed_and_a_changed_note_is_not() -> None:
    before, _ = parse_content({"goals": [_goal()]})
    after, _ = parse_content({"goals": [{**_goal(), "target": "below 130/80"}]})
    assert goal_targets_changed(before, after) == ["blood pressure"]
    assert goal_targets_changed(before, before) == []


def test_the_diff_marks_only_changed_elements() -> None:
    left, _ = parse_content({"elements": {"symptom_management": "Check daily."}})
    right, _ = parse_content({"elements": {"symptom_management": "Check twice daily."}})
    changed = [row.label for row in diff(left, right) if row.changed]
    assert changed == ["Symptom management"]
