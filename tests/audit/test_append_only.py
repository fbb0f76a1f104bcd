"""Audit rows cannot be changed or deleted, through the ORM or raw SQL (case 37)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return record_event("demo.loaded", actor=None, details={"n": 1})


def _refused(action) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        action()


def test_orm_update_of_an_audit_row_is_refused(event: AuditEvent) -> None:
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(event="patient.viewed"))
    event.refresh_from_db()
    assert event.event == "demo.loaded"


def test_saving_a_changed_audit_row_is_refused(event: AuditEvent) -> None:
    event.details = {"n": 2}
    _refused(event.save)
    event.refresh_from_db()
    assert event.details == {"n": 1}


def test_orm_delete_of_an_audit_row_is_refused(event: AuditEvent) -> None:
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_update_and_delete_are_refused(event: AuditEvent) -> None:
    def raw(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])

    _refused(lambda: raw("UPDATE audit_auditevent SET event = 'x' WHERE id = %s"))
    _refused(lambda: raw("DELETE FROM audit_auditevent WHERE id = %s"))
    assert AuditEvent.objects.get(pk=event.pk).event == "demo.loaded"


def test_truncate_is_refused_on_postgresql(event: AuditEvent) -> None:
    if connection.vendor != "postgresql":
        # SQLite has no TRUNCATE; its DELETE trigger above covers "DELETE FROM table".
        with connection.cursor() as cursor:
            _refused(lambda: cursor.execute("DELETE FROM audit_auditevent"))
    else:
        with connection.cursor() as cursor:
            _refused(lambda: cursor.execute("TRUNCATE audit_auditevent"))
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_offers_no_add_change_or_delete(event: AuditEvent) -> None:
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_an_unregistered_event_name_cannot_be_recorded() -> None:
    with pytest.raises(ValueError, match="unregistered"):
        record_event("patient.teleported", actor=None)
