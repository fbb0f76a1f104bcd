"""``careledger import-readings``: CSV and FHIR Bundles, all or nothing (cases 12, 25)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.devices import ingest
from careledger.devices.models import Reading, ReadingBatch
from tests.devices.conftest import Monitored

pytestmark = pytest.mark.django_db

HEADER = (
    "device_serial,vendor_reading_id,measured_at,type,systolic,diastolic,pulse,value,unit,source"
)


def _when(hours: int) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "readings.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _rows(rpm: Monitored, count: int) -> list[str]:
    return [
        f"{rpm.cuff.serial},csv-{n},{_when(n + 1)},blood_pressure,{120 + n % 10},80,70,,"
        "mm[Hg],automatic"
        for n in range(count)
    ]


def _run(path: Path, *args: str) -> dict[str, Any]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(
        "import_readings", str(path), "--practice", "riverside", *args, stdout=out, stderr=err
    )
    return json.loads(out.getvalue())


def test_a_csv_file_is_stored_and_a_second_run_stores_nothing_new(
    rpm: Monitored, tmp_path: Path
) -> None:
    path = _csv(tmp_path, _rows(rpm, 5))
    assert _run(path)["stored"] == 5
    again = _run(path)
    assert (again["stored"], again["duplicates"]) == (0, 5)
    assert Reading.objects.count() == 5
    assert AuditEvent.objects.filter(event="reading.imported").count() == 2


def test_a_dry_run_stores_nothing(rpm: Monitored, tmp_path: Path) -> None:
    summary = _run(_csv(tmp_path, _rows(rpm, 3)), "--dry-run")
    assert summary["dry_run"] is True
    assert Reading.objects.count() == 0


def test_one_bad_row_refuses_the_whole_file_and_names_the_line(
    rpm: Monitored, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(rpm, 3)
    rows.append(f"{rpm.cuff.serial},csv-bad,{_when(1)},blood_pressure,abc,80,70,,mm[Hg],automatic")
    with pytest.raises(CommandError) as caught:
        call_command("import_readings", str(_csv(tmp_path, rows)), "--practice", "riverside")
    assert caught.value.returncode == 2
    assert Reading.objects.count() == 0
    assert ReadingBatch.objects.count() == 0
    assert AuditEvent.objects.filter(event="reading.import_refused").count() == 1


def test_a_crash_part_way_through_leaves_nothing_and_a_rerun_completes_it(
    rpm: Monitored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path, _rows(rpm, 10))
    real_store = ingest._store
    calls = {"n": 0}

    def crash_on_third_chunk(batch: Any, readings: list[Reading]) -> list[Reading]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_store(batch, readings)

    monkeypatch.setattr(ingest, "CHUNK", 3)
    monkeypatch.setattr(ingest, "_store", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        _run(path)
    assert calls["n"] == 3
    assert Reading.objects.count() == 0
    assert ReadingBatch.objects.count() == 0

    monkeypatch.setattr(ingest, "_store", real_store)
    assert _run(path)["stored"] == 10
    assert _run(path)["duplicates"] == 10
    assert Reading.objects.count() == 10


def _observation(ident: str, code: str, serial: str, **extra: Any) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{ident}",
        "resource": {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/1"},
            "effectiveDateTime": _when(2),
            "device": {"identifier": {"value": serial}},
            **extra,
        },
    }


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def _bundle(rpm: Monitored, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    entries = [
        _observation(
            "bp-1",
            "85354-9",
            rpm.cuff.serial,
            component=[
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                    "valueQuantity": _quantity(134, "mm[Hg]"),
                },
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                    "valueQuantity": _quantity(86, "mm[Hg]"),
                },
            ],
        ),
        _observation("wt-1", "29463-7", rpm.scale.serial, valueQuantity=_quantity(200, "[lb_av]")),
        _observation("gl-1", "2339-0", rpm.meter.serial, valueQuantity=_quantity(6.5, "mmol/L")),
        _observation("gl-2", "41653-7", rpm.meter.serial, valueQuantity=_quantity(118, "mg/dL")),
        _observation("ox-1", "59408-5", rpm.oximeter.serial, valueQuantity=_quantity(96, "%")),
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries + (extra or [])}


def test_a_fhir_bundle_of_vital_signs_is_imported_with_units_converted(
    rpm: Monitored, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(rpm)))
    assert _run(path)["stored"] == 5
    by_id = {r.vendor_reading_id: r for r in Reading.objects.all()}
    assert (by_id["bp-1"].systolic, by_id["bp-1"].diastolic) == (134, 86)
    assert by_id["wt-1"].value == pytest.approx(90.718, abs=0.001)
    assert (by_id["wt-1"].original_value, by_id["wt-1"].original_unit) == (200, "[lb_av]")
    assert by_id["gl-1"].value == pytest.approx(117.1, abs=0.05)
    assert by_id["ox-1"].value == 96


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"status": "preliminary"}, "status"),
        ({"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}}, "code"),
        ({"code": {"coding": [{"system": "http://snomed.info/sct", "code": "29463-7"}]}}, "code"),
    ],
)
def test_an_observation_careledger_does_not_read_refuses_the_bundle(
    rpm: Monitored, tmp_path: Path, change: dict[str, Any], why: str
) -> None:
    bad = _observation("x-1", "29463-7", rpm.scale.serial, valueQuantity=_quantity(80, "kg"))
    bad["resource"].update(change)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(rpm, [bad])))
    with pytest.raises(CommandError):
        _run(path)
    assert Reading.objects.count() == 0


@pytest.mark.parametrize(
    "document",
    [
        {"resourceType": "Patient", "id": "p"},
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
        {"resourceType": "Bundle", "type": "not-a-bundle-type"},
    ],
)
def test_hostile_fhir_is_refused_as_a_whole(
    rpm: Monitored, tmp_path: Path, document: dict[str, Any]
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError) as caught:
        _run(path)
    assert caught.value.returncode == 2
    assert Reading.objects.count() == 0


def test_deeply_nested_json_is_refused(rpm: Monitored, tmp_path: Path) -> None:
    nested: dict[str, Any] = {"a": 1}
    for _ in range(100):
        nested = {"x": nested}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "extra": nested}))
    with pytest.raises(CommandError):
        _run(path)
