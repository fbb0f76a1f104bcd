"""Case 15: tampering with a locked (approved) month through the UI, the API, the admin, the CLI,
a bulk import and raw ORM ``.update()``/``.delete()``.

Pass: every path is refused (database triggers as the last line), the approved lines never change,
and the only thing that may be added is an amendment, which is itself audited (ONC d4).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client

from careledger.audit.models import AuditEvent
from careledger.billing import services
from careledger.billing.amendments import accept_amendment, pending_amendments
from careledger.billing.close import close_month
from careledger.billing.models import Amendment, BillingLine, BillingMonth, PatientMonth
from careledger.locks.models import MonthLock, month_is_locked
from careledger.timelog.models import TimeEntry
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.reliability._helpers_a import SUMMARY

pytestmark = pytest.mark.django_db

APRIL_21 = datetime(2026, 4, 21, 15, 0, tzinfo=UTC)


@pytest.fixture
def locked(world: PracticeWorld):  # type: ignore[no-untyped-def]
    """An approved April with one RPM line (99457, 1 unit)."""
    patient = rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing_month = BillingMonth.objects.get(practice=world.practice)
    services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    billing_month.refresh_from_db()
    assert month_is_locked(practice=world.practice, month="2026-04")
    return patient, billing_month


def _snapshot(billing_month: BillingMonth) -> list[tuple[Any, ...]]:
    lines = BillingLine.objects.filter(billing_month=billing_month).order_by("pk")
    month = BillingMonth.objects.filter(pk=billing_month.pk).values_list("status", "close_count")
    return [*lines.values_list("pk", "code", "units", "status", "batch"), tuple(month.get())]


def test_the_pages_refuse_to_reclose_or_change_a_line(
    world: PracticeWorld,
    locked,
    login,  # type: ignore[no-untyped-def]
) -> None:
    _, billing_month = locked
    before = _snapshot(billing_month)
    line = BillingLine.objects.get(billing_month=billing_month)
    client: Client = login(world, "manager")
    for url, data in (
        ("/billing/2026-04/close/", {}),
        ("/billing/2026-04/approve/", {}),
        (f"/billing/2026-04/lines/{line.pk}/decision/", {"action": "remove", "reason": "x"}),
    ):
        response = client.post(url, data)
        assert response.status_code in (302, 400, 409, 422), url
    assert _snapshot(billing_month) == before


def test_the_api_refuses_with_409_and_changes_nothing(
    world: PracticeWorld,
    locked,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    patient, billing_month = locked
    before = _snapshot(billing_month)
    line = BillingLine.objects.get(billing_month=billing_month)
    client: Client = api_client(world.user("manager"))
    attempts = [
        ("post", "/api/v1/months/2026-04/close", {}),
        ("post", "/api/v1/months/2026-04/approve", {}),
        (
            "post",
            f"/api/v1/months/2026-04/lines/{line.pk}/decision",
            {"action": "remove", "reason": "x"},
        ),
        ("patch", f"/api/v1/months/2026-04/lines/{line.pk}", {"units": 3, "reason": "x"}),
        (
            "post",
            "/api/v1/months/2026-04/lines",
            {
                "patient_id": patient.pk,
                "program": "RPM",
                "code": "99458",
                "units": 1,
                "dos": "2026-04-30",
                "reason": "x",
            },
        ),
    ]
    for method, url, body in attempts:
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 409, (url, response.content)
    assert _snapshot(billing_month) == before


def test_the_admin_exposes_no_billing_record_to_change_or_delete(
    world: PracticeWorld,
    locked,
    admin_client,  # type: ignore[no-untyped-def]
) -> None:
    from django.contrib import admin

    for model in (BillingMonth, BillingLine, PatientMonth, Amendment, MonthLock):
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        request: Any = type("R", (), {"user": world.user("admin")})()
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    _, billing_month = locked
    line = BillingLine.objects.get(billing_month=billing_month)
    for url in (
        f"/admin/billing/billingline/{line.pk}/change/",
        f"/admin/billing/billingline/{line.pk}/delete/",
        f"/admin/billing/billingmonth/{billing_month.pk}/delete/",
    ):
        assert admin_client.post(url, {"units": 9, "post": "yes"}).status_code in (403, 404, 302)
    assert line.units == BillingLine.objects.get(pk=line.pk).units


def test_the_close_month_command_refuses_with_exit_2(world: PracticeWorld, locked) -> None:  # type: ignore[no-untyped-def]
    _, billing_month = locked
    before = _snapshot(billing_month)
    with pytest.raises(CommandError) as caught:
        call_command(
            "close_month",
            "2026-04",
            "--practice",
            "riverside",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert caught.value.returncode == 2
    assert _snapshot(billing_month) == before


def _entries_file(tmp_path: Path, reason: str) -> Path:
    path = tmp_path / "late.csv"
    path.write_text(
        "mrn,program,staff,date,start_time,end_time,minutes,kind,outcome,summary,reason\n"
        f"{{mrn}},RPM,riverside-coordinator,2026-04-21,10:00,10:25,,interactive_call,reached,"
        f'"{SUMMARY}",{reason}\n',
        encoding="utf-8",
    )
    return path


def test_a_bulk_import_into_the_locked_month_needs_a_reason_and_only_adds_an_amendment(
    world: PracticeWorld,
    locked,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    patient, billing_month = locked
    before = _snapshot(billing_month)
    entries_before = TimeEntry.objects.count()
    for reason, ok in (("", False), ("Found on the paper log", True)):
        path = _entries_file(tmp_path, reason)
        path.write_text(path.read_text().replace("{mrn}", patient.mrn))
        out, err = io.StringIO(), io.StringIO()
        if ok:
            call_command(
                "import_entries", str(path), "--practice", "riverside", stdout=out, stderr=err
            )
        else:
            with pytest.raises(CommandError):
                call_command(
                    "import_entries", str(path), "--practice", "riverside", stdout=out, stderr=err
                )
            assert TimeEntry.objects.count() == entries_before
    late = TimeEntry.objects.get(late=True)
    assert late.late_reason == "Found on the paper log"
    assert _snapshot(billing_month) == before
    assert len(pending_amendments(billing_month)) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda bm: BillingLine.objects.filter(billing_month=bm).update(units=9),
        lambda bm: BillingLine.objects.filter(billing_month=bm).delete(),
        lambda bm: BillingMonth.objects.filter(pk=bm.pk).update(status="draft"),
        lambda bm: BillingMonth.objects.filter(pk=bm.pk).delete(),
        lambda bm: PatientMonth.objects.filter(billing_month=bm).update(flags=[]),
        lambda bm: MonthLock.objects.filter(practice_id=bm.practice_id).delete(),
        lambda bm: MonthLock.objects.filter(practice_id=bm.practice_id).update(month="2026-03"),
    ],
    ids=[
        "update-line",
        "delete-line",
        "reopen-month",
        "delete-month",
        "update-flags",
        "delete-lock",
        "move-lock",
    ],
)
def test_raw_orm_writes_are_refused_by_the_database(world: PracticeWorld, locked, tamper) -> None:  # type: ignore[no-untyped-def]
    _, billing_month = locked
    before = _snapshot(billing_month)
    with pytest.raises(DatabaseError), transaction.atomic():
        tamper(billing_month)
    assert _snapshot(billing_month) == before
    assert month_is_locked(practice=world.practice, month="2026-04")


def test_raw_sql_is_refused_by_the_database(world: PracticeWorld, locked) -> None:  # type: ignore[no-untyped-def]
    _, billing_month = locked
    before = _snapshot(billing_month)
    for statement in (
        "UPDATE billing_billingline SET units = 7",
        "DELETE FROM locks_monthlock",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert _snapshot(billing_month) == before


def test_only_an_amendment_is_added_and_it_is_audited(world: PracticeWorld, locked) -> None:  # type: ignore[no-untyped-def]
    from careledger.timelog.services import Contact, log_contact

    patient, billing_month = locked
    before = _snapshot(billing_month)
    log_contact(
        ctx=world.ctx("coordinator"),
        patient=patient,
        now=NOW + timedelta(days=1),
        contact=Contact(
            program="RPM",
            kind="interactive_call",
            outcome="reached",
            started_at=APRIL_21,
            ended_at=APRIL_21 + timedelta(minutes=25),
            summary=SUMMARY,
            reason="Found on the paper log",
        ),
    )
    assert _snapshot(billing_month) == before  # the approved lines are unchanged
    pending = pending_amendments(billing_month)
    assert len(pending) == 1
    accept_amendment(
        ctx=world.ctx("manager"),
        billing_month=billing_month,
        patient=patient,
        reason="Paper log verified",
        now=NOW + timedelta(days=2),
    )
    assert Amendment.objects.count() == 1
    assert AuditEvent.objects.filter(event="amendment.accepted").count() == 1
    original = [row for row in _snapshot(billing_month)[:-1] if row[4] == 0]
    assert original == [row for row in before[:-1]]
    amendment = Amendment.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        Amendment.objects.filter(pk=amendment.pk).update(reason="rewritten")
