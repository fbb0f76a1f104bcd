"""The pre-close worklist page, outreach assignment, the CSV export and the fee page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from careledger.audit.models import AuditEvent
from careledger.worklists.models import OutreachAssignment, PracticeFee
from careledger.worklists.views import CSV_COLUMNS
from tests.conftest import PracticeWorld
from tests.factories import log_minutes
from tests.worklists.test_pages import add_patient

pytestmark = pytest.mark.django_db

WORKLIST = "/worklists/pre-close/"
EXPORT = "/worklists/pre-close/export.csv"
ASSIGN = "/worklists/pre-close/assign/"
FEES = "/worklists/fees/"


@pytest.fixture(autouse=True)
def _sunday_april_26() -> Iterator[None]:
    """Freeze the clock on Sunday 26 April 2026, noon in Chicago (opened Thursday the 23rd)."""
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


def listed(response) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (x.item.row.patient_id, x.item.row.program, x.item.reason)
        for x in response.context["reachable"]
    ]


def test_the_worklist_says_when_it_opens_and_ranks_by_value_per_minute(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    at_19 = add_patient(world, "RPM", 19, n=0)  # 99457 needs 1: $26 for one minute
    at_16 = add_patient(world, "RPM", 16, n=1)  # 99457 needs 4: $26 for four
    add_patient(world, "RPM", 12, n=2)  # 8 minutes away: not listed
    response = login(world).get(WORKLIST)
    assert response.status_code == 200
    assert response.context["opens_on"] == date(2026, 4, 23)
    assert response.context["is_open"] is True
    assert listed(response) == [(at_19.pk, "RPM", "minutes"), (at_16.pk, "RPM", "minutes")]
    assert "Open since Thursday, Apr 23" in response.content.decode()


def test_before_it_opens_the_page_says_when(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    add_patient(world, "RPM", 16)
    response = login(world).get(WORKLIST, {"as_of": "2026-04-10"})
    assert response.context["is_open"] is False
    assert "Opens Thursday, Apr 23" in response.content.decode()


def test_a_manager_assigns_outreach_and_it_is_audited(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    patient = add_patient(world, "RPM", 16)
    coordinator = world.user("coordinator")
    client = login(world, "manager")
    response = client.post(
        ASSIGN,
        {
            "patient": patient.pk,
            "program": "RPM",
            "month": "2026-04",
            "assigned_to": coordinator.pk,
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(WORKLIST)
    (assignment,) = OutreachAssignment.objects.all()
    assert (assignment.assigned_to, assignment.assigned_by) == (coordinator, world.user("manager"))
    (event,) = AuditEvent.objects.filter(event="worklist.assigned")
    assert event.patient_id == patient.pk and event.details["program"] == "RPM"
    page = client.get(WORKLIST)
    assert page.context["reachable"][0].item.assigned_to == coordinator.get_username()


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "biller", "auditor"])
def test_only_managers_and_admins_may_assign(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    role: str,
) -> None:
    patient = add_patient(world, "RPM", 16)
    data = {
        "patient": patient.pk,
        "program": "RPM",
        "month": "2026-04",
        "assigned_to": world.user("coordinator").pk,
    }
    assert login(world, role).post(ASSIGN, data).status_code == 403
    assert not OutreachAssignment.objects.exists()
    assert "Assign to…" not in login(world, role).get(WORKLIST).content.decode()


def test_assigning_another_practices_patient_is_not_found(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    foreign = add_patient(other_world, "RPM", 16)
    data = {
        "patient": foreign.pk,
        "program": "RPM",
        "month": "2026-04",
        "assigned_to": world.user("coordinator").pk,
    }
    assert login(world, "admin").post(ASSIGN, data).status_code == 404
    # Nor may the outreach go to another practice's coordinator.
    mine = add_patient(world, "RPM", 16, n=1)
    data = {**data, "patient": mine.pk, "assigned_to": other_world.user("coordinator").pk}
    login(world, "admin").post(ASSIGN, data)
    assert not OutreachAssignment.objects.exists()


def test_assigning_needs_a_post_with_a_csrf_token(world: PracticeWorld) -> None:
    from django.test import Client

    patient = add_patient(world, "RPM", 16)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("manager"))
    assert client.get(ASSIGN).status_code == 405
    data = {
        "patient": patient.pk,
        "program": "RPM",
        "month": "2026-04",
        "assigned_to": world.user("coordinator").pk,
    }
    assert client.post(ASSIGN, data).status_code == 403
    assert not OutreachAssignment.objects.exists()


def test_an_item_with_a_countable_entry_since_opening_shows_as_worked(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    worked = add_patient(world, "RPM", 15, n=0)
    waiting = add_patient(world, "RPM", 15, n=1)
    enrollment = worked.enrollments.get()
    # Two more minutes on the 24th (after the worklist opened on the 23rd): still short of 20.
    log_minutes(enrollment, 2, start=datetime(2026, 4, 24, 15, 0, tzinfo=UTC))
    response = login(world).get(WORKLIST)
    flags = {x.item.row.patient_id: x.worked for x in response.context["reachable"]}
    assert flags == {worked.pk: True, waiting.pk: False}
    assert response.context["worked_count"] == 1


def test_a_patient_who_reaches_the_threshold_leaves_the_worklist(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patient = add_patient(world, "RPM", 16)
    client = login(world)
    assert [p for p, _, _ in listed(client.get(WORKLIST))] == [patient.pk]
    log_minutes(patient.enrollments.get(), 5, start=datetime(2026, 4, 26, 16, 0, tzinfo=UTC))
    assert listed(client.get(WORKLIST)) == []
    rows = client.get("/worklists/dashboard/").context["rows"]
    assert rows[0].row.codes == ("99457",)


def test_the_csv_has_a_header_and_the_ranked_items(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    first = add_patient(world, "RPM", 19, n=0)
    add_patient(world, "RPM", 16, n=1)
    response = login(world).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["rank"] for r in rows] == ["1", "2"]
    top = rows[0]
    assert (top["patient_id"], top["next_code"], top["minutes_needed"]) == (
        str(first.pk),
        "99457",
        "1",
    )
    assert (top["value_at_stake"], top["reachable"], top["worked"]) == ("26.00", "yes", "no")
    (event,) = AuditEvent.objects.filter(event="worklist.exported")
    assert event.details["rows"] == 2 and event.details["month"] == "2026-04"


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_the_csv_neutralises_cells_a_spreadsheet_would_run(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    name: str,
) -> None:
    patient = add_patient(world, "RPM", 16)
    patient.family_name = name
    patient.mrn = "=1+1"
    patient.save()
    body = login(world).get(EXPORT).content.decode("utf-8")
    (row,) = list(csv.DictReader(io.StringIO(body, newline="")))
    assert row["name"] == f"'{name}, {patient.given_name}"
    assert row["mrn"] == "'=1+1"


def test_a_manager_sets_a_fee_and_value_at_stake_follows(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    add_patient(world, "CCM", 17)  # 99490 ships with no amount: nothing at stake yet
    client = login(world, "manager")
    assert client.get(WORKLIST).context["reachable"][0].item.value_at_stake is None
    response = client.post(FEES, {"code": "99490", "amount": "61.50", "effective_on": "2026-04-01"})
    assert response.status_code == 302
    item = client.get(WORKLIST).context["reachable"][0].item
    assert item.value_at_stake == Decimal("61.50")
    assert item.value_per_minute == Decimal("61.50") / 3
    (event,) = AuditEvent.objects.filter(event="fee.updated")
    assert event.details == {"code": "99490", "amount": "61.50", "effective_on": "2026-04-01"}


def test_a_new_fee_is_a_new_row_never_an_edit(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    client.post(FEES, {"code": "99457", "amount": "50.00", "effective_on": "2026-01-01"})
    client.post(FEES, {"code": "99457", "amount": "55.00", "effective_on": "2026-04-01"})
    assert list(PracticeFee.objects.order_by("effective_on").values_list("amount", flat=True)) == [
        Decimal("50.00"),
        Decimal("55.00"),
    ]
    lines = {line.code: line for line in client.get(FEES).context["lines"]}
    assert (lines["99457"].shipped, lines["99457"].in_force) == (Decimal("52.00"), Decimal("55.00"))


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "biller", "auditor"])
def test_only_managers_and_admins_set_fees(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    response = client.post(FEES, {"code": "99457", "amount": "1", "effective_on": "2026-04-01"})
    assert response.status_code == 403
    assert not PracticeFee.objects.exists()


def test_a_bad_fee_is_refused_on_the_form(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "manager")
    for data in (
        {"code": "12345", "amount": "10", "effective_on": "2026-04-01"},
        {"code": "99457", "amount": "-1", "effective_on": "2026-04-01"},
        {"code": "99457", "amount": "ten", "effective_on": "2026-04-01"},
    ):
        assert client.post(FEES, data).status_code == 422
    assert not PracticeFee.objects.exists()


def test_another_practices_fee_does_not_change_this_practices_value(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    add_patient(world, "RPM", 16)
    login(other_world, "manager").post(
        FEES, {"code": "99457", "amount": "99.00", "effective_on": "2026-04-01"}
    )
    item = login(world, "manager").get(WORKLIST).context["reachable"][0].item
    assert item.value_at_stake == Decimal("26.00")
