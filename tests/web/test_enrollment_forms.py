"""Enrolling, recording consent and ending: service rules shown on the right field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.patients.models import Enrollment
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory
from tests.web.conftest import events, today_in


def enroll_url(world: PracticeWorld) -> str:
    return reverse("enrollment-add", args=[world.patient.pk])


def enroll_data(world: PracticeWorld, **overrides: Any) -> dict[str, Any]:
    today = today_in(world.practice).isoformat()
    data = {
        "program": "CCM",
        "billing_practitioner": world.user("practitioner").pk,
        "started_on": today,
        "consent_method": "verbal",
        "consent_on": today,
        "consent_obtained_by": world.user("coordinator").pk,
        "told_cost_sharing": "on",
        "told_one_practitioner": "on",
        "told_right_to_stop": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def without_consent(world: PracticeWorld, **overrides: Any) -> dict[str, Any]:
    consent = dict.fromkeys(
        (
            "consent_method",
            "consent_on",
            "told_cost_sharing",
            "told_one_practitioner",
            "told_right_to_stop",
        ),
    )
    return enroll_data(world, **{**consent, **overrides})


def test_enrolling_with_verbal_consent_makes_an_active_enrollment(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(enroll_url(world), enroll_data(world))
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(patient=world.patient)
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.consent_method == "verbal"
    assert enrollment.consent_obtained_by == world.user("coordinator")
    assert AuditEvent.objects.count() == 1
    assert events("enrollment.created", patient_id=world.patient.pk) == 1


def test_enrolling_without_consent_then_again_in_the_same_program_is_refused(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world)
    first = client.post(enroll_url(world), without_consent(world))
    assert first.status_code == 302
    assert Enrollment.objects.get().status == Enrollment.Status.PENDING
    second = client.post(enroll_url(world), enroll_data(world))
    assert "already has an open CCM enrollment" in second.context["form"].errors["program"][0]
    assert Enrollment.objects.count() == 1
    assert events("enrollment.created") == 1


def test_consent_dated_in_the_future_is_refused_on_its_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    tomorrow = (today_in(world.practice) + dt.timedelta(days=2)).isoformat()
    response = login(world).post(enroll_url(world), enroll_data(world, consent_on=tomorrow))
    assert "future" in response.context["form"].errors["consent_on"][0]
    assert not Enrollment.objects.exists()
    assert AuditEvent.objects.count() == 0


def test_a_consent_method_without_a_date_is_refused(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(enroll_url(world), enroll_data(world, consent_on=""))
    assert "consent_on" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_consent_without_what_the_patient_was_told_is_refused(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(enroll_url(world), enroll_data(world, told_right_to_stop=None))
    assert "told_right_to_stop" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_told_boxes_without_a_consent_method_are_refused(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(enroll_url(world), enroll_data(world, consent_method=""))
    assert "consent_method" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_behavioral_health_consent_needs_specialist_consultation(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world)
    refused = client.post(enroll_url(world), enroll_data(world, program="BHI"))
    assert "told_specialist_consultation" in refused.context["form"].errors
    accepted = client.post(
        enroll_url(world), enroll_data(world, program="BHI", told_specialist_consultation="on")
    )
    assert accepted.status_code == 302
    assert Enrollment.objects.get().told_specialist_consultation


def test_rpm_carries_its_order(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    today = today_in(world.practice).isoformat()
    data = enroll_data(
        world,
        program="RPM",
        ordered_on=today,
        ordering_practitioner=world.user("practitioner").pk,
        order_indication="i10",
    )
    response = login(world).post(enroll_url(world), data)
    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert enrollment.order_indication == "I10"
    assert enrollment.ordering_practitioner == world.user("practitioner")


def test_an_order_on_ccm_or_a_bad_indication_is_refused(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    today = today_in(world.practice).isoformat()
    order = {
        "ordered_on": today,
        "ordering_practitioner": world.user("practitioner").pk,
        "order_indication": "I10",
    }
    client = login(world)
    ccm = client.post(enroll_url(world), enroll_data(world, **order))
    assert "ordered_on" in ccm.context["form"].errors
    bad = client.post(
        enroll_url(world), enroll_data(world, program="RPM", **{**order, "order_indication": "I1"})
    )
    assert "order_indication" in bad.context["form"].errors
    assert not Enrollment.objects.exists()


def test_a_billing_practitioner_without_an_npi_is_refused(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    data = enroll_data(world, billing_practitioner=world.user("manager").pk)
    response = login(world).post(enroll_url(world), data)
    assert "billing_practitioner" in response.context["form"].errors
    assert not Enrollment.objects.exists()


def test_recording_consent_activates_a_pending_enrollment(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    enrollment = EnrollmentFactory(
        patient=world.patient,
        status="pending",
        consent_on=None,
        consent_method="",
        billing_practitioner=world.user("practitioner"),
    )
    url = reverse("enrollment-consent", args=[world.patient.pk, enrollment.pk])
    data = {k: v for k, v in enroll_data(world).items() if k.startswith(("consent", "told"))}
    response = login(world).post(url, data)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert AuditEvent.objects.count() == 1
    assert events("enrollment.consent_recorded") == 1


def test_a_bad_consent_date_on_the_consent_form_is_shown_on_its_field(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    enrollment = EnrollmentFactory(
        patient=world.patient,
        status="pending",
        consent_on=None,
        billing_practitioner=world.user("practitioner"),
    )
    url = reverse("enrollment-consent", args=[world.patient.pk, enrollment.pk])
    data = {k: v for k, v in enroll_data(world).items() if k.startswith(("consent", "told"))}
    client = login(world)
    for bad in ("2031-01-01", "not-a-date"):
        response = client.post(url, {**data, "consent_on": bad})
        assert "consent_on" in response.context["form"].errors
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PENDING
    assert AuditEvent.objects.count() == 0


def test_ending_an_enrollment_needs_a_reason_and_writes_one_event(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    enrollment = EnrollmentFactory(
        patient=world.patient, billing_practitioner=world.user("practitioner")
    )
    url = reverse("enrollment-end", args=[world.patient.pk, enrollment.pk])
    client = login(world)
    today = today_in(world.practice).isoformat()
    refused = client.post(url, {"ended_on": today, "end_reason": "   "})
    assert "end_reason" in refused.context["form"].errors
    before_start = client.post(url, {"ended_on": "2025-01-01", "end_reason": "Moved away"})
    assert "ended_on" in before_start.context["form"].errors
    assert AuditEvent.objects.count() == 0
    response = client.post(url, {"ended_on": today, "end_reason": "Moved away"})
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.end_reason) == ("ended", "Moved away")
    assert AuditEvent.objects.count() == 1


def test_another_practices_patient_or_enrollment_is_not_found_on_every_form(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    theirs = EnrollmentFactory(
        patient=other_world.patient,
        status="pending",
        consent_on=None,
        billing_practitioner=other_world.user("practitioner"),
    )
    urls = [
        reverse("enrollment-add", args=[other_world.patient.pk]),
        reverse("enrollment-consent", args=[other_world.patient.pk, theirs.pk]),
        reverse("enrollment-end", args=[other_world.patient.pk, theirs.pk]),
        # Our patient with their enrollment id.
        reverse("enrollment-consent", args=[world.patient.pk, theirs.pk]),
        reverse("enrollment-end", args=[world.patient.pk, theirs.pk]),
    ]
    client = login(world)
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, enroll_data(world)).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == Enrollment.Status.PENDING
    assert Enrollment.objects.filter(patient=world.patient).count() == 0
    assert events("enrollment.created") + events("enrollment.consent_recorded") == 0
