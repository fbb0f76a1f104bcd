"""The minutes dashboard page: panels per role, isolation, sorting, filters, totals, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from careledger.accounts.roles import Role
from careledger.audit.models import AuditEvent
from careledger.patients.models import Patient, Visit
from tests.conftest import PracticeWorld
from tests.factories import (
    EnrollmentFactory,
    MembershipFactory,
    PatientFactory,
    log_minutes,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
DASHBOARD = "/worklists/dashboard/"


@pytest.fixture(autouse=True)
def _sunday_april_26() -> Iterator[None]:
    """Freeze the clock on Sunday 26 April 2026, noon in Chicago (the worklist is open)."""
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


def add_patient(
    world: PracticeWorld,
    program: str,
    minutes: int,
    *,
    n: int = 0,
    coordinator=None,  # type: ignore[no-untyped-def]
    family_name: str | None = None,
    kind: str = "interactive_call",
) -> Patient:
    """Enroll an established patient and log ``minutes`` countable minutes on April 6."""
    extra = {"family_name": family_name} if family_name else {}
    patient = PatientFactory(
        practice=world.practice, coordinator=coordinator or world.user("coordinator"), **extra
    )
    enrollment = EnrollmentFactory(
        patient=patient, program=program, billing_practitioner=world.user("practitioner")
    )
    Visit.objects.create(
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="em",
        em_level=3,
        created_at=START,
    )
    if minutes:
        log_minutes(enrollment, minutes, start=START + timedelta(hours=n), kind=kind)
    return patient


def rows_of(response) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(d.row.patient_id, d.row.program) for d in response.context["rows"]]


def test_a_coordinator_sees_their_own_panel_by_default(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    mine = add_patient(world, "RPM", 12)
    colleague = MembershipFactory(practice=world.practice, role=Role.COORDINATOR).user
    add_patient(world, "RPM", 15, n=1, coordinator=colleague)
    response = login(world).get(DASHBOARD)
    assert response.status_code == 200
    assert rows_of(response) == [(mine.pk, "RPM")]
    assert "Your panel" in response.content.decode()
    # A coordinator cannot widen the panel by asking for the whole practice.
    assert rows_of(login(world).get(DASHBOARD, {"coordinator": "all"})) == [(mine.pk, "RPM")]


def test_a_manager_sees_the_whole_practice_and_may_choose_a_coordinator(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    mine = add_patient(world, "RPM", 12)
    colleague = MembershipFactory(practice=world.practice, role=Role.COORDINATOR).user
    theirs = add_patient(world, "CCM", 15, n=1, coordinator=colleague)
    client = login(world, "manager")
    assert {p for p, _ in rows_of(client.get(DASHBOARD))} == {mine.pk, theirs.pk}
    chosen = client.get(DASHBOARD, {"coordinator": colleague.pk})
    assert rows_of(chosen) == [(theirs.pk, "CCM")]


@pytest.mark.parametrize("role", Role.values)
def test_every_role_may_read_the_dashboard_the_worklist_and_the_fees(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    role: str,
) -> None:
    add_patient(world, "RPM", 16)
    client = login(world, role)
    for url in (DASHBOARD, "/worklists/pre-close/", "/worklists/fees/"):
        assert client.get(url).status_code == 200, url


def test_the_pages_need_a_signed_in_user(client) -> None:  # type: ignore[no-untyped-def]
    for url in (DASHBOARD, "/worklists/pre-close/", "/worklists/pre-close/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_practices_patients_never_appear(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    add_patient(other_world, "RPM", 16)
    foreign_coordinator = other_world.user("coordinator").pk
    client = login(world, "manager")
    for params in ({}, {"coordinator": foreign_coordinator}):
        response = client.get(DASHBOARD, params)
        assert response.status_code == 200
        assert rows_of(response) == []
        assert response.context["totals"]["minutes"] == 0
        worklist = client.get("/worklists/pre-close/", params)
        assert worklist.context["reachable"] == []
        export = client.get("/worklists/pre-close/export.csv", params).content.decode()
        assert len(export.strip().splitlines()) == 1  # the header only


def test_rows_show_minutes_bar_contact_decision_and_next_code(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patient = add_patient(world, "RPM", 16)
    response = login(world).get(DASHBOARD)
    (d,) = response.context["rows"]
    assert (d.row.minutes, d.row.codes, d.row.next_code, d.row.minutes_needed) == (
        16,
        ("99470",),
        "99457",
        4,
    )
    assert d.row.interactive_contact is True
    # RPM's marks come from the rule set in force: 10 (99470) and 20 (99457).
    assert [(m.minutes, m.code) for m in d.bar.marks][:2] == [(10, "99470"), (20, "99457")]
    body = response.content.decode()
    assert f'href="/patients/{patient.pk}/"' in body
    assert f'href="/patients/{patient.pk}/month/?month=2026-04"' in body
    assert "bar-mark reached" in body


def test_sorting_by_minutes_either_way(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    a = add_patient(world, "RPM", 5, n=0)
    b = add_patient(world, "RPM", 25, n=1)
    c = add_patient(world, "RPM", 12, n=2)
    client = login(world)
    up = client.get(DASHBOARD, {"sort": "minutes", "dir": "asc"})
    down = client.get(DASHBOARD, {"sort": "minutes", "dir": "desc"})
    assert [p for p, _ in rows_of(up)] == [a.pk, c.pk, b.pk]
    assert [p for p, _ in rows_of(down)] == [b.pk, c.pk, a.pk]


def test_rows_without_a_value_sort_last_either_way(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    add_patient(world, "RPM", 12, n=0)
    add_patient(world, "RPM", 0, n=1)
    client = login(world)
    for direction in ("asc", "desc"):
        response = client.get(DASHBOARD, {"sort": "value", "dir": direction})
        assert response.context["rows"][-1].row.projected_value is None


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "__class__", "dir": "sideways"},
        {"month": "2026-13"},
        {"month": "'; drop table"},
        {"as_of": "not-a-date"},
        {"as_of": "2031-01-01"},
        {"within": "-4"},
        {"within": "many"},
        {"code": "<script>"},
        {"days": "soon"},
        {"coordinator": "999999"},
        {"page": "abc"},
        {"program": "XYZ"},
    ],
)
def test_bad_parameters_are_ignored_never_a_crash(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    params: dict[str, str],
) -> None:
    patient = add_patient(world, "RPM", 12)
    response = login(world, "manager").get(DASHBOARD, params)
    assert response.status_code == 200
    assert rows_of(response) == [(patient.pk, "RPM")]


def test_filters_by_program_contact_code_and_minutes_needed(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    rpm = add_patient(world, "RPM", 16, n=0)
    ccm = add_patient(world, "CCM", 12, n=1)
    quiet = add_patient(world, "RPM", 8, n=2, kind="care_coordination")
    client = login(world)

    def ids(**params: str) -> set[int]:
        return {p for p, _ in rows_of(client.get(DASHBOARD, params))}

    assert ids(program="RPM") == {rpm.pk, quiet.pk}
    assert ids(program="CCM") == {ccm.pk}
    assert ids(contact="no") == {quiet.pk}
    assert ids(code="99470") == {rpm.pk}
    assert rpm.pk not in ids(code="none")
    assert ids(next_code="99457") == {rpm.pk}
    assert ids(within="4") == {rpm.pk, quiet.pk}  # 99457 needs 4, 99470 needs 2
    assert ids(within="3") == {quiet.pk}


def test_the_totals_equal_the_sum_of_the_rows(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    for n, (program, minutes) in enumerate([("RPM", 22), ("RPM", 12), ("RPM", 3), ("CCM", 25)]):
        add_patient(world, program, minutes, n=n)
    for params in ({}, {"program": "RPM"}):
        response = login(world, "manager").get(DASHBOARD, params)
        rows = [d.row for d in response.context["rows"]]
        totals = response.context["totals"]
        assert totals["minutes"] == sum(r.minutes for r in rows)
        assert totals["rows"] == len(rows)
        assert totals["projected_value"] == sum(
            (r.projected_value or Decimal(0) for r in rows), Decimal(0)
        )
        assert sum(totals["codes"].values()) == sum(len(r.codes) for r in rows)
    rpm_totals = login(world, "manager").get(DASHBOARD, {"program": "RPM"}).context["totals"]
    assert rpm_totals["codes"] == {"99457": 1, "99470": 1}
    assert rpm_totals["projected_value"] == Decimal("78.00")  # 52.00 + 26.00 (RPM-18)


def test_an_htmx_request_gets_only_the_results(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    add_patient(world, "RPM", 12)
    response = login(world).get(DASHBOARD, {"program": "RPM"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="dashboard-results"')
    assert "<html" not in body


def test_each_render_is_audited_once_without_names(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    add_patient(world, "RPM", 12, family_name="Auditname")
    login(world).get(DASHBOARD, {"program": "RPM", "sort": "minutes"})
    (event,) = AuditEvent.objects.filter(event="dashboard.viewed")
    assert event.details["month"] == "2026-04"
    assert event.details["rows"] == 1
    assert event.details["filters"] == {"program": "RPM"}
    assert "Auditname" not in str(event.details)


def test_a_past_month_and_an_as_of_day_within_the_month_are_accepted(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    add_patient(world, "RPM", 12)
    client = login(world)
    march = client.get(DASHBOARD, {"month": "2026-03"})
    assert march.context["scope"].month.label == "2026-03"
    assert [d.row.minutes for d in march.context["rows"]] == [0]  # enrolled, no time in March
    preview = client.get(DASHBOARD, {"as_of": "2026-04-28"})
    assert preview.context["scope"].as_of == date(2026, 4, 28)
    future = client.get(DASHBOARD, {"month": "2026-06"})
    assert future.context["scope"].month.label == "2026-04"
