"""Visits: the form, the API and the CSV import; each leaves its audit event (RPM-10, CCM-7)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careledger.audit.models import AuditEvent
from careledger.patients.models import Visit
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def test_a_visit_is_recorded_through_the_page(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "coordinator")
    url = f"/patients/{world.patient.pk}/visits/new/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "practitioner": world.user("practitioner").pk,
            "visited_on": "2026-01-05",
            "kind": "em",
            "em_level": "3",
        },
    )
    assert response.status_code == 302
    assert Visit.objects.get(patient=world.patient).em_level == 3
    assert AuditEvent.objects.filter(event="visit.recorded").count() == 1


def test_an_em_visit_without_its_level_is_refused_on_the_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "coordinator")
    response = client.post(
        f"/patients/{world.patient.pk}/visits/new/",
        {"practitioner": world.user("practitioner").pk, "visited_on": "2026-01-05", "kind": "em"},
    )
    assert response.status_code == 200
    assert "em_level" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_another_practices_patient_has_no_visit_form(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world, "coordinator")
    assert client.get(f"/patients/{other_world.patient.pk}/visits/new/").status_code == 404


def test_the_api_records_and_lists_visits(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("coordinator"))
    url = f"/api/v1/patients/{world.patient.pk}/visits"
    body = {
        "practitioner_id": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
    }
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["practitioner"] == world.user("practitioner").username
    listed = client.get(url).json()
    assert listed["count"] == 1
    refused = client.post(
        url,
        {**body, "practitioner_id": world.user("coordinator").pk},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "practitioner"


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "visits.csv"
    path.write_text("mrn,practitioner,visited_on,kind,em_level\n" + "\n".join(rows) + "\n")
    return path


def test_the_import_stores_every_row_or_none(world: PracticeWorld, tmp_path: Path) -> None:
    doctor = world.user("practitioner").username
    good = _csv(tmp_path, f"A1000,{doctor},2026-01-05,em,3", f"A1000,{doctor},2025-11-02,awv,")
    out = io.StringIO()
    call_command("import_visits", str(good), "--practice", "riverside", stdout=out)
    assert out.getvalue().strip() == "stored 2 visits in riverside"
    assert Visit.objects.count() == 2
    assert AuditEvent.objects.filter(event="visit.imported").count() == 1

    bad = _csv(
        tmp_path,
        f"A1000,{doctor},2026-02-05,em,3",
        f"NOPE,{doctor},2026-02-06,em,3",
        f"A1000,{doctor},2026-02-31,em,3",
        "A1000,riverside-coordinator,2026-02-07,awv,",
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_visits", str(bad), "--practice", "riverside", stderr=err)
    assert caught.value.returncode == 2
    report = err.getvalue()
    assert "line 3, field mrn" in report
    assert "line 4, field visited_on" in report
    assert "line 5, field practitioner" in report
    assert Visit.objects.count() == 2
