"""Case 34: HTML forms need the CSRF token; the token-authenticated API ignores cookies.

Pass: an HTML POST without the token gets 403 and writes nothing; an API call carrying only a
signed-in session cookie (no bearer token) gets 401 and writes nothing.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from careledger.patients.models import Patient, Visit
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def test_case_34_an_html_post_without_the_csrf_token_gets_403(world: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("coordinator"))
    url = reverse("visit-add", args=[world.patient.pk])
    data = {
        "practitioner": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
    }
    assert client.post(url, data).status_code == 403
    assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403
    assert not Visit.objects.exists()
    # With the token from the form, the same post is accepted.
    client.get(url)
    token = client.cookies["csrftoken"].value
    assert client.post(url, data, HTTP_X_CSRFTOKEN=token).status_code == 302


@pytest.mark.parametrize("csrf_header", [False, True], ids=["cookie-only", "cookie-and-csrf"])
def test_case_34_the_api_does_not_accept_cookie_only_auth(
    world: PracticeWorld, csrf_header: bool
) -> None:
    client = Client()
    client.force_login(world.user("coordinator"))
    assert client.get("/patients/").status_code == 200  # the session itself is live
    headers = {"HTTP_X_CSRFTOKEN": "x" * 32} if csrf_header else {}
    read = client.get(f"/api/v1/patients/{world.patient.pk}", **headers)
    write = client.post(
        "/api/v1/patients",
        json.dumps(
            {
                "mrn": "C-34",
                "given_name": "Cookie",
                "family_name": "Only",
                "birth_date": "1950-02-03",
                "sex": "female",
            }
        ),
        content_type="application/json",
        **headers,
    )
    assert (read.status_code, write.status_code) == (401, 401)
    assert b"Samename" not in read.content
    assert not Patient.objects.filter(mrn="C-34").exists()
