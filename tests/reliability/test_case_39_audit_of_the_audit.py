"""Case 39: audit of the audit (ONC 170.315(d)(2), (d)(3), (d)(6)).

Pass: granting, using and ending break-glass access each write their own event; changing audit
settings or retention would too, but careledger has none to change (the log is always on and
append-only, and nothing is deleted); the audit report filters by a date range and sorts by
every column, on the page and in the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careledger.accounts.models import Membership, Practice
from careledger.accounts.users import end_break_glass, grant_break_glass
from careledger.audit.models import AuditEvent
from careledger.audit.selectors import ORDERINGS
from careledger.audit.services import record_event
from careledger.web.views.audit import COLUMNS
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def test_break_glass_grant_use_and_end_each_write_their_own_event(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    admin, biller = world.user("admin"), world.user("biller")
    grant = grant_break_glass(
        actor=admin,
        membership=world.members["biller"],
        role="auditor",
        reason="Payer audit due today",
        hours=4,
        now=timezone.now(),
        source_ip="192.0.2.7",
    )
    page = Client()
    page.force_login(biller)
    assert page.get(reverse("audit-log")).status_code == 200
    assert api_client(biller).get("/api/v1/audit-events").status_code == 200
    end_break_glass(actor=biller, grant=grant, now=timezone.now())
    assert page.get(reverse("audit-log")).status_code == 403  # after the end: not used, refused

    trail = AuditEvent.objects.filter(event__startswith="breakglass.").order_by("id")
    assert [(e.event, e.action, e.actor_username) for e in trail] == [
        ("breakglass.granted", "C", "riverside-admin"),
        ("breakglass.used", "E", "riverside-biller"),
        ("breakglass.used", "E", "riverside-biller"),
        ("breakglass.ended", "U", "riverside-biller"),
    ]
    for event in trail:
        assert event.practice == world.practice
        assert (event.object_type, event.object_id) == ("accounts.breakglassgrant", str(grant.pk))
        assert event.details["grant"] == grant.pk
        assert event.outcome == "success" and event.occurred_at.utcoffset() == dt.timedelta(0)
    assert trail[0].source_ip == "192.0.2.7" and trail[0].details["reason"]
    assert [e.details["path"] for e in trail[1:3]] == ["/audit/", "/api/v1/audit-events"]


def test_the_auditor_finds_break_glass_in_the_report(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    grant_break_glass(
        actor=world.user("admin"),
        membership=world.members["coordinator"],
        role="manager",
        reason="Month close while the manager is away",
        hours=1,
        now=timezone.now(),
    )
    body = api_client(world.user("auditor")).get("/api/v1/audit-events?event=breakglass.").json()
    assert [item["event"] for item in body["items"]] == ["breakglass.granted"]


def test_no_setting_turns_auditing_off_or_shortens_retention() -> None:
    # Changes to audit settings must write their own event; careledger has no such setting to
    # change (logging is always on, rows are append-only and nothing is deleted). A field added
    # here later must come with its own audited service, and this test must then change.
    words = ("audit", "retention", "retain", "logging", "purge")
    for model in (Practice, Membership):
        names = [f.name for f in model._meta.get_fields()]
        assert not [n for n in names if any(w in n for w in words)], model


# --- the report by date range, sorted by every column ----------------------------------------

DAYS = [dt.datetime(2026, 10, d, 17, 0, tzinfo=dt.UTC) for d in (1, 5, 6, 7, 10)]


@pytest.fixture
def seeded(world: PracticeWorld) -> list[AuditEvent]:
    """Five events on five days; the middle three fall in the range 2026-10-05..07 (Chicago)."""
    plan: list[tuple[str, str, str, str]] = [
        ("patient.viewed", "coordinator", "success", "10.0.0.9"),
        ("patient.viewed", "coordinator", "success", "10.0.0.2"),
        ("auth.logout", "manager", "failure", "10.0.0.3"),
        ("breakglass.used", "biller", "denied", "10.0.0.1"),
        ("auth.logout", "admin", "success", "10.0.0.8"),
    ]
    rows = []
    for when, (event, role, outcome, ip) in zip(DAYS, plan, strict=True):
        rows.append(
            record_event(
                event,
                actor=world.user(role),
                practice=world.practice,
                patient_id=world.patient.pk if event == "patient.viewed" else 0,
                obj=world.members[role] if role != "coordinator" else world.patient,
                outcome=outcome,
                source_ip=ip,
                now=when,
            )
        )
    return [AuditEvent.objects.get(pk=r.pk) for r in rows[1:4]]


FIELD_OF = {"actor": "actor_username", "object": "object_type", "practice": "practice_id"}


def expected_order(events: list[AuditEvent], column: str, descending: bool) -> list[int]:
    attr = FIELD_OF.get(column, column)
    ascending = sorted(events, key=lambda e: (str(getattr(e, attr)), e.pk))
    if attr in ("id", "patient_id", "practice_id", "occurred_at"):
        ascending = sorted(events, key=lambda e: (getattr(e, attr), e.pk))
    if attr == "source_ip":
        ascending = sorted(events, key=lambda e: (tuple(map(int, e.source_ip.split("."))), e.pk))
    ids = [e.pk for e in ascending]
    return ids[::-1] if descending else ids


@pytest.mark.parametrize("column", [key for key, _ in COLUMNS])
def test_the_page_reports_a_date_range_sorted_by_every_column(
    world: PracticeWorld, login, seeded: list[AuditEvent], column: str
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "auditor")
    for sort in (column, f"-{column}"):
        response = client.get(
            reverse("audit-log"), {"since": "2026-10-05", "until": "2026-10-07", "sort": sort}
        )
        assert response.status_code == 200
        ids = [row.event.pk for row in response.context["rows"]]
        assert ids == expected_order(seeded, column, sort.startswith("-")), sort


@pytest.mark.parametrize("column", sorted(ORDERINGS))
def test_the_api_reports_a_date_range_sorted_by_every_column(
    world: PracticeWorld, api_client, seeded: list[AuditEvent], column: str
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("auditor"))
    for ordering in (column, f"-{column}"):
        params: dict[str, Any] = {
            "since": "2026-10-05T00:00:00-05:00",
            "until": "2026-10-08T00:00:00-05:00",
            "ordering": ordering,
        }
        response = client.get("/api/v1/audit-events", params)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        ids = [item["id"] for item in body["items"]]
        assert ids == expected_order(seeded, column, ordering.startswith("-")), ordering
