"""A coordinator times a call on an RPM patient and watches the month's minutes move (Chromium).

The server runs in a subprocess on its own SQLite file (see test_enroll_in_ccm.py for why).
Rather than wait real minutes, the test starts the timer in the page and then moves the running
Timer row's start back twelve minutes through ``careledger shell``; nothing in the app changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, expect, sync_playwright

from tests.browser.support import PASSWORD, PRACTICE_ZONE, RESULTS, launch, serve

SCREENSHOT = RESULTS / "timer.png"
BACKDATE_MINUTES = 12

SETUP = f"""
from datetime import timedelta
from django.utils import timezone
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.lib.localtime import local_today
from careledger.patients.services import (
    Consent, Order, add_condition, create_patient, enroll, record_visit,
)

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
doctor = member("practitioner", "Daniel", "Okafor", "practitioner", "MD", npi="1245319599")
ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
today = local_today(practice, now)
patient = create_patient(ctx=ctx, now=now, data={{
    "mrn": "R1001", "given_name": "Irene", "family_name": "Holloway", "birth_date": "1947-06-02",
    "sex": "female", "mbi": "1EG4TE5MK73", "coverage": "medicare_ffs",
    "phone": "(312) 555-0142", "coordinator": coordinator.user_id,
}})
for code in ("I10", "E11.9"):
    add_condition(ctx=ctx, patient=patient, icd10_code=code, now=now)
# Established (RPM-10): seen by the billing practitioner earlier this year.
record_visit(ctx=ctx, patient=patient, practitioner=doctor.user, kind="em", em_level=3,
             visited_on=today - timedelta(days=200), now=now)
enroll(
    ctx=ctx, patient=patient, program="RPM", billing_practitioner=doctor.user,
    started_on=today - timedelta(days=60), now=now,
    consent=Consent(consent_on=today - timedelta(days=60), method="verbal",
                    obtained_by=coordinator.user, told_cost_sharing=True,
                    told_one_practitioner=True, told_right_to_stop=True),
    order=Order(ordered_on=today - timedelta(days=61), ordering_practitioner=doctor.user,
                indication="I10"),
)
"""

# Move the running timer's start back, and its last activity back past the idle limit.
BACKDATE = f"""
from datetime import timedelta
from django.utils import timezone
from careledger.timelog.models import Timer

now = timezone.now()
updated = Timer.objects.filter(stopped_at__isnull=True).update(
    started_at=now - timedelta(minutes={BACKDATE_MINUTES}),
    last_activity_at=now - timedelta(minutes=11),
)
assert updated == 1, updated
"""


@dataclass
class Server:
    url: str
    shell: Callable[[str], None]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """Serve a fresh careledger with a consented, established RPM patient."""
    with serve(("shell", "-c", SETUP), prefix="careledger-timer-") as served:
        yield Server(url=served.url, shell=served.shell)


@pytest.mark.browser
def test_a_coordinator_times_a_call_and_sees_the_month_move(server: Server) -> None:
    local = datetime.now(ZoneInfo(PRACTICE_ZONE))
    if local.day == 1 and local.hour == 0 and local.minute < BACKDATE_MINUTES + 3:
        # The backdated timer would start in the previous month: wait until it would not.
        time.sleep((BACKDATE_MINUTES + 3 - local.minute) * 60 - local.second)
    dialogs: list[str] = []
    problems: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "favicon.ico" in message.location.get("url", ""):
            return  # no icon yet; not this page's concern
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} @ {message.location}")

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("dialog", on_dialog)
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(f"{server.url}/login/")
            page.get_by_label("Username").fill("coordinator")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server.url}/patients/")
            page.get_by_role("link", name="Holloway, Irene").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Holloway, Irene")

            # The month starts empty: 99470 needs its first ten minutes.
            minutes = page.get_by_test_id("minutes-RPM")
            next_code = page.get_by_test_id("next-RPM")
            expect(minutes).to_have_text("0")
            expect(next_code).to_contain_text("99470 needs 10 more minutes")

            page.get_by_role("button", name="Start RPM timer").click()
            clock = page.locator("[data-timer-clock]")
            expect(clock).to_have_text(re.compile(r"^00:0\d$"))

            # Twelve minutes later (the Timer row moves back), with eleven of them idle.
            server.shell(BACKDATE)
            page.reload()
            expect(clock).to_have_text(re.compile(rf"^{BACKDATE_MINUTES}:\d\d$"))
            prompt = page.get_by_role("alertdialog")
            expect(prompt).to_be_visible()
            expect(prompt).to_contain_text("Still working on this patient?")
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=str(RESULTS / "timer-idle.png"), full_page=True)
            page.get_by_role("button", name="Yes, it still counts").click()
            expect(prompt).to_be_hidden()

            page.get_by_label("Kind").select_option(label="Phone call")
            page.get_by_label("Outcome").select_option(label="Reached patient or caregiver")
            page.get_by_label("Clinical summary").fill(
                "Reviewed this week's home blood pressure readings with the patient; the morning "
                "average is 148/92. Reinforced the low-salt diet and confirmed she takes "
                "lisinopril daily."
            )
            page.screenshot(path=str(RESULTS / "timer-running.png"), full_page=True)
            page.get_by_role("button", name="Stop and save").click()

            timer = page.locator("#timer-panel")
            expect(timer.get_by_role("status")).to_contain_text(
                f"Saved {BACKDATE_MINUTES} min: phone call (RPM)."
            )
            expect(timer.get_by_role("button", name="Start RPM timer")).to_be_visible()
            # The month panel reloads: twelve minutes, 99470 earned, 99457 needs eight more.
            expect(minutes).to_have_text(str(BACKDATE_MINUTES))
            expect(next_code).to_contain_text("99457 needs 8 more minutes")
            rpm = page.locator(".program-month[data-program=RPM]")
            expect(rpm).to_contain_text("Live contact: yes")
            expect(rpm.locator(".lines")).to_contain_text("99470")
            expect(rpm.locator(".entries-table tbody tr")).to_have_count(1)
            expect(rpm.locator(".entries-table")).to_contain_text("Rosa Jimenez, RN")
            page.locator("#month-panel").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # The entry's history opens from the month panel.
            rpm.locator(".entries-table tbody a").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Time entry")
            expect(page.locator(".history-table tbody tr")).to_have_count(1)
            page.screenshot(path=str(RESULTS / "timer-entry-history.png"), full_page=True)

            page.goto(f"{server.url}/time/my-day/")
            expect(page.get_by_test_id("countable-minutes")).to_have_text(str(BACKDATE_MINUTES))
            page.screenshot(path=str(RESULTS / "timer-my-day.png"), full_page=True)
        finally:
            browser.close()

    assert dialogs == []
    assert problems == [], "\n".join(problems)
