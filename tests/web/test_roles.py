"""Role matrix for the pages: readers never write, only auditors and admins read the log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.patients.models import Condition, Enrollment, Patient
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory


def write_urls(world: PracticeWorld) -> list[str]:
    enrollment = EnrollmentFactory(
        patient=world.patient,
        status="pending",
        consent_on=None,
        billing_practitioner=world.user("practitioner"),
    )
    pid = world.patient.pk
    return [
        reverse("patient-add"),
        reverse("condition-add", args=[pid]),
        reverse("enrollment-add", args=[pid]),
        reverse("enrollment-consent", args=[pid, enrollment.pk]),
        reverse("enrollment-end", args=[pid, enrollment.pk]),
    ]


@pytest.mark.parametrize("role", ["biller", "auditor"])
def test_readers_get_403_on_every_write_form_and_post(
    world: PracticeWorld, login, role: str
) -> None:  # type: ignore[no-untyped-def]
    urls = write_urls(world)
    client = login(world, role)
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert (
            client.post(url, {"mrn": "Z1", "icd10_code": "I10", "program": "CCM"}).status_code
            == 403
        )
    assert Patient.objects.count() == 1
    assert not Condition.objects.exists()
    assert Enrollment.objects.get().status == Enrollment.Status.PENDING
    assert not AuditEvent.objects.exclude(event__startswith="patient.").exists()


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "admin"])
def test_clinical_writers_may_open_every_write_form(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    urls = write_urls(world)
    client = login(world, role)
    for url in urls:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 403),
        ("practitioner", 403),
        ("manager", 403),
        ("biller", 403),
        ("auditor", 200),
        ("admin", 200),
    ],
)
def test_only_auditors_and_admins_open_the_audit_log(
    world: PracticeWorld,
    login,
    role: str,
    status: int,  # type: ignore[no-untyped-def]
) -> None:
    assert login(world, role).get(reverse("audit-log")).status_code == status


@pytest.mark.parametrize("role", ["coordinator", "biller", "auditor"])
def test_every_role_may_read_the_list_and_the_patient(
    world: PracticeWorld, login, role: str
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    assert client.get(reverse("patient-list")).status_code == 200
    assert client.get(reverse("patient-detail", args=[world.patient.pk])).status_code == 200


def test_the_audit_link_shows_only_for_those_who_may_follow_it(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    assert (
        reverse("audit-log")
        in login(world, "auditor").get(reverse("patient-list")).content.decode()
    )
    assert (
        reverse("audit-log")
        not in login(world, "coordinator").get(reverse("patient-list")).content.decode()
    )


def test_anonymous_users_are_sent_to_sign_in(db: None, client) -> None:  # type: ignore[no-untyped-def]
    for name in ("home", "patient-list", "patient-add", "audit-log"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
