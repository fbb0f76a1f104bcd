"""What keeps a 500-patient dashboard fast: no whole-table join, a paused collector, lean rows."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careledger.billing.facts import build_month_facts
from careledger.billing.months import parse_month
from careledger.patients.models import Condition, Patient, Visit
from careledger.worklists import queries, views
from careledger.worklists.collector import collector_paused
from careledger.worklists.queries import DayBandReach
from careledger.worklists.selectors import panel_rows
from careledger.worklists.table import PatientLink, band_label
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory, log_minutes

pytestmark = pytest.mark.django_db

MONTH = parse_month("2026-04", "America/Chicago")
AS_OF = date(2026, 4, 26)
START = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
DASHBOARD = "/worklists/dashboard/"


@pytest.fixture(autouse=True)
def _sunday_april_26() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


def _patient(world: PracticeWorld, program: str, minutes: int, n: int = 0) -> Patient:
    patient = PatientFactory(practice=world.practice, coordinator=world.user("coordinator"))
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
    Condition.objects.create(
        patient=patient, icd10_code="I10", description="I10", chronic=True, created_at=START
    )
    if minutes:
        log_minutes(enrollment, minutes, start=START + timedelta(hours=n))
    return patient


def test_the_facts_read_conditions_and_visits_without_joining_every_patient(
    world: PracticeWorld,
) -> None:
    # Ordering by the models' Meta.ordering ("patient", ...) joined the whole patient table:
    # a 100,000-row scan per panel on PostgreSQL.
    _patient(world, "CCM", 12)
    with CaptureQueriesContext(connection) as captured:
        build_month_facts(practice=world.practice, month=MONTH, as_of=AS_OF)
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(('SELECT "patients_condition"', 'SELECT "patients_visit"'))
    ]
    assert len(reads) == 2
    assert all('JOIN "patients_patient"' not in sql for sql in reads)


def test_the_facts_still_count_chronic_conditions_and_see_the_visit(world: PracticeWorld) -> None:
    patient = _patient(world, "CCM", 12)
    (built,) = build_month_facts(practice=world.practice, month=MONTH, as_of=AS_OF)[patient.pk]
    assert built.facts.patient.chronic_conditions == 1
    assert built.facts.patient.established_patient is True


def test_the_collector_is_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the inner block leaves it to the outer one
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_resumed_after_an_error() -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_panel_and_the_dashboard_are_built_with_the_collector_paused(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _patient(world, "RPM", 12)
    seen: list[bool] = []
    original = queries.dashboard_rows

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(views.queries, "dashboard_rows", spy)
    assert login(world).get(DASHBOARD).status_code == 200
    assert seen == [False]
    assert gc.isenabled()
    rows = panel_rows(practice=world.practice, month=MONTH, as_of=AS_OF)
    assert len(rows) == 1 and gc.isenabled()


@pytest.mark.parametrize(
    ("name", "query"),
    [("patient-detail", ""), ("patient-month", "?month=2026-04"), ("devices:patient-readings", "")],
)
def test_a_row_link_is_what_reverse_gives(name: str, query: str) -> None:
    link = PatientLink(name, query=query)
    for patient_id in (1, 42, 2_147_483_646):
        assert link.href(patient_id) == reverse(name, args=[patient_id]) + query


def test_every_row_links_to_its_own_patient_and_month(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patients = [_patient(world, program, 16, n) for n, program in enumerate(("RPM", "CCM"))]
    response = login(world).get(DASHBOARD)
    body = response.content.decode()
    for patient in patients:
        assert f'href="{reverse("patient-detail", args=[patient.pk])}"' in body
        assert f'href="{reverse("patient-month", args=[patient.pk])}?month=2026-04"' in body


def test_rows_with_the_same_bar_share_one_drawing(world: PracticeWorld) -> None:
    for n in range(3):
        _patient(world, "RPM", 16, n)
    rows = panel_rows(practice=world.practice, month=MONTH, as_of=AS_OF)
    drawn = queries.dashboard_rows(rows, month=MONTH, as_of=AS_OF)
    assert len({id(d.bar) for d in drawn}) == 1
    assert drawn[0].bar == queries.bar_for("RPM", 16, MONTH, 20)


@pytest.mark.parametrize(
    ("reached", "reachable", "every_day", "css", "text"),
    [
        (True, True, False, "band-reached", "16 ✓"),
        (False, True, True, "band-tight", "16 every day"),
        (False, True, False, "band-open", "16 reachable"),
        (False, False, False, "band-lost", "16 out of reach"),
    ],
)
def test_a_band_says_reached_tight_reachable_or_lost(
    reached: bool, reachable: bool, every_day: bool, css: str, text: str
) -> None:
    label = band_label(DayBandReach("99454", 16, reached, reachable, every_day))
    assert (label.css, label.title, label.text) == (css, "99454: 16 reading days", text)


def test_only_those_who_may_choose_a_panel_read_the_coordinators(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[int] = []
    original = queries.coordinators

    def spy(practice):  # type: ignore[no-untyped-def]
        asked.append(practice.pk)
        return original(practice)

    monkeypatch.setattr(views.queries, "coordinators", spy)
    assert login(world).get(DASHBOARD).status_code == 200  # the coordinator's own panel
    assert asked == []
    manager = login(world, "manager").get(DASHBOARD)
    assert manager.status_code == 200 and asked == [world.practice.pk]
    assert 'name="coordinator"' in manager.content.decode()
