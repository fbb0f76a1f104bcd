"""Case 37: the audit log cannot be changed or emptied, by the ORM, raw SQL or the admin.

Pass: UPDATE, DELETE and TRUNCATE fail with a database error on SQLite and PostgreSQL and the
row is unchanged; the admin offers no add, change or delete (and refuses a forged POST).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return record_event("demo.loaded", actor=None, details={"n": 1})


def _snapshot(event: AuditEvent) -> tuple[object, ...]:
    row = AuditEvent.objects.filter(pk=event.pk).values_list(
        "event", "details", "occurred_at", "row_hash", "prev_hash"
    )
    return tuple(row.get())


def _raw(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


ATTEMPTS: dict[str, Callable[[AuditEvent], object]] = {
    "orm-update": lambda e: AuditEvent.objects.filter(pk=e.pk).update(event="patient.viewed"),
    "orm-save": lambda e: (setattr(e, "details", {"n": 2}), e.save()),
    "orm-delete": lambda e: AuditEvent.objects.filter(pk=e.pk).delete(),
    "orm-delete-all": lambda e: AuditEvent.objects.all().delete(),
    "raw-update": lambda e: _raw("UPDATE audit_auditevent SET event = 'x' WHERE id = %s", [e.pk]),
    "raw-delete": lambda e: _raw("DELETE FROM audit_auditevent WHERE id = %s", [e.pk]),
    "raw-delete-all": lambda e: _raw("DELETE FROM audit_auditevent"),
    "truncate": lambda e: _raw(
        "TRUNCATE audit_auditevent"
        if connection.vendor == "postgresql"
        else "DELETE FROM audit_auditevent"  # SQLite has no TRUNCATE: its bulk form is DELETE
    ),
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_case_37_changing_or_removing_an_audit_row_is_a_database_error(
    event: AuditEvent, attempt: str
) -> None:
    before = _snapshot(event)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ATTEMPTS[attempt](event)
    assert _snapshot(event) == before


def test_case_37_the_admin_offers_no_add_change_or_delete(event: AuditEvent) -> None:
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_case_37_a_forged_admin_post_changes_nothing(event: AuditEvent) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    before = _snapshot(event)
    base = f"/admin/audit/auditevent/{event.pk}"
    changed = client.post(f"{base}/change/", {"event": "patient.viewed", "details": "{}"})
    deleted = client.post(f"{base}/delete/", {"post": "yes"})
    added = client.post("/admin/audit/auditevent/add/", {"event": "demo.loaded"})
    assert changed.status_code in (302, 403)
    assert deleted.status_code == 403
    assert added.status_code == 403
    assert _snapshot(event) == before
    assert AuditEvent.objects.filter(event="demo.loaded").count() == 1
