"""Every published patient-month scenario gives exactly its expected answer."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from careledger.rules import evaluate_month
from careledger.rules.scenario import parse_scenario

SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "domain" / "scenarios"
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.json"))


def test_the_shared_scenario_folder_is_found_beside_the_repo():
    assert SCENARIO_FILES, f"no scenarios in {SCENARIOS_DIR}"


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_scenario_gives_exactly_its_expected_lines_and_raises_its_flags(path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    result = evaluate_month(parse_scenario(scenario))

    lines = sorted((line.code, line.units, line.dos.isoformat()) for line in result.lines)
    expected = sorted((e["code"], e["units"], e["dos"]) for e in scenario["expected"])
    assert lines == expected
    assert set(scenario["expected_flags"]) <= result.flag_codes


@pytest.mark.parametrize(
    "path",
    [p for p in SCENARIO_FILES if "expected_minutes_by_month" in json.loads(p.read_text())],
    ids=lambda path: path.stem,
)
def test_scenario_counts_its_expected_minutes_in_each_local_month(path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    facts = parse_scenario(scenario)
    for month, minutes in scenario["expected_minutes_by_month"].items():
        year, month_number = (int(part) for part in month.split("-"))
        month_facts = replace(facts, month_start_on=date(year, month_number, 1))
        result = evaluate_month(month_facts)
        assert sum(result.minutes_by_program.values()) == minutes, month


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_scenario_result_is_json_serialisable_and_names_its_rule_set(path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    output = evaluate_month(parse_scenario(scenario)).as_dict()
    assert json.loads(json.dumps(output))["rule_set"] == "CMS-PFS-2026"
    assert all({"code", "units", "dos", "evidence"} <= set(line) for line in output["lines"])
    assert all({"code", "program", "message", "rule"} <= set(flag) for flag in output["flags"])
