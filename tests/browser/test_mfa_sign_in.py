"""Case 33 in Chromium: with MFA required a biller is sent to enrolment, enrols with the key the
page shows, and signs in again with the second step; a used code is refused.

The server runs in a subprocess on its own SQLite file with CARELEDGER_REQUIRE_MFA=1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, expect, sync_playwright

from tests.accounts.mfa_support import totp
from tests.browser.support import PASSWORD, PRACTICE_ZONE, launch, serve

SETUP = f"""
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.patients.services import create_patient

practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="{PRACTICE_ZONE}",
    billing_npi="1234567893",
)
user = User(username="biller", first_name="Bea", last_name="Ledger")
user.set_password("{PASSWORD}")
user.save()
biller = Membership.objects.create(user=user, practice=practice, role="biller", credential="other")
ctx = PracticeContext(user=user, membership=biller, source_ip=None)
create_patient(ctx=ctx, now=timezone.now(), data={{
    "mrn": "R1001", "given_name": "Irene", "family_name": "Holloway", "birth_date": "1947-06-02",
    "sex": "female", "mbi": "1EG4TE5MK73", "coverage": "medicare_ffs",
}})
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Serve a fresh careledger that requires MFA, with one biller and one patient."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CARELEDGER_REQUIRE_MFA", "1")
        with serve(("shell", "-c", SETUP), prefix="careledger-mfa-") as served:
            yield served.url


def _sign_in(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/login/")
    page.get_by_label("Username").fill("biller")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_a_biller_enrols_in_mfa_and_signs_in_with_a_code(server: str) -> None:
    csp_violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", on_console)
            _sign_in(page, server)
            # No patient list before enrolment: every page leads to it.
            expect(page).to_have_url(f"{server}/account/mfa/")
            page.goto(f"{server}/patients/")
            expect(page).to_have_url(f"{server}/account/mfa/")
            expect(page.get_by_role("alert")).to_contain_text("requires two-step sign-in")
            expect(page.locator("figure.totp-qr svg")).to_be_visible()
            secret = page.get_by_test_id("totp-secret").inner_text()
            code = totp(secret)
            page.get_by_label("Code from the app").fill(code)
            page.get_by_role("button", name="Turn on two-step sign-in").click()
            codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
            assert len(codes) == 10
            page.goto(f"{server}/patients/")
            expect(page.get_by_role("link", name="Holloway, Irene")).to_be_visible()
            page.get_by_role("button", name="Sign out").click()

            _sign_in(page, server)
            expect(page).to_have_url(f"{server}/login/mfa/")
            # The code that turned MFA on was used up: replaying it is refused.
            page.get_by_label("Code").fill(code)
            page.get_by_role("button", name="Verify").click()
            expect(page.get_by_role("alert")).to_contain_text("not correct")
            page.get_by_label("Code").fill(codes[0])
            page.get_by_role("button", name="Verify").click()
            expect(page).to_have_url(f"{server}/patients/")
            expect(page.get_by_role("link", name="Holloway, Irene")).to_be_visible()
        finally:
            browser.close()

    assert csp_violations == []
