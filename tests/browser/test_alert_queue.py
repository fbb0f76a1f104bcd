"""A critical reading arrives through the API; the coordinator resolves it with a logged call.

The server runs in a subprocess on its own SQLite file (see test_enroll_in_ccm.py for why).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, expect, sync_playwright

from tests.browser.support import PASSWORD, RESULTS, launch, serve

SCREENSHOT = RESULTS / "alert-queue.png"

SETUP = f"""
import json
from datetime import date
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.patients.models import Enrollment
from careledger.patients.services import create_patient

now = timezone.now()
practice = Practice.objects.create(
    name="Riverside Family Medicine", slug="riverside", timezone="America/Chicago",
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
practitioner = member("practitioner", "Daniel", "Okafor", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
patient = create_patient(ctx=ctx, now=now, data={{
    "mrn": "R2001", "given_name": "Harold", "family_name": "Pemberton", "birth_date": "1944-09-12",
    "sex": "male", "mbi": "1EG4TE5MK73", "coverage": "medicare_ffs",
    "coordinator": coordinator.user_id,
}})
Enrollment.objects.create(
    patient=patient, program="RPM", status="active", billing_practitioner=practitioner.user,
    started_on=date(2025, 1, 6), consent_on=date(2025, 1, 6), consent_method="verbal",
    consent_obtained_by=coordinator.user, told_cost_sharing=True, told_one_practitioner=True,
    told_right_to_stop=True, created_at=now,
)
create_vendor(practice=practice, slug="acme-cellular", name="Acme Cellular", now=now)
assign_device(ctx=ctx, patient=patient, assignment=Assignment(
    program="RPM", type="blood_pressure", vendor="acme-cellular", serial="AC-BP-0042",
    assigned_on=date(2025, 1, 6), model_name="BP-800 LTE"), now=now)
print(json.dumps({{"patient_id": patient.pk}}))
"""


@dataclass
class Server:
    url: str
    patient_id: int


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """Serve a fresh careledger with an RPM patient who has a cellular blood-pressure cuff."""
    with serve(("shell", "-c", SETUP), prefix="careledger-alerts-") as served:
        facts = json.loads(served.outputs[0].strip().splitlines()[-1])
        yield Server(url=served.url, patient_id=facts["patient_id"])


def _api(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.browser
def test_a_coordinator_resolves_a_critical_reading_with_a_logged_call(server: Server) -> None:
    token = _api(server.url, "/auth/token", {"username": "coordinator", "password": PASSWORD})[
        "token"
    ]
    measured = datetime.now(UTC) - timedelta(minutes=30)
    answer = _api(
        server.url,
        "/readings",
        {
            "readings": [
                {
                    "device_serial": "AC-BP-0042",
                    "vendor_reading_id": "acme-7781",
                    "measured_at": measured.isoformat(),
                    "type": "blood_pressure",
                    "systolic": 194,
                    "diastolic": 123,
                    "pulse": 88,
                    "unit": "mm[Hg]",
                    "source": "automatic",
                }
            ]
        },
        token,
    )
    assert answer == {"stored": 1, "duplicates": 0, "errors": []}

    dialogs: list[str] = []
    csp_violations: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    readings_page = f"{server.url}/devices/patients/{server.patient_id}/"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", on_dialog)
            page.on("console", on_console)

            page.goto(f"{server.url}/login/")
            page.get_by_label("Username").fill("coordinator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server.url}/patients/")

            page.goto(readings_page)
            minutes = page.get_by_test_id("minutes-RPM")
            expect(minutes).to_contain_text("0 countable minutes")
            expect(page.locator("canvas[data-reading-chart]")).to_have_count(1)
            expect(page.locator(".reading-calendar li.read")).to_have_count(1)

            page.goto(f"{server.url}/devices/alerts/")
            row = page.locator("table.alert-queue tbody tr")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("Critical")
            expect(row).to_contain_text("Pemberton, Harold")
            expect(row).to_contain_text("Systolic 194")
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            row.get_by_role("button", name="Resolve").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Resolve alert")
            page.get_by_label("What was done").fill(
                "Rechecked at 152/94 after the missed morning dose; no chest pain or headache."
            )
            expect(page.get_by_label("Log the call as a time entry")).to_be_checked()
            expect(page.get_by_label("Minutes")).to_have_value("10")
            page.get_by_label("Clinical summary").fill(
                "Called about a critical home blood pressure of 194/123. Patient had missed the "
                "morning lisinopril dose and took it during the call."
            )
            page.get_by_role("button", name="Resolve alert").click()

            expect(page.get_by_role("status")).to_contain_text("Alert resolved.")
            expect(page.get_by_text("No open alerts.")).to_be_visible()

            page.goto(readings_page)
            expect(page.get_by_test_id("minutes-RPM")).to_contain_text("10 countable minutes")
            history = page.locator("table.alert-history tbody tr")
            expect(history).to_contain_text("Resolved")
            expect(history).to_contain_text("call logged")
            page.screenshot(path=str(RESULTS / "alert-resolved.png"), full_page=True)
        finally:
            browser.close()

    assert dialogs == []
    assert csp_violations == []
