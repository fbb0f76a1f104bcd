"""The patient list: practice-scoped search and filters, HTMX results, one audit per request."""

from __future__ import annotations

from django.urls import reverse

from careledger.audit.models import AuditEvent
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory
from tests.web.conftest import events


def test_the_list_shows_mrn_name_age_programs_and_coordinator(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    EnrollmentFactory(patient=world.patient, billing_practitioner=world.user("practitioner"))
    response = login(world).get(reverse("patient-list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "A1000" in body
    assert "Samename, Mae" in body
    assert "badge-active" in body and "CCM" in body
    assert world.user("coordinator").get_full_name() in body
    assert [row.patient for row in response.context["rows"]] == [world.patient]
    assert response.context["rows"][0].age >= 70


def test_the_list_never_shows_another_practices_patients_with_the_same_name_and_mrn(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world)
    for data in ({}, {"q": "Samename"}, {"q": "A1000"}):
        response = client.post(reverse("patient-list"), data)
        assert [row.patient.pk for row in response.context["rows"]] == [world.patient.pk]
        assert f"/patients/{other_world.patient.pk}/" not in response.content.decode()


def test_search_finds_by_name_or_mrn(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    other = PatientFactory(practice=world.practice, given_name="Otto", family_name="Quill")
    client = login(world)
    by_name = client.post(reverse("patient-list"), {"q": "quil"})
    by_mrn = client.post(reverse("patient-list"), {"q": other.mrn})
    assert [r.patient for r in by_name.context["rows"]] == [other]
    assert [r.patient for r in by_mrn.context["rows"]] == [other]


def test_an_htmx_search_gets_only_the_results_table(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(reverse("patient-list"), {"q": "Samename"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="patient-results"')
    assert "<html" not in body
    assert "Samename, Mae" in body


def test_filters_by_program_and_coordinator(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    enrolled = PatientFactory(practice=world.practice, coordinator=world.user("manager"))
    EnrollmentFactory(
        patient=enrolled, program="RPM", billing_practitioner=world.user("practitioner")
    )
    client = login(world)
    by_program = client.post(reverse("patient-list"), {"program": "RPM"})
    assert [r.patient for r in by_program.context["rows"]] == [enrolled]
    coordinator = world.user("coordinator")
    by_coordinator = client.get(reverse("patient-list"), {"coordinator": coordinator.pk})
    assert [r.patient for r in by_coordinator.context["rows"]] == [world.patient]


def test_another_practices_coordinator_id_is_refused_not_a_crash(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    foreign = other_world.user("coordinator").pk
    response = login(world).get(reverse("patient-list"), {"coordinator": foreign, "page": "x"})
    assert response.status_code == 200
    assert "coordinator" in response.context["form"].errors
    assert [r.patient for r in response.context["rows"]] == [world.patient]


def test_each_list_request_leaves_one_audit_event_without_names(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world)
    client.post(reverse("patient-list"), {"q": "Samename", "program": "CCM"})
    client.post(reverse("patient-list"), {"q": "Sam"}, HTTP_HX_REQUEST="true")
    assert events("patient.list_viewed") == 2
    first = AuditEvent.objects.filter(event="patient.list_viewed").order_by("id").first()
    assert first is not None
    assert first.practice == world.practice
    assert first.details["filters"] == {"search": True, "program": "CCM", "coordinator": None}
    assert "Samename" not in str(first.details)
    assert events("patient.viewed") == 0


def test_names_are_escaped_in_the_list(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    PatientFactory(practice=world.practice, family_name="<script>alert(1)</script>")
    body = login(world).get(reverse("patient-list")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_an_expired_session_gets_an_hx_redirect_from_the_search(db: None, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("patient-list"), {"q": "x"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("login")


def test_only_writers_see_the_add_patient_button(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    assert (
        reverse("patient-add")
        in login(world, "coordinator").get(reverse("patient-list")).content.decode()
    )
    assert (
        reverse("patient-add")
        not in login(world, "biller").get(reverse("patient-list")).content.decode()
    )
