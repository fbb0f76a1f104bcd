"""``careledger evaluate`` prints the engine's decision and rejects bad input with exit code 2."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SCENARIOS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "domain" / "scenarios"
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.json"))


def test_the_shared_scenario_folder_is_found_beside_the_repo():
    assert SCENARIO_FILES


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_evaluate_prints_exactly_the_expected_lines_and_flags_of_each_scenario(path, capsys):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    call_command("evaluate", str(path))
    output = json.loads(capsys.readouterr().out)

    lines = sorted((line["code"], line["units"], line["dos"]) for line in output["lines"])
    expected = sorted((e["code"], e["units"], e["dos"]) for e in scenario["expected"])
    assert lines == expected
    assert set(scenario["expected_flags"]) <= {flag["code"] for flag in output["flags"]}
    assert output["rule_set"] == "CMS-PFS-2026"


def test_evaluate_explain_prints_a_plain_language_account(capsys):
    call_command("evaluate", str(SCENARIOS_DIR / "RPM-VOICEMAIL-ONLY.json"), "--explain")
    text = capsys.readouterr().out
    assert "99454 x1, date of service 2026-04-30" in text
    assert "NO_INTERACTIVE_COMMUNICATION" in text


def test_evaluate_uses_a_named_rule_set(capsys):
    call_command(
        "evaluate", str(SCENARIOS_DIR / "RPM-TM-FEW-DEVICE-DAYS.json"), "--rule-set", "CMS-PFS-2025"
    )
    output = json.loads(capsys.readouterr().out)
    assert output["rule_set"] == "CMS-PFS-2025"
    assert {line["code"] for line in output["lines"]} == {"99457"}


def write(tmp_path, data):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def valid():
    return json.loads((SCENARIOS_DIR / "CCM-20.json").read_text(encoding="utf-8"))


def test_a_timestamp_without_offset_exits_2_naming_the_file_and_the_field(tmp_path):
    data = valid()
    data["time_entries"][0]["start"] = "2026-04-06T10:00:00"
    path = write(tmp_path, data)
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", str(path))
    assert caught.value.returncode == 2
    assert str(path) in str(caught.value)
    assert "time_entries[0].start" in str(caught.value)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("service_month"), "service_month"),
        (lambda d: d["time_entries"][0].update(minutes=-1), "time_entries[0].minutes"),
        (lambda d: d["time_entries"][0].update(kind="fax"), "time_entries[0].kind"),
        (lambda d: d.update(programs=["XYZ"]), "programs[0]"),
    ],
)
def test_malformed_input_exits_2_with_the_field_named(tmp_path, mutate, field):
    data = valid()
    mutate(data)
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", str(write(tmp_path, data)))
    assert caught.value.returncode == 2
    assert field in str(caught.value)


def test_a_file_that_is_not_json_exits_2(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", str(path))
    assert caught.value.returncode == 2


def test_an_unknown_rule_set_exits_2(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", str(write(tmp_path, valid())), "--rule-set", "CMS-PFS-1999")
    assert caught.value.returncode == 2
    assert "--rule-set" in str(caught.value)


def test_an_entry_tagged_to_two_programs_is_left_out_and_the_command_succeeds(tmp_path, capsys):
    data = valid()
    data["time_entries"][0]["program"] = ["CCM", "RPM"]
    call_command("evaluate", str(write(tmp_path, data)))
    output = json.loads(capsys.readouterr().out)
    assert output["lines"] == []
    assert "TIME_ENTRY_MULTI_PROGRAM" in {flag["code"] for flag in output["flags"]}
