"""Case 12: a hostile FHIR import — unknown elements, the wrong resourceType, codes outside the
value set, references to another practice's device, 50 MB and deeply nested JSON.

Pass: an OperationOutcome error (on the command's JSON output), exit code 2, and nothing
partially committed: no reading, no batch, only the refusal's audit event.
"""

from __future__ import annotations

import json
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careledger.audit.models import AuditEvent
from careledger.devices.importer import MAX_FHIR_BYTES, operation_outcome
from careledger.devices.models import Reading, ReadingBatch
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, monitor
from tests.devices.test_import_readings import _bundle, _observation, _quantity

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.fixture
def b_rpm(other_world: PracticeWorld) -> Monitored:
    return monitor(other_world, slug="acme-lakeside", serial_prefix="LK")


def _refused(path: Path) -> dict[str, Any]:
    """Run the import expecting refusal; return its OperationOutcome."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_readings", str(path), "--practice", "riverside", stdout=out, stderr=err
        )
    assert caught.value.returncode == 2
    summary = json.loads(out.getvalue())
    assert summary["stored"] == 0 and summary["errors"] >= 1
    outcome = summary["outcome"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"] and all(i["severity"] == "error" for i in outcome["issue"])
    assert all(i["diagnostics"] and i["code"] and i["expression"] for i in outcome["issue"])
    return outcome


def _nothing_committed() -> None:
    assert Reading.objects.count() == 0
    assert ReadingBatch.objects.count() == 0
    assert not AuditEvent.objects.filter(event="reading.imported").exists()
    assert AuditEvent.objects.filter(event="reading.import_refused").exists()


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document))
    return path


def _bad_entry(rpm: Monitored, **change: Any) -> dict[str, Any]:
    entry = _observation("x-1", "29463-7", rpm.scale.serial, valueQuantity=_quantity(80, "kg"))
    entry["resource"].update(change)
    return entry


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"status": "totally-made-up"}, "code-invalid", "status"),
        ({"status": "preliminary"}, "code-invalid", "status"),
        (
            {"code": {"coding": [{"system": "http://loinc.org", "code": "NOT-A-CODE"}]}},
            "code-invalid",
            "code",
        ),
    ],
)
def test_a_code_outside_the_value_set_refuses_the_whole_bundle(
    rpm: Monitored, tmp_path: Path, change: dict[str, Any], code: str, field: str
) -> None:
    # Five good Observations and one bad one: the good ones are not stored either.
    outcome = _refused(_write(tmp_path, _bundle(rpm, [_bad_entry(rpm, **change)])))
    assert [(i["code"], i["expression"]) for i in outcome["issue"]] == [
        (code, [f"Bundle.entry[5].resource.{field}"])
    ]
    _nothing_committed()


@pytest.mark.parametrize(
    "document",
    [
        {"resourceType": "Patient", "id": "p"},
        {"resourceType": "Bundle", "type": "not-a-bundle-type"},
        {"resourceType": "Bundle", "type": "collection", "madeUpElement": True},
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {},
                        "madeUp": 1,
                    }
                }
            ],
        },
        {"resourceType": ["Bundle"]},
    ],
)
def test_wrong_resource_types_and_unknown_elements_refuse_the_file(
    rpm: Monitored, tmp_path: Path, document: Any
) -> None:
    outcome = _refused(_write(tmp_path, document))
    assert outcome["issue"][0]["code"] == "structure"
    _nothing_committed()


def test_an_entry_of_the_wrong_resource_type_refuses_the_bundle(
    rpm: Monitored, tmp_path: Path
) -> None:
    patient_entry = {"resource": {"resourceType": "Patient", "id": "someone"}}
    outcome = _refused(_write(tmp_path, _bundle(rpm, [patient_entry])))
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[5].resource.resourceType"]
    _nothing_committed()


@pytest.mark.parametrize("by", ["serial", "reference"])
def test_a_reference_to_another_practices_device_refuses_the_bundle(
    rpm: Monitored, b_rpm: Monitored, tmp_path: Path, by: str
) -> None:
    foreign = _observation("b-1", "29463-7", b_rpm.scale.serial, valueQuantity=_quantity(80, "kg"))
    if by == "reference":
        foreign["resource"]["device"] = {"reference": f"Device/{b_rpm.scale.pk}"}
    outcome = _refused(_write(tmp_path, _bundle(rpm, [foreign])))
    assert outcome["issue"][0]["code"] == "not-found"
    assert b_rpm.scale.serial not in json.dumps(outcome)
    _nothing_committed()


def test_a_bundle_over_50_mb_is_refused_before_it_is_parsed(rpm: Monitored, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    with path.open("wb") as handle:
        handle.write(b'{"resourceType": "Bundle", "type": "collection", "pad": "')
        handle.write(b"x" * MAX_FHIR_BYTES)
        handle.write(b'"}')
    started = time.monotonic()
    outcome = _refused(path)
    assert time.monotonic() - started < 5
    assert "50 MB" in outcome["issue"][0]["diagnostics"]
    _nothing_committed()


def test_deeply_nested_json_is_refused_quickly(rpm: Monitored, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    # Nested far past the JSON parser's own recursion limit, and far past careledger's.
    path.write_text(
        '{"resourceType": "Bundle", "type": "collection", "x": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )
    started = time.monotonic()
    outcome = _refused(path)
    assert time.monotonic() - started < 5
    assert outcome["issue"][0]["code"] == "structure"
    _nothing_committed()


def test_the_operation_outcome_points_at_each_entry() -> None:
    outcome = operation_outcome([("entry 2", "status", "not final"), ("file", "file", "not JSON")])
    assert outcome == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "code-invalid",
                "diagnostics": "not final",
                "expression": ["Bundle.entry[2].resource.status"],
            },
            {
                "severity": "error",
                "code": "structure",
                "diagnostics": "not JSON",
                "expression": ["Bundle"],
            },
        ],
    }
