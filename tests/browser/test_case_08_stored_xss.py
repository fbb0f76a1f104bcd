"""Case 8 in Chromium: markup stored in a patient's name, a care plan and a contact's notes
never runs — no dialog opens, no script sets a flag — and every page carries a CSP header.

The server runs in a subprocess on its own SQLite file (tests/browser/support.py), never
pytest-django's live_server: that flushes the database, and the audit table refuses the DELETE.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, Response, sync_playwright

from tests.browser.support import PASSWORD, launch, serve

SETUP = f"""
import datetime as dt
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.careplans import services as plans
from careledger.careplans.content import NARRATIVE_KEYS
from careledger.patients.services import Consent, add_condition, create_patient, enroll
from careledger.timelog.services import Contact, log_contact

now = timezone.now()
practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="America/Chicago",
    billing_npi="1234567893",
)

def member(username, role, credential, npi=""):
    user = User(username=username, first_name="Test", last_name=username.title())
    user.set_password("{PASSWORD}")
    user.save()
    return Membership.objects.create(
        user=user, practice=practice, role=role, credential=credential, npi=npi
    )

coordinator = member("coordinator", "coordinator", "RN")
practitioner = member("practitioner", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=practitioner.user, membership=practitioner, source_ip=None)
rn = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
patient = create_patient(ctx=ctx, now=now - dt.timedelta(days=40), data={{
    "mrn": "X1001", "given_name": "<img src=x onerror=alert('name')>",
    "family_name": "<script>window.__xss='family';alert('family')</script>",
    "birth_date": "1947-06-02", "sex": "female", "mbi": "1EG4TE5MK73",
    "coverage": "medicare_ffs", "coordinator": coordinator.user_id,
}})
conditions = [
    add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now - dt.timedelta(days=30))
    for code in ("I10", "E11.9")
]
today = timezone.localdate(now)
enroll(
    ctx=ctx, patient=patient, program="CCM", billing_practitioner=practitioner.user_id,
    started_on=today - dt.timedelta(days=20), now=now - dt.timedelta(days=20),
    consent=Consent(consent_on=today - dt.timedelta(days=20), method="verbal",
                    told_cost_sharing=True, told_one_practitioner=True, told_right_to_stop=True),
)
content = {{
    "elements": {{
        key: {{"text": "<svg onload=alert('plan')>Documented."}} for key in NARRATIVE_KEYS
    }},
    "problems": [{{"condition_id": c.pk, "note": "<iframe src=javascript:alert('note')>"}}
                 for c in conditions],
    "goals": [{{"key": "bp", "what": "<script>alert('goal')</script>", "target": "below 135/85",
               "unit": "mm[Hg]", "due_on": "2027-06-30", "thresholds": []}}],
    "interventions": [{{"description": "<b onmouseover=alert('hover')>Review</b>",
                       "responsible": "Care coordinator"}}],
}}
ago = now - dt.timedelta(days=10)
plan = plans.start_plan(ctx=rn, patient=patient, kind="comprehensive", now=ago)
plan = plans.save_draft(ctx=rn, plan=plan, expected_revision=1, content=content,
                        now=now - dt.timedelta(days=10))
version = plans.publish_version(ctx=ctx, plan=plan, expected_revision=plan.revision,
                                revision_reason="", sign=True, now=now - dt.timedelta(days=9))
start = now - dt.timedelta(hours=3)
entry = log_contact(ctx=rn, patient=patient, now=now, contact=Contact(
    program="CCM", kind="interactive_call", outcome="reached", started_at=start,
    ended_at=start + dt.timedelta(minutes=12),
    summary="<script>alert('summary')</script> Called the patient. "
    "Reviewed <img src=x onerror=alert('s2')> meds.",
))
print(patient.pk, version.pk, entry.pk)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[int]]]:
    with serve(("shell", "-c", SETUP), prefix="careledger-xss-") as served:
        ids = [int(n) for n in served.outputs[0].strip().splitlines()[-1].split()]
        yield served.url, ids


@pytest.mark.browser
def test_stored_markup_never_runs_in_pages_or_htmx_swaps(server: tuple[str, list[int]]) -> None:
    base, (patient_id, version_id, entry_id) = server
    dialogs: list[str] = []
    missing_csp: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_response(response: Response) -> None:
        swap = response.request.resource_type == "document" or response.request.headers.get(
            "hx-request"
        )
        policy = response.headers.get("content-security-policy") or ""
        if swap and "default-src 'self'" not in policy:
            missing_csp.append(response.url)

    def visit(page: Page, path: str) -> None:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        # Hovering every element triggers any smuggled onmouseover handler.
        for element in page.locator("main b, main td, main li").all()[:30]:
            element.hover(timeout=2000)
        assert page.evaluate("() => window.__xss === undefined"), path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", on_dialog)
            page.on("response", on_response)
            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("practitioner")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/patients/")

            for path in (
                "/patients/",
                f"/patients/{patient_id}/",
                f"/patients/{patient_id}/month/",
                f"/care-plans/patients/{patient_id}/",
                f"/care-plans/versions/{version_id}/",
                f"/care-plans/versions/{version_id}/patient-copy/",
                f"/time/entries/{entry_id}/",
                "/worklists/dashboard/",
                f"/devices/patients/{patient_id}/",
            ):
                visit(page, path)

            # An htmx swap: the patient list filtered as the user types.
            page.goto(f"{base}/patients/")
            search = page.locator("input[name=search], input[type=search]").first
            if search.count():
                with page.expect_response(lambda r: "/patients/" in r.url):
                    search.fill("script")
                page.wait_for_load_state("networkidle")
            # Another swap: the timer panel on the patient page, loaded by htmx.
            page.goto(f"{base}/patients/{patient_id}/")
            swapped = page.context.request.get(
                f"{base}/time/patients/{patient_id}/timer/", headers={"HX-Request": "true"}
            )
            assert swapped.status == 200
            assert "<script>alert" not in swapped.text()
            page.wait_for_load_state("networkidle")
            assert page.evaluate("() => window.__xss === undefined")
            # The names are on the page as text, not as elements.
            body = page.locator("body").inner_text()
            assert "<script>window.__xss='family';alert('family')</script>" in body
        finally:
            browser.close()
    assert dialogs == [], f"a script ran: {dialogs}"
    assert missing_csp == [], f"pages without a CSP: {missing_csp}"
