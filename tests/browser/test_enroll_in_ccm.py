"""A coordinator signs in, finds a patient, enrolls them in CCM with verbal consent (Chromium).

The server runs in a subprocess on its own SQLite file, not pytest-django's live_server: that
flushes the database between tests, and the audit table's triggers refuse the DELETE.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, expect, sync_playwright

from tests.browser.support import PASSWORD, PRACTICE_ZONE, RESULTS, launch, serve

SCREENSHOT = RESULTS / "enroll-in-ccm.png"

SETUP = f"""
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.patients.services import add_condition, create_patient

now = timezone.now()
practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="{PRACTICE_ZONE}",
    billing_npi="1234567893",
)

def member(username, first, last, role, credential, npi=""):
    user = User(username=username, first_name=first, last_name=last)
    user.set_password("{PASSWORD}")
    user.save()
    return Membership.objects.create(
        user=user, practice=practice, role=role, credential=credential, npi=npi
    )

coordinator = member("coordinator", "Rosa", "Jimenez", "coordinator", "RN")
member("practitioner", "Daniel", "Okafor", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
people = [
    ("R1001", "Irene", "Holloway", "1947-06-02", "female", "1EG4TE5MK73"),
    ("R1002", "Walter", "Brennan", "1941-11-19", "male", "2EG4TE5MK73"),
    ("R1003", "Dolores", "Whitfield", "1952-03-08", "female", "3EG4TE5MK73"),
]
for mrn, given, family, born, sex, mbi in people:
    patient = create_patient(ctx=ctx, now=now, data={{
        "mrn": mrn, "given_name": given, "family_name": family, "birth_date": born,
        "sex": sex, "mbi": mbi, "coverage": "medicare_ffs", "phone": "(312) 555-0142",
        "address_line": "418 W Elm St", "city": "Springfield", "state": "IL",
        "postal_code": "62704", "coordinator": coordinator.user_id,
    }})
    for code in ("E11.9", "I10", "E78.5"):
        add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Serve a fresh careledger with one practice, a coordinator and three patients."""
    with serve(("shell", "-c", SETUP)) as served:
        yield served.url


@pytest.mark.browser
def test_a_coordinator_enrolls_a_patient_in_ccm_with_verbal_consent(server: str) -> None:
    dialogs: list[str] = []
    csp_violations: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    today = datetime.now(ZoneInfo(PRACTICE_ZONE)).date().isoformat()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", on_dialog)
            page.on("console", on_console)

            page.goto(f"{server}/login/")
            page.get_by_label("Username").fill("coordinator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server}/patients/")
            expect(page.get_by_test_id("practice-name")).to_have_text("Riverside Family Medicine")

            # The live search swaps the results table in place.
            rows = page.locator("#patient-results tbody tr")
            expect(rows).to_have_count(3)
            page.get_by_role("searchbox").fill("hollo")
            expect(rows).to_have_count(1)
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(RESULTS / "patient-search.png"), full_page=True)
            page.get_by_role("link", name="Holloway, Irene").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Holloway, Irene")

            page.get_by_role("button", name="Enroll in a program").click()
            page.locator("#id_program").select_option("CCM")
            page.get_by_label("Billing practitioner").select_option(label="Daniel Okafor, MD")
            page.get_by_label("Verbal").check()
            page.get_by_label("Consent date").fill(today)
            page.get_by_label("Told that cost sharing").check()
            page.get_by_label("Told that only one practitioner").check()
            page.get_by_label("Told that they may stop").check()
            page.screenshot(path=str(RESULTS / "enroll-form.png"), full_page=True)
            page.get_by_role("button", name="Enroll", exact=True).click()

            expect(page.get_by_role("heading", level=1)).to_have_text("Holloway, Irene")
            expect(page.get_by_role("status")).to_contain_text("Enrolled in CCM (active)")
            ccm = page.locator("article.enrollment[data-program=CCM]")
            expect(ccm.locator(".badge")).to_have_text("Active")
            expect(ccm).to_contain_text("Verbal consent on")
            expect(ccm).to_contain_text("Rosa Jimenez")

            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert dialogs == []
    assert csp_violations == []
