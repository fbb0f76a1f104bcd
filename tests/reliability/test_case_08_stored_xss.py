"""Case 8: stored XSS in a patient's name, care-plan text and a contact's notes.

Pass: escaped in pages, htmx swaps and PDFs; a Content-Security-Policy header on every page.
The browser half (no dialog, no script runs) is tests/browser/test_case_08_stored_xss.py.
"""

from __future__ import annotations

import html
import io

import pypdfium2
import pytest
from django.test import Client

from careledger.billing.close import close_month
from careledger.timelog.models import TimeEntry
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.reliability._helpers_a import published_plan

pytestmark = pytest.mark.django_db

NAME_GIVEN = "<img src=x onerror=alert(1)>"
NAME_FAMILY = "<script>alert(2)</script>"
PLAN_TEXT = '"><svg onload=alert(3)>'
GOAL_TEXT = "<script>alert(4)</script>"
NOTE = "<script>alert(5)</script> Called the patient. Reviewed <b onmouseover=alert(6)>meds</b>."
PAYLOADS = [NAME_GIVEN, NAME_FAMILY, PLAN_TEXT, GOAL_TEXT, "<b onmouseover=alert(6)>"]


@pytest.fixture
def hostile(world: PracticeWorld):  # type: ignore[no-untyped-def]
    """An RPM patient with a closed April whose name, plan and notes are markup."""
    patient = rpm_patient(world, 22, given_name=NAME_GIVEN, family_name=NAME_FAMILY)
    TimeEntry.objects.filter(patient=patient).update(summary=NOTE)
    elements = {"symptom_management": {"text": PLAN_TEXT}}
    version = published_plan(world, patient)
    # A second plan version is not needed: write the hostile text into the published content.
    content = dict(version.content)
    content["elements"] = {**content.get("elements", {}), **elements}
    goals = [dict(goal) for goal in content.get("goals", [])]
    goals[0]["what"] = GOAL_TEXT
    content["goals"] = goals
    type(version).objects.filter(pk=version.pk).update(content=content)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    entry = TimeEntry.objects.get(patient=patient)
    return patient, version, entry


def _assert_escaped(body: bytes, url: str, expect: list[str]) -> None:
    text = body.decode("utf-8")
    for payload in PAYLOADS:
        assert payload not in text, f"{payload!r} unescaped on {url}"
    for payload in expect:
        assert html.escape(payload, quote=False) in text or html.escape(payload) in text, (
            f"{payload!r} not shown (escaped) on {url}"
        )


def test_pages_and_htmx_swaps_escape_the_markup_and_send_a_csp(
    world: PracticeWorld,
    hostile,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patient, version, entry = hostile
    client: Client = login(world, "manager")
    pages = [
        (f"/patients/{patient.pk}/", {}, [NAME_FAMILY]),
        ("/patients/", {}, [NAME_FAMILY]),
        (f"/patients/{patient.pk}/month/", {}, [NAME_FAMILY]),
        (f"/care-plans/versions/{version.pk}/", {}, [PLAN_TEXT, GOAL_TEXT]),
        (f"/care-plans/versions/{version.pk}/patient-copy/", {}, [GOAL_TEXT]),
        (f"/time/entries/{entry.pk}/", {}, []),
        ("/worklists/dashboard/?month=2026-04", {}, [NAME_FAMILY]),
        ("/billing/2026-04/", {}, [NAME_FAMILY]),
        (f"/billing/2026-04/evidence/{patient.pk}/", {}, [NAME_FAMILY]),
        # htmx swaps: the fragments answered to HX-Request.
        (f"/time/patients/{patient.pk}/timer/", {"HTTP_HX_REQUEST": "true"}, []),
        (f"/devices/patients/{patient.pk}/", {"HTTP_HX_REQUEST": "true"}, []),
        ("/patients/?search=script", {"HTTP_HX_REQUEST": "true"}, []),
        ("/worklists/dashboard/?month=2026-04", {"HTTP_HX_REQUEST": "true"}, []),
    ]
    for url, headers, expect in pages:
        response = client.get(url, **headers)  # type: ignore[arg-type]
        assert response.status_code == 200, url
        _assert_escaped(response.content, url, expect)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url


def test_the_notes_are_escaped_where_they_are_shown(
    world: PracticeWorld,
    hostile,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patient, _, entry = hostile
    client: Client = login(world, "manager")
    shown = False
    for url in (f"/time/entries/{entry.pk}/", f"/patients/{patient.pk}/month/"):
        text = client.get(url).content.decode()
        assert "<script>alert(5)</script>" not in text, url
        shown = shown or "&lt;script&gt;alert(5)&lt;/script&gt;" in text
    assert shown, "the note is shown, escaped, on its history or the month"


def _pdf_text(body: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(body))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_pdfs_print_the_markup_as_text(world: PracticeWorld, hostile, login) -> None:  # type: ignore[no-untyped-def]
    patient, version, _ = hostile
    client: Client = login(world, "manager")
    for url, expect in (
        (f"/care-plans/versions/{version.pk}/pdf/", [NAME_FAMILY, GOAL_TEXT]),
        (f"/billing/2026-04/evidence/{patient.pk}/pdf/", [NAME_FAMILY]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        text = "".join(_pdf_text(response.content).split())  # line breaks fall anywhere
        for payload in expect:
            # Printed literally means it was escaped, not parsed as markup by the PDF renderer.
            assert "".join(payload.split()) in text, f"{payload!r} not printed as text in {url}"


def test_the_api_returns_the_text_as_json_data_never_as_html(
    world: PracticeWorld,
    hostile,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    patient, _, _ = hostile
    response = api_client(world.user("manager")).get(f"/api/v1/patients/{patient.pk}")
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["family_name"] == NAME_FAMILY
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
