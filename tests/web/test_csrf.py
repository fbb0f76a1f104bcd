"""Every form is CSRF-protected: a POST without the token is refused and writes nothing."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.patients.models import Patient
from tests.conftest import PASSWORD, PracticeWorld


def test_posts_without_a_csrf_token_are_refused(world: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("coordinator"))
    pid = world.patient.pk
    urls = [
        reverse("patient-add"),
        reverse("condition-add", args=[pid]),
        reverse("enrollment-add", args=[pid]),
        reverse("patient-list"),
        reverse("choose-practice"),
        reverse("logout"),
    ]
    for url in urls:
        assert client.post(url, {"mrn": "Z9", "icd10_code": "I10"}).status_code == 403, url
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.count() == 0


def test_the_login_form_needs_its_token_too(world: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "riverside-coordinator", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_forms_carry_the_token(world: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("coordinator"))
    for url in (reverse("patient-add"), reverse("enrollment-add", args=[world.patient.pk])):
        assert 'name="csrfmiddlewaretoken"' in client.get(url).content.decode()
