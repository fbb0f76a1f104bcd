"""A practitioner writes a care plan from a template, signs it, prints it, opens the PDF (Chromium).

The server runs in a subprocess on its own SQLite file (helpers from test_enroll_in_ccm), never
pytest-django's live_server: that flushes the database, and the audit table refuses the DELETE.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, expect, sync_playwright

from tests.browser.support import PASSWORD, RESULTS, launch, serve

SCREENSHOT = RESULTS / "care-plan.png"
PDF_PNG = RESULTS / "care-plan-pdf.png"

SETUP = f"""
import datetime as dt
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.patients.services import Consent, add_condition, create_patient, enroll

now = timezone.now()
practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="America/Chicago",
    billing_npi="1234567893", phone="(312) 555-0100",
)

def member(username, first, last, role, credential, npi=""):
    user = User(username=username, first_name=first, last_name=last)
    user.set_password("{PASSWORD}")
    user.save()
    return Membership.objects.create(
        user=user, practice=practice, role=role, credential=credential, npi=npi
    )

coordinator = member("coordinator", "Rosa", "Jimenez", "coordinator", "RN")
practitioner = member("practitioner", "Daniel", "Okafor", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=practitioner.user, membership=practitioner, source_ip=None)
patient = create_patient(ctx=ctx, now=now, data={{
    "mrn": "R1001", "given_name": "Irene", "family_name": "Holloway", "birth_date": "1947-06-02",
    "sex": "female", "mbi": "1EG4TE5MK73", "coverage": "medicare_ffs",
    "coordinator": coordinator.user_id,
}})
for code in ("I10", "E11.9"):
    add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now - dt.timedelta(days=30))
today = timezone.localdate(now)
enroll(
    ctx=ctx, patient=patient, program="CCM", billing_practitioner=practitioner.user_id,
    started_on=today, now=now,
    consent=Consent(consent_on=today, method="verbal", told_cost_sharing=True,
                    told_one_practitioner=True, told_right_to_stop=True),
)
print(patient.pk)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    """Serve a fresh careledger with a practitioner and one CCM patient with two conditions."""
    with serve(("shell", "-c", SETUP), prefix="careledger-careplan-") as served:
        yield served.url, int(served.outputs[0].strip().splitlines()[-1])


REMAINING = {
    "Cognitive and functional assessment": "Alert and oriented; independent in daily activities.",
    "Environmental evaluation": "Lives in a one-floor home; no trip hazards reported.",
    "Community and social services ordered": "Referred to the senior center's meal program.",
    "Coordination with outside practitioners and agencies": "Cardiology reviews twice a year.",
}


@pytest.mark.browser
def test_a_practitioner_writes_signs_prints_and_opens_a_care_plan(
    server: tuple[str, int],
) -> None:
    import pypdfium2

    base, patient_id = server
    dialogs: list[str] = []
    csp_violations: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", on_dialog)
            page.on("console", on_console)

            page.goto(f"{base}/login/")
            page.get_by_label("Username").fill("practitioner")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{base}/patients/")

            # The patient's month panel: CCM is enrolled and consented, but has no plan yet.
            month_url = f"{base}/patients/{patient_id}/month/"
            no_plan = "No current comprehensive care plan shared with the patient."
            assert no_plan in page.context.request.get(month_url).text()

            page.goto(f"{base}/care-plans/patients/{patient_id}/")
            plan = page.locator("article.cp-plan[data-kind=comprehensive]")
            expect(plan.locator(".badge")).to_have_text("Missing")
            page.get_by_label("Plan kind").select_option("comprehensive")
            page.get_by_label("Template").select_option(label="Hypertension")
            page.get_by_role("button", name="Start plan").click()

            # The template filled the problem, goals, thresholds and interventions.
            expect(page.get_by_role("heading", level=1)).to_contain_text("draft")
            expect(page.locator("input[name=goal-0-what]")).to_have_value("Home blood pressure")
            expect(page.locator("input[name=goal-0-t0-warning]")).to_have_value("135")
            for label, text in REMAINING.items():
                page.get_by_label(label, exact=True).fill(text)
            caregiver = page.locator("fieldset[data-element=caregiver_assessment]")
            caregiver.get_by_label("Not applicable").check()
            caregiver.locator("input[name=el-caregiver_assessment-reason]").fill(
                "No caregiver; the patient manages on her own."
            )
            page.get_by_role("button", name="Save draft", exact=True).click()

            expect(page.get_by_role("status")).to_contain_text("Draft saved.")
            page.get_by_label("Revision reason").fill("First care plan after the CCM visit.")
            expect(page.get_by_label("Sign as the billing practitioner")).to_be_checked()
            page.get_by_role("button", name="Publish and sign").click()
            expect(page.get_by_role("status")).to_contain_text("Version 1 published and signed.")
            expect(plan.locator(".badge").first).to_have_text("Not shared with the patient")

            page.get_by_role("link", name="Patient copy").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Your care plan")
            expect(page.locator(".call-box")).to_contain_text("(312) 555-0100")
            page.get_by_role("button", name="Record as printed and given to the patient").click()
            expect(page.get_by_role("status")).to_contain_text(
                "given to the patient (printed copy)"
            )
            expect(plan.locator(".badge").first).to_have_text("Current")
            expect(plan.locator("tr[data-version='1']")).to_contain_text("Printed copy")
            # Published, signed and given to the patient: the month no longer shows
            # MISSING_CARE_PLAN (the engine's care-plan fact comes from the review clock).
            month_panel = page.context.request.get(month_url)
            assert month_panel.status == 200 and "CCM" in month_panel.text()
            assert no_plan not in month_panel.text()
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # Chromium headless downloads PDFs instead of showing them: fetch with the session.
            pdf_url = page.get_by_role("link", name="PDF").first.get_attribute("href")
            response = page.context.request.get(f"{base}{pdf_url}")
            assert response.status == 200
            assert response.headers["content-type"] == "application/pdf"
            pdf = pypdfium2.PdfDocument(response.body())
            assert len(pdf) >= 1
            text = pdf[0].get_textpage().get_text_range()
            assert "Your care plan" in text and "(312) 555-0100" in text
            pdf[0].render(scale=1.5).to_pil().save(PDF_PNG)
            pdf.close()
        finally:
            browser.close()

    assert dialogs == []
    assert csp_violations == []
    assert SCREENSHOT.exists() and PDF_PNG.exists()
